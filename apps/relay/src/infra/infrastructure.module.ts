import { Global, Module, type DynamicModule } from '@nestjs/common';
import { CONFIG, LOGGER } from '../common/tokens.js';
import { HealthRedis } from '../health/health-redis.js';
import { RecordingStaging } from '../ingest/recording-staging.js';
import { RefreshTokens } from '../identity/refresh-tokens.js';
import { SecretHasher } from '../identity/secret-hasher.js';
import { TokenService } from '../identity/token.service.js';
import { BlobStore } from './blobs/blob-store.js';
import { MqttBroker } from './broker/mqtt-broker.js';
import { Database } from './database/database.js';
import type { Infrastructure } from './infrastructure.js';
import { AttemptLimits } from './limits/attempt-limits.js';
import { JobQueues } from './queue/job-queues.js';

/** Hands the already-started infrastructure to Nest's container; owns none of its lifecycle. */
@Global()
@Module({})
export class InfrastructureModule {
  static forRoot(infra: Infrastructure): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: infra.config },
      { provide: LOGGER, useValue: infra.log },
      { provide: Database, useValue: infra.database },
      { provide: JobQueues, useValue: infra.queues },
      { provide: BlobStore, useValue: infra.blobs },
      { provide: MqttBroker, useValue: infra.broker },
      {
        provide: RecordingStaging,
        useValue: new RecordingStaging(
          Array.from({ length: 8 }, (_, shard) => infra.redis.command(`staging-${shard}`)),
          infra.config.recordings,
        ),
      },
      { provide: HealthRedis, useValue: new HealthRedis(infra.redis.command('health')) },
      { provide: SecretHasher, useValue: new SecretHasher() },
      { provide: AttemptLimits, useValue: AttemptLimits.onRedis(infra.redis.command('limits')) },
      { provide: RefreshTokens, useValue: new RefreshTokens(infra.authSecret) },
      {
        provide: TokenService,
        useValue: new TokenService(infra.authSecret, infra.config.auth.accessTokenTtlSeconds),
      },
    ];
    return { module: InfrastructureModule, providers, exports: providers.map((p) => p.provide) };
  }
}
