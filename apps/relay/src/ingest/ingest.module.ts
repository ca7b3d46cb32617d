import { Module } from '@nestjs/common';
import { FacilitiesModule } from '../facilities/facilities.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { WorklistModule } from '../worklist/worklist.module.js';
import { DevicesAdminController } from './devices-admin.controller.js';
import { DevicesController } from './devices.controller.js';
import { DeviceGateService } from './device-gate.service.js';
import { DevicesRepository } from './devices.repository.js';
import { IngestBridge } from './ingest.bridge.js';
import { IngestService } from './ingest.service.js';
import { RecordingArchive } from './recording-archive.js';
import { RecordingsRepository } from './recordings.repository.js';

@Module({
  imports: [WorklistModule, OutboxModule, FacilitiesModule],
  controllers: [DevicesController, DevicesAdminController],
  providers: [
    RecordingArchive,
    DevicesRepository,
    DeviceGateService,
    RecordingsRepository,
    IngestService,
    IngestBridge,
  ],
  exports: [
    IngestService,
    DeviceGateService,
    RecordingsRepository,
    RecordingArchive,
    DevicesRepository,
  ],
})
export class IngestModule {}
