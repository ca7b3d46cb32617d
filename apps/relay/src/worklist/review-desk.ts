import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER } from '../common/tokens.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { FacilitiesService } from '../facilities/facilities.service.js';
import type { Logger } from '../infra/logging/logger.js';
import { JobQueues, PermanentJobError, type QueuedJob } from '../infra/queue/job-queues.js';
import { Notifier } from '../realtime/notifier.js';
import { BoxDelivery } from './box-delivery.js';
import { CasesRepository } from './cases.repository.js';
import { clinicMessageOf } from './clinic-messages.js';
import { CLAIM_LEASE_QUEUE, CLINIC_DELIVERY_QUEUE, reviewQueueOf } from './queues.js';
import { WorklistAnnouncer } from './worklist-announcer.js';
import { WorklistService } from './worklist.service.js';

type DeliveryJob = QueuedJob<{ caseId: string; eventId: string }>;

/**
 * The workers of the reading workflow: each hospital's review queue puts cases on that
 * hospital's worklist; the clinic delivery queue carries signed diagnoses and returned
 * recordings back to the clinic and to the box. Both are idempotent, so a retried or
 * duplicated job changes nothing. A clinic that is offline gets the same events again from
 * the ClinicInboxGateway when it reconnects, a box from BoxDelivery when it subscribes.
 */
@Injectable()
export class ReviewDesk implements OnApplicationBootstrap {
  private readonly reviewQueues = new Set<string>();

  constructor(
    private readonly queues: JobQueues,
    private readonly facilities: FacilitiesRepository,
    private readonly hierarchy: FacilitiesService,
    private readonly worklist: WorklistService,
    private readonly announcer: WorklistAnnouncer,
    private readonly cases: CasesRepository,
    private readonly notifier: Notifier,
    private readonly boxes: BoxDelivery,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // A hospital added through the admin API gets its queue at once, without a restart.
    this.hierarchy.onHospitalAdded((hospital) => this.openReviewQueue(hospital.id));
    for (const hospital of await this.facilities.hospitals()) this.openReviewQueue(hospital.id);
    this.queues.declare(CLAIM_LEASE_QUEUE);
    this.queues.work<{ caseId: string }>(CLAIM_LEASE_QUEUE, (job) =>
      this.worklist.checkLease(job.data.caseId),
    );
    this.queues.declare(CLINIC_DELIVERY_QUEUE);
    this.queues.work<DeliveryJob['data']>(CLINIC_DELIVERY_QUEUE, (job) => this.deliver(job));
  }

  private openReviewQueue(hospitalId: string): void {
    const queue = reviewQueueOf(hospitalId);
    if (this.reviewQueues.has(queue)) return;
    this.reviewQueues.add(queue);
    this.queues.declare(queue);
    this.queues.work<{ caseId: string }>(queue, (job) =>
      this.announcer.listCase(job.data.caseId, hospitalId),
    );
  }

  private async deliver(job: DeliveryJob): Promise<void> {
    const kind =
      job.name === 'deliver-diagnosis'
        ? 'diagnosis.signed'
        : job.name === 'deliver-return'
          ? 'case.returned'
          : null;
    if (!kind) throw new PermanentJobError(`unknown delivery ${job.name}`);
    const { caseId, eventId } = job.data;
    const message = await clinicMessageOf(this.cases, { caseId, eventId, kind });
    if (!message) throw new PermanentJobError(`nothing to deliver for ${kind} of case ${caseId}`);
    switch (message.event) {
      case 'diagnosis.signed':
        this.notifier.toClinic(
          message.payload.diagnosis.clinicId,
          'diagnosis.signed',
          message.payload,
        );
        break;
      case 'case.returned': {
        const summary = await this.announcer.announce(caseId);
        this.notifier.toClinic(summary.clinicId, 'case.returned', message.payload);
        break;
      }
    }
    await this.boxes.send(message);
    this.log.info({ caseId, eventId, kind }, 'delivered to the clinic');
  }
}
