import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  nationalIdSchema,
  type CasePriority,
  type ImagingStudy,
  type SessionUser,
} from '#contracts';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { Database, type Tx } from '../infra/database/database.js';
import type { Logger } from '../infra/logging/logger.js';
import { JobQueues } from '../infra/queue/job-queues.js';
import { Outbox } from '../outbox/outbox.js';
import { ExamOrdersService, type ExamOrderRow } from '../records/exam-orders.service.js';
import { PatientsService } from '../records/patients.service.js';
import { WorklistService } from '../worklist/worklist.service.js';
import { ImagingRepository, type StudyRow } from './imaging.repository.js';

/** One delayed job per study at a time: is it quiet yet? (ids carry the study and the time). */
export const IMAGING_QUIET_QUEUE = 'imaging-quiet';

interface QuietJob {
  studyId: string;
}

/**
 * From images to a case: a study becomes one imaging case when its clinic says it is
 * complete, or when no instance has come for IMAGING_QUIET_SECONDS. The case enters its
 * county hospital's queue through WorklistService (same desk, deadlines and workflow as ECG).
 * Instances arriving after that are added to the study; the reader sees them on opening it
 * (the counts on the worklist row grow), no separate notice (docs/imaging.md).
 */
@Injectable()
export class ImagingCases implements OnApplicationBootstrap {
  constructor(
    private readonly database: Database,
    private readonly repository: ImagingRepository,
    private readonly worklist: WorklistService,
    private readonly outbox: Outbox,
    private readonly queues: JobQueues,
    private readonly orders: ExamOrdersService,
    private readonly patients: PatientsService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: RelayConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.queues.declare(IMAGING_QUIET_QUEUE);
    this.queues.work<QuietJob>(IMAGING_QUIET_QUEUE, (job) => this.checkQuiet(job.data.studyId));
  }

  /**
   * Called in the transaction that creates a study: its first quiet check. The check moves
   * itself on while instances keep coming, so a study of 500 slices costs a few jobs, not 500.
   */
  async scheduleQuietCheck(tx: Tx, studyId: string, lastInstanceAt: Date): Promise<void> {
    const runAt = lastInstanceAt.getTime() + this.config.imaging.quietSeconds * 1000;
    await this.outbox.append<QuietJob>(tx, IMAGING_QUIET_QUEUE, {
      name: 'study-quiet',
      id: `quiet-${studyId}-${runAt}`,
      data: { studyId },
      runAtMs: runAt,
    });
  }

  /** The job: a study still receiving and quiet for long enough becomes a routine case. */
  async checkQuiet(studyId: string): Promise<void> {
    const caseId = await this.database.db.transaction(async (tx) => {
      const study = await this.repository.lockStudyById(tx, studyId);
      if (!study || study.state !== 'receiving') return null;
      const quietUntil = study.lastInstanceAt.getTime() + this.config.imaging.quietSeconds * 1000;
      if (quietUntil > this.clock.now().getTime()) {
        await this.scheduleQuietCheck(tx, studyId, study.lastInstanceAt);
        return null;
      }
      return this.openCase(tx, study, 'routine', 'quiet');
    });
    await this.after(caseId);
  }

  /** The clinic marks its study complete (again: the same case, nothing new). */
  async complete(
    user: SessionUser,
    studyInstanceUid: string,
    priority: CasePriority,
  ): Promise<ImagingStudy> {
    let created: string | null = null;
    const study = await this.database.db.transaction(async (tx) => {
      const found = await this.repository.lockStudy(tx, user.facilityId, studyInstanceUid);
      if (!found || user.role !== 'clinic_staff') {
        throw new DomainError('NOT_FOUND', 'No such study from your clinic', {
          subject: `study:${studyInstanceUid}`,
          detail: { reason: 'not in scope or missing', facilityId: user.facilityId },
        });
      }
      if (found.state === 'queued') return found;
      created = await this.openCase(tx, found, priority, 'clinic');
      return { ...found, state: 'queued' as const, caseId: created };
    });
    await this.after(created);
    return toImagingStudy(study);
  }

  async clinicStudies(user: SessionUser): Promise<ImagingStudy[]> {
    const rows = await this.repository.clinicStudies(user.facilityId, 200);
    return rows.map(toImagingStudy);
  }

  private async openCase(
    tx: Tx,
    study: StudyRow,
    priority: CasePriority,
    trigger: 'clinic' | 'quiet',
  ): Promise<string> {
    const modality = study.modalities[0] ?? 'OT';
    const link = await this.patientOf(tx, study);
    const caseId = await this.worklist.openImagingCase(
      tx,
      {
        clinicId: study.clinicId,
        examKind: `imaging:${modality}`,
        priority,
        patientId: link.patientId,
        orderId: link.order?.id ?? null,
      },
      {
        trigger,
        studyInstanceUid: study.studyInstanceUid,
        modalities: study.modalities,
        seriesCount: study.seriesCount,
        instanceCount: study.instanceCount,
      },
    );
    await this.repository.markQueued(tx, study.id, caseId);
    if (link.order?.status === 'open') await this.orders.markRecorded(tx, link.order.id);
    // Without an order the clinic was not warned when it registered: count the repeat now.
    if (link.patientId && !link.order) {
      const bodyPart = (await this.repository.seriesOf(study.id, tx)).find(
        (s) => s.bodyPart,
      )?.bodyPart;
      await this.orders.warnOfArrivedExam(tx, {
        patientId: link.patientId,
        clinicId: study.clinicId,
        caseId,
        kind: 'imaging',
        modality: modality.toUpperCase(),
        bodyPart: bodyPart?.toUpperCase() ?? null,
      });
    }
    this.log.info(
      {
        studyId: study.id,
        caseId,
        trigger,
        priority,
        linked: link.order ? 'order' : link.patientId ? 'patient' : 'none',
      },
      'imaging study queued',
    );
    return caseId;
  }

  /**
   * The study's patient (docs/patients.md): by the Accession Number of an imaging order of
   * the clinic, else by a Patient ID (0010,0020) that is a valid resident ID of a registered
   * patient. Neither: a case without a patient, as before orders existed.
   */
  private async patientOf(
    tx: Tx,
    study: StudyRow,
  ): Promise<{ patientId: string | null; order: ExamOrderRow | undefined }> {
    const order = study.accessionNumber
      ? await this.orders.imagingOrderOf(study.clinicId, study.accessionNumber, tx)
      : undefined;
    if (order) return { patientId: order.patientId, order };
    const residentId = nationalIdSchema.safeParse(study.patientId ?? '');
    if (!residentId.success) return { patientId: null, order: undefined };
    const patient = await this.patients.findByIdentifier('resident_id', residentId.data, tx);
    return { patientId: patient?.id ?? null, order: undefined };
  }

  private async after(caseId: string | null): Promise<void> {
    if (!caseId) return;
    void this.outbox.flush();
    await this.worklist
      .caseOpened(caseId)
      .catch((error: unknown) =>
        this.log.warn({ err: error, caseId }, 'clinic not told of its new case'),
      );
  }
}

export function toImagingStudy(row: StudyRow): ImagingStudy {
  return {
    studyInstanceUid: row.studyInstanceUid,
    description: row.description,
    modalities: row.modalities,
    seriesCount: row.seriesCount,
    instanceCount: row.instanceCount,
    state: row.state,
    caseId: row.caseId,
    lastInstanceAt: row.lastInstanceAt.toISOString(),
  };
}
