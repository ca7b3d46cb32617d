import { Inject, Injectable } from '@nestjs/common';
import { and } from 'drizzle-orm';
import type {
  CaseDetail,
  CaseEcg,
  CaseKind,
  CaseMoved,
  CasePriority,
  CaseSummary,
  Diagnosis,
  SessionUser,
  SignDiagnosisRequest,
} from '#contracts';
import { EscalateCaseSchema, ReturnCaseSchema, SignDiagnosisSchema } from '#contracts';
import { DomainError } from '../common/domain-error.js';
import { CONFIG } from '../common/tokens.js';
import { parseInput } from '../common/validation.js';
import type { RelayConfig } from '../config/config.js';
import { FacilitiesRepository, type Facility } from '../facilities/facilities.repository.js';
import { BlobStore } from '../infra/blobs/blob-store.js';
import { Database, type Tx } from '../infra/database/database.js';
import { JobQueues, type NewJob } from '../infra/queue/job-queues.js';
import { Outbox } from '../outbox/outbox.js';
import { deadlineAfter, deadlineMove, nearTime } from '../policies/deadline-policy.js';
import { PoliciesService } from '../policies/policies.service.js';
import { Notifier } from '../realtime/notifier.js';
import { toCaseAnalysis } from './case-analysis.js';
import { ClinicInbox } from './clinic-inbox.js';
import { caseScope } from './case-scope.js';
import { CasesRepository, type MoveExpectation } from './cases.repository.js';
import {
  CASE_DEADLINE_QUEUE,
  CLAIM_LEASE_QUEUE,
  CLINIC_DELIVERY_QUEUE,
  ECG_ANALYSIS_QUEUE,
  reviewQueueOf,
} from './queues.js';

const PRIORITY_NUMBER: Record<CasePriority, number> = { stat: 1, urgent: 2, routine: 3 };

/** A move of a case to another hospital's queue (escalation or overflow). */
export interface CaseMove {
  caseId: string;
  from: Facility;
  to: Facility;
  kind: CaseMoved['kind'];
  /** A user id, or `system:deadline`. */
  actor: string;
  expect: MoveExpectation;
  /** Why: the reader's note, or the deadline and the policy that moved it. */
  detail: Record<string, unknown>;
}

export interface DeadlineJob {
  caseId: string;
  hospitalId: string;
  /** The deadline this job belongs to (ms); a case that got another one ignores the job. */
  deadlineAt: number;
}

export interface CaseRequest {
  kind: CaseKind;
  recordingId: string;
  examKind: string;
  clinicId: string;
  priority: CasePriority;
}

