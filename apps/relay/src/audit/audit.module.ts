import { Global, Module } from '@nestjs/common';
import { RecordsModule } from '../records/records.module.js';
import { AuditAnchors } from './audit-anchors.js';
import { AuditController } from './audit.controller.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';
import { PatientAccessLogController } from './patient-access-log.controller.js';
import { PatientAccessLog } from './patient-access-log.service.js';

@Global()
@Module({
  // For "who looked at my record": the patient's id is mapped to their lookup key there.
  imports: [RecordsModule],
  controllers: [AuditController, PatientAccessLogController],
  providers: [AuditRepository, AuditService, AuditAnchors, PatientAccessLog],
  exports: [AuditService],
})
export class AuditModule {}
