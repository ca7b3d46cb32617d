import { Inject, Injectable } from '@nestjs/common';
import type {
  CaseKind,
  CaseMoved,
  CasePriority,
  CaseSummary,
  Diagnosis,
  EscalateCaseSchema,
  ReturnCaseSchema,
  SessionUser,
  SignDiagnosisSchema,
} from '#contracts';
import type { z } from 'zod';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { CONFIG } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { FacilitiesRepository, type Facility } from '../facilities/facilities.repository.js';
import { Database, type Tx } from '../infra/database/database.js';
import { Outbox } from '../outbox/outbox.js';
import { deadlineAfter, deadlineMove } from '../policies/deadline-policy.js';
import { PoliciesService } from '../policies/policies.service.js';
import { CaseTimers } from './case-timers.js';
import {
  CASE_TRANSITIONS,
  CaseTransitions,
  refusalOf,
  type CaseTransition,
  type Expectation,
  type Mover,
  type TransferParams,
} from './case-transitions.js';
import { CasesRepository } from './cases.repository.js';
import { ClinicInbox } from './clinic-inbox.js';
import { CLINIC_DELIVERY_QUEUE, ECG_ANALYSIS_QUEUE, reviewQueueOf } from './queues.js';
import { WorklistAnnouncer } from './worklist-announcer.js';
import { WorklistQueries } from './worklist-queries.js';

const PRIORITY_NUMBER: Record<CasePriority, number> = { stat: 1, urgent: 2, routine: 3 };

/** A move of a case to another hospital's queue (escalation or overflow). */
export interface CaseMove {
  caseId: string;
  from: Facility;
  to: Facility;
  /** `escalate` (a reader), `deadlineEscalate` or `overflow` (the deadline). */
  transition: CaseTransition<TransferParams>;
  by: Mover;
  /** What the case must still say (the deadline a deadline job was scheduled for). */
  expect?: Expectation;
  /** Why: the reader's note, or the deadline and the policy that moved it. */
  detail: Record<string, unknown>;
}

export interface CaseRequest {
  kind: CaseKind;
  recordingId: string;
  examKind: string;
  clinicId: string;
  priority: CasePriority;
  /** The registered patient and exam order (docs/patients.md); null for a recording without. */
  patientId?: string | null;
  orderId?: string | null;
}

/**
 * The commands of the reading workflow: a case enters its county queue, a reader claims it
 * and signs (or releases, escalates, returns it). Every change of status is a row of
 * CASE_TRANSITIONS applied by CaseTransitions; timers are CaseTimers', pushes the
 * WorklistAnnouncer's, reads WorklistQueries'. Input arrives parsed (the controller's pipes).
 */
@Injectable()
export class WorklistService {
  constructor(
    private readonly database: Database,
    private readonly cases: CasesRepository,
    private readonly transitions: CaseTransitions,
    private readonly facilities: FacilitiesRepository,
    private readonly outbox: Outbox,
    private readonly inbox: ClinicInbox,
    private readonly policies: PoliciesService,
    private readonly timers: CaseTimers,
    private readonly announcer: WorklistAnnouncer,
    private readonly queries: WorklistQueries,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: RelayConfig,
  ) {}

  /**
   * Opens the case for a stored recording inside the caller's transaction, in `analysing`,
   * and queues the automatic analysis. A second call for the same recording returns the
   * existing case and queues nothing.
   */
  async openCase(tx: Tx, request: CaseRequest): Promise<string> {
    const hospital = await this.facilities.readingHospitalOf(request.clinicId, tx);
    const policy = await this.policies.policyOf(hospital.id, tx);
    const { caseId, created } = await this.cases.insertForRecording(tx, {
      ...request,
      hospitalId: hospital.id,
      // Provisional while analysing; queueForReview sets it from the analysed priority.
      dueAt: deadlineAfter(policy, request.kind, request.priority, this.clock.now()),
    });
    if (!created) return caseId;
    await this.cases.appendEvent(tx, {
      caseId,
      type: 'created',
      actor: 'system:ingest',
      toStatus: 'analysing',
      detail: { hospitalId: hospital.id },
      at: this.clock.now(),
    });
    await this.outbox.append(tx, ECG_ANALYSIS_QUEUE, {
      name: 'analyse-ecg',
      id: `analysis-${caseId}`,
      data: { caseId, recordingId: request.recordingId },
    });
    return caseId;
  }

