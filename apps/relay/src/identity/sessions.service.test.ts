import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from '../common/testing/test-clock.js';
import { Database } from '../infra/database/database.js';
import { facilities, sessions, users } from '../infra/database/schema.js';
import { RefreshTokens } from './refresh-tokens.js';
import { SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

describe('SessionsService (real PGlite)', () => {
  let dataDir: string;
  let database: Database;
  let service: SessionsService;
  let userId: string;
  const revoked: string[][] = [];
  const clock = new TestClock();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-sessions-'));
    database = await Database.open({ dataDir });
    await database.db
      .insert(facilities)
      .values({ id: 'county-1', kind: 'county', name: 'County 1' });
    const [user] = await database.db
      .insert(users)
      .values({
        username: 'reader',
        displayName: 'Reader',
        passwordHash: 'x',
        role: 'reader',
        facilityId: 'county-1',
      })
      .returning({ id: users.id });
    userId = user!.id;
    service = new SessionsService(
      new SessionsRepository(database),
      new RefreshTokens('k'.repeat(32)),
      clock,
    );
    service.onRevoked((ids) => revoked.push(ids));
  }, 60_000);
  afterAll(async () => {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps only the hash, rotates, and ends the session when an old token comes back', async () => {
    const session = await service.start(userId, 3600);
    const [row] = await database.db
      .select()
      .from(sessions)
      .where(eq(sessions.id, session.sessionId));
    expect(row?.refreshHash).not.toBe(session.refreshToken);

    const first = await service.rotate(session.refreshToken);
    expect(first).toMatchObject({ outcome: 'rotated', sessionId: session.sessionId });
    if (!('outcome' in first)) throw new Error('not rotated');
    expect(await service.isLive(session.sessionId)).toBe(true);

    expect(await service.rotate(session.refreshToken)).toMatchObject({ action: 'revoke-reuse' });
    expect(revoked).toContainEqual([session.sessionId]);
    expect(await service.isLive(session.sessionId)).toBe(false);
    // The newest token died with its session.
    expect(await service.rotate(first.refreshToken)).toMatchObject({ reason: 'revoked' });
  });

  it('lets exactly one of two concurrent refreshes with one token through, and then revokes', async () => {
    const session = await service.start(userId, 3600);
    const results = await Promise.all([
      service.rotate(session.refreshToken),
      service.rotate(session.refreshToken),
    ]);
    expect(results.filter((r) => 'outcome' in r)).toHaveLength(1);
    expect(results.filter((r) => !('outcome' in r) && r.action === 'revoke-reuse')).toHaveLength(1);
    expect(await service.isLive(session.sessionId)).toBe(false);
  });

  it('refuses access at once after a revocation by this process, despite the cache', async () => {
    const session = await service.start(userId, 3600);
    expect(await service.isLive(session.sessionId)).toBe(true); // now cached
    expect(await service.revoke(session.sessionId, 'logout')).toBe(true);
    expect(await service.isLive(session.sessionId)).toBe(false);
    expect(await service.revoke(session.sessionId, 'logout')).toBe(false);
  });

  it('ends every session of a disabled user', async () => {
    const a = await service.start(userId, 3600);
    const b = await service.start(userId, 3600);
    const ended = await service.revokeAllOf(userId, 'user-disabled');
    expect(ended.sort()).toEqual([a.sessionId, b.sessionId].sort());
    expect(await service.isLive(a.sessionId)).toBe(false);
    expect(await service.rotate(b.refreshToken)).toMatchObject({ reason: 'revoked' });
  });

  it('refuses a session once its time is up, by the clock', async () => {
    const session = await service.start(userId, 3600);
    expect(session.expiresAt).toEqual(new Date(clock.now().getTime() + 3600_000));
    expect(await service.isLive(session.sessionId)).toBe(true);
    clock.advance(3600_000);
    expect(await service.isLive(session.sessionId)).toBe(false);
    expect(await service.rotate(session.refreshToken)).toMatchObject({ reason: 'expired' });
  });

  it('trusts a "live" answer for 5 s: a revocation by another instance is refused here after that', async () => {
    const session = await service.start(userId, 3600);
    expect(await service.isLive(session.sessionId)).toBe(true);
    // Another relay instance sharing the database revokes it.
    await database.db
      .update(sessions)
      .set({ revokedAt: clock.now(), revokedReason: 'logout' })
      .where(eq(sessions.id, session.sessionId));
    clock.advance(4_999);
    expect(await service.isLive(session.sessionId)).toBe(true);
    clock.advance(1);
    expect(await service.isLive(session.sessionId)).toBe(false);
  });
});
