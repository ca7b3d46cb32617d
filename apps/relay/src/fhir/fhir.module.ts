import { Module } from '@nestjs/common';
import { RecordsModule } from '../records/records.module.js';
import { WorklistModule } from '../worklist/worklist.module.js';
import { FhirErrorFilter } from './fhir-error.filter.js';
import { FhirController } from './fhir.controller.js';
import { FhirRepository } from './fhir.repository.js';
import { FhirService } from './fhir.service.js';

/** Signed cases as FHIR R4 for the regional platform (docs/fhir.md). */
@Module({
  imports: [RecordsModule, WorklistModule],
  controllers: [FhirController],
  providers: [FhirRepository, FhirService, FhirErrorFilter],
})
export class FhirModule {}