  /**
   * Opens the case of a complete imaging study inside the caller's transaction and puts it
   * straight in its county hospital's review queue (no automatic analysis for images): the
   * same queue, deadlines and desk as an ECG, by the imaging deadlines of the policy.
   */
  async openImagingCase(
    tx: Tx,
    request: {
      clinicId: string;
      examKind: string;
      priority: CasePriority;
      patientId?: string | null;
      orderId?: string | null;
    },
    detail: Record<string, unknown>,
  ): Promise<string> {
    const hospital = await this.facilities.readingHospitalOf(request.clinicId, tx);
    const policy = await this.policies.policyOf(hospital.id, tx);
    const caseId = await this.cases.insertImagingCase(tx, {
      ...request,
      hospitalId: hospital.id,
      dueAt: deadlineAfter(policy, 'imaging', request.priority, this.clock.now()),
    });
    await this.cases.appendEvent(tx, {
      caseId,
      type: 'created',
      actor: 'system:imaging',
      toStatus: 'analysing',
      detail: { hospitalId: hospital.id },
      at: this.clock.now(),
    });
    const queued = await this.queueForReview(
      tx,
      caseId,
      request.priority,
      detail,
      CASE_TRANSITIONS.imagesComplete,
    );
    if (!queued) throw new Error(`imaging case ${caseId} could not be queued`);
    return caseId;
  }

  /** Tells the clinic its new case exists (it is being analysed, not yet with a reader). */
  caseOpened(caseId: string): Promise<void> {
    return this.announcer.caseOpened(caseId);
  }

  /**
   * Puts an analysed case in its hospital's review queue with the priority the analysis
   * gave it; the deadline runs from now, by the hospital's policy, and its timers are set.
   * Returns false if the case had already moved on.
   */
  async queueForReview(
    tx: Tx,
    caseId: string,
    priority: CasePriority,
    detail: Record<string, unknown>,
    row: typeof CASE_TRANSITIONS.analysed = CASE_TRANSITIONS.analysed,
  ) {
    const routing = await this.cases.routingOf(caseId, tx);
    if (!routing) return false;
    const hospital = await this.facilities.get(routing.hospitalId, tx);
    const policy = await this.policies.policyOf(routing.hospitalId, tx);
    const now = this.clock.now();
    const dueAt = deadlineAfter(policy, routing.kind, priority, now);
    const acts = hospital !== undefined && deadlineMove(policy, hospital, false) !== null;
    const outcome = await this.transitions.apply(tx, row, caseId, row.who as Mover, {
      priority,
      dueAt,
      deadlineAt: acts ? dueAt : null,
      detail,
    });
    if (!outcome.moved) return false;
    const { hospitalId } = outcome.case;
    if (acts) await this.timers.scheduleDeadline(tx, caseId, hospitalId, now, dueAt);
    await this.outbox.append(tx, reviewQueueOf(hospitalId), {
      name: 'list-case',
      id: caseId,
      data: { caseId },
      priority: PRIORITY_NUMBER[priority],
    });
    return true;
  }

  /**
   * Sends a recording back to the clinic, while the patient is still there: an unreadable
   * one from the analysis (`reader` absent) instead of into a reader's queue, or any one the
   * claiming reader returns. The clinic is owed a `case.returned`, the box gets its notice.
   */
  async returnToClinic(
    tx: Tx,
    caseId: string,
    reason: string,
    detail: Record<string, unknown>,
    reader?: SessionUser,
  ): Promise<boolean> {
    const outcome = reader
      ? await this.transitions.apply(tx, CASE_TRANSITIONS.returnByReader, caseId, reader, {
          reason,
          detail,
        })
      : await this.transitions.apply(
          tx,
          CASE_TRANSITIONS.returnedUnreadable,
          caseId,
          'system:analysis',
          { reason, detail },
        );
    if (!outcome.moved) {
      if (reader) throw outcome.refusal;
      return false;
    }
    const eventId = await this.inbox.owe(tx, outcome.case.clinicId, caseId, 'case.returned');
    await this.outbox.append(tx, CLINIC_DELIVERY_QUEUE, {
      name: 'deliver-return',
      id: `return-${caseId}`,
      data: { caseId, eventId: String(eventId) },
    });
    return true;
  }

