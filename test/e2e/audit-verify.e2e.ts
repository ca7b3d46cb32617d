import { spawn } from 'node:child_process';
import { desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../../apps/relay/src/infra/database/database.js';
import { auditChainHead, auditLog } from '../../apps/relay/src/infra/database/schema.js';
import type { CreatedExamOrder, PatientAccessPage } from '#contracts';
import { ConsoleClient } from '../support/clients.js';
import { RelayProcess } from '../support/relay-process.js';

/** The built `npm run audit:verify` on a data directory: its exit code and what it printed. */
async function auditVerify(relay: RelayProcess): Promise<{ code: number | null; output: string }> {
  const { DATABASE_URL: _ambient, ...env } = process.env;
  const database = relay.databaseUrl ? { DATABASE_URL: relay.databaseUrl } : {};
  const child = spawn(process.execPath, ['dist/scripts/audit-verify.js'], {
    env: { ...env, ...database, DATA_DIR: relay.dataDir, DEMO: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, output };
}

/**
 * The relay's own trail, checked by the operator's command after the relay stopped: intact
 * as the relay wrote it; then one row edited, one deleted, the newest deleted with the head
 * moved back (only the anchor the relay wrote at its stop still knows), each named.
 */
describe('npm run audit:verify on a relay’s data directory', () => {
  let relay: RelayProcess;

  beforeAll(async () => {
    relay = await RelayProcess.start();
  });
  afterAll(async () => {
    await relay.dispose();
  });

  /** Opens the stopped relay's database, changes it as someone with the files could, closes it. */
  async function tamper(change: (database: Database) => Promise<void>): Promise<void> {
    const database = await Database.open({
      databaseUrl: relay.databaseUrl,
      dataDir: relay.dataDir,
    });
    try {
      await change(database);
    } finally {
      await database.close();
    }
  }
  const rowAt = async (database: Database, seq: number) =>
    (await database.db.select().from(auditLog).where(eq(auditLog.seq, seq)))[0]!;

  it("shows the registering clinic who looked at its patient's record, and nobody else's", async () => {
    const clinic = await ConsoleClient.login(relay.httpUrl, 'clinic1.staff');
    const created = await clinic.post<CreatedExamOrder>('/api/records/orders', {
      patient: { documentType: 'passport', idNumber: 'AUDITE2E01', name: 'Audit Patient' },
      kind: 'ecg',
      indication: 'audit trail',
    });
    expect(created.status).toBe(201);
    const patientId = created.body.order.patient.id;
    const path = `/api/records/patients/${patientId}/access-log`;
    // The registration is the first entry; a look is written down after it is answered, so
    // the second look shows the first.
    const byClinic1 = {
      outcome: 'allowed',
      actorName: clinic.session.user.displayName,
      role: 'clinic_staff',
      facilityId: 'clinic-1',
    };
    expect((await clinic.get<PatientAccessPage>(path)).body.entries).toEqual([
      expect.objectContaining({ action: 'exam_order.create', ...byClinic1 }),
    ]);
    const seen = await clinic.get<PatientAccessPage>(path);
    expect(seen.body.entries).toHaveLength(2);
    expect(seen.body.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'exam_order.create', ...byClinic1 }),
        expect.objectContaining({ action: 'records.access-log.read', ...byClinic1 }),
      ]),
    );
    expect(JSON.stringify(seen.body)).not.toContain(clinic.session.user.id);
    const otherClinic = await ConsoleClient.login(relay.httpUrl, 'clinic2.staff');
    expect((await otherClinic.get(path)).status).toBe(404);

    // A refused sign-in and an administrator reading the trail: rows of more kinds.
    const wrong = await fetch(`${relay.httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'clinic1.staff', password: 'not-the-password' }),
    });
    expect(wrong.status).toBe(401);
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    expect((await admin.get('/api/admin/audit')).status).toBe(200);
  });

  it('exits 0 on the trail as the relay wrote it, with the anchor the relay wrote when it stopped', async () => {
    await relay.stop();
    const { code, output } = await auditVerify(relay);
    expect(output).toMatch(
      /^audit chain intact: \d+ rows checked \(seq 1–\d+\), 1 of 1 anchors matched/,
    );
    expect(code).toBe(0);
    const rows = Number(/intact: (\d+) rows/.exec(output)![1]);
    expect(rows).toBeGreaterThanOrEqual(8);
  });

  it('exits 1 naming the row whose detail was changed', async () => {
    let edited = { id: 0, seq: 0, detail: null as Record<string, unknown> | null };
    await tamper(async (database) => {
      const [login] = await database.db
        .select()
        .from(auditLog)
        .where(eq(auditLog.action, 'auth.login'))
        .orderBy(auditLog.seq)
        .limit(1);
      edited = { id: login!.id, seq: login!.seq!, detail: login!.detail };
      await database.db
        .update(auditLog)
        .set({ detail: { ...login!.detail, sessionId: 'someone-else' } })
        .where(eq(auditLog.id, login!.id));
    });
    const { code, output } = await auditVerify(relay);
    expect(output).toContain(
      `audit chain BROKEN (edited): row id ${edited.id} (seq ${edited.seq}) was edited`,
    );
    expect(code).toBe(1);
    await tamper(async (database) => {
      await database.db
        .update(auditLog)
        .set({ detail: edited.detail })
        .where(eq(auditLog.id, edited.id));
    });
    expect((await auditVerify(relay)).code).toBe(0);
  });

  it('exits 1 naming the gap a deleted row leaves', async () => {
    let deleted: typeof auditLog.$inferSelect | undefined;
    await tamper(async (database) => {
      deleted = await rowAt(database, 2);
      await database.db.delete(auditLog).where(eq(auditLog.id, deleted.id));
    });
    const { code, output } = await auditVerify(relay);
    expect(output).toContain('audit chain BROKEN (missing): seq 2 missing (deleted)');
    expect(code).toBe(1);
    await tamper(async (database) => {
      await database.db.insert(auditLog).values(deleted!);
    });
    expect((await auditVerify(relay)).code).toBe(0);
  });

  it('exits 1 when the newest row was deleted and the head moved back: the anchor in DATA_DIR names the missing seq', async () => {
    let lastSeq = 0;
    await tamper(async (database) => {
      const [last] = await database.db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
      lastSeq = last!.seq!;
      const before = await rowAt(database, lastSeq - 1);
      await database.db.delete(auditLog).where(eq(auditLog.id, last!.id));
      await database.db
        .update(auditChainHead)
        .set({ seq: lastSeq - 1, hash: before.rowHash! })
        .where(eq(auditChainHead.id, 1));
    });
    const { code, output } = await auditVerify(relay);
    expect(output).toContain(`audit chain BROKEN (truncated): seq ${lastSeq} missing (deleted)`);
    expect(output).toContain(`names seq ${lastSeq}`);
    expect(code).toBe(1);
  });
});
