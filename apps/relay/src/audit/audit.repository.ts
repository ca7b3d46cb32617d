import { Injectable } from '@nestjs/common';
import { and, asc, count, desc, eq, gte, isNull, lt, lte, min, sql, type SQL } from 'drizzle-orm';
import type { AuditFilter, AuditPage } from '#contracts';
import { Database, type Tx } from '../infra/database/database.js';
import { auditChainHead, auditLog, facilities, users } from '../infra/database/schema.js';
import { chain, type ChainSource, type StoredRow } from './audit-chain.js';

/** One row of the trail as written (detail already stripped of redacted keys). */
export interface AuditRow {
  /** `user:<id>`, `device:<id>`, `anonymous`: never a patient identifier. */
  actor: string;
  action: string;
  outcome: 'allowed' | 'denied' | 'failed';
  subject?: string;
  remoteAddress?: string;
  detail?: Record<string, unknown>;
  /** The HMAC lookup key of the patient the row is about; never the identifier. */
  patientKey?: string;
  /** When it happened (the clock's time when it was accepted, not when a batch was written). */
  at: Date;
}

/** Where retention cut the chain, for the `audit.pruned` row that records it. */
export interface ChainCut {
  rows: number;
  throughSeq: number;
  throughHash: string;
}

/** A read of one patient's rows, with the actor as a clinic may show them to the patient. */
export interface PatientAccessRow {
  id: number;
  at: Date;
  action: string;
  outcome: 'allowed' | 'denied' | 'failed';
  actor: string;
  actorName: string | null;
  role: string | null;
  facilityId: string | null;
  facilityName: string | null;
  purpose: string | null;
}

/** Rows read per query when the chain is walked or legacy rows are chained. */
const WALK_ROWS = 1_000;

/** The `audit_log` table and its hash chain (docs/audit.md). */
@Injectable()
export class AuditRepository {
  constructor(private readonly database: Database) {}

  /**
   * Writes rows at the end of the chain. The head row is locked first, in the same
   * transaction, so concurrent writers (batches, single rows, other relay instances on one
   * PostgreSQL) are chained one after another in commit order.
   */
  async append(rows: readonly AuditRow[]): Promise<void> {
    await this.database.db.transaction(async (tx) => {
      const head = await this.lockedHead(tx);
      if (rows.length === 0) return;
      const linked = chain(rows, head);
      // One statement for the rows and the new head: the lock is held one round trip less.
      const inserted = tx
        .$with('inserted')
        .as(tx.insert(auditLog).values(linked.rows).returning({ id: auditLog.id }));
      await tx
        .with(inserted)
        .update(auditChainHead)
        .set({ seq: linked.head.seq, hash: linked.head.hash })
        .where(eq(auditChainHead.id, 1));
    });
  }

  /**
   * Retention: deletes the longest run of rows at the chain's start that are all older than
   * the cutoff (a row written a little late in a batch keeps a younger one after it), notes
   * the cut in the head, and appends the row `describe` makes of it, which carries the cut
   * into the chain itself. Nothing is written when nothing is old enough.
   */
  async prune(cutoff: Date, describe: (cut: ChainCut) => AuditRow): Promise<number> {
    return this.database.db.transaction(async (tx) => {
      const head = await this.lockedHead(tx);
      const [young] = await tx
        .select({ seq: min(auditLog.seq) })
        .from(auditLog)
        .where(gte(auditLog.at, cutoff));
      const throughSeq = young?.seq == null ? head.seq : young.seq - 1;
      if (throughSeq <= head.prunedThroughSeq) return 0;
      const [last] = await tx
        .select({ rowHash: auditLog.rowHash })
        .from(auditLog)
        .where(eq(auditLog.seq, throughSeq));
      const deleted = await tx
        .delete(auditLog)
        .where(lte(auditLog.seq, throughSeq))
        .returning({ id: auditLog.id });
      const throughHash = last?.rowHash ?? head.hash;
      const linked = chain([describe({ rows: deleted.length, throughSeq, throughHash })], head);
      await tx.insert(auditLog).values(linked.rows);
      await tx
        .update(auditChainHead)
        .set({
          seq: linked.head.seq,
          hash: linked.head.hash,
          prunedThroughSeq: throughSeq,
          prunedThroughHash: throughHash,
        })
        .where(eq(auditChainHead.id, 1));
      return deleted.length;
    });
  }

  /** The chain's end, for an anchor. */
  async head(): Promise<{ seq: number; hash: string }> {
    const [head] = await this.database.db
      .select({ seq: auditChainHead.seq, hash: auditChainHead.hash })
      .from(auditChainHead);
    if (!head) throw new Error('audit_chain_head has no row');
    return head;
  }

