import type { DeviceLinks } from '../devices.service.js';

/** The broker at its boundary: which boxes are connected, and which were disconnected. */
export class FakeLinks implements DeviceLinks {
  readonly connected = new Set<string>();
  readonly disconnected: string[] = [];
  isOnline(deviceId: string): boolean {
    return this.connected.has(deviceId);
  }
  disconnect(deviceId: string): boolean {
    if (!this.connected.delete(deviceId)) return false;
    this.disconnected.push(deviceId);
    return true;
  }
}
