import { Module } from '@nestjs/common';
import { FacilitiesModule } from '../facilities/facilities.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { PoliciesModule } from '../policies/policies.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { RecordsModule } from '../records/records.module.js';
import { BoxDelivery } from './box-delivery.js';
import { CaseTimers } from './case-timers.js';
import { CaseTransitions } from './case-transitions.js';
import { CaseTransitionsRepository } from './case-transitions.repository.js';
import { CasesRepository } from './cases.repository.js';
import { ClinicInbox } from './clinic-inbox.js';
import { ClinicInboxRepository } from './clinic-inbox.repository.js';
import { ClinicInboxGateway } from './clinic-inbox.gateway.js';
import { DeadlineDesk } from './deadline-desk.js';
import { ReviewDesk } from './review-desk.js';
import { WorklistController } from './worklist.controller.js';
import { WorklistAnnouncer } from './worklist-announcer.js';
import { WorklistQueries } from './worklist-queries.js';
import { WorklistService } from './worklist.service.js';

@Module({
  imports: [FacilitiesModule, OutboxModule, PoliciesModule, RealtimeModule, RecordsModule],
  controllers: [WorklistController],
  providers: [
    CasesRepository,
    CaseTransitionsRepository,
    CaseTransitions,
    CaseTimers,
    WorklistAnnouncer,
    WorklistQueries,
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
