import { Injectable } from '@nestjs/common';
import { and, eq, inArray, lte, type SQL } from 'drizzle-orm';
import type { CasePriority, CaseStatus, SessionUser } from '#contracts';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import type { Tx } from '../infra/database/database.js';
import { caseEvents, cases } from '../infra/database/schema.js';

/**
 * The lifecycle of a case as one table (docs/architecture.md, "Reading workflow"). Each row
 * says from which statuses a case may move to which, who may move it, what else must hold
 * (the guards), and which case event records the move. `CaseTransitions.apply` makes, from
 * a row, the one conditional UPDATE and the case event, in the caller's transaction; there
 * is no other code that changes a case's status.
 */

/** Who moves a case: a signed-in reader, or one of the relay's own workers. */
export type SystemActor = 'system:analysis' | 'system:imaging' | 'system:lease' | 'system:deadline';
export type Mover = SessionUser | SystemActor;

/**
 * What else the row in `cases` must say for the move to happen, checked in the UPDATE's
 * WHERE, so two callers racing for the same move cannot both win.
 */
export type Guard =
  /** The reader moving it holds the claim. */
  | 'held-by-mover'
  /** The claim is still the one the caller saw (`expect.holder`). */
  | 'held-as-seen'
  /** The claim's lease has run out (lease_expires_at ≤ now). */
  | 'lease-lapsed'
  /** The case is at the hospital the caller expects (`expect.hospitalId`; a reader: theirs). */
  | 'at-hospital'
  /** The case still waits for the deadline the caller was scheduled for (`expect.deadlineAt`). */
  | 'deadline-as-seen';

/** What the caller expects to find, for the guards that compare with it. */
export interface Expectation {
  hospitalId?: string;
  holder?: string;
  deadlineAt?: Date;
}

/** Columns a move sets besides the status and updated_at. */
export type CaseChanges = Partial<Omit<typeof cases.$inferInsert, 'id' | 'status' | 'updatedAt'>>;

/** What a refused move found: enough to say why (always read in the same transaction). */
export interface FoundCase {
  status: CaseStatus;
  hospitalId: string;
  claimedBy: string | null;
}

export interface CaseTransition<P = void> {
  name: string;
  from: readonly CaseStatus[];
  to: CaseStatus;
  /** `reader`: a signed-in user with the reader role; otherwise that very worker. */
  who: 'reader' | SystemActor;
  guards: readonly Guard[];
  /** The case event it writes (`type`), from/to being the statuses above. */
  event: string;
  /** What the event records beyond who, when, from and to. */
  records?: (params: P, mover: Mover) => Record<string, unknown>;
  /** Columns it sets besides status and updated_at. */
  changes?: (params: P, at: Date, mover: Mover) => CaseChanges;
  /** The 409 message when the case exists (and is the mover's to see) but cannot move. */
  conflict: (found: FoundCase) => string;
}

/** Declares a row with its parameter type (inferred at each use of `apply`). */
export function transition<P = void>(row: CaseTransition<P>): CaseTransition<P> {
  return row;
}

const unclaimed = { claimedBy: null, claimedAt: null, leaseExpiresAt: null } as const;
const notHeld = () => 'Claim the case first: only the reader holding it can do this';

/** A move to another hospital's queue, unclaimed (escalation or overflow). */
export interface TransferParams {
  fromHospitalId: string;
  toHospitalId: string;
  /** The new hospital's deadline, or null when it cannot act on one. */
  deadlineAt: Date | null;
  /** Why: the reader's note, or the deadline and the policy that moved it. */
  detail: Record<string, unknown>;
}

const transferChanges = (move: TransferParams): CaseChanges => ({
  hospitalId: move.toHospitalId,
  ...unclaimed,
  deadlineAt: move.deadlineAt,
  deadlineAlertedAt: null,
  listedAt: null,
});
const transferRecords = (move: TransferParams) => ({
  fromHospitalId: move.fromHospitalId,
  toHospitalId: move.toHospitalId,
  ...move.detail,
});

