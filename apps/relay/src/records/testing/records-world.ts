import { randomUUID } from 'node:crypto';
import type { SessionUser } from '#contracts';
import { AuditRepository } from '../../audit/audit.repository.js';
import { AuditService } from '../../audit/audit.service.js';
import { TestClock } from '../../common/testing/test-clock.js';
import type { Database } from '../../infra/database/database.js';
import { cases, facilities, users } from '../../infra/database/schema.js';
import { ExamOrdersRepository } from '../exam-orders.repository.js';
import { ExamOrdersService } from '../exam-orders.service.js';
import { PatientIdentity } from '../patient-identity.js';
import { PatientsRepository } from '../patients.repository.js';
import { PatientsService } from '../patients.service.js';
import { quietLog } from '../../infra/logging/testing/quiet-log.js';

/**
 * The records module's medium-test world: the real services on a real database of the test
 * file's own, a clock the test moves, and a region of one county with two clinics.
 */
export async function recordsWorld(database: Database, repeatExamWindowDays = 30) {
  const clock = new TestClock();
  const identity = new PatientIdentity({
    hmacKey: Buffer.alloc(32, 7),
    sealKeys: [{ id: 'k1', key: Buffer.alloc(32, 8) }],
  });
  const patients = new PatientsService(new PatientsRepository(database), identity);
  const audit = new AuditService(new AuditRepository(database), clock, quietLog);
  const orders = new ExamOrdersService(
    database,
    new ExamOrdersRepository(database),
    patients,
    audit,
    clock,
    { repeatExamWindowDays },
  );
  await database.db.insert(facilities).values([
    { id: 'hosp-c1', kind: 'county', name: 'County One', parentId: null },
    { id: 'clinic-a', kind: 'clinic', name: 'Clinic A', parentId: 'hosp-c1' },
    { id: 'clinic-b', kind: 'clinic', name: 'Clinic B', parentId: 'hosp-c1' },
  ]);
  const staff = async (facilityId: string): Promise<SessionUser> => {
    const username = `staff-${randomUUID().slice(0, 8)}`;
    const [row] = await database.db
      .insert(users)
      .values({
        username,
        displayName: username,
        passwordHash: 'x',
        role: 'clinic_staff',
        facilityId,
      })
      .returning({ id: users.id });
    return {
      id: row!.id,
      username,
      displayName: username,
      role: 'clinic_staff',
      facilityId,
      facilityKind: 'clinic',
    };
  };
  /** A case of the patient as the exam's recording or study would have made it. */
  async function examCase(values: Partial<typeof cases.$inferInsert>): Promise<string> {
    const [row] = await database.db
      .insert(cases)
      .values({
        kind: 'ecg',
        examKind: 'resting-12-lead',
        clinicId: 'clinic-a',
        hospitalId: 'hosp-c1',
        priority: 'routine',
        status: 'signed',
        dueAt: clock.now(),
        createdAt: clock.now(),
        ...values,
      })
      .returning({ id: cases.id });
    return row!.id;
  }
  return {
    clock,
    identity,
    patients,
    orders,
    audit,
    examCase,
    staffA: await staff('clinic-a'),
    staffB: await staff('clinic-b'),
  };
}
