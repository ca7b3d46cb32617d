import type { DeviceLinks } from '../devices.service.js';

/** The broker at its boundary: which boxes are connected, and which were disconnected. */
export class FakeLinks implements DeviceLinks {
  readonly connected = new Set<string>();
  readonly disconnected: string[] = [];
  onlineAmong(deviceIds: readonly string[]): Promise<Set<string>> {
    return Promise.resolve(new Set(deviceIds.filter((id) => this.connected.has(id))));
  }
  disconnect(deviceId: string): Promise<boolean> {
    if (!this.connected.delete(deviceId)) return Promise.resolve(false);
    this.disconnected.push(deviceId);
    return Promise.resolve(true);
  }
}
