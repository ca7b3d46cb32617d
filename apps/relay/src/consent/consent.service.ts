import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  CONSENT_CODE_ATTEMPTS,
  type AccessGrant,
  type ConsentCodeRequest,
  type ConsentTicket,
  type SessionUser,
} from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import type { Logger } from '../infra/logging/logger.js';
import { PatientIdentity } from '../records/patient-identity.js';
import { PatientsService } from '../records/patients.service.js';
import { ConsentCodes } from './consent-codes.js';
import { CONSENT_LIMITS, requestRefusal } from './consent-limits.js';
import { ConsentNotifier } from './consent-notifier.js';
import { ConsentRepository } from './consent.repository.js';
import { SharedRecordRepository } from './shared-record.repository.js';

/** Why a user may read a patient's record now, or nothing. */
export type RecordAccess =
  | { kind: 'grant'; grantId: string; expiresAt: Date; purpose: string }
  /** The user's hospital holds, or signed, a case of the patient. */
  | { kind: 'treating' };

/**
 * The one answer to every refused code, whatever the reason (wrong code, a number that
 * matched nobody, expired, used, locked, someone else's request): the caller can tell none
 * of them apart, and each takes the same work (docs/consent.md).
 */
export const CODE_REFUSED = 'The code does not open this request (wrong, expired, used or locked).';

/**
 * Consent by verification code (issue 13): a doctor without a treating relationship asks for
 * a patient's record by the patient's document number; the patient gets a 6-digit code and
 * reads it out; the right code gives that doctor time-limited access for the stated purpose.
 * `canRead` is the one check every route to a patient's history uses.
 */