  /** The reader holding the case sends it back to the clinic with the reason. */
  async returnCase(
    user: SessionUser,
    caseId: string,
    { reason }: z.output<typeof ReturnCaseSchema>,
  ): Promise<CaseSummary> {
    const hospitalId = user.facilityId;
    await this.database.db.transaction((tx) =>
      this.returnToClinic(tx, caseId, reason, { hospitalId }, user),
    );
    void this.outbox.flush();
    return this.announcer.announce(caseId);
  }

  /**
   * The reader holding the case sends it to the hospital above theirs, with a note for the
   * reader there. The case keeps its clinical due time, so it sorts first in the new queue.
   */
  async escalate(
    user: SessionUser,
    caseId: string,
    { note }: z.output<typeof EscalateCaseSchema>,
  ): Promise<CaseSummary> {
    const row = CASE_TRANSITIONS.escalate;
    const state = await this.cases.routingOf(caseId);
    if (
      !state ||
      state.hospitalId !== user.facilityId ||
      !row.from.includes(state.status) ||
      state.claimedBy !== user.id
    ) {
      throw refusalOf(row, user, caseId, state);
    }
    const from = await this.facilities.get(state.hospitalId);
    const to = from?.parentId ? await this.facilities.get(from.parentId) : undefined;
    if (!from || !to) {
      throw new DomainError('CONFLICT', 'There is no hospital above yours to escalate to');
    }
    await this.database.db.transaction(async (tx) => {
      const outcome = await this.move(tx, {
        caseId,
        from,
        to,
        transition: row,
        by: user,
        detail: { note },
      });
      if (outcome === false) throw new DomainError('CONFLICT', 'You no longer hold this case');
      if (outcome !== true) throw outcome;
    });
    return this.afterMove(caseId, from.id, 'escalated', false);
  }

  /**
   * Moves a case to another hospital's queue, unclaimed, in the caller's transaction: the
   * event says who, from where and why; the review job is added to the new hospital's queue
   * (same job id, so a replay adds nothing); the new hospital gets a deadline only if it
   * can still act on one (see docs/architecture.md). False if the case had moved on.
   */
  async moveCase(tx: Tx, move: CaseMove): Promise<boolean> {
    return (await this.move(tx, move)) === true;
  }

  /** A move, or why it was refused (false: the case is gone). */
  private async move(tx: Tx, move: CaseMove): Promise<boolean | DomainError> {
    const routing = await this.cases.routingOf(move.caseId, tx);
    if (!routing) return false;
    const now = this.clock.now();
    const policy = await this.policies.policyOf(move.to.id, tx);
    const overflowed =
      move.transition.event === 'overflowed' ||
      (await this.cases.hasEvent(move.caseId, 'overflowed', tx));
    // A tertiary hospital never moves a case on; an overflow target gets one window of its own.
    const deadlineAt =
      deadlineMove(policy, move.to, overflowed) !== null
        ? deadlineAfter(policy, routing.kind, routing.priority, now)
        : null;
    const outcome = await this.transitions.apply(
      tx,
      move.transition,
      move.caseId,
      move.by,
      { fromHospitalId: move.from.id, toHospitalId: move.to.id, deadlineAt, detail: move.detail },
      { ...move.expect, hospitalId: move.from.id },
    );
    if (!outcome.moved) return outcome.refusal;
    await this.outbox.append(tx, reviewQueueOf(move.to.id), {
      name: 'list-case',
      id: move.caseId,
      data: { caseId: move.caseId },
      priority: PRIORITY_NUMBER[routing.priority],
    });
    if (deadlineAt)
      await this.timers.scheduleDeadline(tx, move.caseId, move.to.id, now, deadlineAt);
    return true;
  }

  /** After a move commits: the old hospital's worklists drop it, the clinic sees where it is. */
  async afterMove(
    caseId: string,
    fromHospitalId: string,
    kind: CaseMoved['kind'],
    byDeadline: boolean,
  ): Promise<CaseSummary> {
    void this.outbox.flush();
    return this.announcer.moved(caseId, fromHospitalId, kind, byDeadline);
  }

  async claim(user: SessionUser, caseId: string): Promise<CaseSummary> {
    const now = this.clock.now();
    const leaseUntil = this.leaseFrom(now);
    const outcome = await this.database.db.transaction(async (tx) => {
      const claimed = await this.transitions.apply(tx, CASE_TRANSITIONS.claim, caseId, user, {
        leaseUntil,
      });
      if (claimed.moved) await this.timers.scheduleLeaseCheck(tx, caseId, leaseUntil);
      return claimed;
    });
    void this.outbox.flush();
    if (!outcome.moved) throw outcome.refusal;
    return this.announcer.announce(caseId);
  }

