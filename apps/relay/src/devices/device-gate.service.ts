import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { Metrics } from '../common/metrics.js';
import { CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { CredentialThrottle } from '../common/credential-throttle.js';
import { SecretHasher } from '../identity/secret-hasher.js';
import type { ConnectDecision, DeviceGate } from '../infra/broker/mqtt-broker.js';
import { AttemptLimits, type AttemptRule } from '../infra/limits/attempt-limits.js';
import type { Logger } from '../infra/logging/logger.js';
import { DevicesRepository } from './devices.repository.js';

/**
 * The broker's own refusals as counted in /metrics, beside ingest's `DeviceError` codes
 * (docs/operations.md, "Metrics").
 */
type MqttRefusalCode = 'CONNECT_REFUSED' | 'CONNECT_THROTTLED' | 'CONNECT_PROTOCOL';

/** Decides which boxes may connect to the broker; every refusal is audited. */
@Injectable()
export class DeviceGateService implements DeviceGate {
  private readonly throttle: CredentialThrottle;
  /** Each admitted box's clinic, read with its secret at CONNECT. */
  private readonly clinics = new Map<string, string>();

  constructor(
    private readonly devices: DevicesRepository,
    private readonly hasher: SecretHasher,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(CONFIG) config: RelayConfig,
    limits: AttemptLimits,
    private readonly metrics: Metrics,
  ) {
    // Many boxes may share one address (a county's mobile carrier NAT); guesses naming a box
    // from elsewhere must not keep it out, so its own budget is per (box, address). Device
    // secrets are random keys of 128 bits or more, so no budget per box across addresses is needed.
    this.throttle = new CredentialThrottle(limits, {
      pair: connectRule('mqtt:device-address', config.mqtt.connectsPerMinute.device),
      address: connectRule('mqtt:address', config.mqtt.connectsPerMinute.address),
      knownForSeconds: 14 * 86_400,
    });
  }

  async authenticate(attempt: Parameters<DeviceGate['authenticate']>[0]): Promise<ConnectDecision> {
    const { deviceId, clientId, secret, remoteAddress } = attempt;
    // Checked before the secret hash, so a flood costs little.
    const admission = await this.throttle.admit(deviceId ?? 'anonymous', remoteAddress);
    if (!admission.admitted) {
      this.deny(deviceId, remoteAddress, 'too many connection attempts', 'CONNECT_THROTTLED');
      return 'throttled';
    }
    const device = deviceId ? await this.devices.find(deviceId) : undefined;
    const valid = await this.hasher.verifyMachineSecret(
      device?.secretHash,
      secret?.toString('utf8') ?? '',
    );
    let reason: string | null = null;
    if (!device || !valid) reason = 'bad device id or secret';
    else if (device.disabled) reason = 'device disabled';
    else if (device.clinicDisabled) reason = 'clinic disabled';
    // The client id is the device id, so one box cannot hold another's session.
    else if (clientId !== device.id) reason = 'client id differs from device id';
    if (reason || !device) {
      this.deny(deviceId, remoteAddress, reason ?? 'bad device id or secret', 'CONNECT_REFUSED');
      return 'refused';
    }
    await this.throttle.succeeded(device.id, remoteAddress, admission);
    this.clinics.set(device.id, device.clinicId);
    await this.upgradeStoredSecret(device, secret?.toString('utf8') ?? '');
    return 'accepted';
  }

  /**
   * A secret stored as argon2id (before box secrets were HMACs) is stored again in the
   * current format once the box has proved it: no migration, and each box pays argon2 once.
   * A failure only leaves the old hash, still valid, for the next CONNECT.
   */
  private async upgradeStoredSecret(
    device: { id: string; secretHash: string },
    secret: string,
  ): Promise<void> {
    if (!this.hasher.machineHashIsOutdated(device.secretHash)) return;
    try {
      const upgraded = await this.hasher.hashMachineSecret(secret);
      await this.devices.replaceSecretHash(device.id, device.secretHash, upgraded);
    } catch (error) {
      this.log.warn(
        { deviceId: device.id, err: error },
        'could not store the box secret in the current format; kept the old hash',
      );
    }
  }

  clinicOf(deviceId: string): string | undefined {
    return this.clinics.get(deviceId);
  }

  private deny(
    deviceId: string | undefined,
    remoteAddress: string | undefined,
    reason: string,
    code: MqttRefusalCode,
  ): void {
    this.metrics.count('telerelay_refusals_total', { edge: 'mqtt', code });
    this.log.warn({ deviceId, remoteAddress, reason }, 'device refused at CONNECT');
    this.audit.recordLater({
      actor: deviceId ? `device:${deviceId}` : 'anonymous',
      action: 'mqtt.connect',
      outcome: 'denied',
      remoteAddress,
      detail: { reason },
    });
  }

  unacceptableProtocol(event: Parameters<DeviceGate['unacceptableProtocol']>[0]): void {
    this.deny(
      event.deviceId,
      event.remoteAddress,
      `unacceptable protocol version (level ${event.protocolVersion}); MQTT 3.1.1 only`,
      'CONNECT_PROTOCOL',
    );
  }

  oversize(event: Parameters<DeviceGate['oversize']>[0]): void {
    this.metrics.count('telerelay_refusals_total', { edge: 'mqtt', code: 'PACKET_TOO_LARGE' });
    this.log.warn(event, 'mqtt packet over the size limit; connection closed');
    this.audit.recordLater({
      actor: event.deviceId ? `device:${event.deviceId}` : 'anonymous',
      action: 'mqtt.packet',
      outcome: 'denied',
      remoteAddress: event.remoteAddress,
      detail: { reason: 'packet over the size limit', declaredBytes: event.declaredBytes },
    });
  }

  refused(event: Parameters<DeviceGate['refused']>[0]): void {
    const code = event.action === 'publish' ? 'PUBLISH_REFUSED' : 'SUBSCRIBE_REFUSED';
    this.metrics.count('telerelay_refusals_total', { edge: 'mqtt', code });
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

function connectRule(name: string, perMinute: number): AttemptRule {
  return {
    name,
    freeAttempts: perMinute,
    windowSeconds: 60,
    firstBlockSeconds: 60,
    maxBlockSeconds: 3600,
    strikeMemorySeconds: 86_400,
  };
}
