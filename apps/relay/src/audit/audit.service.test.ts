import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TestClock } from '../common/testing/test-clock.js';
import { Database } from '../infra/database/database.js';
import { auditLog } from '../infra/database/schema.js';
import type { Logger } from '../infra/logging/logger.js';
import { DomainError } from '../common/domain-error.js';
import { AuditRepository, type AuditRow } from './audit.repository.js';
import { AUDIT_PENDING_LIMIT, AuditService } from './audit.service.js';

describe('AuditService.recordLater (real PGlite)', () => {
  let dataDir: string;
  let database: Database;
  const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-audit-'));
    database = await Database.open({ dataDir });
  }, 60_000);
  afterAll(async () => {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const rowsOf = async (action: string) =>
    (
      await database.db.select({ rows: count() }).from(auditLog).where(eq(auditLog.action, action))
    )[0]?.rows;

  it('a box flooding refused publishes never has more than the bound pending; the drops are counted, logged and written once', async () => {
    const clock = new TestClock();
    const audit = new AuditService(new AuditRepository(database), clock, log as unknown as Logger);
    const flood = 3 * AUDIT_PENDING_LIMIT;
    let mostPending = 0;
    for (let i = 0; i < flood; i++) {
      audit.recordLater({
        actor: 'device:box-1',
        action: i % 2 === 0 ? 'mqtt.publish' : 'mqtt.chunk',
        outcome: 'denied',
        subject: 'telerelay/v1/box-2/rec/chunk',
      });
      mostPending = Math.max(mostPending, audit.pending);
    }
    expect(mostPending).toBe(AUDIT_PENDING_LIMIT);

    await audit.drained();
    expect(audit.pending).toBe(0);
    const kept = (await rowsOf('mqtt.publish'))! + (await rowsOf('mqtt.chunk'))!;
    expect(kept).toBe(AUDIT_PENDING_LIMIT);
    const dropped = flood - AUDIT_PENDING_LIMIT;
    expect(log.warn).toHaveBeenCalledWith(
      { dropped, byAction: { 'mqtt.publish': dropped / 2, 'mqtt.chunk': dropped / 2 } },
      'audit entries dropped',
    );
    const [summary] = await database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'audit.dropped'));
    expect(summary).toMatchObject({
      actor: 'relay',
      outcome: 'failed',
      detail: { dropped, limit: AUDIT_PENDING_LIMIT },
    });
    expect(await rowsOf('audit.dropped')).toBe(1);

    // Once drained, entries are taken again, each with the time it was accepted at.
    const acceptedAt = clock.now();
    audit.recordLater({ actor: 'device:box-1', action: 'mqtt.connect', outcome: 'denied' });
    clock.advance(60_000);
    await audit.drained();
    expect(
      await database.db
        .select({ at: auditLog.at })
        .from(auditLog)
        .where(eq(auditLog.action, 'mqtt.connect')),
    ).toEqual([{ at: acceptedAt }]);
    expect(log.warn).toHaveBeenCalledTimes(1);
  });
});

describe('AuditService (repository faked at its boundary)', () => {
  const ID = '11010519491231002X';
  const written: AuditRow[][] = [];
  const working = {
    append: (rows: AuditRow[]) => {
      written.push(rows);
      return Promise.resolve();
    },
  } as unknown as AuditRepository;
  const broken = {
    append: () => Promise.reject(new Error('database is gone')),
  } as unknown as AuditRepository;

  it("never keeps a patient's identifier, under any of its names, at any depth or inside arrays, in the row or its log line", async () => {
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const audit = new AuditService(working, new TestClock(), log as unknown as Logger);
    await audit.record({
      actor: 'user:clinic',
      action: 'records.patient.register',
      outcome: 'allowed',
      detail: {
        nationalId: ID,
        patient: { identifier: ID, DocumentNumber: ID, documentType: 'resident_id' },
        earlier: [{ NATIONALID: ID, caseId: 'case-1' }, [{ identifier: ID }]],
        orderNumber: 'K7Q2',
      },
    });
    const row = written.at(-1)![0]!;
    expect(row.detail).toEqual({
      patient: { documentType: 'resident_id' },
      earlier: [{ caseId: 'case-1' }, [{}]],
      orderNumber: 'K7Q2',
    });
    expect(JSON.stringify(row)).not.toContain(ID);
    expect(JSON.stringify(log.info.mock.calls)).not.toContain(ID);
  });

  it('recordPatientAccess writes the patient key, role and facility, and throws when the row cannot be written, so the read is refused', async () => {
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const access = {
      actor: 'user:reader',
      role: 'reader',
      facilityId: 'county-1',
      action: 'records.history.read',
      patientKey: 'a1b2',
      outcome: 'allowed' as const,
      detail: { purpose: 'serial ECG' },
    };
    await new AuditService(working, new TestClock(), log as unknown as Logger).recordPatientAccess(
      access,
    );
    expect(written.at(-1)![0]).toMatchObject({
      actor: 'user:reader',
      action: 'records.history.read',
      patientKey: 'a1b2',
      detail: { purpose: 'serial ECG', role: 'reader', facilityId: 'county-1' },
    });

    const failing = new AuditService(broken, new TestClock(), log as unknown as Logger);
    const refused = failing.recordPatientAccess(access);
    await expect(refused).rejects.toBeInstanceOf(DomainError);
    await expect(refused).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(log.error).toHaveBeenCalledWith(
      expect.objectContaining({ action: 'records.history.read' }),
      'audit of a patient data access failed',
    );
  });
});
