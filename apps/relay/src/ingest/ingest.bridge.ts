import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER } from '../common/tokens.js';
import { MqttBroker } from '../infra/broker/mqtt-broker.js';
import type { Logger } from '../infra/logging/logger.js';
import { DevicesRepository } from './devices.repository.js';
import { IngestService } from './ingest.service.js';
import { StoredAckBatcher } from './stored-ack-batcher.js';

/**
 * Chunks being handled at once before the relay stops reading from the boxes. Past this
 * the relay is far behind (10,000 chunks is seconds of work, a few MB); reading on
 * would only queue more, and a queue without bound ends with nothing acknowledged at all.
 * Lower was tried and is worse on PGlite: at 2,000, 1000 boxes got 1,362 chunks/s stored
 * instead of 2,736, and 939 of their connections dropped. Only chunks count: opens and
 * closes wait on storage, not on the relay's CPU.
 */
const MAX_IN_FLIGHT = 10_000;
const RESUME_BELOW = MAX_IN_FLIGHT / 2;

/** The MQTT edge of ingest: one call into the service per message, its reply to the box. */
@Injectable()
export class IngestBridge implements OnApplicationBootstrap {
  private inFlight = 0;
  // Acks are cumulative and re-derived on every rec/open, so a lost one costs a resend at
  // worst and they go at QoS 0; errors are rare and each one matters (docs/protocol.md).
  private readonly acks = new StoredAckBatcher((deviceId, ack) => {
    this.broker
      .publishToDevice(deviceId, 'ack', JSON.stringify(ack), { qos: 0 })
      .catch((error: unknown) => this.log.error({ err: error, deviceId }, 'ack to device failed'));
  });

  constructor(
    private readonly broker: MqttBroker,
    private readonly ingest: IngestService,
    private readonly devices: DevicesRepository,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.broker.onDeviceMessage((message) => {
      const counted = message.channel === 'rec/chunk';
      if (counted) this.started();
      void this.ingest
        .receive(message)
        .then(async (reply) => {
          if (reply?.channel === 'ack') this.acks.add(message.deviceId, reply.body);
          if (reply?.channel === 'error') {
            await this.broker.publishToDevice(
              message.deviceId,
              'error',
              JSON.stringify(reply.body),
            );
          }
        })
        .catch((error: unknown) =>
          this.log.error({ err: error, deviceId: message.deviceId }, 'reply to device failed'),
        )
        .finally(() => {
          if (counted) this.finished();
        });
    });
    this.broker.onDeviceConnection((deviceId, online) => {
      this.log.info({ deviceId, online }, online ? 'device connected' : 'device disconnected');
      this.devices.markSeen(deviceId, new Date()).catch(() => undefined);
    });
  }

  private started(): void {
    this.inFlight += 1;
    if (this.inFlight === MAX_IN_FLIGHT) this.broker.pauseInput();
  }

  private finished(): void {
    this.inFlight -= 1;
    if (this.inFlight === RESUME_BELOW) this.broker.resumeInput();
  }
}
