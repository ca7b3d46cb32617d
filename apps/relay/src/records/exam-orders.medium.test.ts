import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainError } from '../common/domain-error.js';
import type { Database } from '../infra/database/database.js';
import { auditLog, examOrders, repeatExamWarnings } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import { recordsWorld } from './testing/records-world.js';

/** Exam registration and repeated-exam warnings on a real database per driver. */

// Fictitious resident IDs (area 500101, born in 1900/1901, check characters computed).
const ID_1 = '500101190001010017';
const ID_2 = '500101190001010025';
const DAY = 86_400_000;

const ecgOrder = (idNumber: string, name = '测试患者一') => ({
  patient: { documentType: 'resident_id', idNumber, name },
  kind: 'ecg',
  indication: 'chest pain',
  urgency: 'urgent',
});

describe.each(DRIVERS)('ExamOrdersService on %s', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let world: Awaited<ReturnType<typeof recordsWorld>>;

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
    world = await recordsWorld(database);
  }, 60_000);
  afterAll(() => dispose());

  it('registers the patient and answers an order number, the identifier masked and audited without it', async () => {
    const created = await world.orders.create(world.staffA, ecgOrder(ID_1));
    expect(created.patientRegistered).toBe(true);
    expect(created.warning).toBeNull();
    expect(created.order).toMatchObject({
      clinicId: 'clinic-a',
      kind: 'ecg',
      status: 'open',
      accessionNumber: null,
      patient: { maskedIdentifier: '5001**********0017', sex: 'male', birthDate: '1900-01-01' },
    });
    expect(created.order.orderNumber).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);
    expect(JSON.stringify(created)).not.toContain(ID_1);
    const rows = await database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'exam_order.create'));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.patientKey).toBe(world.identity.lookupKey('resident_id', ID_1));
    expect(JSON.stringify(rows)).not.toContain(ID_1);
    const open = await world.orders.openOrders(world.staffA);
    expect(open.map((order) => order.orderNumber)).toEqual([created.order.orderNumber]);
    expect(await world.orders.openOrders(world.staffB)).toEqual([]);
  });

  it('gives an imaging order its order number as accession number, and refuses one without modality', async () => {
    const created = await world.orders.create(world.staffA, {
      ...ecgOrder(ID_2, '测试患者二'),
      kind: 'imaging',
      modality: 'dx',
      bodyPart: 'chest',
    });
    expect(created.order).toMatchObject({ modality: 'DX', bodyPart: 'CHEST' });
    expect(created.order.accessionNumber).toBe(created.order.orderNumber);
    await expect(
      world.orders.create(world.staffA, { ...ecgOrder(ID_2), kind: 'imaging' }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' } satisfies Partial<DomainError>);
    // A wrong check character is refused, and the message does not repeat the number.
    const bad = world.orders.create(world.staffA, ecgOrder('500101190001010018'));
    await expect(bad).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(bad).rejects.not.toThrow(/500101190001010018/);
  });

  it('warns another clinic of the same exam within the window, with where and when only', async () => {
    const patient = (await world.patients.findByIdentifier('resident_id', ID_1))!;
    await world.examCase({
      patientId: patient.id,
      createdAt: new Date(world.clock.now().getTime() - 3 * DAY),
    });
    const created = await world.orders.create(world.staffB, ecgOrder(ID_1, 'whatever'));
    expect(created.patientRegistered).toBe(false);
    expect(created.warning).toMatchObject({
      windowDays: 30,
      wentAhead: null,
      earlierExams: [{ facilityName: 'Clinic A', kind: 'ecg', modality: null, bodyPart: null }],
    });
    expect(created.warning!.message).toMatch(/consent code/);
    // An imaging order of the same patient is another kind: no warning.
    const imaging = await world.orders.create(world.staffB, {
      ...ecgOrder(ID_1),
      kind: 'imaging',
      modality: 'CT',
      bodyPart: 'HEAD',
    });
    expect(imaging.warning).toBeNull();
  });

  it('does not warn of an exam before the window or one sent back as unreadable', async () => {
    const other = '500101190103150037';
    await world.orders.create(world.staffA, ecgOrder(other, '测试患者三'));
    const patient = (await world.patients.findByIdentifier('resident_id', other))!;
    const now = world.clock.now().getTime();
    await world.examCase({ patientId: patient.id, createdAt: new Date(now - 31 * DAY) });
    await world.examCase({
      patientId: patient.id,
      status: 'returned',
      createdAt: new Date(now - DAY),
    });
    expect((await world.orders.create(world.staffA, ecgOrder(other))).warning).toBeNull();
  });

  it('matches imaging by modality and body part, and records go-ahead and cancel once', async () => {
    const first = await world.orders.create(world.staffA, {
      ...ecgOrder(ID_2),
      kind: 'imaging',
      modality: 'DX',
      bodyPart: 'CHEST',
    });
    const patient = (await world.patients.findByIdentifier('resident_id', ID_2))!;
    await world.examCase({ patientId: patient.id, kind: 'imaging', orderId: first.order.id });
    const chest = await world.orders.create(world.staffB, {
      ...ecgOrder(ID_2),
      kind: 'imaging',
      modality: 'DX',
      bodyPart: 'CHEST',
    });
    expect(chest.warning?.earlierExams).toMatchObject([{ modality: 'DX', bodyPart: 'CHEST' }]);
    const head = await world.orders.create(world.staffB, {
      ...ecgOrder(ID_2),
      kind: 'imaging',
      modality: 'DX',
      bodyPart: 'HEAD',
    });
    expect(head.warning).toBeNull();

    const ahead = await world.orders.goAhead(world.staffB, chest.order.orderNumber);
    expect(ahead.status).toBe('open');
    // Clinic A cannot act on clinic B's order: it looks like a missing one.
    await expect(world.orders.cancel(world.staffA, chest.order.orderNumber)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const cancelled = await world.orders.cancel(world.staffB, chest.order.orderNumber);
    expect(cancelled.status).toBe('cancelled');
    const [warning] = await database.db
      .select()
      .from(repeatExamWarnings)
      .where(eq(repeatExamWarnings.orderId, chest.order.id));
    // The first decision stands.
    expect(warning?.wentAhead).toBe(true);
    await expect(world.orders.cancel(world.staffB, chest.order.orderNumber)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
  });

  it('closes an order when its exam arrives, counting an undecided warning as gone ahead', async () => {
    const created = await world.orders.create(world.staffB, ecgOrder(ID_1));
    expect(created.warning).not.toBeNull();
    const order = (await world.orders.byOrderNumber(
      `${created.order.orderNumber.slice(0, 4)}-${created.order.orderNumber.slice(4).toLowerCase()}`,
    ))!;
    expect(order.id).toBe(created.order.id);
    await database.db.transaction((tx) => world.orders.markRecorded(tx, order.id));
    const [row] = await database.db.select().from(examOrders).where(eq(examOrders.id, order.id));
    expect(row).toMatchObject({ status: 'recorded' });
    expect(row!.recordedAt).toEqual(world.clock.now());
    const [warning] = await database.db
      .select()
      .from(repeatExamWarnings)
      .where(eq(repeatExamWarnings.orderId, order.id));
    expect(warning?.wentAhead).toBe(true);
  });
});
