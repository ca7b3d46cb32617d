import {
  Inject,
  Injectable,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import type { Logger } from '../infra/logging/logger.js';
import type { Anchor } from './audit-chain.js';
import { appendAnchor } from './anchor-file.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';

/** How often the chain's head is anchored while it moves. */
const ANCHOR_INTERVAL_MS = 5 * 60_000;

/**
 * Writes the chain's head outside the table (docs/audit.md, "Anchors"): a line in
 * DATA_DIR/audit-anchors.jsonl and the same in the log, every few minutes while the trail
 * grows and when the relay stops. Someone who can rewrite the table but not these cannot
 * delete the trail's newest rows, or rewrite it up to an anchor, unseen.
 */
@Injectable()
export class AuditAnchors implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private lastSeq: number | undefined;

  constructor(
    private readonly audits: AuditRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: RelayConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.anchor(), ANCHOR_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.audit.drained();
    await this.anchor();
  }

  /** Writes the head as an anchor, unless it has not moved since the last one. */
  async anchor(): Promise<void> {
    try {
      const head = await this.audits.head();
      if (head.seq === this.lastSeq) return;
      const anchor: Anchor = { ...head, at: this.clock.now().toISOString() };
      await appendAnchor(this.config.dataDir, anchor);
      this.lastSeq = head.seq;
      this.log.info({ auditAnchor: anchor }, 'audit chain anchored');
    } catch (error) {
      this.log.error({ err: error }, 'audit chain anchor failed');
    }
  }
}