export const CASE_TRANSITIONS = {
  /** The analysis has put it in its hospital's review queue, with the priority it found. */
  analysed: transition<{
    priority: CasePriority;
    dueAt: Date;
    deadlineAt: Date | null;
    detail: Record<string, unknown>;
  }>({
    name: 'analysed',
    from: ['analysing'],
    to: 'awaiting_review',
    who: 'system:analysis',
    guards: [],
    event: 'analysed',
    records: (p) => ({ priority: p.priority, ...p.detail }),
    changes: (p) => ({ priority: p.priority, dueAt: p.dueAt, deadlineAt: p.deadlineAt }),
    conflict: (found) => `Case is ${found.status.replace('_', ' ')}`,
  }),
  /**
   * An imaging study is complete (the clinic said so, or no instance came for the quiet
   * time): into its hospital's review queue with the priority the clinic asked for. The case
   * is opened in `analysing` and moved by this row in the same transaction.
   */
  imagesComplete: transition<{
    priority: CasePriority;
    dueAt: Date;
    deadlineAt: Date | null;
    detail: Record<string, unknown>;
  }>({
    name: 'imagesComplete',
    from: ['analysing'],
    to: 'awaiting_review',
    who: 'system:imaging',
    guards: [],
    event: 'images-complete',
    records: (p) => ({ priority: p.priority, ...p.detail }),
    changes: (p) => ({ priority: p.priority, dueAt: p.dueAt, deadlineAt: p.deadlineAt }),
    conflict: (found) => `Case is ${found.status.replace('_', ' ')}`,
  }),
  /** The recording cannot be read: back to the clinic while the patient is still there. */
  returnedUnreadable: transition<{ reason: string; detail: Record<string, unknown> }>({
    name: 'returnedUnreadable',
    from: ['analysing'],
    to: 'returned',
    who: 'system:analysis',
    guards: [],
    event: 'returned',
    records: (p) => ({ reason: p.reason, ...p.detail }),
    changes: (p) => ({ returnReason: p.reason, ...unclaimed, deadlineAt: null }),
    conflict: (found) => `Case is ${found.status.replace('_', ' ')}`,
  }),
  /** A reader of the case's hospital takes it; exactly one of many concurrent claims wins. */
  claim: transition<{ leaseUntil: Date }>({
    name: 'claim',
    from: ['awaiting_review'],
    to: 'in_review',
    who: 'reader',
    guards: ['at-hospital'],
    event: 'claimed',
    changes: (p, at, mover) => ({
      claimedBy: typeof mover === 'string' ? null : mover.id,
      claimedAt: at,
      leaseExpiresAt: p.leaseUntil,
    }),
    conflict: (found) =>
      `Case is ${found.status.replace('_', ' ')}${found.claimedBy ? ' by another reader' : ''}`,
  }),
  /** The reader holding it hands it back to the queue. */
  release: transition({
    name: 'release',
    from: ['in_review'],
    to: 'awaiting_review',
    who: 'reader',
    guards: ['held-by-mover'],
    event: 'released',
    changes: () => unclaimed,
    conflict: () => 'You do not hold this case',
  }),
  /** The holder's console stopped keeping the claim alive: it goes back to the queue. */
  leaseLapse: transition<{ formerReader: string }>({
    name: 'leaseLapse',
    from: ['in_review'],
    to: 'awaiting_review',
    who: 'system:lease',
    guards: ['held-as-seen', 'lease-lapsed'],
    event: 'lease-lapsed',
    records: (p) => ({ formerReader: p.formerReader }),
    changes: () => unclaimed,
    conflict: () => 'The lease is still alive or the case has moved on',
  }),
  /** The reader holding it signs the diagnosis (written in the same transaction). */
  sign: transition({
    name: 'sign',
    from: ['in_review'],
    to: 'signed',
    who: 'reader',
    guards: ['held-by-mover'],
    event: 'signed',
    conflict: () => 'Claim the case before signing it',
  }),
  /** The reader holding it sends it back to the clinic, with the reason. */
  returnByReader: transition<{ reason: string; detail: Record<string, unknown> }>({
    name: 'returnByReader',
    from: ['in_review'],
    to: 'returned',
    who: 'reader',
    guards: ['held-by-mover'],
    event: 'returned',
    records: (p) => ({ reason: p.reason, ...p.detail }),
    changes: (p) => ({ returnReason: p.reason, ...unclaimed, deadlineAt: null }),
    conflict: notHeld,
  }),
  /** The reader holding it sends it to the hospital above, with a note. */
  escalate: transition<TransferParams>({
    name: 'escalate',
    from: ['in_review'],
    to: 'awaiting_review',
    who: 'reader',
    guards: ['held-by-mover', 'at-hospital'],
    event: 'escalated',
    records: transferRecords,
    changes: transferChanges,
    conflict: () => 'You no longer hold this case',
  }),
  /** Nobody claimed it by the deadline; the hospital's policy says escalate. */
  deadlineEscalate: transition<TransferParams>({
    name: 'deadlineEscalate',
    from: ['awaiting_review'],
    to: 'awaiting_review',
    who: 'system:deadline',
    guards: ['at-hospital', 'deadline-as-seen'],
    event: 'escalated',
    records: transferRecords,
    changes: transferChanges,
    conflict: () => 'The case has moved on since its deadline was set',
  }),
  /** Nobody claimed it by the deadline; the hospital's policy says overflow. */
  overflow: transition<TransferParams>({
    name: 'overflow',
    from: ['awaiting_review'],
    to: 'awaiting_review',
    who: 'system:deadline',
    guards: ['at-hospital', 'deadline-as-seen'],
    event: 'overflowed',
    records: transferRecords,
    changes: transferChanges,
    conflict: () => 'The case has moved on since its deadline was set',
  }),
} as const;

