import { Module } from '@nestjs/common';
import { FacilitiesModule } from '../facilities/facilities.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { RealtimeModule } from '../realtime/realtime.module.js';
import { CasesRepository } from './cases.repository.js';
import { ClinicInbox } from './clinic-inbox.js';
import { ClinicInboxGateway } from './clinic-inbox.gateway.js';
import { ReviewDesk } from './review-desk.js';
import { WorklistController } from './worklist.controller.js';
import { WorklistService } from './worklist.service.js';

@Module({
  imports: [FacilitiesModule, OutboxModule, RealtimeModule],
  controllers: [WorklistController],
  providers: [CasesRepository, WorklistService, ReviewDesk, ClinicInbox, ClinicInboxGateway],
  exports: [CasesRepository, WorklistService],
})
export class WorklistModule {}
