import { Module } from '@nestjs/common';
import { IngestModule } from '../ingest/ingest.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { RecordsModule } from '../records/records.module.js';
import { WorklistModule } from '../worklist/worklist.module.js';
import { DicomInspector, PooledDicomInspector } from './dicom-inspector.js';
import { DicomwebController } from './dicomweb.controller.js';
import { DicomwebService } from './dicomweb.service.js';
import { ImagingCases } from './imaging-cases.js';
import { ImagingController } from './imaging.controller.js';
import { ImagingIntake } from './imaging-intake.js';
import { ImagingRepository } from './imaging.repository.js';
import { StowReceiver } from './stow.js';

/** DICOM in: STOW-RS (and C-STORE through ImagingIntake), QIDO/WADO-RS out, studies to cases. */
@Module({
  imports: [WorklistModule, OutboxModule, IngestModule, RecordsModule],
  controllers: [DicomwebController, ImagingController],
  providers: [
    { provide: DicomInspector, useClass: PooledDicomInspector },
    ImagingRepository,
    ImagingCases,
    ImagingIntake,
    StowReceiver,
    DicomwebService,
  ],
  exports: [ImagingIntake],
})
export class ImagingModule {}
