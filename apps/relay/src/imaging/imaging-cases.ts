import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { CasePriority, ImagingStudy, SessionUser } from '#contracts';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { Database, type Tx } from '../infra/database/database.js';
import type { Logger } from '../infra/logging/logger.js';
import { JobQueues } from '../infra/queue/job-queues.js';
import { Outbox } from '../outbox/outbox.js';
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
    const caseId = await this.worklist.openImagingCase(
      tx,
      { clinicId: study.clinicId, examKind: `imaging:${modality}`, priority },
      {
        trigger,
        studyInstanceUid: study.studyInstanceUid,
        modalities: study.modalities,
        seriesCount: study.seriesCount,
        instanceCount: study.instanceCount,
      },
    );
    await this.repository.markQueued(tx, study.id, caseId);
    this.log.info({ studyId: study.id, caseId, trigger, priority }, 'imaging study queued');
    return caseId;
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
