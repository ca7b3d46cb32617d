import { eq } from 'drizzle-orm';
import { CASE_STATUSES, type CaseStatus } from '#contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainError } from '../common/domain-error.js';
import { cases } from '../infra/database/schema.js';
import {
  CASE_TRANSITIONS,
  transition,
  type CaseTransition,
  type CaseTransitionName,
  type Expectation,
  type Guard,
  type Mover,
} from './case-transitions.js';
import {
  DRIVERS,
  openTestDatabase,
  worklistWorld,
  type WorklistWorld,
} from './testing/worklist-world.js';

/**
 * The state machine of a case, walked exhaustively: every row of CASE_TRANSITIONS from
 * every status, and every guard broken on its own. Medium tier: a real database per driver.
 */

type AnyRow = CaseTransition<unknown>;
const ROWS = Object.entries(CASE_TRANSITIONS) as [CaseTransitionName, AnyRow][];

/** Parameters each row is applied with. */
function paramsOf(name: CaseTransitionName, world: WorklistWorld): unknown {
  const at = world.clock.now();
  switch (name) {
    case 'analysed':
    case 'imagesComplete':
      return { priority: 'urgent', dueAt: at, deadlineAt: at, detail: { flags: ['AF'] } };
    case 'returnedUnreadable':
    case 'returnByReader':
      return { reason: 'lead off', detail: { hospitalId: 'hosp-c1' } };
    case 'claim':
      return { leaseUntil: new Date(at.getTime() + 120_000) };
    case 'leaseLapse':
      return { formerReader: world.readers.c1.id };
    case 'release':
    case 'sign':
      return undefined;
    case 'escalate':
    case 'deadlineEscalate':
    case 'overflow':
      return {
        fromHospitalId: 'hosp-c1',
        toHospitalId: name === 'overflow' ? 'hosp-c2' : 'hosp-t',
        deadlineAt: null,
        detail: { note: 'look at V2' },
      };
  }
}

const DEADLINE = new Date('2026-03-02T08:30:00Z');

/** Who moves the case by a row, and what they expect: everything the guards ask holds. */
function moverOf(row: AnyRow, world: WorklistWorld): Mover {
  return row.who === 'reader' ? world.readers.c1 : row.who;
}
function expectationOf(world: WorklistWorld): Expectation {
  return { hospitalId: 'hosp-c1', holder: world.readers.c1.id, deadlineAt: DEADLINE };
}

/** A case in `status` with every guard of every row satisfied. */
function caseIn(world: WorklistWorld, status: CaseStatus) {
  return world.caseAs({
    status,
    hospitalId: 'hosp-c1',
    claimedBy: world.readers.c1.id,
    claimedAt: world.clock.now(),
    leaseExpiresAt: new Date(world.clock.now().getTime() - 1_000),
    deadlineAt: DEADLINE,
  });
}

/** How to break one guard while keeping the others, and the error that must follow. */
function breaking(
  guard: Guard,
  row: AnyRow,
  world: WorklistWorld,
): {
  mover?: Mover;
  expect?: Expectation;
  values?: Record<string, unknown>;
  code: DomainError['code'];
} {
  switch (guard) {
    case 'held-by-mover':
      return { mover: world.readers.c1Other, code: 'CONFLICT' };
    case 'held-as-seen':
      return {
        expect: { ...expectationOf(world), holder: world.readers.c1Other.id },
        code: 'CONFLICT',
      };
    case 'lease-lapsed':
      return {
        values: { leaseExpiresAt: new Date(world.clock.now().getTime() + 60_000) },
        code: 'CONFLICT',
      };
    case 'at-hospital':
      // A reader of another hospital does not even see the case; a worker finds it moved on.
      return row.who === 'reader'
        ? { values: { hospitalId: 'hosp-c2' }, code: 'NOT_FOUND' }
        : { expect: { ...expectationOf(world), hospitalId: 'hosp-c2' }, code: 'CONFLICT' };
    case 'deadline-as-seen':
      return {
        expect: { ...expectationOf(world), deadlineAt: new Date(DEADLINE.getTime() + 1) },
        code: 'CONFLICT',
      };
  }
}