export type CaseTransitionName = keyof typeof CASE_TRANSITIONS;

/** The case as it stands after a move (what callers need to go on). */
export interface MovedCase {
  id: string;
  clinicId: string;
  hospitalId: string;
}

export type TransitionOutcome =
  { moved: true; case: MovedCase; eventId: number } | { moved: false; refusal: DomainError };

/**
 * Another facility's case looks exactly like a missing one; the edge that answers audits
 * the refusal with this subject and reason.
 */
export function notVisible(user: SessionUser, caseId: string): DomainError {
  return new DomainError('NOT_FOUND', 'No such case in your worklist', {
    subject: `case:${caseId}`,
    detail: { reason: 'not in scope or missing', facilityId: user.facilityId },
  });
}

/**
 * Why a move did not happen, from what was found: a case that is missing, or not the
 * reader's hospital's, is NOT_FOUND; one that is there but not in a state to move, CONFLICT.
 */
export function refusalOf<P>(
  row: CaseTransition<P>,
  mover: Mover,
  caseId: string,
  found: FoundCase | undefined,
): DomainError {
  if (typeof mover !== 'string') {
    if (!found || found.hospitalId !== mover.facilityId) return notVisible(mover, caseId);
    if (mover.role !== 'reader') return new DomainError('FORBIDDEN', 'Only readers may do this');
  } else if (!found) {
    return new DomainError('NOT_FOUND', `No case ${caseId}`);
  }
  return new DomainError('CONFLICT', row.conflict(found));
}

function actorOf(mover: Mover): string {
  return typeof mover === 'string' ? mover : mover.id;
}

function mayMove<P>(row: CaseTransition<P>, mover: Mover): boolean {
  return row.who === 'reader'
    ? typeof mover !== 'string' && mover.role === 'reader'
    : mover === row.who;
}

