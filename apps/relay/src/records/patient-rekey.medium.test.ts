import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegisterPatientSchema } from '#contracts';
import type { Database } from '../infra/database/database.js';
import { facilities, patients as patientsTable } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import { PatientIdentity } from './patient-identity.js';
import { rekeyPatients } from './patient-rekey.js';
import { PatientsRepository } from './patients.repository.js';
import { PatientsService } from './patients.service.js';

/**
 * Re-keying after a rotation of PATIENT_ID_KEYS, on a real database: patients registered
 * under k1 are sealed again under k2 while k1 is still configured, after which k2 alone
 * opens every value and the lookup keys are unchanged.
 */

const HMAC = Buffer.alloc(32, 9);
const K0 = { id: 'k0', key: Buffer.alloc(32, 10) };
const K1 = { id: 'k1', key: Buffer.alloc(32, 11) };
const K2 = { id: 'k2', key: Buffer.alloc(32, 12) };
const PATIENTS = 7;

describe.each(DRIVERS)('re-keying stored patient identifiers (%s)', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let repository: PatientsRepository;
  const registered: { id: string; number: string; mobile: string | null; key: string }[] = [];
  const beforeRotation = new PatientIdentity({ hmacKey: HMAC, sealKeys: [K1] });
  const duringRotation = new PatientIdentity({ hmacKey: HMAC, sealKeys: [K2, K1] });
  const afterRotation = new PatientIdentity({ hmacKey: HMAC, sealKeys: [K2] });

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
    repository = new PatientsRepository(database);
    await database.db
      .insert(facilities)
      .values({ id: 'clinic-1', kind: 'clinic', name: 'Clinic One', parentId: null });
    const service = new PatientsService(repository, beforeRotation);
    for (let n = 0; n < PATIENTS; n += 1) {
      const number = `REKEY${String(n).padStart(4, '0')}`;
      const mobile = n % 2 === 0 ? `1380013800${n}` : null;
      const input = RegisterPatientSchema.parse({
        documentType: 'passport',
        idNumber: number,
        name: `患者${n}`,
        ...(mobile === null ? {} : { mobile }),
      });
      const { patient } = await service.register(input, { facilityId: 'clinic-1' });
      registered.push({ id: patient.id, number, mobile, key: patient.identifierKey });
    }
  }, 60_000);
  afterAll(() => dispose());

  const stored = async () =>
    database.db
      .select({
        id: patientsTable.id,
        identifierKey: patientsTable.identifierKey,
        identifierSealed: patientsTable.identifierSealed,
        mobileSealed: patientsTable.mobileSealed,
      })
      .from(patientsTable);

  it('reseals every value under the newest key in batches, resumes after an interruption, and does nothing the second time', async () => {
    expect((await stored()).every((row) => row.identifierSealed.startsWith('k1.'))).toBe(true);

    // Interrupted after the first batch of three: those are new, the rest still old.
    const stop = new AbortController();
    const first = await rekeyPatients(repository, duringRotation, {
      batchSize: 3,
      signal: stop.signal,
      onBatch: () => stop.abort(),
    });
    expect(first).toEqual({
      examined: 3,
      resealed: 3,
      alreadyCurrent: 0,
      skippedChanged: 0,
      failed: [],
    });
    const halfway = await stored();
    expect(halfway.filter((row) => row.identifierSealed.startsWith('k2.'))).toHaveLength(3);

    // The next run finishes the rest; the three already done count as current.
    const batches: number[] = [];
    const second = await rekeyPatients(repository, duringRotation, {
      batchSize: 3,
      onBatch: (report) => batches.push(report.examined),
    });
    expect(second).toEqual({
      examined: PATIENTS,
      resealed: PATIENTS - 3,
      alreadyCurrent: 3,
      skippedChanged: 0,
      failed: [],
    });
    expect(batches).toEqual([3, 6, 7]);

    // k1 can go now: k2 alone opens every identifier and mobile number; lookups unchanged.
    for (const row of await stored()) {
      const patient = registered.find((p) => p.id === row.id)!;
      expect(row.identifierKey).toBe(patient.key);
      expect(row.identifierSealed.startsWith('k2.')).toBe(true);
      expect(afterRotation.open(row.identifierSealed)).toBe(patient.number);
      expect(row.mobileSealed === null ? null : afterRotation.open(row.mobileSealed)).toBe(
        patient.mobile,
      );
    }
    const service = new PatientsService(repository, afterRotation);
    const found = await service.findByIdentifier('passport', registered[4]!.number);
    expect(found?.id).toBe(registered[4]!.id);
    expect(await service.mobileOf(registered[4]!.id)).toBe(registered[4]!.mobile);

    // Idempotent: a third run changes nothing.
    const before = await stored();
    expect(await rekeyPatients(repository, duringRotation, { batchSize: 100 })).toEqual({
      examined: PATIENTS,
      resealed: 0,
      alreadyCurrent: PATIENTS,
      skippedChanged: 0,
      failed: [],
    });
    expect(await stored()).toEqual(before);
  });

  it('reports a value no configured key opens by patient id, never the number, and carries on', async () => {
    const orphan = new PatientsService(
      repository,
      new PatientIdentity({ hmacKey: HMAC, sealKeys: [K0] }),
    );
    const { patient } = await orphan.register(
      RegisterPatientSchema.parse({ documentType: 'passport', idNumber: 'ORPHAN01', name: '孤' }),
      { facilityId: 'clinic-1' },
    );
    const report = await rekeyPatients(repository, duringRotation, { batchSize: 4 });
    expect(report).toMatchObject({ examined: PATIENTS + 1, resealed: 0, alreadyCurrent: PATIENTS });
    expect(report.failed).toEqual([
      { patientId: patient.id, reason: 'sealed with key "k0", which is not configured' },
    ]);
    expect(JSON.stringify(report)).not.toContain('ORPHAN01');
  });

  it('leaves a row that changed between read and write for the next run', async () => {
    const [row] = await repository.sealedBatch(null, 1);
    const changed = await repository.replaceSealed(
      { ...row!, identifierSealed: 'k1.not-what-is-stored' },
      { identifierSealed: 'k2.x', mobileSealed: null },
    );
    expect(changed).toBe(false);
    const [again] = await repository.sealedBatch(null, 1);
    expect(again).toEqual(row);
  });
});
