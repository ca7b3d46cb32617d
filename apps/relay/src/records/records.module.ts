import { Module } from '@nestjs/common';
import type { RelayConfig } from '../config/config.js';
import { CONFIG } from '../common/tokens.js';
import { ExamOrdersRepository } from './exam-orders.repository.js';
import { ExamOrdersService } from './exam-orders.service.js';
import { PatientIdentity } from './patient-identity.js';
import { RecordsController } from './records.controller.js';
import { PatientsRepository } from './patients.repository.js';
import { PatientsService } from './patients.service.js';

/**
 * Patients and exam orders (docs/patients.md): registration by clinics, the protected
 * identifier, and the orders a box recording or a DICOM study fulfils.
 */
@Module({
  controllers: [RecordsController],
  providers: [
    {
      provide: PatientIdentity,
      inject: [CONFIG],
      useFactory: (config: RelayConfig) => new PatientIdentity(config.patientIdentity),
    },
    PatientsRepository,
    PatientsService,
    ExamOrdersRepository,
    ExamOrdersService,
  ],
  exports: [PatientIdentity, PatientsService, ExamOrdersService],
})
export class RecordsModule {}