function guardOf(guard: Guard, mover: Mover, expect: Expectation, now: Date): SQL | undefined {
  const needed = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`guard ${guard} needs ${what}`);
    return value;
  };
  switch (guard) {
    case 'held-by-mover':
      if (typeof mover === 'string') throw new Error(`guard ${guard} needs a reader`);
      return eq(cases.claimedBy, mover.id);
    case 'held-as-seen':
      return eq(cases.claimedBy, needed(expect.holder, 'expect.holder'));
    case 'lease-lapsed':
      return lte(cases.leaseExpiresAt, now);
    case 'at-hospital':
      return eq(
        cases.hospitalId,
        typeof mover === 'string'
          ? needed(expect.hospitalId, 'expect.hospitalId')
          : (expect.hospitalId ?? mover.facilityId),
      );
    case 'deadline-as-seen':
      return eq(cases.deadlineAt, needed(expect.deadlineAt, 'expect.deadlineAt'));
  }
}

/** Applies the rows of a case transition table: the only writer of a case's status. */
@Injectable()
export class CaseTransitions {
  constructor(private readonly clock: Clock) {}

  /**
   * Moves the case by `row` inside `tx` if it is in one of the row's `from` statuses and
   * every guard holds: one conditional UPDATE … RETURNING, then the row's case event. A
   * case that did not move is read (in the same transaction) to say why, never changed.
   */
  async apply<P>(
    tx: Tx,
    row: CaseTransition<P>,
    caseId: string,
    mover: Mover,
    params: P,
    expect: Expectation = {},
  ): Promise<TransitionOutcome> {
    const now = this.clock.now();
    if (!mayMove(row, mover)) {
      const found = await this.find(tx, caseId);
      return {
        moved: false,
        refusal:
          typeof mover !== 'string' && (!found || found.hospitalId !== mover.facilityId)
            ? notVisible(mover, caseId)
            : new DomainError('FORBIDDEN', `${actorOf(mover)} may not ${row.name} a case`),
      };
    }
    // A row with several `from` statuses locks the case to know which one it leaves.
    let from: CaseStatus | undefined = row.from[0];
    if (row.from.length > 1) {
      const [locked] = await tx
        .select({ status: cases.status })
        .from(cases)
        .where(eq(cases.id, caseId))
        .for('update');
      from = locked?.status;
    }
    const [updated] = await tx
      .update(cases)
      .set({ ...row.changes?.(params, now, mover), status: row.to, updatedAt: now })
      .where(
        and(
          eq(cases.id, caseId),
          inArray(cases.status, [...row.from]),
          from === undefined ? undefined : eq(cases.status, from),
          ...row.guards.map((guard) => guardOf(guard, mover, expect, now)),
        ),
      )
      .returning({ id: cases.id, clinicId: cases.clinicId, hospitalId: cases.hospitalId });
    if (!updated) {
      return { moved: false, refusal: refusalOf(row, mover, caseId, await this.find(tx, caseId)) };
    }
    const [event] = await tx
      .insert(caseEvents)
      .values({
        caseId,
        type: row.event,
        actor: actorOf(mover),
        fromStatus: from ?? null,
        toStatus: row.to,
        detail: row.records?.(params, mover),
        at: now,
      })
      .returning({ id: caseEvents.id });
    if (!event) throw new Error('case event not written');
    return { moved: true, case: updated, eventId: event.id };
  }

  /** Like `apply`, for a caller who answers a refusal by throwing it (the REST edge). */
  async applyOrThrow<P>(
    tx: Tx,
    row: CaseTransition<P>,
    caseId: string,
    mover: Mover,
    params: P,
    expect: Expectation = {},
  ): Promise<MovedCase> {
    const outcome = await this.apply(tx, row, caseId, mover, params, expect);
    if (!outcome.moved) throw outcome.refusal;
    return outcome.case;
  }

  private async find(tx: Tx, caseId: string): Promise<FoundCase | undefined> {
    const [found] = await tx
      .select({ status: cases.status, hospitalId: cases.hospitalId, claimedBy: cases.claimedBy })
      .from(cases)
      .where(eq(cases.id, caseId));
    return found;
  }
}
