import { Injectable } from '@nestjs/common';
import { and, count, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { AccessGrant } from '#contracts';
import type { RecentRequests } from './consent-limits.js';
import { Database, type Queryable } from '../infra/database/database.js';
import { accessGrants, consentRequests, facilities, users } from '../infra/database/schema.js';

export type NewConsentRequest = typeof consentRequests.$inferInsert;
export type NewAccessGrant = typeof accessGrants.$inferInsert;

/** A request after one attempt was counted on it: what checking the code needs. */
export interface CountedRequest {
  id: string;
  patientId: string | null;
  codeHash: string;
  purpose: string;
  requestedByFacility: string;
  attempts: number;
}

@Injectable()
export class ConsentRepository {
  constructor(private readonly database: Database) {}

  /** Runs `work` in one transaction; PGlite has one connection, so pass the handle on. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.database.db.transaction(work);
  }

  /**
   * Holds the requesting user's row until the transaction ends, so two requests of one
   * user at once are counted one after the other and cannot both slip under a limit.
   */
  async lockRequester(tx: Queryable, userId: string): Promise<void> {
    await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
  }

  async recentRequests(
    tx: Queryable,
    userId: string,
    subjectKey: string,
    since: Date,
  ): Promise<RecentRequests> {
    const [row] = await tx
      .select({
        byUser: count(),
        bySubject: sql<number>`count(*) filter (where ${consentRequests.subjectKey} = ${subjectKey})`,
        subjectLocked: sql<boolean>`coalesce(bool_or(${consentRequests.subjectKey} = ${subjectKey} and ${consentRequests.lockedAt} is not null and ${consentRequests.usedAt} is null), false)`,
      })
      .from(consentRequests)
      .where(and(eq(consentRequests.requestedBy, userId), gt(consentRequests.createdAt, since)));
    return {
      byUser: Number(row?.byUser ?? 0),
      bySubject: Number(row?.bySubject ?? 0),
      subjectLocked: Boolean(row?.subjectLocked),
    };
  }

  async insertRequest(tx: Queryable, request: NewConsentRequest): Promise<void> {
    await tx.insert(consentRequests).values(request);
  }

  /**
   * Counts one attempt on a request of this user that can still take one (not used, not
   * locked, not expired, fewer than the allowed attempts), before the code is checked, so
   * parallel guesses cannot pass the limit. The attempt that reaches the limit locks the
   * request at once; a right code in that attempt unlocks it again (`markUsed`).
   */
  async countAttempt(
    tx: Queryable,
    requestId: string,
    userId: string,
    maxAttempts: number,
    now: Date,
  ): Promise<CountedRequest | undefined> {
    const [row] = await tx
      .update(consentRequests)
      .set({
        attempts: sql`${consentRequests.attempts} + 1`,
        lockedAt: sql`case when ${consentRequests.attempts} + 1 >= ${maxAttempts} then ${now.toISOString()}::timestamptz else null end`,
      })
      .where(
        and(
          eq(consentRequests.id, requestId),
          eq(consentRequests.requestedBy, userId),
          isNull(consentRequests.usedAt),
          isNull(consentRequests.lockedAt),
          gt(consentRequests.expiresAt, now),
          sql`${consentRequests.attempts} < ${maxAttempts}`,
        ),
      )
      .returning({
        id: consentRequests.id,
        patientId: consentRequests.patientId,
        codeHash: consentRequests.codeHash,
        purpose: consentRequests.purpose,
        requestedByFacility: consentRequests.requestedByFacility,
        attempts: consentRequests.attempts,
      });
    return row;
  }

  /** The code was right: the request is spent (once; a second use finds nothing). */
  async markUsed(tx: Queryable, requestId: string, now: Date): Promise<boolean> {
    const rows = await tx
      .update(consentRequests)
      .set({ usedAt: now, lockedAt: null })
      .where(and(eq(consentRequests.id, requestId), isNull(consentRequests.usedAt)))
      .returning({ id: consentRequests.id });
    return rows.length === 1;
  }

  async insertGrant(tx: Queryable, grant: NewAccessGrant): Promise<void> {
    await tx.insert(accessGrants).values(grant);
  }

  /** The grant of this user on this patient that lasts longest, if one is live at `now`. */
  async liveGrant(
    userId: string,
    patientId: string,
    now: Date,
  ): Promise<{ id: string; expiresAt: Date; purpose: string } | undefined> {
    const [row] = await this.database.db
      .select({
        id: accessGrants.id,
        expiresAt: accessGrants.expiresAt,
        purpose: accessGrants.purpose,
      })
      .from(accessGrants)
      .where(
        and(
          eq(accessGrants.grantee, userId),
          eq(accessGrants.patientId, patientId),
          isNull(accessGrants.revokedAt),
          gt(accessGrants.expiresAt, now),
        ),
      )
      .orderBy(desc(accessGrants.expiresAt))
      .limit(1);
    return row;
  }

  /**
   * Ends a live grant on this patient now. Nothing happens to a grant already revoked or
   * run out, or of another patient; the answer says whether this call ended it.
   */
  async revokeGrant(grantId: string, patientId: string, now: Date): Promise<boolean> {
    const rows = await this.database.db
      .update(accessGrants)
      .set({ revokedAt: now })
      .where(
        and(
          eq(accessGrants.id, grantId),
          eq(accessGrants.patientId, patientId),
          isNull(accessGrants.revokedAt),
          gt(accessGrants.expiresAt, now),
        ),
      )
      .returning({ id: accessGrants.id });
    return rows.length === 1;
  }

  async grant(id: string): Promise<AccessGrant | undefined> {
    const [row] = await this.grantsWhere(eq(accessGrants.id, id), 1);
    return row;
  }

  /** Every grant ever given on the patient's record, newest first. */
  grantsOfPatient(patientId: string): Promise<AccessGrant[]> {
    return this.grantsWhere(eq(accessGrants.patientId, patientId), 500);
  }

  private async grantsWhere(where: ReturnType<typeof eq>, limit: number): Promise<AccessGrant[]> {
    const rows = await this.database.db
      .select({
        id: accessGrants.id,
        patientId: accessGrants.patientId,
        granteeId: accessGrants.grantee,
        granteeName: users.displayName,
        facilityId: accessGrants.facilityId,
        facilityName: facilities.name,
        purpose: accessGrants.purpose,
        grantedAt: accessGrants.grantedAt,
        expiresAt: accessGrants.expiresAt,
        revokedAt: accessGrants.revokedAt,
      })
      .from(accessGrants)
      .innerJoin(users, eq(users.id, accessGrants.grantee))
      .innerJoin(facilities, eq(facilities.id, accessGrants.facilityId))
      .where(where)
      .orderBy(desc(accessGrants.grantedAt))
      .limit(limit);
    return rows.map((row) => ({
      ...row,
      grantedAt: row.grantedAt.toISOString(),
      expiresAt: row.expiresAt.toISOString(),
      revokedAt: row.revokedAt?.toISOString() ?? null,
    }));
  }
}
