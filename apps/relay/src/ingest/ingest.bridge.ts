import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { Metrics } from '../common/metrics.js';
import { LOGGER } from '../common/tokens.js';
import { MqttBroker } from '../infra/broker/mqtt-broker.js';
import type { Logger } from '../infra/logging/logger.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { IngestService } from './ingest.service.js';
import { IntakeThrottle } from './intake-throttle.js';
import { StoredAckBatcher } from './stored-ack-batcher.js';

/**
 * 10,000 chunks is seconds of work and a few MB. 2,000 was tried and measured worse on
 * PGlite (1000 boxes got half as much stored), but that was with Aedes's own pause, which
 * froze boxes (MqttBroker.pauseInput); it has not been measured since. A lag of 100 ms is
 * what a reader clicking in the console would start to notice.
 */
const INTAKE_LIMITS = { maxChunksInHand: 10_000, pauseAboveLagMs: 100, resumeBelowLagMs: 25 };
const LAG_PROBE_MS = 20;

/** The MQTT edge of ingest: one call into the service per message, its reply to the box. */
@Injectable()
export class IngestBridge implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly throttle = new IntakeThrottle(INTAKE_LIMITS, (paused) => {
    if (paused) this.broker.pauseInput();
    else this.broker.resumeInput();
  });
  private lagProbe: NodeJS.Timeout | undefined;
  /** Messages being handled and replies being published: what a graceful stop waits for. */
  private readonly inHand = new Set<Promise<void>>();
  // Acks are cumulative and re-derived on every rec/open, so a lost one costs a resend at
  // worst and they go at QoS 0; errors are rare and each one matters (docs/protocol.md).
  private readonly acks = new StoredAckBatcher((deviceId, ack) => {
    this.metrics.count('telerelay_stored_acks_sent_total', {});
    this.hold(
      this.broker
        .publishToDevice(deviceId, 'ack', JSON.stringify(ack), { qos: 0 })
        .catch((error: unknown) =>
          this.log.error({ err: error, deviceId }, 'ack to device failed'),
        ),
    );
  });

  constructor(
    private readonly broker: MqttBroker,
    private readonly ingest: IngestService,
    private readonly devices: DevicesRepository,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.probeEventLoopLag();
    this.broker.onDeviceMessage((message) => {
      const counted = message.channel === 'rec/chunk';
      if (counted) this.throttle.chunkStarted();
      const channel = message.channel;
      this.metrics.count('telerelay_ingest_messages_received_total', { channel });
      const startedAt = performance.now();
      const handled = this.ingest
        .receive(message)
        .then(async (reply) => {
          if (reply) {
            const seconds = (performance.now() - startedAt) / 1000;
            this.metrics.observe('telerelay_ingest_reply_seconds', { channel }, seconds);
          }
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
          if (counted) this.throttle.chunkFinished();
        });
      this.hold(handled);
    });
    this.broker.onDeviceConnection((deviceId, online) => {
      this.log.info({ deviceId, online }, online ? 'device connected' : 'device disconnected');
      this.devices.markSeen(deviceId, this.clock.now()).catch(() => undefined);
    });
  }

  onApplicationShutdown(): void {
    clearInterval(this.lagProbe);
  }

  /**
   * Resolves once every message already taken from a box has been handled and its reply
   * handed to the broker. The graceful stop calls it after the broker stopped reading, so
   * what a box was told "stored" is stored, and what it was not told it still holds.
   */
  async drain(): Promise<void> {
    while (this.inHand.size > 0) {
      await Promise.allSettled([...this.inHand]);
      // Let the ack batcher send what the last replies queued (it flushes on setImmediate).
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private hold(work: Promise<void>): void {
    this.inHand.add(work);
    void work.finally(() => this.inHand.delete(work));
  }

  private probeEventLoopLag(): void {
    let expected = performance.now() + LAG_PROBE_MS;
    this.lagProbe = setInterval(() => {
      const now = performance.now();
      this.throttle.loopLag(Math.max(0, now - expected));
      expected = now + LAG_PROBE_MS;
    }, LAG_PROBE_MS);
    this.lagProbe.unref();
  }
}
