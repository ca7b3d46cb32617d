import { Injectable } from '@nestjs/common';
import type { Tx } from '../infra/database/database.js';
import { Outbox } from '../outbox/outbox.js';
import { nearTime } from '../policies/deadline-policy.js';
import { CasesRepository } from './cases.repository.js';
import { CASE_DEADLINE_QUEUE, CLAIM_LEASE_QUEUE } from './queues.js';

export interface DeadlineJob {
  caseId: string;
  hospitalId: string;
  /** The deadline this job belongs to (ms); a case that got another one ignores the job. */
  deadlineAt: number;
}

export interface LeaseJob {
  caseId: string;
}

/**
 * The timers of the reading workflow, as delayed jobs (never timers in memory), each
 * written to the outbox in the transaction of the change that sets it: a deadline's 80 %
 * warning and the deadline itself, and the check at a claim's lease end.
 */
@Injectable()
export class CaseTimers {
  constructor(
    private readonly cases: CasesRepository,
    private readonly outbox: Outbox,
  ) {}

  /** The 80 % warning and the deadline itself. */
  async scheduleDeadline(
    tx: Tx,
    caseId: string,
    hospitalId: string,
    from: Date,
    deadlineAt: Date,
  ): Promise<void> {
    const data: DeadlineJob = { caseId, hospitalId, deadlineAt: deadlineAt.getTime() };
    const key = `${caseId}-${hospitalId}-${deadlineAt.getTime()}`;
    await this.outbox.append(tx, CASE_DEADLINE_QUEUE, {
      name: 'deadline-near',
      id: `near-${key}`,
      data,
      runAtMs: nearTime(from, deadlineAt).getTime(),
    });
    await this.outbox.append(tx, CASE_DEADLINE_QUEUE, {
      name: 'deadline-passed',
      id: `deadline-${key}`,
      data,
      runAtMs: deadlineAt.getTime(),
    });
  }

  /** The check at the end of a claim's lease (one per lease end: the job id says which). */
  async scheduleLeaseCheck(tx: Tx, caseId: string, until: Date): Promise<void> {
    await this.outbox.append<LeaseJob>(tx, CLAIM_LEASE_QUEUE, {
      name: 'check-lease',
      id: `lease-${caseId}-${until.getTime()}`,
      data: { caseId },
      runAtMs: until.getTime(),
    });
  }

  /**
   * A case given back (released, or its lease lapsed) after its deadline acts now: its
   * deadline job found it claimed and left it with the reader.
   */
  async actIfOverdue(tx: Tx, caseId: string, now: Date): Promise<void> {
    const state = await this.cases.routingOf(caseId, tx);
    if (state?.status !== 'awaiting_review' || !state.deadlineAt || state.deadlineAt > now) return;
    await this.cases.setDeadline(tx, caseId, now);
    await this.outbox.append(tx, CASE_DEADLINE_QUEUE, {
      name: 'deadline-passed',
      id: `deadline-${caseId}-${state.hospitalId}-${now.getTime()}`,
      data: {
        caseId,
        hospitalId: state.hospitalId,
        deadlineAt: now.getTime(),
      } satisfies DeadlineJob,
      runAtMs: now.getTime(),
    });
  }
}
