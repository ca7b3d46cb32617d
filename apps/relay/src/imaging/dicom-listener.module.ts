import { Module } from '@nestjs/common';
import { FacilitiesModule } from '../facilities/facilities.module.js';
import { DicomListener } from './dicom-listener.js';
import { ImagingModule } from './imaging.module.js';

/** The DICOM listener (C-ECHO, C-STORE): started by relay.ts once HTTP and MQTT listen. */
@Module({
  imports: [ImagingModule, FacilitiesModule],
  providers: [DicomListener],
  exports: [DicomListener],
})
export class DicomListenerModule {}