  /** The stored chain, as `verifyChain` reads it. */
  chainSource(): ChainSource {
    const db = this.database.db;
    return {
      head: async () =>
        (await db.select().from(auditChainHead).where(eq(auditChainHead.id, 1)))[0] ?? null,
      chainedRows: async function* () {
        let after = -1;
        for (;;) {
          const page = await db
            .select()
            .from(auditLog)
            .where(sql`${auditLog.seq} > ${after}`)
            .orderBy(asc(auditLog.seq))
            .limit(WALK_ROWS);
          for (const row of page) yield row as StoredRow;
          if (page.length < WALK_ROWS) return;
          after = page.at(-1)!.seq!;
        }
      },
      unchained: async () => {
        const [found] = await db
          .select({ id: min(auditLog.id), count: count() })
          .from(auditLog)
          .where(isNull(auditLog.seq));
        return found?.id == null ? null : { id: found.id, count: found.count };
      },
      rowWithHash: async (hash) =>
        (
          await db
            .select({ id: auditLog.id, seq: auditLog.seq })
            .from(auditLog)
            .where(eq(auditLog.rowHash, hash))
            .limit(1)
        )[0] ?? null,
    };
  }

  /** Rows matching the filter, newest first, at most `limit + 1` (so the caller sees more). */
  async newestFirst(filter: AuditFilter): Promise<AuditPage['entries']> {
    const { actor, action, outcome, since, before, limit } = filter;
    const filters: (SQL | undefined)[] = [
      actor === undefined ? undefined : eq(auditLog.actor, actor),
      action === undefined ? undefined : eq(auditLog.action, action),
      outcome === undefined ? undefined : eq(auditLog.outcome, outcome),
      since === undefined ? undefined : gte(auditLog.at, new Date(since)),
      before === undefined ? undefined : lt(auditLog.id, before),
    ];
    const rows = await this.database.db
      .select({
        id: auditLog.id,
        at: auditLog.at,
        actor: auditLog.actor,
        action: auditLog.action,
        outcome: auditLog.outcome,
        subject: auditLog.subject,
        remoteAddress: auditLog.remoteAddress,
        detail: auditLog.detail,
      })
      .from(auditLog)
      .where(and(...filters))
      .orderBy(desc(auditLog.id))
      .limit(limit + 1);
    return rows.map((row) => ({ ...row, at: row.at.toISOString() }));
  }

  /**
   * One patient's rows older than `before` (a row id), newest first: who (the user's display name, and the role and
   * facility they acted in, as written at the time), what, when, with what outcome.
   */
  async patientAccess(
    patientKey: string,
    before: number | undefined,
    limit: number,
  ): Promise<PatientAccessRow[]> {
    const facilityId = sql<string | null>`${auditLog.detail} ->> 'facilityId'`;
    const rows = await this.database.db
      .select({
        id: auditLog.id,
        at: auditLog.at,
        action: auditLog.action,
        outcome: auditLog.outcome,
        actor: auditLog.actor,
        actorName: users.displayName,
        role: sql<string | null>`${auditLog.detail} ->> 'role'`,
        facilityId,
        facilityName: facilities.name,
        purpose: sql<string | null>`${auditLog.detail} ->> 'purpose'`,
      })
      .from(auditLog)
      .leftJoin(users, sql`${auditLog.actor} = 'user:' || ${users.id}::text`)
      .leftJoin(facilities, eq(facilities.id, facilityId))
      .where(
        and(
          eq(auditLog.patientKey, patientKey),
          before === undefined ? undefined : lt(auditLog.id, before),
        ),
      )
      .orderBy(desc(auditLog.id))
      .limit(limit);
    return rows;
  }

  /**
   * Locks the head row for the rest of the transaction. Rows written before the chain
   * existed are chained first, once, in id order (the migration noted the last of them).
   */
  private async lockedHead(tx: Tx): Promise<{
    seq: number;
    hash: string;
    prunedThroughSeq: number;
  }> {
    const [head] = await tx
      .select()
      .from(auditChainHead)
      .where(eq(auditChainHead.id, 1))
      .for('update');
    if (!head) throw new Error('audit_chain_head has no row');
    if (head.legacyThroughId === null) return head;
    let end = { seq: head.seq, hash: head.hash };
    for (;;) {
      const legacy = await tx
        .select()
        .from(auditLog)
        .where(and(isNull(auditLog.seq), lte(auditLog.id, head.legacyThroughId)))
        .orderBy(asc(auditLog.id))
        .limit(WALK_ROWS);
      if (legacy.length === 0) break;
      const linked = chain(legacy, end);
      end = linked.head;
      const values = linked.rows.map(
        (row) => sql`(${row.id}::bigint, ${row.seq}::bigint, ${row.prevHash}, ${row.rowHash})`,
      );
      await tx.execute(sql`
        update ${auditLog} set seq = v.seq, prev_hash = v.prev_hash, row_hash = v.row_hash
        from (values ${sql.join(values, sql`, `)}) as v(id, seq, prev_hash, row_hash)
        where ${auditLog.id} = v.id`);
    }
    await tx
      .update(auditChainHead)
      .set({ ...end, legacyThroughId: null })
      .where(eq(auditChainHead.id, 1));
    return { ...end, prunedThroughSeq: head.prunedThroughSeq };
  }
}
