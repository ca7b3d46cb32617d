import { Injectable } from '@nestjs/common';
import { and, eq, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { Database } from '../infra/database/database.js';
import { cases, clinicEvents, retiredRefreshTokens, sessions } from '../infra/database/schema.js';

export interface RetentionPolicy {
  sessionDays: number;
  clinicEventDays: number;
}

/**
 * Rows deleted by one sweep, per table. The audit trail is cut by AuditService.prune, which
 * keeps its hash chain verifiable (docs/audit.md, "Retention").
 */
export interface RetentionSwept {
  sessions: number;
  retiredRefreshTokens: number;
  clinicEvents: number;
}

const DAY_MS = 86_400_000;

/** Deletes what has outlived its use; every cut-off is counted back from the `now` given. */
@Injectable()
export class RetentionRepository {
  constructor(private readonly database: Database) {}

  async sweep(now: Date, policy: RetentionPolicy): Promise<RetentionSwept> {
    const before = (days: number) => new Date(now.getTime() - days * DAY_MS);
    const sessionCutoff = before(policy.sessionDays);
    const eventCutoff = before(policy.clinicEventDays);

    return this.database.db.transaction(async (tx) => {
      // A session is over when it expired or was revoked; its retired tokens only served to
      // catch a copied token while it lived.
      const ended = tx
        .select({ id: sessions.id })
        .from(sessions)
        .where(
          or(
            lt(sessions.expiresAt, sessionCutoff),
            and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, sessionCutoff)),
          ),
        );
      const tokens = await tx
        .delete(retiredRefreshTokens)
        .where(inArray(retiredRefreshTokens.sessionId, ended))
        .returning({ hash: retiredRefreshTokens.refreshHash });
      const endedSessions = await tx
        .delete(sessions)
        .where(inArray(sessions.id, ended))
        .returning({ id: sessions.id });

      // Delivered: the clinic acknowledged it, and the box too where there is one.
      const deliveredAt = sql`greatest(${clinicEvents.acknowledgedAt}, ${clinicEvents.deviceReceivedAt})`;
      const delivered = and(
        isNotNull(clinicEvents.acknowledgedAt),
        or(isNull(clinicEvents.deviceId), isNotNull(clinicEvents.deviceReceivedAt)),
        lt(deliveredAt, eventCutoff),
      );
      // The case shows when the clinic had its diagnosis; that outlives the event.
      await tx
        .update(cases)
        .set({ clinicReceivedAt: clinicEvents.acknowledgedAt })
        .from(clinicEvents)
        .where(
          and(
            eq(clinicEvents.caseId, cases.id),
            eq(clinicEvents.kind, 'diagnosis.signed'),
            delivered,
          ),
        );
      const events = await tx
        .delete(clinicEvents)
        .where(delivered)
        .returning({ id: clinicEvents.id });

      return {
        sessions: endedSessions.length,
        retiredRefreshTokens: tokens.length,
        clinicEvents: events.length,
      };
    });
  }
}
