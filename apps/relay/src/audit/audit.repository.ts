import { Injectable } from '@nestjs/common';
import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import type { AuditFilter, AuditPage } from '#contracts';
import { Database } from '../infra/database/database.js';
import { auditLog } from '../infra/database/schema.js';

/** One row of the trail as written (detail already stripped of redacted keys). */
export interface AuditRow {
  /** `user:<id>`, `device:<id>`, `anonymous`: never a patient identifier. */
  actor: string;
  action: string;
  outcome: 'allowed' | 'denied' | 'failed';
  subject?: string;
  remoteAddress?: string;
  detail?: Record<string, unknown>;
  /** When it happened (the clock's time when it was accepted, not when a batch was written). */
  at: Date;
}

/** The `audit_log` table. */
@Injectable()
export class AuditRepository {
  constructor(private readonly database: Database) {}

  async insert(rows: readonly AuditRow[]): Promise<void> {
    await this.database.db.insert(auditLog).values([...rows]);
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
      .select()
      .from(auditLog)
      .where(and(...filters))
      .orderBy(desc(auditLog.id))
      .limit(limit + 1);
    return rows.map((row) => ({ ...row, at: row.at.toISOString() }));
  }
}
