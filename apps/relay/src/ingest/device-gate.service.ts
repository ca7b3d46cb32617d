import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { LOGGER } from '../common/tokens.js';
import { SecretHasher } from '../identity/secret-hasher.js';
import type { DeviceGate } from '../infra/broker/mqtt-broker.js';
import type { Logger } from '../infra/logging/logger.js';
import { DevicesRepository } from './devices.repository.js';

/** Decides which boxes may connect to the broker; every refusal is audited. */
@Injectable()
export class DeviceGateService implements DeviceGate {
  constructor(
    private readonly devices: DevicesRepository,
    private readonly hasher: SecretHasher,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async authenticate(attempt: Parameters<DeviceGate['authenticate']>[0]): Promise<boolean> {
    const { deviceId, clientId, secret, remoteAddress } = attempt;
    const device = deviceId ? await this.devices.find(deviceId) : undefined;
    const valid = await this.hasher.verify(device?.secretHash, secret?.toString('utf8') ?? '');
    let reason: string | null = null;
    if (!device || !valid) reason = 'bad device id or secret';
    else if (device.disabled) reason = 'device disabled';
    // The client id is the device id, so one box cannot hold another's session.
    else if (clientId !== device.id) reason = 'client id differs from device id';
    if (reason) {
      this.log.warn({ deviceId, remoteAddress, reason }, 'device refused at CONNECT');
      this.audit.recordLater({
        actor: deviceId ? `device:${deviceId}` : 'anonymous',
        action: 'mqtt.connect',
        outcome: 'denied',
        remoteAddress,
        detail: { reason },
      });
      return false;
    }
    return true;
  }

  refused(event: Parameters<DeviceGate['refused']>[0]): void {
    this.log.warn(event, 'device request refused');
    this.audit.recordLater({
      actor: `device:${event.deviceId}`,
      action: `mqtt.${event.action}`,
      outcome: 'denied',
      subject: event.topic,
      detail: { reason: event.reason },
    });
  }
}
