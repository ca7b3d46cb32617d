import { performance } from 'node:perf_hooks';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONSENT_CODE_ATTEMPTS, type SessionUser } from '#contracts';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../common/domain-error.js';
import { TestClock } from '../common/testing/test-clock.js';
import type { RelayConfig } from '../config/config.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { type BlobStore } from '../infra/blobs/blob-store.js';
import type { Database } from '../infra/database/database.js';
import {
  auditLog,
  cases,
  consentRequests,
  diagnoses,
  facilities,
  users,
} from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import type { Logger } from '../infra/logging/logger.js';
import { PatientIdentity } from '../records/patient-identity.js';
import { PatientsRepository } from '../records/patients.repository.js';
import { PatientsService } from '../records/patients.service.js';
import { quietLog } from '../infra/logging/testing/quiet-log.js';
import { waitFor } from '../../../../test/support/wait.js';
import { ConsentCodes } from './consent-codes.js';
import { CONSENT_LIMITS } from './consent-limits.js';
import { ConsentNotifier, type CodeRecipient, type CodeRequest } from './consent-notifier.js';
import { ConsentRepository } from './consent.repository.js';
import { CODE_REFUSED, ConsentService } from './consent.service.js';
import { SharedRecordRepository } from './shared-record.repository.js';
import { SharedRecordService } from './shared-record.service.js';

/**
 * Consent by verification code on a real database per driver, with the clock moved by the
 * test and the notifier faked at its boundary (it keeps what it was asked to send).
 */

// Fictitious resident IDs (area 500101, born 1900/1901, GB 11643 check characters computed).
const PATIENT_A_ID = '500101190001010017';
const PATIENT_B_ID = '500101190101010030';
const UNREGISTERED_ID = '500101190201010038';

class KeptCodes extends ConsentNotifier {
  readonly sent: { patient: CodeRecipient; request: CodeRequest }[] = [];
  sendCode(patient: CodeRecipient, request: CodeRequest): Promise<void> {
    this.sent.push({ patient, request });
    return Promise.resolve();
  }
}

