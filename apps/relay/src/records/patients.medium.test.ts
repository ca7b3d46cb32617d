import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../infra/database/database.js';
import { facilities, patients } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import { PatientIdentity } from './patient-identity.js';
import { PatientsRepository } from './patients.repository.js';
import { PatientsService } from './patients.service.js';

/** Registration on a real database per driver: one patient per identifier, kept sealed. */

const identity = new PatientIdentity({
  hmacKey: Buffer.alloc(32, 7),
  sealKeys: [{ id: 'k1', key: Buffer.alloc(32, 8) }],
});
// Fictitious: area 500101, born 1 January 1900, check character computed (GB 11643).
const ID = '500101190001010017';

describe.each(DRIVERS)('PatientsService on %s', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let service: PatientsService;

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
    service = new PatientsService(new PatientsRepository(database), identity);
    await database.db.insert(facilities).values([
      { id: 'hosp-c1', kind: 'county', name: 'County One', parentId: null },
      { id: 'clinic-a', kind: 'clinic', name: 'Clinic A', parentId: 'hosp-c1' },
      { id: 'clinic-b', kind: 'clinic', name: 'Clinic B', parentId: 'hosp-c1' },
    ]);
  }, 60_000);
  afterAll(() => dispose());

  it('registers a patient from a resident ID, taking sex and birth date from it', async () => {
    const { patient, registered } = await service.register(
      { documentType: 'resident_id', idNumber: ID, name: '测试患者一' },
      { facilityId: 'clinic-a' },
    );
    expect(registered).toBe(true);
    expect(service.summary(patient)).toEqual({
      id: patient.id,
      name: '测试患者一',
      sex: 'male',
      birthDate: '1900-01-01',
      maskedIdentifier: '5001**********0017',
      documentType: 'resident_id',
    });
  });

  it('keeps the number only sealed: no column holds it in clear, and the seal opens to it', async () => {
    const [row] = await database.db.select().from(patients);
    expect(JSON.stringify(row)).not.toContain(ID);
    expect(identity.open(row!.identifierSealed)).toBe(ID);
    expect(row!.identifierKey).toBe(identity.lookupKey('resident_id', ID));
  });

  it('finds the same patient when another clinic registers the same number, and keeps what was stored', async () => {
    const again = await service.register(
      { documentType: 'resident_id', idNumber: ID.toLowerCase(), name: 'Another Name' },
      { facilityId: 'clinic-b' },
    );
    expect(again.registered).toBe(false);
    expect(again.patient.name).toBe('测试患者一');
    expect(again.patient.registeredBy).toBe('clinic-a');
    const found = await service.findByIdentifier('resident_id', ID);
    expect(found?.id).toBe(again.patient.id);
    expect((await service.byId(again.patient.id))?.name).toBe('测试患者一');
  });

  it('tells a passport with the same characters apart, and finds nothing for an unknown number', async () => {
    const passport = await service.register(
      { documentType: 'passport', idNumber: ID, name: 'Test Passport', sex: 'female' },
      { facilityId: 'clinic-a' },
    );
    expect(passport.registered).toBe(true);
    expect(passport.patient.birthDate).toBeNull();
    expect(await service.findByIdentifier('resident_id', '500101190001010025')).toBeUndefined();
  });

  it('makes one patient when two registrations of the same number race', async () => {
    const number = '500101190103150037';
    const results = await Promise.all(
      ['clinic-a', 'clinic-b'].map((facilityId) =>
        service.register(
          { documentType: 'resident_id', idNumber: number, name: '测试患者二' },
          { facilityId },
        ),
      ),
    );
    expect(new Set(results.map((r) => r.patient.id)).size).toBe(1);
    expect(results.filter((r) => r.registered)).toHaveLength(1);
    const rows = await database.db
      .select({ id: patients.id })
      .from(patients)
      .where(eq(patients.identifierKey, identity.lookupKey('resident_id', number)));
    expect(rows).toHaveLength(1);
  });
});
