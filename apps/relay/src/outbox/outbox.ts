import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { asc, inArray, isNull } from 'drizzle-orm';
import { LOGGER } from '../common/tokens.js';
import { Database, type Tx } from '../infra/database/database.js';
import { outbox } from '../infra/database/schema.js';
import type { Logger } from '../infra/logging/logger.js';
import { JobQueues, type NewJob } from '../infra/queue/job-queues.js';

interface OutboxPayload {
  queue: string;
  job: NewJob<Record<string, unknown>>;
}

/**
 * Transactional outbox. A state change and the job that announces it are written in one
 * database transaction; the dispatcher then adds the job to BullMQ (idempotent by job id)
 * and marks the row. A crash or a Redis outage in between only delays the job: rows are
 * retried every second and on start, which is the reconciliation of DB and queue.
 */
@Injectable()
export class Outbox implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly database: Database,
    private readonly queues: JobQueues,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Call inside the transaction that makes the change; then `flush()` after commit. */
  async append<T extends object>(tx: Tx, queue: string, job: NewJob<T>): Promise<void> {
    const payload: OutboxPayload = { queue, job: job as NewJob<Record<string, unknown>> };
    await tx.insert(outbox).values({ kind: `${queue}:${job.name}`, payload: { ...payload } });
  }

  /** Moves pending rows to their queues now (coalesces concurrent calls). */
  flush(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.dispatch()
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

  onApplicationBootstrap(): void {
    void this.flush();
    this.timer = setInterval(() => void this.flush(), 1_000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async dispatch(): Promise<void> {
    for (;;) {
      const rows = await this.database.db
        .select()
        .from(outbox)
        .where(isNull(outbox.dispatchedAt))
        .orderBy(asc(outbox.id))
        .limit(100);
      if (rows.length === 0) return;
      for (const row of rows) {
        const { queue, job } = row.payload as unknown as OutboxPayload;
        await this.queues.add(queue, job);
      }
      await this.database.db
        .update(outbox)
        .set({ dispatchedAt: new Date() })
        .where(
          inArray(
            outbox.id,
            rows.map((row) => row.id),
          ),
        );
    }
  }
}
