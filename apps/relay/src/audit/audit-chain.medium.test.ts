import { asc, eq, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TestClock } from '../common/testing/test-clock.js';
import type { Database } from '../infra/database/database.js';
import { auditChainHead, auditLog, facilities, users } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import type { Logger } from '../infra/logging/logger.js';
import { verifyChain, type Anchor } from './audit-chain.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';

/**
 * The audit trail's hash chain on a real database (docs/audit.md): rows written at once by
 * several writers are chained in commit order, and `verifyChain` (what `npm run
 * audit:verify` runs) names the first row that was edited, deleted or moved.
 */
describe.each(DRIVERS)('the audit hash chain (%s)', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let repository: AuditRepository;
  const clock = new TestClock();
  const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const service = () => new AuditService(repository, clock, log as unknown as Logger);
  const verify = (anchors: Anchor[] = []) => verifyChain(repository.chainSource(), anchors);
  const rowAt = async (seq: number) =>
    (await database.db.select().from(auditLog).where(eq(auditLog.seq, seq)))[0]!;

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
    repository = new AuditRepository(database);
  }, 60_000);
  afterAll(async () => {
    await dispose();
  });

  it('chains rows from concurrent record calls, batched recordLater entries and a second writer in commit order, and verifies them intact', async () => {
    // Two services on one database stand for two relay instances: on PostgreSQL their
    // transactions run on different connections and meet only at the head's lock.
    const [first, second] = [service(), service()];
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 150; i++) {
      writes.push(
        first.record({ actor: 'user:a', action: 'a.record', outcome: 'allowed', detail: { i } }),
      );
      writes.push(
        second.record({ actor: 'user:b', action: 'b.record', outcome: 'denied', detail: { i } }),
      );
      first.recordLater({
        actor: 'device:box-1',
        action: 'mqtt.publish',
        outcome: 'denied',
        subject: `t/${i}`,
      });
      if (i % 50 === 0) clock.advance(1_000);
    }
    await Promise.all(writes);
    await Promise.all([first.drained(), second.drained()]);

    const rows = await database.db
      .select({ id: auditLog.id, seq: auditLog.seq })
      .from(auditLog)
      .orderBy(asc(auditLog.seq));
    expect(rows).toHaveLength(450);
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_, index) => index + 1));
    // Commit order: the database's ids, taken at insert, rise with the seq.
    expect(rows.map((row) => row.id)).toEqual([...rows.map((row) => row.id)].sort((a, b) => a - b));
    const [head] = await database.db.select().from(auditChainHead);
    expect(head).toMatchObject({ seq: 450, hash: (await rowAt(450)).rowHash });

    const verdict = await verify();
    expect(verdict).toMatchObject({ ok: true, rowsChecked: 450, firstSeq: 1, lastSeq: 450 });
  });

  it('names the row whose detail was changed, and passes again once it is put back', async () => {
    const row = await rowAt(123);
    await database.db
      .update(auditLog)
      .set({ detail: { ...row.detail, i: 9_999 } })
      .where(eq(auditLog.id, row.id));

    const verdict = await verify();
    expect(verdict.ok).toBe(false);
    expect(verdict.problem).toMatchObject({ kind: 'edited', id: row.id, seq: 123 });
    expect(verdict.problem?.message).toContain(`id ${row.id} (seq 123) was edited`);
    expect(verdict.rowsChecked).toBe(122);

    await database.db.update(auditLog).set({ detail: row.detail }).where(eq(auditLog.id, row.id));
    expect((await verify()).ok).toBe(true);
  });

  it('names the gap a deleted row leaves, and the rows on either side of it', async () => {
    const [before, deleted, after] = [await rowAt(199), await rowAt(200), await rowAt(201)];
    await database.db.delete(auditLog).where(eq(auditLog.id, deleted.id));

    const verdict = await verify();
    expect(verdict.problem).toMatchObject({ kind: 'missing', seq: 200 });
    expect(verdict.problem?.message).toBe(
      `seq 200 missing (deleted): the chain jumps from id ${before.id} (seq 199) to id ${after.id} (seq 201)`,
    );

    await database.db.insert(auditLog).values(deleted);
    expect((await verify()).ok).toBe(true);
  });

  it('tells a reordering (two rows swapped places) from an edit', async () => {
    const [a, b] = [await rowAt(300), await rowAt(301)];
    // Each row takes the other's seq (through a free one, as the seq is unique).
    const place = async (first: typeof a, second: typeof a) => {
      await database.db.update(auditLog).set({ seq: -1 }).where(eq(auditLog.id, second.id));
      await database.db.update(auditLog).set({ seq: 300 }).where(eq(auditLog.id, first.id));
      await database.db.update(auditLog).set({ seq: 301 }).where(eq(auditLog.id, second.id));
    };
    await place(b, a);

    const verdict = await verify();
    expect(verdict.problem).toMatchObject({ kind: 'reordered', id: b.id, seq: 300 });
    expect(verdict.problem?.message).toContain(`was written after id ${a.id} (seq 301)`);

    await place(a, b);
    expect((await verify()).ok).toBe(true);
  });

  it('finds deleted newest rows by the head, and by an anchor when the head was moved back too', async () => {
    const anchor: Anchor = { ...(await repository.head()), at: clock.now().toISOString() };
    const last = await rowAt(450);
    await database.db.delete(auditLog).where(eq(auditLog.id, last.id));
    expect((await verify([anchor])).problem).toMatchObject({ kind: 'truncated', seq: 450 });

    // Whoever deleted it also set the head back to the row before: only the anchor knows.
    const newLast = await rowAt(449);
    await database.db
      .update(auditChainHead)
      .set({ seq: 449, hash: newLast.rowHash! })
      .where(eq(auditChainHead.id, 1));
    expect((await verify()).ok).toBe(true);
    const verdict = await verify([anchor]);
    expect(verdict.problem).toMatchObject({ kind: 'truncated', seq: 450 });
    expect(verdict.problem?.message).toContain(`the anchor written at ${anchor.at} names seq 450`);

    await database.db.insert(auditLog).values(last);
    await database.db
      .update(auditChainHead)
      .set({ seq: 450, hash: last.rowHash! })
      .where(eq(auditChainHead.id, 1));
    expect(await verify([anchor])).toMatchObject({ ok: true, anchorsChecked: 1 });
  });

  it('names a row written around the chain', async () => {
    const [row] = await database.db
      .insert(auditLog)
      .values({ actor: 'user:x', action: 'forged', outcome: 'allowed', at: clock.now() })
      .returning({ id: auditLog.id });
    const verdict = await verify();
    expect(verdict.problem).toMatchObject({ kind: 'unchained', id: row!.id });
    await database.db.delete(auditLog).where(eq(auditLog.id, row!.id));
    expect((await verify()).ok).toBe(true);
  });

  it('keeps a pruned chain verifiable: retention cuts a prefix of old rows and writes the cut into the chain', async () => {
    const audit = service();
    const cutoff = clock.advance(30_000);
    clock.advance(30_000);
    await audit.record({ actor: 'user:a', action: 'young', outcome: 'allowed' });

    const pruned = await audit.prune(cutoff);
    expect(pruned).toBe(450);
    const remaining = await database.db
      .select({ seq: auditLog.seq, action: auditLog.action, detail: auditLog.detail })
      .from(auditLog)
      .orderBy(asc(auditLog.seq));
    expect(remaining.map((row) => row.action)).toEqual(['young', 'audit.pruned']);
    expect(remaining[1]?.detail).toMatchObject({ rows: 450, throughSeq: 450 });
    expect(await verify()).toMatchObject({ ok: true, rowsChecked: 2, firstSeq: 451 });
    // Nothing older than the cutoff is left: a second prune cuts nothing and writes nothing.
    expect(await audit.prune(cutoff)).toBe(0);

    // Deleting the first row after the cut is still seen.
    const first = await rowAt(451);
    await database.db.delete(auditLog).where(eq(auditLog.id, first.id));
    expect((await verify()).problem).toMatchObject({ kind: 'missing', seq: 451 });
    await database.db.insert(auditLog).values(first);
    expect((await verify()).ok).toBe(true);
  });

  it('chains rows written before the chain existed, in id order, before the next row', async () => {
    // As migration 0014 finds them: rows without a seq, the last of them noted in the head.
    const { legacyDatabase, disposeLegacy } = await openTestDatabase(driver).then((opened) => ({
      legacyDatabase: opened.database,
      disposeLegacy: opened.dispose,
    }));
    try {
      await legacyDatabase.db.insert(auditLog).values([
        {
          actor: 'anonymous',
          action: 'old.1',
          outcome: 'denied',
          at: clock.now(),
          detail: { n: 1.5 },
        },
        { actor: 'user:a', action: 'old.2', outcome: 'allowed', at: clock.now() },
      ]);
      await legacyDatabase.db
        .update(auditChainHead)
        .set({ legacyThroughId: sql`(select max(id) from audit_log)` });
      const legacyRepository = new AuditRepository(legacyDatabase);
      const legacyVerdict = await verifyChain(legacyRepository.chainSource());
      expect(legacyVerdict.problem?.kind).toBe('not-yet-chained');

      await new AuditService(legacyRepository, clock, log as unknown as Logger).record({
        actor: 'user:a',
        action: 'new',
        outcome: 'allowed',
      });
      const rows = await legacyDatabase.db
        .select({ action: auditLog.action, seq: auditLog.seq })
        .from(auditLog)
        .orderBy(asc(auditLog.id));
      expect(rows).toEqual([
        { action: 'old.1', seq: 1 },
        { action: 'old.2', seq: 2 },
        { action: 'new', seq: 3 },
      ]);
      expect(await legacyDatabase.db.select().from(auditLog).where(isNull(auditLog.seq))).toEqual(
        [],
      );
      expect(await verifyChain(legacyRepository.chainSource())).toMatchObject({
        ok: true,
        rowsChecked: 3,
      });
    } finally {
      await disposeLegacy();
    }
  }, 60_000);

  it('writes patient access with the patient key and shows "who looked at my record" for that patient only, with name, role and facility', async () => {
    await database.db.insert(facilities).values([
      { id: 'chain-clinic', kind: 'clinic', name: 'Chain Township Clinic' },
      { id: 'chain-county', kind: 'county', name: 'Chain County Hospital' },
    ]);
    const [reader] = await database.db
      .insert(users)
      .values({
        username: 'chain.reader',
        displayName: 'Dr. Wang Chain',
        passwordHash: 'x',
        role: 'reader',
        facilityId: 'chain-county',
      })
      .returning({ id: users.id });
    const audit = service();
    const access = (patientKey: string, action: string, outcome: 'allowed' | 'denied') =>
      audit.recordPatientAccess({
        actor: `user:${reader!.id}`,
        role: 'reader',
        facilityId: 'chain-county',
        action,
        patientKey,
        outcome,
        detail: { purpose: 'serial ECG comparison', nationalId: '11010519491231002X' },
      });
    await access('key-of-patient-1', 'records.history.read', 'allowed');
    clock.advance(1_000);
    await access('key-of-patient-2', 'records.history.read', 'allowed');
    clock.advance(1_000);
    await access('key-of-patient-1', 'consent.code.verify', 'denied');

    const log1 = (await audit.accessLogFor('key-of-patient-1', { limit: 500 })).entries;
    expect(log1).toEqual([
      {
        at: clock.now().toISOString(),
        action: 'consent.code.verify',
        outcome: 'denied',
        actorName: 'Dr. Wang Chain',
        role: 'reader',
        facilityId: 'chain-county',
        facilityName: 'Chain County Hospital',
        purpose: 'serial ECG comparison',
      },
      expect.objectContaining({ action: 'records.history.read', outcome: 'allowed' }),
    ]);
    expect(JSON.stringify(log1)).not.toContain(reader!.id);
    expect(await audit.accessLogFor('key-of-unknown', { limit: 500 })).toEqual({
      entries: [],
      nextBefore: null,
    });

    const stored = await database.db
      .select({ patientKey: auditLog.patientKey, detail: auditLog.detail })
      .from(auditLog)
      .where(eq(auditLog.actor, `user:${reader!.id}`));
    expect(stored.map((row) => row.patientKey)).toEqual([
      'key-of-patient-1',
      'key-of-patient-2',
      'key-of-patient-1',
    ]);
    expect(JSON.stringify(stored)).not.toContain('11010519491231002X');
    expect((await verify()).ok).toBe(true);

    // A page at a time, newest first: the pages join up to the whole log, no row twice.
    for (let read = 0; read < 5; read += 1) {
      clock.advance(1_000);
      await access('key-of-patient-1', `records.read.${read}`, 'allowed');
    }
    const whole = (await audit.accessLogFor('key-of-patient-1', { limit: 500 })).entries;
    expect(whole).toHaveLength(7);
    const paged: typeof whole = [];
    let before: number | undefined;
    let pages = 0;
    do {
      const page = await audit.accessLogFor('key-of-patient-1', { before, limit: 3 });
      paged.push(...page.entries);
      before = page.nextBefore ?? undefined;
      pages += 1;
    } while (before !== undefined);
    expect(pages).toBe(3);
    expect(paged).toEqual(whole);
    expect(paged[0]!.action).toBe('records.read.4');
  });
});
