import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import type { Logger } from '../infra/logging/logger.js';
import { JobQueues } from '../infra/queue/job-queues.js';
import { RetentionRepository, type RetentionSwept } from './retention.repository.js';

const DAY_MS = 86_400_000;

export const RETENTION_QUEUE = 'retention';
const SWEEP_JOB = 'retention-sweep';

/**
 * Deletes rows past their retention (docs/architecture.md, "Retention") on a repeatable
 * BullMQ job, so only one relay instance sweeps at a time and a restart keeps the schedule.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap {
  constructor(
    private readonly repository: RetentionRepository,
    private readonly queues: JobQueues,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: RelayConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.queues.declare(RETENTION_QUEUE);
    this.queues.work(RETENTION_QUEUE, () => this.sweep(this.clock.now()).then(() => undefined));
    await this.queues.every(RETENTION_QUEUE, this.config.retention.sweepIntervalSeconds * 1000, {
      name: SWEEP_JOB,
      data: {},
    });
  }

  async sweep(now: Date): Promise<RetentionSwept & { auditLog: number }> {
    const auditCutoff = new Date(now.getTime() - this.config.retention.auditDays * DAY_MS);
    const swept = {
      ...(await this.repository.sweep(now, this.config.retention)),
      auditLog: await this.audit.prune(auditCutoff),
    };
    this.log.info({ swept }, 'retention sweep');
    return swept;
  }
}
