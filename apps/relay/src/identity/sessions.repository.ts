import { Injectable } from '@nestjs/common';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { Database, type Queryable } from '../infra/database/database.js';
import { facilities, retiredRefreshTokens, sessions, users } from '../infra/database/schema.js';
import type { RefreshLookup } from './refresh-tokens.js';

export type RevokeReason =
  'logout' | 'reuse' | 'user-disabled' | 'facility-disabled' | 'credentials-changed';

@Injectable()
export class SessionsRepository {
  constructor(private readonly database: Database) {}

  async create(userId: string, refreshHash: string, expiresAt: Date): Promise<string> {
    const [row] = await this.database.db
      .insert(sessions)
      .values({ userId, refreshHash, expiresAt })
      .returning({ id: sessions.id });
    if (!row) throw new Error('session insert returned nothing');
    return row.id;
  }

  /** Finds the session a refresh token belongs to, as its current or a retired token. */
  async lookup(refreshHash: string, tx: Queryable = this.database.db): Promise<RefreshLookup> {
    const columns = {
      sessionId: sessions.id,
      userId: sessions.userId,
      expiresAt: sessions.expiresAt,
      revokedAt: sessions.revokedAt,
      // The account, or its whole facility.
      userDisabled: sql<boolean>`(${users.disabled} or ${facilities.disabled})`.mapWith(Boolean),
    };
    const [current] = await tx
      .select(columns)
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .innerJoin(facilities, eq(facilities.id, users.facilityId))
      .where(eq(sessions.refreshHash, refreshHash));
    if (current) return { kind: 'current', ...current };
    const [retired] = await tx
      .select(columns)
      .from(retiredRefreshTokens)
      .innerJoin(sessions, eq(sessions.id, retiredRefreshTokens.sessionId))
      .innerJoin(users, eq(users.id, sessions.userId))
      .innerJoin(facilities, eq(facilities.id, users.facilityId))
      .where(eq(retiredRefreshTokens.refreshHash, refreshHash));
    return retired ? { kind: 'retired', ...retired } : { kind: 'unknown' };
  }

  /**
   * Replaces the current refresh token, only if it is still `oldHash` and the session is
   * live: of two concurrent refreshes with one token, exactly one rotates; the other then
   * finds the token retired, which is reuse.
   */
  async rotate(sessionId: string, oldHash: string, newHash: string, now: Date): Promise<boolean> {
    return this.database.db.transaction(async (tx) => {
      const rows = await tx
        .update(sessions)
        .set({ refreshHash: newHash, lastUsedAt: now })
        .where(
          and(
            eq(sessions.id, sessionId),
            eq(sessions.refreshHash, oldHash),
            isNull(sessions.revokedAt),
            gt(sessions.expiresAt, now),
          ),
        )
        .returning({ id: sessions.id });
      if (rows.length === 0) return false;
      await tx.insert(retiredRefreshTokens).values({ refreshHash: oldHash, sessionId });
      return true;
    });
  }

  /** True when this call revoked it (false: already revoked). */
  async revoke(sessionId: string, reason: RevokeReason, at: Date): Promise<boolean> {
    const rows = await this.database.db
      .update(sessions)
      .set({ revokedAt: at, revokedReason: reason })
      .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)))
      .returning({ id: sessions.id });
    return rows.length > 0;
  }

  /** Revokes every live session of the user; returns their ids. */
  async revokeAllOf(
    userId: string,
    reason: RevokeReason,
    at: Date,
    tx: Queryable = this.database.db,
  ): Promise<string[]> {
    const rows = await tx
      .update(sessions)
      .set({ revokedAt: at, revokedReason: reason })
      .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)))
      .returning({ id: sessions.id });
    return rows.map((row) => row.id);
  }

  /** Whether access tokens of this session are still honoured, and until when at most. */
  async liveUntil(sessionId: string, now: Date): Promise<Date | null> {
    const [row] = await this.database.db
      .select({ expiresAt: sessions.expiresAt })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .innerJoin(facilities, eq(facilities.id, users.facilityId))
      .where(
        and(
          eq(sessions.id, sessionId),
          isNull(sessions.revokedAt),
          eq(users.disabled, false),
          eq(facilities.disabled, false),
          gt(sessions.expiresAt, now),
        ),
      );
    return row?.expiresAt ?? null;
  }
}