const identity = new PatientIdentity({
  hmacKey: Buffer.alloc(32, 7),
  sealKeys: [{ id: 'k1', key: Buffer.alloc(32, 8) }],
});
const config = {
  consent: { codeTtlMs: 5 * 60_000, grantTtlMs: 30 * 60_000 },
} as RelayConfig;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe.each(DRIVERS)('consent by verification code on %s', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let clock: TestClock;
  let notifier: KeptCodes;
  let consent: ConsentService;
  let record: SharedRecordService;
  let patients: PatientsService;
  let patientA: string;
  let patientB: string;
  const people: Record<string, SessionUser> = {};

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
    clock = new TestClock();
    notifier = new KeptCodes();
    patients = new PatientsService(new PatientsRepository(database), identity);
    const audit = new AuditService(new AuditRepository(database), clock, quietLog as Logger);
    const shared = new SharedRecordRepository(database);
    consent = new ConsentService(
      new ConsentRepository(database),
      shared,
      new ConsentCodes('a-test-auth-secret-of-at-least-32-characters'),
      patients,
      identity,
      new FacilitiesRepository(database),
      notifier,
      audit,
      clock,
      config,
      quietLog as Logger,
    );
    record = new SharedRecordService(consent, shared, patients, {} as BlobStore, audit, clock);
    await database.db.insert(facilities).values([
      { id: 'tertiary', kind: 'tertiary', name: 'City Hospital', parentId: null },
      { id: 'county-1', kind: 'county', name: 'County One', parentId: 'tertiary' },
      { id: 'county-2', kind: 'county', name: 'County Two', parentId: 'tertiary' },
      { id: 'clinic-1', kind: 'clinic', name: 'Clinic One', parentId: 'county-1' },
      { id: 'clinic-4', kind: 'clinic', name: 'Clinic Four', parentId: 'county-2' },
    ]);
    const accounts = [
      ['reader1', 'reader', 'county-1', 'county'],
      ['reader2', 'reader', 'county-2', 'county'],
      ['reader2b', 'reader', 'county-2', 'county'],
      ['tertiary', 'reader', 'tertiary', 'tertiary'],
      ['clinic1', 'clinic_staff', 'clinic-1', 'clinic'],
      ['clinic4', 'clinic_staff', 'clinic-4', 'clinic'],
      ['admin', 'admin', 'tertiary', 'tertiary'],
    ] as const;
    for (const [username, role, facilityId, facilityKind] of accounts) {
      const [row] = await database.db
        .insert(users)
        .values({ username, displayName: `Dr ${username}`, passwordHash: 'x', role, facilityId })
        .returning({ id: users.id });
      people[username] = {
        id: row!.id,
        username,
        displayName: `Dr ${username}`,
        role,
        facilityId,
        facilityKind,
      };
    }
    for (const [id, name] of [
      [PATIENT_A_ID, '测试患者甲'],
      [PATIENT_B_ID, '测试患者乙'],
    ] as const) {
      const { patient } = await patients.register(
        { documentType: 'resident_id', idNumber: id, name },
        { facilityId: 'clinic-1' },
      );
      if (id === PATIENT_A_ID) patientA = patient.id;
      else patientB = patient.id;
    }
    // Patient A's earlier ECG: from clinic 1, read and signed at county 1.
    const [earlier] = await database.db
      .insert(cases)
      .values({
        kind: 'ecg',
        examKind: 'resting-12-lead',
        clinicId: 'clinic-1',
        hospitalId: 'county-1',
        priority: 'routine',
        status: 'signed',
        dueAt: clock.now(),
        patientId: patientA,
      })
      .returning({ id: cases.id });
    await database.db.insert(diagnoses).values({
      caseId: earlier!.id,
      conclusion: 'Sinus rhythm.',
      findings: ['Sinus rhythm'],
      signedBy: people['reader1']!.id,
      hospitalId: 'county-1',
    });
  }, 60_000);
  afterAll(() => dispose());

  beforeEach(() => {
    // A new day for every test, so the request limits of one do not reach the next.
    clock.advance(DAY + MINUTE);
    notifier.sent.length = 0;
    taken.clear();
  });

  async function ask(user: string, idNumber: string, purpose = 'compare with the earlier ECG') {
    return consent.requestCode(people[user]!, { documentType: 'resident_id', idNumber, purpose });
  }

  const taken = new Set<number>();
  /** The next code the (fake) notifier was handed for this patient (sent after the answer). */
  async function codeFor(patientId: string): Promise<string> {
    const next = () =>
      notifier.sent.findIndex((s, i) => !taken.has(i) && s.patient.patientId === patientId);
    await waitFor(() => next() >= 0, { timeoutMs: 5_000, intervalMs: 1, what: 'a code sent' });
    const index = next();
    taken.add(index);
    return notifier.sent[index]!.request.code;
  }

  function wrongFor(code: string): string {
    return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  }

  async function refusal(attempt: Promise<unknown>): Promise<{ code: string; message: string }> {
    const error = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DomainError);
    return { code: (error as DomainError).code, message: (error as DomainError).message };
  }

  it('sends a code to the registering clinic for a registered number, masked, and answers an unknown number the same way', async () => {
    const known = await ask('reader2', PATIENT_A_ID);
    const unknown = await ask('reader2', UNREGISTERED_ID);
    await codeFor(patientA);
    expect(notifier.sent).toHaveLength(1);
    const [{ patient, request }] = notifier.sent as [(typeof notifier.sent)[0]];
    expect(patient).toEqual({
      patientId: patientA,
      maskedIdentifier: '5001**********0017',
      name: '测试患者甲',
      registeredBy: 'clinic-1',
    });
    expect(request).toMatchObject({
      requestedByName: 'Dr reader2',
      facilityName: 'County Two',
      purpose: 'compare with the earlier ECG',
    });
    expect(request.code).toMatch(/^[0-9]{6}$/);
    expect(Object.keys(known).sort()).toEqual(Object.keys(unknown).sort());
    expect(known.expiresAt).toBe(unknown.expiresAt);
    expect(known.expiresAt).toBe(new Date(clock.now().getTime() + 5 * MINUTE).toISOString());
    // Neither the code nor the number is stored in clear.
    const rows = await database.db.select().from(consentRequests);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(PATIENT_A_ID);
    expect(stored).not.toContain(UNREGISTERED_ID);
    expect(rows.find((r) => r.id === known.requestId)?.codeHash).not.toContain(request.code);
  });

  it('grants time-limited access for the purpose with the right code, and nothing once it has expired', async () => {
    const reader = people['reader2']!;
    expect(await consent.canRead(reader, patientA, clock.now())).toBe(false);
    const ticket = await ask('reader2', PATIENT_A_ID, 'chest pain, compare ECGs');
    const grant = await consent.verifyCode(reader, ticket.requestId, await codeFor(patientA));
    expect(grant).toMatchObject({
      patientId: patientA,
      granteeId: reader.id,
      granteeName: 'Dr reader2',
      facilityId: 'county-2',
      facilityName: 'County Two',
      purpose: 'chest pain, compare ECGs',
      grantedAt: clock.now().toISOString(),
      expiresAt: new Date(clock.now().getTime() + 30 * MINUTE).toISOString(),
      revokedAt: null,
    });
    expect(await consent.canRead(reader, patientA, clock.now())).toBe(true);
    // Only for that doctor and that patient.
    expect(await consent.canRead(people['reader2b']!, patientA, clock.now())).toBe(false);
    expect(await consent.canRead(reader, patientB, clock.now())).toBe(false);
    const history = await record.history(reader, patientA);
    expect(history).toMatchObject({ access: 'grant', grantExpiresAt: grant.expiresAt });
    expect(history.exams.map((e) => e.diagnosis?.conclusion)).toEqual(['Sinus rhythm.']);

    clock.advance(30 * MINUTE);
    expect(await consent.canRead(reader, patientA, clock.now())).toBe(false);
    expect(await refusal(record.history(reader, patientA))).toEqual({
      code: 'NOT_FOUND',
      message: 'Patient not found',
    });
  });

  it('refuses a used code, an expired code, another patient’s code and another user’s attempt alike', async () => {
    const reader = people['reader2']!;
    const refused = { code: 'FORBIDDEN', message: CODE_REFUSED };

    const used = await ask('reader2', PATIENT_A_ID);
    const usedCode = await codeFor(patientA);
    await consent.verifyCode(reader, used.requestId, usedCode);
    expect(await refusal(consent.verifyCode(reader, used.requestId, usedCode))).toEqual(refused);

    const expiring = await ask('reader2', PATIENT_B_ID);
    const expiringCode = await codeFor(patientB);
    clock.advance(5 * MINUTE);
    expect(await refusal(consent.verifyCode(reader, expiring.requestId, expiringCode))).toEqual(
      refused,
    );

    // Two open requests, one per patient: A's code does not open B's request.
    clock.advance(DAY);
    const forA = await ask('reader2', PATIENT_A_ID);
    const forB = await ask('reader2', PATIENT_B_ID);
    const codeA = await codeFor(patientA);
    const codeB = await codeFor(patientB);
    if (codeA !== codeB) {
      expect(await refusal(consent.verifyCode(reader, forB.requestId, codeA))).toEqual(refused);
    }
    // Another doctor holding the request id and the code still cannot use it, nor spend its tries.
    for (let i = 0; i < CONSENT_CODE_ATTEMPTS; i += 1) {
      expect(await refusal(consent.verifyCode(people['reader2b']!, forA.requestId, codeA))).toEqual(
        refused,
      );
    }
    expect(await consent.canRead(people['reader2b']!, patientA, clock.now())).toBe(false);
    await expect(consent.verifyCode(reader, forA.requestId, codeA)).resolves.toMatchObject({
      patientId: patientA,
    });
    await expect(consent.verifyCode(reader, forB.requestId, codeB)).resolves.toMatchObject({
      patientId: patientB,
    });
  });

  it('locks a request after five wrong codes: the right one is refused after that', async () => {
    const reader = people['reader2']!;
    const ticket = await ask('reader2', PATIENT_B_ID);
    const code = await codeFor(patientB);
    for (let i = 0; i < CONSENT_CODE_ATTEMPTS; i += 1) {
      await refusal(consent.verifyCode(reader, ticket.requestId, wrongFor(code)));
    }
    expect(await refusal(consent.verifyCode(reader, ticket.requestId, code))).toEqual({
      code: 'FORBIDDEN',
      message: CODE_REFUSED,
    });
    const [row] = await database.db
      .select()
      .from(consentRequests)
      .where(eq(consentRequests.id, ticket.requestId));
    expect(row).toMatchObject({ attempts: CONSENT_CODE_ATTEMPTS, usedAt: null });
    expect(row!.lockedAt).not.toBeNull();
    expect(await consent.canRead(reader, patientB, clock.now())).toBe(false);
  });

  it('counts parallel guesses before checking them: ten at once spend five tries, none more', async () => {
    const reader = people['reader2']!;
    const ticket = await ask('reader2', PATIENT_B_ID);
    const code = await codeFor(patientB);
    const guesses = Array.from({ length: 10 }, () =>
      refusal(consent.verifyCode(reader, ticket.requestId, wrongFor(code))),
    );
    await Promise.all(guesses);
    const [row] = await database.db
      .select({ attempts: consentRequests.attempts })
      .from(consentRequests)
      .where(eq(consentRequests.id, ticket.requestId));
    expect(row!.attempts).toBe(CONSENT_CODE_ATTEMPTS);
  });

  it('limits requests: three per number a day, none after a lock, thirty per user, and the same for unknown numbers', async () => {
    const limited = { code: 'TOO_MANY_ATTEMPTS' };
    for (const idNumber of [PATIENT_A_ID, UNREGISTERED_ID]) {
      for (let i = 0; i < CONSENT_LIMITS.perSubject; i += 1) await ask('reader2b', idNumber);
      expect(await refusal(ask('reader2b', idNumber))).toMatchObject(limited);
    }
    // A day later the number may be asked for again; a locked request stops it for the day.
    clock.advance(DAY);
    for (const idNumber of [PATIENT_A_ID, UNREGISTERED_ID]) {
      const ticket = await ask('reader2b', idNumber);
      for (let i = 0; i < CONSENT_CODE_ATTEMPTS; i += 1) {
        await refusal(consent.verifyCode(people['reader2b']!, ticket.requestId, '000000'));
      }
      expect(await refusal(ask('reader2b', idNumber))).toMatchObject(limited);
    }
    clock.advance(DAY);
    const numbers = Array.from({ length: CONSENT_LIMITS.perUser }, (_, i) =>
      String(900_000_000 + i),
    );
    for (const idNumber of numbers) {
      await consent.requestCode(people['reader2b']!, {
        documentType: 'passport',
        idNumber,
        purpose: 'trawling',
      });
    }
    expect(
      await refusal(
        consent.requestCode(people['reader2b']!, {
          documentType: 'passport',
          idNumber: 'one-more',
          purpose: 'trawling',
        }),
      ),
    ).toMatchObject(limited);
  });

  it(
    'answers a wrong number and a wrong code alike, in the same time (medians of many tries)',
    {
      timeout: 120_000,
    },
    async () => {
      const reader = people['reader1']!;
      const rounds = 100;
      const warmUp = 10;
      const timings = { unknownNumber: [] as number[], wrongCode: [] as number[] };
      const requestTimings = { unknownNumber: [] as number[], wrongCode: [] as number[] };
      const answers = new Set<string>();
      for (let round = 0; round < rounds + warmUp; round += 1) {
        clock.advance(DAY + MINUTE);
        notifier.sent.length = 0;
        taken.clear();
        // Alternate which path goes first, so drift on a busy machine falls on both.
        const order =
          round % 2 === 0
            ? (['unknownNumber', 'wrongCode'] as const)
            : (['wrongCode', 'unknownNumber'] as const);
        const tickets: Record<string, { requestId: string }> = {};
        let wrong = '';
        for (const path of order) {
          const started = performance.now();
          tickets[path] = await ask(
            'reader1',
            path === 'wrongCode' ? PATIENT_B_ID : UNREGISTERED_ID,
          );
          if (round >= warmUp) requestTimings[path].push(performance.now() - started);
          // The sending runs after the answer; let it finish before the next measurement.
          if (path === 'wrongCode') wrong = wrongFor(await codeFor(patientB));
        }
        for (const path of order) {
          const started = performance.now();
          const answer = await refusal(consent.verifyCode(reader, tickets[path]!.requestId, wrong));
          if (round >= warmUp) timings[path].push(performance.now() - started);
          answers.add(JSON.stringify(answer));
        }
      }
      expect([...answers]).toEqual([JSON.stringify({ code: 'FORBIDDEN', message: CODE_REFUSED })]);
      for (const [step, measured] of [
        ['verify', timings],
        ['request', requestTimings],
      ] as const) {
        // Robust on a noisy 2-core machine: the median of the per-round differences (each
        // round runs both paths back to back, in alternating order, so drift and load hit both)
        // against a margin of a fifth of the typical time or 0.4 ms, whichever is more. An
        // extra statement, a slow hash or an awaited send in one path costs more than that.
        const differences = measured.unknownNumber.map((t, i) => t - measured.wrongCode[i]!);
        const typical = median([...measured.unknownNumber, ...measured.wrongCode]);
        const difference = median(differences);
        const margin = Math.max(0.2 * typical, 0.4);
        const figures = `${step}: median ${median(measured.unknownNumber).toFixed(3)} ms (unknown number) vs ${median(measured.wrongCode).toFixed(3)} ms (wrong code), median difference ${difference.toFixed(3)} ms, margin ${margin.toFixed(3)} ms`;
        expect(Math.abs(difference), figures).toBeLessThanOrEqual(margin);
      }
    },
  );

  it('lets a reader read the history of a patient whose case the hospital holds or signed, and nobody else without a grant', async () => {
    const now = clock.now();
    expect(await consent.canRead(people['reader1']!, patientA, now)).toBe(true);
    expect(await consent.canRead(people['reader1']!, patientB, now)).toBe(false);
    for (const other of ['reader2', 'tertiary', 'clinic1', 'clinic4', 'admin']) {
      expect({ other, can: await consent.canRead(people[other]!, patientA, now) }).toEqual({
        other,
        can: false,
      });
    }
    const history = await record.history(people['reader1']!, patientA);
    expect(history).toMatchObject({
      patientId: patientA,
      access: 'treating',
      grantExpiresAt: null,
    });
    const [audited] = await database.db
      .select()
      .from(auditLog)
      .where(
        and(
          eq(auditLog.action, 'records.history.read'),
          eq(auditLog.actor, `user:${people['reader1']!.id}`),
        ),
      );
    expect(audited).toMatchObject({
      actor: `user:${people['reader1']!.id}`,
      outcome: 'allowed',
      patientKey: identity.lookupKey('resident_id', PATIENT_A_ID),
    });
    expect(audited!.detail).toMatchObject({
      role: 'reader',
      facilityId: 'county-1',
      patientId: patientA,
      access: 'treating',
    });
    expect(JSON.stringify(audited)).not.toContain(PATIENT_A_ID);
  });

  it('refuses a read that cannot be audited, and reads a case’s patient through the same check', async () => {
    const failingAudit = new AuditService(
      {
        append: () => Promise.reject(new Error('audit table unavailable')),
      } as unknown as AuditRepository,
      clock,
      quietLog as Logger,
    );
    const unaudited = new SharedRecordService(
      consent,
      new SharedRecordRepository(database),
      patients,
      {} as BlobStore,
      failingAudit,
      clock,
    );
    expect(await refusal(unaudited.history(people['reader1']!, patientA))).toEqual({
      code: 'UNAVAILABLE',
      message: 'The access could not be audited; try again later',
    });
    const [earlier] = await database.db
      .select({ id: cases.id })
      .from(cases)
      .where(eq(cases.patientId, patientA));
    await expect(record.historyOfCase(people['reader1']!, earlier!.id)).resolves.toMatchObject({
      patientId: patientA,
      access: 'treating',
    });
    expect(await refusal(record.historyOfCase(people['reader2']!, earlier!.id))).toEqual({
      code: 'NOT_FOUND',
      message: 'Patient not found',
    });
  });

  it('shows the grants of a patient to the registering clinic and admins only', async () => {
    const ticket = await ask('tertiary', PATIENT_B_ID, 'second opinion');
    await consent.verifyCode(people['tertiary']!, ticket.requestId, await codeFor(patientB));
    const grants = await consent.grantsOf(people['clinic1']!, patientB);
    expect(grants[0]).toMatchObject({
      granteeName: 'Dr tertiary',
      facilityName: 'City Hospital',
      purpose: 'second opinion',
    });
    expect(await consent.grantsOf(people['admin']!, patientB)).toEqual(grants);
    for (const other of ['clinic4', 'reader1', 'tertiary']) {
      expect(await refusal(consent.grantsOf(people[other]!, patientB))).toEqual({
        code: 'NOT_FOUND',
        message: 'Patient not found',
      });
    }
  });

  it('revokes a grant for the registering clinic: the reader reads nothing from then on, and the revocation is in the chain', async () => {
    const reader = people['reader2']!;
    const clinic = people['clinic1']!;
    const ticket = await ask('reader2', PATIENT_B_ID, 'compare before the patient withdrew');
    const grant = await consent.verifyCode(reader, ticket.requestId, await codeFor(patientB));
    expect((await record.history(reader, patientB)).access).toBe('grant');

    // Nobody but the registering clinic may revoke; to them the patient does not exist.
    for (const other of ['clinic4', 'reader2', 'tertiary', 'admin']) {
      expect(await refusal(consent.revokeGrant(people[other]!, patientB, grant.id))).toEqual({
        code: 'NOT_FOUND',
        message: 'Patient not found',
      });
    }
    // A grant of another patient is not reached through this patient's record.
    expect(await refusal(consent.revokeGrant(clinic, patientA, grant.id))).toEqual({
      code: 'NOT_FOUND',
      message: 'Grant not found',
    });
    expect(await consent.canRead(reader, patientB, clock.now())).toBe(true);

    clock.advance(MINUTE);
    const revoked = await consent.revokeGrant(clinic, patientB, grant.id);
    expect(revoked).toMatchObject({ id: grant.id, revokedAt: clock.now().toISOString() });
    expect(await consent.canRead(reader, patientB, clock.now())).toBe(false);
    expect(await refusal(record.history(reader, patientB))).toEqual({
      code: 'NOT_FOUND',
      message: 'Patient not found',
    });
    // Twice is the same as once: the first revocation's time stands, one audit row.
    clock.advance(MINUTE);
    expect(await consent.revokeGrant(clinic, patientB, grant.id)).toEqual(revoked);
    const rows = await database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'consent.revoke'), eq(auditLog.outcome, 'allowed')));
    const ours = rows.filter((row) => row.detail?.['grantId'] === grant.id);
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatchObject({
      actor: `user:${clinic.id}`,
      patientKey: identity.lookupKey('resident_id', PATIENT_B_ID),
      detail: expect.objectContaining({
        role: 'clinic_staff',
        facilityId: 'clinic-1',
        granteeId: reader.id,
        purpose: 'compare before the patient withdrew',
      }),
    });
    expect(ours[0]!.seq).not.toBeNull();
    expect(JSON.stringify(ours)).not.toContain(PATIENT_B_ID);
  });

  it('refuses to revoke a grant that has run out, and leaves it as it was', async () => {
    const reader = people['tertiary']!;
    const ticket = await ask('tertiary', PATIENT_A_ID, 'ran out before the revocation');
    const grant = await consent.verifyCode(reader, ticket.requestId, await codeFor(patientA));
    clock.advance(30 * MINUTE);
    expect(await refusal(consent.revokeGrant(people['clinic1']!, patientA, grant.id))).toEqual({
      code: 'CONFLICT',
      message: 'The grant has already run out; there is nothing to revoke',
    });
    const [stored] = (await consent.grantsOf(people['clinic1']!, patientA)).filter(
      (g) => g.id === grant.id,
    );
    expect(stored).toEqual(grant);
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
