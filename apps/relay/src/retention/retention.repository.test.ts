import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Database } from '../infra/database/database.js';
import {
  cases,
  clinicEvents,
  devices,
  facilities,
  recordings,
  retiredRefreshTokens,
  sessions,
  users,
} from '../infra/database/schema.js';
import { RetentionRepository } from './retention.repository.js';

const NOW = new Date('2026-12-07T06:00:00Z');
const POLICY = { sessionDays: 7, clinicEventDays: 30 };
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000);

describe('RetentionRepository.sweep (real PGlite, explicit now)', () => {
  let dataDir: string;
  let database: Database;
  let retention: RetentionRepository;
  let userId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-retention-'));
    database = await Database.open({ dataDir });
    retention = new RetentionRepository(database);
    await database.db.insert(facilities).values([
      { id: 'c-1', kind: 'county', name: 'C1' },
      { id: 'k-1', kind: 'clinic', name: 'K1', parentId: 'c-1' },
    ]);
    await database.db.insert(devices).values({ id: 'box-a', facilityId: 'k-1', secretHash: 'x' });
    const [user] = await database.db
      .insert(users)
      .values({
        username: 'staff',
        displayName: 'Staff',
        passwordHash: 'x',
        role: 'clinic_staff',
        facilityId: 'k-1',
      })
      .returning({ id: users.id });
    userId = user!.id;
  }, 60_000);
  afterAll(async () => {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function session(expiresAt: Date, revokedAt: Date | null = null): Promise<string> {
    const [row] = await database.db
      .insert(sessions)
      .values({ userId, refreshHash: randomUUID(), expiresAt, revokedAt })
      .returning({ id: sessions.id });
    await database.db
      .insert(retiredRefreshTokens)
      .values({ refreshHash: randomUUID(), sessionId: row!.id, retiredAt: expiresAt });
    return row!.id;
  }

  /** A signed case from box-a whose clinic event was acknowledged and received as given. */
  async function delivered(acknowledgedAt: Date | null, deviceReceivedAt: Date | null) {
    const recordingId = randomUUID();
    await database.db.insert(recordings).values({
      id: recordingId,
      deviceId: 'box-a',
      clinicId: 'k-1',
      examKind: 'ecg-12',
      leads: ['I'],
      sampleRateHz: 500,
      microvoltsPerLsb: 1,
      samplesPerLead: 5000,
      chunkCount: 1,
      sha256: randomUUID(),
      startedAt: daysAgo(100),
    });
    const [row] = await database.db
      .insert(cases)
      .values({
        kind: 'ecg',
        recordingId,
        examKind: 'ecg-12',
        clinicId: 'k-1',
        hospitalId: 'c-1',
        priority: 'routine',
        status: 'signed',
        dueAt: daysAgo(100),
      })
      .returning({ id: cases.id });
    await database.db.insert(clinicEvents).values({
      clinicId: 'k-1',
      caseId: row!.id,
      kind: 'diagnosis.signed',
      deviceId: 'box-a',
      acknowledgedAt,
      deviceReceivedAt,
    });
    return row!.id;
  }

  // Old audit rows are cut by AuditService.prune (audit-chain.medium.test.ts).
  it('deletes sessions ended a week ago with their retired tokens, and clinic events delivered a month ago, and nothing newer', async () => {
    const expiredLongAgo = await session(daysAgo(8));
    const revokedLongAgo = await session(new Date(NOW.getTime() + 3600_000), daysAgo(8));
    const expiredRecently = await session(daysAgo(6));
    const live = await session(new Date(NOW.getTime() + 3600_000));
    const deliveredLongAgo = await delivered(daysAgo(40), daysAgo(31));
    const boxGotItRecently = await delivered(daysAgo(40), daysAgo(29));
    const boxNeverGotIt = await delivered(daysAgo(40), null);
    const clinicNeverGotIt = await delivered(null, daysAgo(40));

    const swept = await retention.sweep(NOW, POLICY);

    expect(swept).toEqual({ sessions: 2, retiredRefreshTokens: 2, clinicEvents: 1 });
    const sessionIds = (await database.db.select({ id: sessions.id }).from(sessions)).map(
      (row) => row.id,
    );
    expect(sessionIds.sort()).toEqual([expiredRecently, live].sort());
    expect(sessionIds).not.toContain(expiredLongAgo);
    expect(sessionIds).not.toContain(revokedLongAgo);
    const tokenSessions = (
      await database.db.select({ id: retiredRefreshTokens.sessionId }).from(retiredRefreshTokens)
    ).map((row) => row.id);
    expect(tokenSessions.sort()).toEqual([expiredRecently, live].sort());
    const eventCases = (
      await database.db
        .select({ caseId: clinicEvents.caseId })
        .from(clinicEvents)
        .orderBy(asc(clinicEvents.id))
    ).map((row) => row.caseId);
    expect(eventCases).toEqual([boxGotItRecently, boxNeverGotIt, clinicNeverGotIt]);
    // The case still says when the clinic had its diagnosis.
    const [kept] = await database.db
      .select({ clinicReceivedAt: cases.clinicReceivedAt })
      .from(cases)
      .where(eq(cases.id, deliveredLongAgo));
    expect(kept?.clinicReceivedAt).toEqual(daysAgo(40));

    // A second sweep at the same moment finds nothing more.
    expect(await retention.sweep(NOW, POLICY)).toEqual({
      sessions: 0,
      retiredRefreshTokens: 0,
      clinicEvents: 0,
    });
  });
});
