import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER } from '../common/tokens.js';
import { MqttBroker } from '../infra/broker/mqtt-broker.js';
import type { Logger } from '../infra/logging/logger.js';
import { DevicesRepository } from './devices.repository.js';
import { IngestService } from './ingest.service.js';

/** The MQTT edge of ingest: one call into the service per message, its reply to the box. */
@Injectable()
export class IngestBridge implements OnApplicationBootstrap {
  constructor(
    private readonly broker: MqttBroker,
    private readonly ingest: IngestService,
    private readonly devices: DevicesRepository,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.broker.onDeviceMessage((message) => {
      void this.ingest
        .receive(message)
        .then(async (reply) => {
          if (!reply) return;
          // Acks are cumulative and re-derived on every rec/open, so a lost one costs a
          // resend at worst; errors are rare and each one matters (docs/protocol.md).
          await this.broker.publishToDevice(
            message.deviceId,
            reply.channel,
            JSON.stringify(reply.body),
            { qos: reply.channel === 'ack' ? 0 : 1 },
          );
        })
        .catch((error: unknown) =>
          this.log.error({ err: error, deviceId: message.deviceId }, 'reply to device failed'),
        );
    });
    this.broker.onDeviceConnection((deviceId, online) => {
      this.log.info({ deviceId, online }, online ? 'device connected' : 'device disconnected');
      this.devices.markSeen(deviceId, new Date()).catch(() => undefined);
    });
  }
}
