import { Global, Module, type DynamicModule } from '@nestjs/common';
import { Clock, SystemClock } from '../common/clock.js';
import { Metrics } from '../common/metrics.js';
import { AUTH_SECRET, CONFIG, LOGGER } from '../common/tokens.js';
import { BlobStore } from './blobs/blob-store.js';
import { MqttBroker } from './broker/mqtt-broker.js';
import { Database } from './database/database.js';
import type { Infrastructure } from './infrastructure.js';
import { AttemptLimits } from './limits/attempt-limits.js';
import { PrometheusMetrics } from './metrics/prometheus-metrics.js';
import { JobQueues } from './queue/job-queues.js';
import { RedisConnections } from './redis/redis-connections.js';

/**
 * Hands the already-started infrastructure to Nest's container; owns none of its lifecycle.
 * It also provides the `Clock` every domain module reads the time from. It knows no domain: a domain module builds its own adapters from what is provided here
 * (ingest its Redis staging store from `RedisConnections`, identity its signers from
 * `AUTH_SECRET`).
 */
@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(infra: Infrastructure): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: infra.config },
      { provide: LOGGER, useValue: infra.log },
      { provide: AUTH_SECRET, useValue: infra.authSecret },
      { provide: Database, useValue: infra.database },
      { provide: RedisConnections, useValue: infra.redis },
      { provide: JobQueues, useValue: infra.queues },
      { provide: BlobStore, useValue: infra.blobs },
      { provide: MqttBroker, useValue: infra.broker },
      // Domain code records through the port; only the /metrics edge reads the exposition.
      { provide: Metrics, useValue: infra.metrics },
      { provide: PrometheusMetrics, useValue: infra.metrics },
      { provide: AttemptLimits, useValue: AttemptLimits.onRedis(infra.redis.command('limits')) },
      // The one time source of domain code; medium tests build services with a clock they move.
      { provide: Clock, useClass: SystemClock },
    ];
    return { module: InfrastructureModule, providers, exports: providers.map((p) => p.provide) };
  }
}