/** The reading workflow: a case enters its county queue, a reader claims it and signs. */
@Injectable()
export class WorklistService {
  constructor(
    private readonly database: Database,
    private readonly cases: CasesRepository,
    private readonly facilities: FacilitiesRepository,
    private readonly outbox: Outbox,
    private readonly notifier: Notifier,
    private readonly blobs: BlobStore,
    private readonly inbox: ClinicInbox,
    private readonly queues: JobQueues,
    private readonly policies: PoliciesService,
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
      dueAt: deadlineAfter(policy, request.kind, request.priority, new Date()),
    });
    if (!created) return caseId;
    await this.cases.appendEvent(tx, {
      caseId,
      type: 'created',
      actor: 'system:ingest',
      toStatus: 'analysing',
      detail: { hospitalId: hospital.id },
    });
    await this.outbox.append(tx, ECG_ANALYSIS_QUEUE, {
      name: 'analyse-ecg',
      id: `analysis-${caseId}`,
      data: { caseId, recordingId: request.recordingId },
    });
    return caseId;
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
  ) {
    const routing = await this.cases.routingOf(caseId, tx);
    if (!routing) return false;
    const hospital = await this.facilities.get(routing.hospitalId, tx);
    const policy = await this.policies.policyOf(routing.hospitalId, tx);
    const now = new Date();
    const dueAt = deadlineAfter(policy, routing.kind, priority, now);
    const acts = hospital !== undefined && deadlineMove(policy, hospital, false) !== null;
    const hospitalId = await this.cases.moveToReview(
      tx,
      caseId,
      priority,
      dueAt,
      acts ? dueAt : null,
    );
    if (!hospitalId) return false;
    if (acts) await this.scheduleDeadline(tx, caseId, hospitalId, now, dueAt);
    await this.cases.appendEvent(tx, {
      caseId,
      type: 'analysed',
      actor: 'system:analysis',
      fromStatus: 'analysing',
      toStatus: 'awaiting_review',
      detail: { priority, ...detail },
    });
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
  ) {
    const clinicId = await this.cases.markReturned(tx, caseId, reason, reader?.id ?? null);
    if (!clinicId) return false;
    await this.cases.appendEvent(tx, {
      caseId,
      type: 'returned',
      actor: reader?.id ?? 'system:analysis',
      fromStatus: reader ? 'in_review' : 'analysing',
      toStatus: 'returned',
      detail: { reason, ...detail },
    });
    const eventId = await this.inbox.owe(tx, clinicId, caseId, 'case.returned');
    await this.outbox.append(tx, CLINIC_DELIVERY_QUEUE, {
      name: 'deliver-return',
      id: `return-${caseId}`,
      data: { caseId, eventId: String(eventId) },
    });
    return true;
  }

  /** The reader holding the case sends it back to the clinic with the reason. */
  async returnCase(user: SessionUser, caseId: string, body: unknown): Promise<CaseSummary> {
    const { reason } = parseInput(ReturnCaseSchema, body);
    const hospitalId = user.facilityId;
    const returned = await this.database.db.transaction((tx) =>
      this.returnToClinic(tx, caseId, reason, { hospitalId }, user),
    );
    if (!returned) throw await this.notHeld(user, caseId);
    void this.outbox.flush();
    return this.announce(caseId);
  }

  /**
   * The reader holding the case sends it to the hospital above theirs, with a note for the
   * reader there. The case keeps its clinical due time, so it sorts first in the new queue.
   */
  async escalate(user: SessionUser, caseId: string, body: unknown): Promise<CaseSummary> {
    const { note } = parseInput(EscalateCaseSchema, body);
    const state = await this.cases.routingOf(caseId);
    if (
      !state ||
      state.hospitalId !== user.facilityId ||
      state.status !== 'in_review' ||
      state.claimedBy !== user.id
    ) {
      throw await this.notHeld(user, caseId);
    }
    const from = await this.facilities.get(state.hospitalId);
    const to = from?.parentId ? await this.facilities.get(from.parentId) : undefined;
    if (!from || !to) {
      throw new DomainError('CONFLICT', 'There is no hospital above yours to escalate to');
    }
    const moved = await this.database.db.transaction((tx) =>
      this.moveCase(tx, {
        caseId,
        from,
        to,
        kind: 'escalated',
        actor: user.id,
        expect: { status: 'in_review', claimedBy: user.id },
        detail: { note },
      }),
    );
    if (!moved) throw new DomainError('CONFLICT', 'You no longer hold this case');
    return this.afterMove(caseId, from.id, 'escalated', false);
  }

  /**
   * Moves a case to another hospital's queue, unclaimed, in the caller's transaction: the
   * event says who, from where and why; the review job is added to the new hospital's queue
   * (same job id, so a replay adds nothing); the new hospital gets a deadline only if it
   * can still act on one (see docs/architecture.md). False if the case had moved on.
   */
  async moveCase(tx: Tx, move: CaseMove): Promise<boolean> {
    const routing = await this.cases.routingOf(move.caseId, tx);
    if (!routing) return false;
    const now = new Date();
    const policy = await this.policies.policyOf(move.to.id, tx);
    const overflowed =
      move.kind === 'overflowed' || (await this.cases.hasEvent(move.caseId, 'overflowed', tx));
    // A tertiary hospital never moves a case on; an overflow target gets one window of its own.
    const deadlineAt =
      deadlineMove(policy, move.to, overflowed) !== null
        ? deadlineAfter(policy, routing.kind, routing.priority, now)
        : null;
    const moved = await this.cases.transfer(tx, move.caseId, {
      fromHospitalId: move.from.id,
      toHospitalId: move.to.id,
      expect: move.expect,
      deadlineAt,
      at: now,
    });
    if (!moved) return false;
    await this.cases.appendEvent(tx, {
      caseId: move.caseId,
      type: move.kind,
      actor: move.actor,
      fromStatus: move.expect.status,
      toStatus: 'awaiting_review',
      detail: { fromHospitalId: move.from.id, toHospitalId: move.to.id, ...move.detail },
    });
    await this.outbox.append(tx, reviewQueueOf(move.to.id), {
      name: 'list-case',
      id: move.caseId,
      data: { caseId: move.caseId },
      priority: PRIORITY_NUMBER[routing.priority],
    });
    if (deadlineAt) await this.scheduleDeadline(tx, move.caseId, move.to.id, now, deadlineAt);
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
    const summary = await this.cases.summary(caseId);
    if (!summary) throw new Error(`case ${caseId} vanished`);
    this.notifier.toHospital(fromHospitalId, 'worklist.case-moved', {
      summary,
      fromHospitalId,
      kind,
      byDeadline,
    });
    this.notifier.toClinic(summary.clinicId, 'worklist.case-updated', summary);
    return summary;
  }

  /** The 80 % warning and the deadline itself, as delayed jobs (never timers in memory). */
  private async scheduleDeadline(
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

  /**
   * A case given back (released, or its lease lapsed) after its deadline acts now: its
   * deadline job found it claimed and left it with the reader.
   */
  private async actIfOverdue(tx: Tx, caseId: string, now: Date): Promise<void> {
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

  async worklist(user: SessionUser): Promise<CaseSummary[]> {
    if (user.role === 'clinic_staff') {
      return this.cases.summaries(caseScope(user), { order: 'newest', limit: 200 });
    }
    return this.cases.summaries(and(caseScope(user), CasesRepository.open), {
      order: 'worklist',
      limit: 500,
    });
  }

  async getCase(user: SessionUser, caseId: string): Promise<CaseDetail> {
    const summary = await this.cases.summary(caseId, caseScope(user));
    if (!summary) throw this.notVisible(user, caseId);
    const diagnosis = await this.cases.diagnosisOf(caseId);
    return {
      ...summary,
      diagnosis: diagnosis ? withoutDevice(diagnosis) : null,
      analysis: toCaseAnalysis(await this.cases.analysisOf(caseId)),
      transfers: await this.cases.transfersOf(caseId),
    };
  }

  async ecgOf(user: SessionUser, caseId: string): Promise<CaseEcg> {
    const recording = await this.cases.recordingOf(caseId, caseScope(user));
    if (!recording) throw this.notVisible(user, caseId);
    const { sha256, ...meta } = recording;
    const samples = await this.blobs.get(sha256);
    return { ...meta, samples: samples.toString('base64') };
  }

  async claim(user: SessionUser, caseId: string): Promise<CaseSummary> {
    const now = new Date();
    const leaseUntil = this.leaseFrom(now);
    const claimed = await this.database.db.transaction(async (tx) => {
      if (!(await this.cases.claim(tx, caseId, user.facilityId, user.id, now, leaseUntil)))
        return false;
      await this.cases.appendEvent(tx, {
        caseId,
        type: 'claimed',
        actor: user.id,
        fromStatus: 'awaiting_review',
        toStatus: 'in_review',
      });
      await this.outbox.append(tx, CLAIM_LEASE_QUEUE, leaseCheck(caseId, leaseUntil, now));
      return true;
    });
    void this.outbox.flush();
    if (!claimed) {
      const state = await this.cases.stateOf(caseId);
      if (!state || state.hospitalId !== user.facilityId) {
        throw this.notVisible(user, caseId);
      }
      throw new DomainError(
        'CONFLICT',
        `Case is ${state.status.replace('_', ' ')}${state.claimedBy ? ' by another reader' : ''}`,
      );
    }
    return this.announce(caseId);
  }

  /** The reader's console keeps its claim alive; 409 once the claim is gone. */
  async keepClaim(user: SessionUser, caseId: string): Promise<{ leaseExpiresAt: string }> {
    const until = this.leaseFrom(new Date());
    if (!(await this.cases.extendLease(caseId, user.id, until))) {
      const state = await this.cases.stateOf(caseId);
      if (!state || state.hospitalId !== user.facilityId) throw this.notVisible(user, caseId);
      throw new DomainError('CONFLICT', 'You no longer hold this case');
    }
    return { leaseExpiresAt: until.toISOString() };
  }

  /** The reader hands the case back to the queue. */
  async release(user: SessionUser, caseId: string): Promise<CaseSummary> {
    const released = await this.database.db.transaction(async (tx) => {
      const now = new Date();
      if (!(await this.cases.releaseClaim(tx, caseId, user.id, now))) return false;
      await this.cases.appendEvent(tx, {
        caseId,
        type: 'released',
        actor: user.id,
        fromStatus: 'in_review',
        toStatus: 'awaiting_review',
      });
      await this.actIfOverdue(tx, caseId, now);
      return true;
    });
    void this.outbox.flush();
    if (!released) {
      const state = await this.cases.stateOf(caseId);
      if (!state || state.hospitalId !== user.facilityId) throw this.notVisible(user, caseId);
      throw new DomainError('CONFLICT', 'You do not hold this case');
    }
    return this.announce(caseId);
  }

  /**
   * Runs at a lease's end: a lease still alive schedules the next check at its new end; a
   * lapsed one puts the case back in the queue (the reader disconnected or went idle).
   */
  async checkLease(caseId: string): Promise<void> {
    const lease = await this.cases.leaseOf(caseId);
    if (!lease || lease.status !== 'in_review' || !lease.leaseExpiresAt) return;
    const now = new Date();
    if (lease.leaseExpiresAt > now) {
      await this.queues.add(CLAIM_LEASE_QUEUE, leaseCheck(caseId, lease.leaseExpiresAt, now));
      return;
    }
    const released = await this.database.db.transaction(async (tx) => {
      const formerReader = await this.cases.releaseClaim(tx, caseId, null, now);
      if (!formerReader) return false;
      await this.cases.appendEvent(tx, {
        caseId,
        type: 'lease-lapsed',
        actor: 'system:lease',
        fromStatus: 'in_review',
        toStatus: 'awaiting_review',
        detail: { formerReader },
      });
      await this.actIfOverdue(tx, caseId, now);
      return true;
    });
    void this.outbox.flush();
    if (released) await this.announce(caseId);
  }

  private leaseFrom(now: Date): Date {
    return new Date(now.getTime() + this.config.claimLeaseSeconds * 1000);
  }

  async sign(user: SessionUser, caseId: string, body: unknown): Promise<Diagnosis> {
    const request: SignDiagnosisRequest = parseInput(SignDiagnosisSchema, body);
    const signedAt = new Date();
    const signed = await this.database.db.transaction(async (tx) => {
      const signedCase = await this.cases.markSigned(tx, caseId, user.id, signedAt);
      if (!signedCase) return false;
      const { clinicId, hospitalId } = signedCase;
      await this.cases.insertDiagnosis(tx, {
        caseId,
        hospitalId,
        conclusion: request.conclusion,
        findings: request.findings ?? [],
        measurementReview: request.measurementReview,
        signedBy: user.id,
        signedAt,
      });
      await this.cases.appendEvent(tx, {
        caseId,
        type: 'signed',
        actor: user.id,
        fromStatus: 'in_review',
        toStatus: 'signed',
      });
      const eventId = await this.inbox.owe(tx, clinicId, caseId, 'diagnosis.signed');
      await this.outbox.append(tx, CLINIC_DELIVERY_QUEUE, {
        name: 'deliver-diagnosis',
        id: `diagnosis-${caseId}`,
        data: { caseId, eventId: String(eventId) },
      });
      return true;
    });
    if (!signed) {
      const state = await this.cases.stateOf(caseId);
      if (!state || state.hospitalId !== user.facilityId) throw this.notVisible(user, caseId);
      throw new DomainError('CONFLICT', 'Claim the case before signing it');
    }
    void this.outbox.flush();
    await this.announce(caseId);
    const diagnosis = await this.cases.diagnosisOf(caseId);
    if (!diagnosis) throw new Error(`diagnosis of ${caseId} not found after signing`);
    return withoutDevice(diagnosis);
  }

  /** The clinic has shown the diagnosis or notice: recorded, and the reader sees it. */
  async clinicReceived(user: SessionUser, caseId: string, kind: string): Promise<void> {
    await this.database.db.transaction((tx) =>
      this.cases.appendEvent(tx, {
        caseId,
        type: 'clinic-received',
        actor: user.id,
        detail: { kind },
      }),
    );
    await this.announce(caseId);
  }

  /** Tells the clinic its new case exists (it is being analysed, not yet with a reader). */
  async caseOpened(caseId: string): Promise<void> {
    const summary = await this.cases.summary(caseId);
    if (summary) this.notifier.toClinic(summary.clinicId, 'worklist.case-added', summary);
  }

  /**
   * Called by the review desk when hospital `hospitalId`'s queue hands it a case; a job
   * left in the queue of a hospital the case has since left changes nothing.
   */
  async listCase(caseId: string, hospitalId: string): Promise<void> {
    const state = await this.cases.stateOf(caseId);
    if (state?.hospitalId !== hospitalId) return;
    await this.cases.markListed(caseId, new Date());
    const summary = await this.cases.summary(caseId);
    if (!summary) return;
    this.notifier.toHospital(summary.hospitalId, 'worklist.case-added', summary);
    this.notifier.toClinic(summary.clinicId, 'worklist.case-updated', summary);
  }

  async announce(caseId: string): Promise<CaseSummary> {
    const summary = await this.cases.summary(caseId);
    if (!summary) throw new Error(`case ${caseId} vanished`);
    this.notifier.toHospital(summary.hospitalId, 'worklist.case-updated', summary);
    this.notifier.toClinic(summary.clinicId, 'worklist.case-updated', summary);
    return summary;
  }

  /** Why a reader's escalate or return did not happen: not theirs to see, or not held. */
  private async notHeld(user: SessionUser, caseId: string): Promise<DomainError> {
    const state = await this.cases.stateOf(caseId);
    if (!state || state.hospitalId !== user.facilityId) return this.notVisible(user, caseId);
    return new DomainError(
      'CONFLICT',
      'Claim the case first: only the reader holding it can do this',
    );
  }

  /**
   * Another facility's case looks exactly like a missing one; the edge that answers audits
   * the refusal with this subject and reason.
   */
  private notVisible(user: SessionUser, caseId: string): DomainError {
    return new DomainError('NOT_FOUND', 'No such case in your worklist', {
      subject: `case:${caseId}`,
      detail: { reason: 'not in scope or missing', facilityId: user.facilityId },
    });
  }
}

function leaseCheck(caseId: string, until: Date, now: Date): NewJob<{ caseId: string }> {
  return {
    name: 'check-lease',
    id: `lease-${caseId}-${until.getTime()}`,
    data: { caseId },
    delayMs: Math.max(0, until.getTime() - now.getTime()),
  };
}

function withoutDevice(diagnosis: Diagnosis & { deviceId: string | null }): Diagnosis {
  const { deviceId: _device, ...rest } = diagnosis;
  return rest;
}