describe.each(DRIVERS)('the case transition table (%s)', (driver) => {
  let world: WorklistWorld;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const opened = await openTestDatabase(driver);
    dispose = opened.dispose;
    world = await worklistWorld(opened.database);
  }, 60_000);

  afterAll(async () => {
    await dispose();
  });

  async function apply(
    row: AnyRow,
    caseId: string,
    mover: Mover,
    params: unknown,
    expect: Expectation,
  ) {
    return world.database.db.transaction((tx) =>
      world.transitions.apply(tx, row, caseId, mover, params, expect),
    );
  }

  for (const [name, row] of ROWS) {
    for (const status of CASE_STATUSES) {
      const allowed = row.from.includes(status);
      it(`${name} from ${status}: ${allowed ? `moves to ${row.to} and writes "${row.event}"` : 'is refused, nothing changes'}`, async () => {
        const caseId = await caseIn(world, status);
        const before = await world.caseRow(caseId);
        const mover = moverOf(row, world);
        const params = paramsOf(name, world);
        const outcome = await apply(row, caseId, mover, params, expectationOf(world));
        const after = await world.caseRow(caseId);
        if (!after) throw new Error('case vanished');
        const events = await world.eventsOf(caseId);
        if (allowed) {
          expect(outcome.moved).toBe(true);
          expect(after.status).toBe(row.to);
          expect(after.updatedAt).toEqual(world.clock.now());
          expect(events).toHaveLength(1);
          expect(events[0]).toMatchObject({
            type: row.event,
            actor: typeof mover === 'string' ? mover : mover.id,
            fromStatus: status,
            toStatus: row.to,
            detail: row.records?.(params, mover) ?? null,
            at: world.clock.now(),
          });
        } else {
          expect(outcome.moved).toBe(false);
          if (!outcome.moved) expect(outcome.refusal.code).toBe('CONFLICT');
          expect(after).toEqual(before);
          expect(events).toEqual([]);
        }
      });
    }

    for (const guard of row.guards) {
      it(`${name} with its guard "${guard}" broken: refused, nothing changes`, async () => {
        const broken = breaking(guard, row, world);
        const caseId = await caseIn(world, row.from[0]!);
        if (broken.values) {
          await world.database.db.update(cases).set(broken.values).where(eq(cases.id, caseId));
        }
        const before = await world.caseRow(caseId);
        const outcome = await apply(
          row,
          caseId,
          broken.mover ?? moverOf(row, world),
          paramsOf(name, world),
          broken.expect ?? expectationOf(world),
        );
        expect(outcome.moved).toBe(false);
        if (!outcome.moved) expect(outcome.refusal.code).toBe(broken.code);
        expect(await world.caseRow(caseId)).toEqual(before);
        expect(await world.eventsOf(caseId)).toEqual([]);
      });
    }

    it(`${name} by someone the row does not name: refused`, async () => {
      const caseId = await caseIn(world, row.from[0]!);
      const intruder: Mover = row.who === 'reader' ? 'system:lease' : world.readers.c1;
      const outcome = await apply(
        row,
        caseId,
        intruder,
        paramsOf(name, world),
        expectationOf(world),
      );
      expect(outcome.moved).toBe(false);
      if (!outcome.moved) expect(outcome.refusal.code).toBe('FORBIDDEN');
      expect(await world.eventsOf(caseId)).toEqual([]);
    });
  }

  it('a case that does not exist is NOT_FOUND for a reader and for a worker', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const [name, row] of ROWS) {
      const outcome = await apply(
        row,
        missing,
        moverOf(row, world),
        paramsOf(name, world),
        expectationOf(world),
      );
      expect(outcome.moved, name).toBe(false);
      if (!outcome.moved) expect(outcome.refusal.code, name).toBe('NOT_FOUND');
    }
  });

  it('a clinic nurse cannot claim: the case is not in her worklist', async () => {
    const caseId = await caseIn(world, 'awaiting_review');
    const outcome = await apply(
      CASE_TRANSITIONS.claim as AnyRow,
      caseId,
      world.nurse,
      paramsOf('claim', world),
      {},
    );
    expect(outcome.moved).toBe(false);
    if (!outcome.moved) expect(outcome.refusal.code).toBe('NOT_FOUND');
  });

  it('a made-up transition is one table row: the same machinery moves the case and writes its event', async () => {
    // Nothing but this row: reopening a finished case for an addendum, from two statuses.
    const reopen = transition<{ why: string }>({
      name: 'reopen',
      from: ['signed', 'returned'],
      to: 'in_review',
      who: 'reader',
      guards: ['at-hospital'],
      event: 'reopened',
      records: (p) => ({ why: p.why }),
      changes: (_p, at, mover) => ({
        claimedBy: typeof mover === 'string' ? null : mover.id,
        claimedAt: at,
      }),
      conflict: (found) => `Case is ${found.status}`,
    });
    const reader = world.readers.c2;
    const signed = await world.caseAs({ status: 'signed', hospitalId: 'hosp-c2' });
    const waiting = await world.caseAs({ status: 'awaiting_review', hospitalId: 'hosp-c2' });
    const elsewhere = await world.caseAs({ status: 'returned', hospitalId: 'hosp-c1' });

    const reopened = await apply(reopen as AnyRow, signed, reader, { why: 'addendum' }, {});
    expect(reopened.moved).toBe(true);
    expect(await world.caseRow(signed)).toMatchObject({
      status: 'in_review',
      claimedBy: reader.id,
    });
    expect(await world.eventsOf(signed)).toMatchObject([
      {
        type: 'reopened',
        actor: reader.id,
        fromStatus: 'signed',
        toStatus: 'in_review',
        detail: { why: 'addendum' },
      },
    ]);

    const refused = await apply(reopen as AnyRow, waiting, reader, { why: 'addendum' }, {});
    expect(refused).toMatchObject({
      moved: false,
      refusal: { code: 'CONFLICT', message: 'Case is awaiting_review' },
    });
    const hidden = await apply(reopen as AnyRow, elsewhere, reader, { why: 'addendum' }, {});
    expect(hidden).toMatchObject({ moved: false, refusal: { code: 'NOT_FOUND' } });
  });
});
