import { Module } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { CONFIG } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { DevicesModule } from '../devices/devices.module.js';
import { RedisRecordingStagingStore } from '../infra/redis/recording-staging.store.js';
import { RedisConnections } from '../infra/redis/redis-connections.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { RecordsModule } from '../records/records.module.js';
import { WorklistModule } from '../worklist/worklist.module.js';
import { EcgFileRecordings } from './ecg-file-recordings.js';
import { IngestBridge } from './ingest.bridge.js';
import { IngestService } from './ingest.service.js';
import { RecordingArchive } from './recording-archive.js';
import { RecordingStaging } from './recording-staging.js';
import { RecordingsRepository } from './recordings.repository.js';

@Module({
  imports: [WorklistModule, OutboxModule, DevicesModule, RecordsModule],
  providers: [
    {
      provide: RecordingStaging,
      // Eight connections: one tops out near 10,000 chunks a second (see the store).
      useFactory: (redis: RedisConnections, config: RelayConfig, clock: Clock) =>
        new RecordingStaging(
          new RedisRecordingStagingStore(
            Array.from({ length: 8 }, (_, shard) => redis.command(`staging-${shard}`)),
            undefined,
            // Open recordings expire by the relay's clock (their scores in Redis are times).
            () => clock.now().getTime(),
          ),
          config.recordings,
        ),
      inject: [RedisConnections, CONFIG, Clock],
    },
    RecordingArchive,
    RecordingsRepository,
    EcgFileRecordings,
    IngestService,
    IngestBridge,
  ],
  exports: [IngestService, RecordingsRepository, RecordingArchive, EcgFileRecordings],
})
export class IngestModule {}
