import { Module } from '@nestjs/common';
import { RedisProbe } from '../infra/redis/redis-probe.js';
import { RedisConnections } from '../infra/redis/redis-connections.js';
import { IngestModule } from '../ingest/ingest.module.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';

@Module({
  imports: [IngestModule],
  controllers: [HealthController],
  providers: [
    {
      provide: RedisProbe,
      useFactory: (redis: RedisConnections) => new RedisProbe(redis.command('health')),
      inject: [RedisConnections],
    },
    HealthService,
  ],
})
export class HealthModule {}