@Injectable()
export class ConsentService {
  constructor(
    private readonly consents: ConsentRepository,
    private readonly records: SharedRecordRepository,
    private readonly codes: ConsentCodes,
    private readonly patients: PatientsService,
    private readonly identity: PatientIdentity,
    private readonly facilities: FacilitiesRepository,
    private readonly notifier: ConsentNotifier,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: RelayConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /**
   * Answers alike whether or not the number belongs to a patient: a request row is written
   * either way (with a hash no code matches when nobody matched), the limits count the
   * number's HMAC, and the code is sent after the answer is settled.
   */
  async requestCode(user: SessionUser, request: ConsentCodeRequest): Promise<ConsentTicket> {
    const now = this.clock.now();
    const subjectKey = this.identity.lookupKey(request.documentType, request.idNumber);
    const patient = await this.patients.findByIdentifier(request.documentType, request.idNumber);
    const requestId = randomUUID();
    const issued = patient
      ? this.codes.issue(requestId, patient.id)
      : { code: null, hash: this.codes.issueUnmatchable(requestId) };
    const expiresAt = new Date(now.getTime() + this.config.consent.codeTtlMs);
    await this.consents.transaction(async (tx) => {
      await this.consents.lockRequester(tx, user.id);
      const recent = await this.consents.recentRequests(
        tx,
        user.id,
        subjectKey,
        new Date(now.getTime() - CONSENT_LIMITS.windowMs),
      );
      const refusal = requestRefusal(recent);
      if (refusal) {
        throw new DomainError(
          'TOO_MANY_ATTEMPTS',
          'Too many requests for codes; try again tomorrow or ask the patient’s clinic.',
          { subject: `user:${user.id}`, detail: { reason: refusal, patientKey: subjectKey } },
        );
      }
      await this.consents.insertRequest(tx, {
        id: requestId,
        patientId: patient?.id ?? null,
        subjectKey,
        requestedBy: user.id,
        requestedByFacility: user.facilityId,
        purpose: request.purpose,
        codeHash: issued.hash,
        expiresAt,
        createdAt: now,
      });
    });
    // The HMAC of the number asked for, registered or not: the row says the same either way.
    await this.audit.recordPatientAccess({
      actor: `user:${user.id}`,
      role: user.role,
      facilityId: user.facilityId,
      action: 'consent.request',
      patientKey: subjectKey,
      outcome: 'allowed',
      detail: { requestId, purpose: request.purpose },
    });
    if (patient && issued.code !== null) {
      const code = issued.code;
      // After the answer is settled, so sending costs the caller nothing it could time.
      setImmediate(() => {
        this.sendCode(user, patient.id, code, request.purpose, expiresAt).catch((error: unknown) =>
          this.log.error({ err: error, requestId }, 'consent code not sent'),
        );
      });
    }
    return {
      requestId,
      expiresAt: expiresAt.toISOString(),
      attemptsAllowed: CONSENT_CODE_ATTEMPTS,
    };
  }

  /**
   * One attempt at a request's code: counted first, then checked in constant time against
   * the stored hash, or against a hash nothing matches when there is no request this user
   * may try, so every refusal does the same work and gets the same 403.
   */
  async verifyCode(user: SessionUser, requestId: string, code: string): Promise<AccessGrant> {
    const now = this.clock.now();
    const outcome = await this.consents.transaction(async (tx) => {
      const counted = await this.consents.countAttempt(
        tx,
        requestId,
        user.id,
        CONSENT_CODE_ATTEMPTS,
        now,
      );
      const right = this.codes.matches(
        counted?.codeHash ?? this.codes.unmatchable,
        requestId,
        counted?.patientId ?? 'none',
        code,
      );
      if (!counted) return { refused: 'not open' as const };
      if (!right || counted.patientId === null) {
        return {
          refused:
            counted.attempts >= CONSENT_CODE_ATTEMPTS ? ('locked' as const) : ('wrong' as const),
          attempts: counted.attempts,
        };
      }
      if (!(await this.consents.markUsed(tx, requestId, now))) return { refused: 'used' as const };
      const grantId = randomUUID();
      await this.consents.insertGrant(tx, {
        id: grantId,
        patientId: counted.patientId,
        grantee: user.id,
        facilityId: counted.requestedByFacility,
        purpose: counted.purpose,
        requestId,
        grantedAt: now,
        expiresAt: new Date(now.getTime() + this.config.consent.grantTtlMs),
      });
      return { grantId, patientId: counted.patientId };
    });
    if ('refused' in outcome) {
      throw new DomainError('FORBIDDEN', CODE_REFUSED, {
        subject: `consent-request:${requestId}`,
        detail: {
          reason: outcome.refused,
          ...('attempts' in outcome ? { attempts: outcome.attempts } : {}),
        },
      });
    }
    const grant = await this.consents.grant(outcome.grantId);
    if (!grant) throw new Error(`grant ${outcome.grantId} not written`);
    // After the grant's transaction (the audit writes in its own; PGlite has one connection).
    const patient = await this.patients.byId(outcome.patientId);
    if (!patient) throw new Error(`patient ${outcome.patientId} of a grant not found`);
    await this.audit.recordPatientAccess({
      actor: `user:${user.id}`,
      role: user.role,
      facilityId: user.facilityId,
      action: 'consent.grant',
      patientKey: patient.identifierKey,
      outcome: 'allowed',
      detail: {
        patientId: outcome.patientId,
        requestId,
        grantId: grant.id,
        purpose: grant.purpose,
        expiresAt: grant.expiresAt,
      },
    });
    return grant;
  }

  /**
   * The one check in front of a patient's history, for every route (docs/consent.md): a
   * live grant of this user, or, for a reader, a case of the patient that the reader's
   * hospital holds or signed. Clinic staff see their own clinic's cases through the worklist
   * and need a grant for the rest; the operator roles never read patient histories.
   */
  async canRead(user: SessionUser, patientId: string, now: Date): Promise<boolean> {
    return (await this.accessOf(user, patientId, now)) !== null;
  }

  async accessOf(user: SessionUser, patientId: string, now: Date): Promise<RecordAccess | null> {
    if (user.role !== 'reader' && user.role !== 'clinic_staff') return null;
    const grant = await this.consents.liveGrant(user.id, patientId, now);
    if (grant) {
      return {
        kind: 'grant',
        grantId: grant.id,
        expiresAt: grant.expiresAt,
        purpose: grant.purpose,
      };
    }
    if (user.role === 'reader' && (await this.records.hospitalTreats(user.facilityId, patientId))) {
      return { kind: 'treating' };
    }
    return null;
  }

  /**
   * Every grant on a patient's record, for the clinic that registered the patient (to show
   * the patient) and for admins; to anyone else the patient does not exist.
   */
  async grantsOf(user: SessionUser, patientId: string): Promise<AccessGrant[]> {
    const patient = await this.patients.byId(patientId);
    const allowed =
      patient !== undefined &&
      (user.role === 'admin' ||
        (user.role === 'clinic_staff' && patient.registeredBy === user.facilityId));
    if (!allowed) throw patientNotFound(user, patientId);
    return this.consents.grantsOfPatient(patientId);
  }

  /**
   * The patient withdraws a consent before it runs out, through the clinic that registered
   * them: from now the grantee reads nothing under it (`liveGrant` skips revoked grants), as
   * if it had never been given. Revoking a grant already revoked answers it unchanged; one
   * that has run out is a conflict (nothing is left to withdraw).
   */
  async revokeGrant(user: SessionUser, patientId: string, grantId: string): Promise<AccessGrant> {
    const patient = await this.patients.byId(patientId);
    if (!patient || user.role !== 'clinic_staff' || patient.registeredBy !== user.facilityId) {
      throw patientNotFound(user, patientId);
    }
    const now = this.clock.now();
    const revoked = await this.consents.revokeGrant(grantId, patientId, now);
    const grant = await this.consents.grant(grantId);
    if (!grant || grant.patientId !== patientId) {
      throw new DomainError('NOT_FOUND', 'Grant not found', {
        actor: `user:${user.id}`,
        subject: `grant:${grantId}`,
        detail: { patientId },
      });
    }
    if (!revoked) {
      if (grant.revokedAt !== null) return grant;
      throw new DomainError(
        'CONFLICT',
        'The grant has already run out; there is nothing to revoke',
      );
    }
    // After the revocation, not before: withdrawing access must not wait on the audit. If
    // the row cannot be written the clinic gets 503, and the grant is revoked all the same.
    await this.audit.recordPatientAccess({
      actor: `user:${user.id}`,
      role: user.role,
      facilityId: user.facilityId,
      action: 'consent.revoke',
      patientKey: patient.identifierKey,
      outcome: 'allowed',
      detail: {
        patientId,
        grantId,
        granteeId: grant.granteeId,
        grantFacilityId: grant.facilityId,
        purpose: grant.purpose,
        expiresAt: grant.expiresAt,
      },
    });
    return grant;
  }

  private async sendCode(
    user: SessionUser,
    patientId: string,
    code: string,
    purpose: string,
    expiresAt: Date,
  ): Promise<void> {
    const patient = await this.patients.byId(patientId);
    if (!patient) return;
    const facility = await this.facilities.get(user.facilityId);
    await this.notifier.sendCode(
      {
        patientId,
        maskedIdentifier: patient.identifierMasked,
        name: patient.name,
        registeredBy: patient.registeredBy,
      },
      {
        code,
        requestedByName: user.displayName,
        facilityName: facility?.name ?? user.facilityId,
        purpose,
        expiresAt,
      },
    );
  }
}

/** A patient the caller may not see answers exactly like a missing one. */
export function patientNotFound(user: SessionUser, patientId: string): DomainError {
  return new DomainError('NOT_FOUND', 'Patient not found', {
    actor: `user:${user.id}`,
    subject: `patient:${patientId}`,
  });
}
