import { Module } from '@nestjs/common';
import { FacilitiesModule } from '../facilities/facilities.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { BoxDelivery } from './box-delivery.js';
import { CasesRepository } from './cases.repository.js';
import { ClinicInbox } from './clinic-inbox.js';
import { ClinicInboxRepository } from './clinic-inbox.repository.js';
import { ClinicInboxGateway } from './clinic-inbox.gateway.js';
import { DeadlineDesk } from './deadline-desk.js';
import { ReviewDesk } from './review-desk.js';
import { WorklistController } from './worklist.controller.js';
import { WorklistService } from './worklist.service.js';

@Module({
  imports: [FacilitiesModule, OutboxModule, PoliciesModule, RealtimeModule],
  controllers: [WorklistController],
  providers: [
    CasesRepository,
    WorklistService,
    ReviewDesk,
    DeadlineDesk,
    ClinicInboxRepository,
    ClinicInbox,
    ClinicInboxGateway,
    BoxDelivery,
  ],
  exports: [CasesRepository, WorklistService],
})
export class WorklistModule {}
