import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/tokens.js';
import type { Tx } from '../infra/database/database.js';
import { currentCorrelationId, withoutCorrelation } from '../infra/logging/correlation.js';
import type { Logger } from '../infra/logging/logger.js';
import { JobQueues, type NewJob } from '../infra/queue/job-queues.js';
import { OutboxRepository } from './outbox.repository.js';

interface OutboxPayload {
  queue: string;
  job: NewJob<Record<string, unknown>>;
}

/**
 * Failed adds before a row is parked. With the back-off below that is about an hour of
 * failing, so a Redis outage of minutes parks nothing, and a row whose job can never be
 * added (an unknown queue, a job BullMQ refuses) stops being retried.
 */
export const OUTBOX_PARK_AFTER_ATTEMPTS = 20;
const FIRST_RETRY_MS = 1_000;
const LONGEST_RETRY_MS = 5 * 60_000;

/** How long a row waits after its `attempts`-th failure: doubling from 1 s, at most 5 min. */
export function outboxRetryDelayMs(attempts: number): number {
  return Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempts - 1));
}

/**
 * Transactional outbox. A state change and the job that announces it are written in one
 * database transaction; the dispatcher then adds the job to BullMQ (idempotent by job id)
 * and deletes the row. A crash or a Redis outage in between only delays the job: due rows
 * are tried every second and on start, which is the reconciliation of DB and queue.
 *
 * A row whose add fails is tried again with back-off while the rows after it go on (jobs are
 * independent: each is keyed by its own id); after `OUTBOX_PARK_AFTER_ATTEMPTS` failures it
 * is parked with its last error, logged, and left for an operator (docs/architecture.md).
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly rows: OutboxRepository,
    private readonly queues: JobQueues,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Call inside the transaction that makes the change; then `flush()` after commit. */
  async append<T extends object>(tx: Tx, queue: string, job: NewJob<T>): Promise<void> {
    // Taken now: the row is dispatched later, outside the request or job that wrote it.
    const correlationId = job.correlationId ?? currentCorrelationId();
    const payload: OutboxPayload = {
      queue,
      job: { ...(job as NewJob<Record<string, unknown>>), correlationId },
    };
    await this.rows.insert(tx, `${queue}:${job.name}`, { ...payload });
  }

  /** Moves due rows to their queues now (coalesces concurrent calls). */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    // The loop queues rows of every cause: none of theirs is the caller's to lend it.
    this.running = withoutCorrelation(() => this.dispatchDue(this.clock.now()))
      .catch((error: unknown) =>
        this.log.warn({ err: (error as Error).message }, 'outbox dispatch deferred'),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.flush();
        }
      });
    return this.running;
  }

  async onApplicationBootstrap(): Promise<void> {
    const parkedRows = await this.rows.parkedCount();
    if (parkedRows > 0) {
      this.log.error(
        { parkedRows },
        'outbox holds parked rows whose jobs were never queued (see docs/architecture.md, "The database is the system of record")',
      );
    }
    void this.flush();
    this.timer = setInterval(() => void this.flush(), 1_000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * One pass over the rows due at `now`: each is tried once, in id order; a job's run time
   * becomes its delay from `now`.
   */
  async dispatchDue(now: Date): Promise<void> {
    // A cursor, so a row that failed in this pass is not picked up again by the next batch.
    let afterId = 0;
    for (;;) {
      const rows = await this.rows.due(now, afterId, 100);
      if (rows.length === 0) return;
      const delivered: number[] = [];
      for (const row of rows) {
        afterId = row.id;
        const { queue, job } = row.payload as unknown as OutboxPayload;
        try {
          await this.queues.add(queue, job, now);
          delivered.push(row.id);
        } catch (error) {
          await this.failed(row, error, now);
        }
      }
      if (delivered.length > 0) {
        await this.rows.delete(delivered);
      }
    }
  }

  private async failed(
    row: { id: number; kind: string; attempts: number },
    error: unknown,
    now: Date,
  ): Promise<void> {
    const attempts = row.attempts + 1;
    const lastError = error instanceof Error ? error.message : String(error);
    const park = attempts >= OUTBOX_PARK_AFTER_ATTEMPTS;
    await this.rows.recordFailure(row.id, {
      attempts,
      lastError,
      nextAttemptAt: park ? null : new Date(now.getTime() + outboxRetryDelayMs(attempts)),
      parkedAt: park ? now : null,
    });
    const fields = { outboxId: row.id, kind: row.kind, attempts, err: lastError };
    if (park) this.log.error(fields, 'outbox row parked: its job was never queued');
    // Once per row, not per retry: an outage would otherwise log every row every time.
    else if (attempts === 1) this.log.warn(fields, 'outbox row not queued, retrying with back-off');
  }
}
