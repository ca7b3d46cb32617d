import { Module } from '@nestjs/common';
import { ImagingModule } from '../imaging/imaging.module.js';
import { IngestModule } from '../ingest/ingest.module.js';
import { EcgFileIntake } from './ecg-file-intake.js';
import { EcgFilesController } from './ecg-files.controller.js';

/** ECG files from hospital electrocardiographs, uploaded by clinics (docs/ecg-upload.md). */
@Module({
  imports: [ImagingModule, IngestModule],
  controllers: [EcgFilesController],
  providers: [EcgFileIntake],
})
export class EcgFilesModule {}