  /** The reader's console keeps its claim alive; 409 once the claim is gone. */
  async keepClaim(user: SessionUser, caseId: string): Promise<{ leaseExpiresAt: string }> {
    const until = this.leaseFrom(this.clock.now());
    if (!(await this.cases.extendLease(caseId, user.id, until))) {
      const state = await this.cases.stateOf(caseId);
      const refusal = refusalOf(CASE_TRANSITIONS.release, user, caseId, state);
      if (refusal.code !== 'CONFLICT') throw refusal;
      throw new DomainError('CONFLICT', 'You no longer hold this case');
    }
    return { leaseExpiresAt: until.toISOString() };
  }

  /** The reader hands the case back to the queue. */
  async release(user: SessionUser, caseId: string): Promise<CaseSummary> {
    const outcome = await this.database.db.transaction(async (tx) => {
      const released = await this.transitions.apply(
        tx,
        CASE_TRANSITIONS.release,
        caseId,
        user,
        undefined,
      );
      if (released.moved) await this.timers.actIfOverdue(tx, caseId, this.clock.now());
      return released;
    });
    void this.outbox.flush();
    if (!outcome.moved) throw outcome.refusal;
    return this.announcer.announce(caseId);
  }

  /**
   * Runs at a lease's end: a lease still alive schedules the next check at its new end; a
   * lapsed one puts the case back in the queue (the reader disconnected or went idle).
   */
  async checkLease(caseId: string): Promise<void> {
    const lease = await this.cases.leaseOf(caseId);
    if (!lease || lease.status !== 'in_review' || !lease.leaseExpiresAt || !lease.claimedBy) {
      return;
    }
    const { leaseExpiresAt, claimedBy } = lease;
    const now = this.clock.now();
    if (leaseExpiresAt > now) {
      await this.database.db.transaction((tx) =>
        this.timers.scheduleLeaseCheck(tx, caseId, leaseExpiresAt),
      );
      void this.outbox.flush();
      return;
    }
    const released = await this.database.db.transaction(async (tx) => {
      const outcome = await this.transitions.apply(
        tx,
        CASE_TRANSITIONS.leaseLapse,
        caseId,
        'system:lease',
        { formerReader: claimedBy },
        { holder: claimedBy },
      );
      if (!outcome.moved) return false;
      await this.timers.actIfOverdue(tx, caseId, now);
      return true;
    });
    void this.outbox.flush();
    if (released) await this.announcer.announce(caseId);
  }

  private leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.config.claimLeaseSeconds * 1000);
  }

  async sign(
    user: SessionUser,
    caseId: string,
    request: z.output<typeof SignDiagnosisSchema>,
  ): Promise<Diagnosis> {
    await this.database.db.transaction(async (tx) => {
      const signedCase = await this.transitions.applyOrThrow(
        tx,
        CASE_TRANSITIONS.sign,
        caseId,
        user,
        undefined,
      );
      await this.cases.insertDiagnosis(tx, {
        caseId,
        hospitalId: signedCase.hospitalId,
        conclusion: request.conclusion,
        findings: request.findings ?? [],
        measurementReview: request.measurementReview,
        signedBy: user.id,
        signedAt: this.clock.now(),
      });
      const eventId = await this.inbox.owe(tx, signedCase.clinicId, caseId, 'diagnosis.signed');
      await this.outbox.append(tx, CLINIC_DELIVERY_QUEUE, {
        name: 'deliver-diagnosis',
        id: `diagnosis-${caseId}`,
        data: { caseId, eventId: String(eventId) },
      });
    });
    void this.outbox.flush();
    await this.announcer.announce(caseId);
    return this.queries.diagnosisOf(caseId);
  }

  /** The clinic has shown the diagnosis or notice: recorded, and the reader sees it. */
  async clinicReceived(user: SessionUser, caseId: string, kind: string): Promise<void> {
    await this.database.db.transaction((tx) =>
      this.cases.appendEvent(tx, {
        caseId,
        type: 'clinic-received',
        actor: user.id,
        detail: { kind },
        at: this.clock.now(),
      }),
    );
    await this.announcer.announce(caseId);
  }
}
