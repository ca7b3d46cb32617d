import { Inject, Injectable } from '@nestjs/common';
import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import type { AuditFilter, AuditPage, SessionUser } from '#contracts';
import type { DomainError } from '../common/domain-error.js';
import { Database } from '../infra/database/database.js';
import { auditLog } from '../infra/database/schema.js';
import { LOGGER } from '../common/tokens.js';
import { REDACTED_KEYS, type Logger } from '../infra/logging/logger.js';

export interface AuditEntry {
  /** `user:<id>`, `device:<id>`, `anonymous`: never a patient identifier. */
  actor: string;
  action: string;
  outcome: 'allowed' | 'denied' | 'failed';
  subject?: string;
  remoteAddress?: string;
  detail?: Record<string, unknown>;
}

/** Where a refusal happened, as its edge (REST, Socket.IO) names it. */
export interface RefusalSite {
  /** The signed-in user (`user:<id>`) or `anonymous`. */
  actor: string;
  /** `GET /api/cases/:id`, `socket.stream.watch` … */
  action: string;
  remoteAddress?: string;
}

const REDACTED: ReadonlySet<string> = new Set(REDACTED_KEYS);

/** The audit trail: who tried what, when, from where, and what the relay decided. */
@Injectable()
export class AuditService {
  constructor(
    private readonly database: Database,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const row = entry.detail ? { ...entry, detail: withoutRedacted(entry.detail) } : entry;
    this.log.info({ audit: row }, `audit ${entry.action} ${entry.outcome}`);
    await this.database.db.insert(auditLog).values(row);
  }

  /** For hot paths (broker hooks): never blocks the caller, never throws. */
  recordLater(entry: AuditEntry): void {
    this.record(entry).catch((error: unknown) =>
      this.log.error({ err: error, action: entry.action }, 'audit write failed'),
    );
  }

  /**
   * The one way a refused request is written down, whichever edge refused it: the error's
   * own context (subject, reason, or a more precise actor and action) over the edge's.
   */
  refused(error: DomainError, site: RefusalSite): Promise<void> {
    const { refusal } = error;
    return this.record({
      actor: refusal.actor ?? site.actor,
      action: refusal.action ?? site.action,
      outcome: 'denied',
      subject: refusal.subject,
      remoteAddress: site.remoteAddress,
      detail: { code: error.code, ...refusal.detail },
    });
  }

  /** A page of the trail, newest first, for an administrator; the reading is audited too. */
  async search(
    admin: SessionUser,
    filter: AuditFilter,
    remoteAddress: string | undefined,
  ): Promise<AuditPage> {
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
    const page = rows.slice(0, limit);
    await this.record({
      actor: `user:${admin.id}`,
      action: 'admin.audit.read',
      outcome: 'allowed',
      remoteAddress,
      detail: { ...filter, returned: page.length },
    });
    return {
      entries: page.map((row) => ({ ...row, at: row.at.toISOString() })),
      nextBefore: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
    };
  }
}

/** Drops secrets and patient identifiers at any depth, whatever the caller passed. */
function withoutRedacted(detail: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(detail)
      .filter(([key]) => !REDACTED.has(key))
      .map(([key, value]) => [
        key,
        value !== null && typeof value === 'object' && !Array.isArray(value)
          ? withoutRedacted(value as Record<string, unknown>)
          : value,
      ]),
  );
}
