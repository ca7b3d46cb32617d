import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { Metrics } from '../common/metrics.js';
import { LOGGER } from '../common/tokens.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { Database } from '../infra/database/database.js';
import type { Logger } from '../infra/logging/logger.js';
import { JobQueues, PermanentJobError, type QueuedJob } from '../infra/queue/job-queues.js';
import { deadlineMove } from '../policies/deadline-policy.js';
import { PoliciesService } from '../policies/policies.service.js';
import { Notifier } from '../realtime/notifier.js';
import type { DeadlineJob } from './case-timers.js';
import { CASE_TRANSITIONS } from './case-transitions.js';
import { CasesRepository } from './cases.repository.js';
import { CASE_DEADLINE_QUEUE } from './queues.js';
import { WorklistAnnouncer } from './worklist-announcer.js';
import { WorklistService } from './worklist.service.js';

/**
 * Deadlines that act. At 80 % of an unclaimed case's deadline its hospital's readers are
 * warned; at the deadline the hospital's policy moves it (escalate to the tertiary hospital
 * above, or overflow to a named county hospital). A claimed case stays with its reader.
 * Each job checks the case is still where and as it was scheduled for, and every change is
 * a conditional UPDATE, so a retried, duplicated or late job acts at most once.
 */
@Injectable()
export class DeadlineDesk implements OnApplicationBootstrap {
  constructor(
    private readonly queues: JobQueues,
    private readonly database: Database,
    private readonly cases: CasesRepository,
    private readonly facilities: FacilitiesRepository,
    private readonly policies: PoliciesService,
    private readonly worklist: WorklistService,
    private readonly announcer: WorklistAnnouncer,
    private readonly notifier: Notifier,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  onApplicationBootstrap(): void {
    this.queues.declare(CASE_DEADLINE_QUEUE);
    this.queues.work<DeadlineJob>(CASE_DEADLINE_QUEUE, (job) => this.run(job));
  }

  private run(job: QueuedJob<DeadlineJob>): Promise<void> {
    switch (job.name) {
      case 'deadline-near':
        return this.near(job.data);
      case 'deadline-passed':
        return this.passed(job.data);
      default:
        throw new PermanentJobError(`unknown deadline job ${job.name}`);
    }
  }

  /** Whether the case still waits at the hospital for this very deadline. */
  private async stillWaiting(job: DeadlineJob) {
    const state = await this.cases.routingOf(job.caseId);
    const current =
      state !== undefined &&
      state.hospitalId === job.hospitalId &&
      state.deadlineAt?.getTime() === job.deadlineAt;
    return current ? state : undefined;
  }

  private async plannedMove(caseId: string, hospitalId: string) {
    const hospital = await this.facilities.get(hospitalId);
    if (!hospital) return null;
    const policy = await this.policies.policyOf(hospitalId);
    const move = deadlineMove(policy, hospital, await this.cases.hasEvent(caseId, 'overflowed'));
    return move && { move, policy, hospital };
  }

  async near(job: DeadlineJob): Promise<void> {
    const state = await this.stillWaiting(job);
    if (state?.status !== 'awaiting_review') return;
    const planned = await this.plannedMove(job.caseId, job.hospitalId);
    if (!planned) return;
    const deadlineAt = new Date(job.deadlineAt);
    const action = planned.move.kind === 'overflowed' ? 'overflow' : 'escalate';
    const warned = await this.database.db.transaction(async (tx) => {
      const now = this.clock.now();
      const marked = await this.cases.markDeadlineAlerted(
        tx,
        job.caseId,
        job.hospitalId,
        deadlineAt,
        now,
      );
      if (!marked) return false;
      await this.cases.appendEvent(tx, {
        caseId: job.caseId,
        type: 'deadline-near',
        actor: 'system:deadline',
        at: now,
        detail: {
          hospitalId: job.hospitalId,
          deadlineAt: deadlineAt.toISOString(),
          action,
          toHospitalId: planned.move.toHospitalId,
        },
      });
      return true;
    });
    if (!warned) return;
    this.notifier.toHospital(job.hospitalId, 'worklist.deadline-near', {
      caseId: job.caseId,
      hospitalId: job.hospitalId,
      deadlineAt: deadlineAt.toISOString(),
      action,
    });
    await this.announcer.announce(job.caseId);
    this.log.info({ caseId: job.caseId, hospitalId: job.hospitalId }, 'deadline near');
  }

  async passed(job: DeadlineJob): Promise<void> {
    const state = await this.stillWaiting(job);
    if (!state) return;
    if (state.status === 'in_review') {
      // Not taken from the reader; if they give it back after this, it acts then (release).
      this.breached('claimed');
      this.log.info({ caseId: job.caseId }, 'deadline passed while claimed: stays with the reader');
      return;
    }
    if (state.status !== 'awaiting_review') return;
    const planned = await this.plannedMove(job.caseId, job.hospitalId);
    const to = planned && (await this.facilities.get(planned.move.toHospitalId));
    if (!planned || !to) {
      this.breached('stranded');
      this.log.warn(
        { caseId: job.caseId, hospitalId: job.hospitalId },
        'deadline passed, nowhere to move the case',
      );
      return;
    }
    const deadlineAt = new Date(job.deadlineAt);
    const { policy, move } = planned;
    const moved = await this.database.db.transaction((tx) =>
      this.worklist.moveCase(tx, {
        caseId: job.caseId,
        from: planned.hospital,
        to,
        transition:
          move.kind === 'overflowed'
            ? CASE_TRANSITIONS.overflow
            : CASE_TRANSITIONS.deadlineEscalate,
        by: 'system:deadline',
        expect: { deadlineAt },
        detail: {
          reason: 'deadline passed',
          dueAt: state.dueAt.toISOString(),
          deadlineAt: deadlineAt.toISOString(),
          policy: {
            atDeadline: policy.atDeadline,
            overflowHospitalId: policy.overflowHospitalId,
            deadlineSeconds: policy.deadlines[state.kind][state.priority],
            custom: policy.updatedAt !== null,
          },
        },
      }),
    );
    if (!moved) return;
    this.breached('moved');
    await this.worklist.afterMove(job.caseId, job.hospitalId, move.kind, true);
    this.log.info(
      { caseId: job.caseId, from: job.hospitalId, to: to.id, kind: move.kind },
      'deadline passed: case moved',
    );
  }

  private breached(outcome: 'moved' | 'claimed' | 'stranded'): void {
    this.metrics.count('telerelay_deadline_breaches_total', { outcome });
  }
}
