import { Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt, inArray, isNotNull, isNull, lte, or } from 'drizzle-orm';
import { Database, type Tx } from '../infra/database/database.js';
import { outbox } from '../infra/database/schema.js';

/** A row waiting to become a job. */
export interface OutboxRow {
  id: number;
  kind: string;
  payload: unknown;
  attempts: number;
}

/** What a failed add leaves on the row: when to try again, or that it is parked. */
export interface OutboxFailure {
  attempts: number;
  lastError: string;
  nextAttemptAt: Date | null;
  parkedAt: Date | null;
}

/** The `outbox` table. */
@Injectable()
export class OutboxRepository {
  constructor(private readonly database: Database) {}

  /** Inside the transaction that makes the change the row announces. */
  async insert(tx: Tx, kind: string, payload: Record<string, unknown>): Promise<void> {
    await tx.insert(outbox).values({ kind, payload });
  }

  async parkedCount(): Promise<number> {
    const [parked] = await this.database.db
      .select({ rows: count() })
      .from(outbox)
      .where(isNotNull(outbox.parkedAt));
    return parked?.rows ?? 0;
  }

  /** Up to `limit` rows not parked and due at `now`, with ids after `afterId`, in id order. */
  async due(now: Date, afterId: number, limit: number): Promise<OutboxRow[]> {
    return this.database.db
      .select({
        id: outbox.id,
        kind: outbox.kind,
        payload: outbox.payload,
        attempts: outbox.attempts,
      })
      .from(outbox)
      .where(
        and(
          isNull(outbox.parkedAt),
          gt(outbox.id, afterId),
          or(isNull(outbox.nextAttemptAt), lte(outbox.nextAttemptAt, now)),
        ),
      )
      .orderBy(asc(outbox.id))
      .limit(limit);
  }

  async delete(ids: readonly number[]): Promise<void> {
    await this.database.db.delete(outbox).where(inArray(outbox.id, [...ids]));
  }

  async recordFailure(id: number, failure: OutboxFailure): Promise<void> {
    await this.database.db.update(outbox).set(failure).where(eq(outbox.id, id));
  }
}
