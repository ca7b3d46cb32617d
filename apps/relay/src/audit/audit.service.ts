import { Inject, Injectable } from '@nestjs/common';
import { Database } from '../infra/database/database.js';
import { auditLog } from '../infra/database/schema.js';
import { LOGGER } from '../common/tokens.js';
import type { Logger } from '../infra/logging/logger.js';

export interface AuditEntry {
  /** `user:<id>`, `device:<id>`, `anonymous`: never a patient identifier. */
  actor: string;
  action: string;
  outcome: 'allowed' | 'denied' | 'failed';
  subject?: string;
  remoteAddress?: string;
  detail?: Record<string, unknown>;
}

/** The audit trail: who tried what, when, from where, and what the relay decided. */
@Injectable()
export class AuditService {
  constructor(
    private readonly database: Database,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    this.log.info({ audit: entry }, `audit ${entry.action} ${entry.outcome}`);
    await this.database.db.insert(auditLog).values(entry);
  }

  /** For hot paths (broker hooks): never blocks the caller, never throws. */
  recordLater(entry: AuditEntry): void {
    this.record(entry).catch((error: unknown) =>
      this.log.error({ err: error, action: entry.action }, 'audit write failed'),
    );
  }
}
