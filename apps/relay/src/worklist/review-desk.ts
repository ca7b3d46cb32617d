import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { DeviceDiagnosis, DeviceError } from '#contracts';
import { LOGGER } from '../common/tokens.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { MqttBroker } from '../infra/broker/mqtt-broker.js';
import type { Logger } from '../infra/logging/logger.js';
import { JobQueues, PermanentJobError, type QueuedJob } from '../infra/queue/job-queues.js';
import { Notifier } from '../realtime/notifier.js';
import { CasesRepository } from './cases.repository.js';
import { CLINIC_DELIVERY_QUEUE, reviewQueueOf } from './queues.js';
import { WorklistService } from './worklist.service.js';

type DeliveryJob = QueuedJob<{ caseId: string; eventId: string }>;

/**
 * The workers of the reading workflow: each hospital's review queue puts cases on that
 * hospital's worklist; the clinic delivery queue carries signed diagnoses and returned
 * recordings back to the clinic and to the box. Both are idempotent, so a retried or
 * duplicated job changes nothing.
 */
@Injectable()
export class ReviewDesk implements OnApplicationBootstrap {
  constructor(
    private readonly queues: JobQueues,
    private readonly facilities: FacilitiesRepository,
    private readonly worklist: WorklistService,
    private readonly cases: CasesRepository,
    private readonly notifier: Notifier,
    private readonly broker: MqttBroker,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const hospital of await this.facilities.hospitals()) {
      this.queues.declare(reviewQueueOf(hospital.id));
      this.queues.work<{ caseId: string }>(reviewQueueOf(hospital.id), (job) =>
        this.worklist.listCase(job.data.caseId),
      );
    }
    this.queues.declare(CLINIC_DELIVERY_QUEUE);
    this.queues.work<DeliveryJob['data']>(CLINIC_DELIVERY_QUEUE, (job) => this.deliver(job));
  }

  private deliver(job: DeliveryJob): Promise<void> {
    switch (job.name) {
      case 'deliver-diagnosis':
        return this.deliverDiagnosis(job.data.caseId, job.data.eventId);
      case 'deliver-return':
        return this.deliverReturn(job.data.caseId, job.data.eventId);
      default:
        throw new PermanentJobError(`unknown delivery ${job.name}`);
    }
  }

  private async deliverDiagnosis(caseId: string, eventId: string): Promise<void> {
    const found = await this.cases.diagnosisOf(caseId);
    if (!found) throw new PermanentJobError(`no diagnosis for case ${caseId}`);
    const { deviceId, ...diagnosis } = found;
    this.notifier.toClinic(diagnosis.clinicId, 'diagnosis.signed', { eventId, diagnosis });
    if (deviceId && diagnosis.recordingId) {
      const message: DeviceDiagnosis = {
        caseId,
        recordingId: diagnosis.recordingId,
        conclusion: diagnosis.conclusion,
        signedBy: diagnosis.signedByName,
        signedAt: diagnosis.signedAt,
      };
      // Retained, so a box that is offline now sees its latest diagnosis when it returns.
      await this.broker.publishToDevice(deviceId, 'diagnosis', JSON.stringify(message), {
        retain: true,
      });
    }
    this.log.info({ caseId, eventId }, 'diagnosis delivered');
  }

  private async deliverReturn(caseId: string, eventId: string): Promise<void> {
    const notice = await this.cases.returnedNotice(caseId);
    if (!notice) throw new PermanentJobError(`case ${caseId} is not returned`);
    const reason = notice.reason ?? 'unreadable recording';
    this.notifier.toClinic(notice.clinicId, 'case.returned', {
      eventId,
      caseId,
      recordingId: notice.recordingId,
      reason,
    });
    await this.worklist.announce(caseId);
    if (notice.deviceId && notice.recordingId) {
      const error: DeviceError = {
        code: 'UNREADABLE_RECORDING',
        message: `Record again: ${reason}`,
        retryable: false,
        recordingId: notice.recordingId,
      };
      await this.broker.publishToDevice(notice.deviceId, 'error', JSON.stringify(error));
    }
    this.log.info({ caseId, eventId }, 'returned recording delivered');
  }
}
