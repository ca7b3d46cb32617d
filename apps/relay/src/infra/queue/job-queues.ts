import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Metrics } from '../../common/metrics.js';
import { withCorrelation } from '../logging/correlation.js';
import type { Logger } from '../logging/logger.js';
import type { RedisConnections } from '../redis/redis-connections.js';

export interface QueuedJob<T> {
  id: string;
  name: string;
  data: T;
  attempt: number;
  /** What started the work this job continues (docs/operations.md, "Logs"). */
  correlationId: string | undefined;
}

export interface NewJob<T> {
  name: string;
  /** Idempotency key: adding a job whose id is already known changes nothing. */
  id: string;
  data: T;
  /** 1 is the most urgent. */
  priority?: number;
  delayMs?: number;
  /**
   * When to run (ms since the epoch), instead of `delayMs`: the delay is counted when the
   * job reaches the queue, so a job that waited in the outbox (a restart) is not late.
   */
  runAtMs?: number;
  /**
   * The correlation id of what caused the job (the outbox takes it when the row is written).
   * The worker runs the job under it, so its log lines carry it. An id, never patient data.
   */
  correlationId?: string;
}

/** The key under which a job's data carries its correlation id. */
const CORRELATION_KEY = 'correlationId';

/** A job that must not be retried (poison input): the queue records it as failed at once. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/**
 * Durable work between parts of the relay, on BullMQ. Jobs carry ids, never patient data;
 * every handler must be safe to run twice.
 */
export class JobQueues {
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];

  /**
   * `runWorkers: false` (an instance without the worker role) adds jobs and schedules but
   * runs none: another instance's workers take them from the shared Redis.
   */
  constructor(
    private readonly redis: RedisConnections,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly prefix = 'telerelay',
    private readonly runWorkers = true,
  ) {
    metrics.gauge('telerelay_queue_jobs', async () =>
      Object.entries(await this.counts()).flatMap(([queue, counts]) =>
        Object.entries(counts).map(([state, value]) => ({ labels: { queue, state }, value })),
      ),
    );
  }

  /**
   * Adds the job unless its id is known. `now` is the caller's time (its clock), from which
   * a `runAtMs` becomes the delay BullMQ waits.
   */
  async add<T extends object>(queueName: string, job: NewJob<T>, now: Date): Promise<void> {
    // Not the current id: the outbox adds jobs for every cause from one dispatch loop.
    const correlationId = job.correlationId;
    const data =
      correlationId === undefined ? job.data : { ...job.data, [CORRELATION_KEY]: correlationId };
    await this.queue(queueName).add(job.name, data, {
      jobId: job.id,
      priority: job.priority,
      delay: job.runAtMs === undefined ? job.delayMs : Math.max(0, job.runAtMs - now.getTime()),
      attempts: 8,
      backoff: { type: 'exponential', delay: 500 },
      // Completed jobs stay a day so a late duplicate add is still recognised.
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }

  /**
   * Runs `job` every `everyMs` on `queueName`. The scheduler id is the job's name, so each
   * start, and every relay instance sharing Redis, updates one schedule instead of adding one.
   */
  async every<T extends object>(
    queueName: string,
    everyMs: number,
    job: { name: string; data: T },
  ): Promise<void> {
    await this.queue(queueName).upsertJobScheduler(
      job.name,
      { every: everyMs },
      { name: job.name, data: job.data, opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  }

  work<T>(
    queueName: string,
    handler: (job: QueuedJob<T>) => Promise<void>,
    options: { concurrency?: number } = {},
  ): void {
    if (!this.runWorkers) return;
    const worker = new Worker<T>(
      queueName,
      async (job: Job<T>) => {
        const dueAt = job.timestamp + (job.delay ?? 0);
        this.metrics.observe(
          'telerelay_queue_wait_seconds',
          { queue: queueName },
          ((job.processedOn ?? Date.now()) - dueAt) / 1000,
        );
        const carried = (job.data as Record<string, unknown> | null)?.[CORRELATION_KEY];
        const correlationId = typeof carried === 'string' ? carried : undefined;
        try {
          await withCorrelation(correlationId ?? `job:${job.id ?? ''}`, () =>
            handler({
              id: job.id ?? '',
              name: job.name,
              data: job.data,
              attempt: job.attemptsMade + 1,
              correlationId,
            }),
          );
        } catch (error) {
          if (error instanceof PermanentJobError) throw new UnrecoverableError(error.message);
          throw error;
        }
      },
      {
        connection: this.redis.blocking(`worker:${queueName}`),
        prefix: this.prefix,
        concurrency: options.concurrency ?? 4,
      },
    );
    worker.on('failed', (job, error) =>
      this.log.error({ queue: queueName, jobId: job?.id, err: error.message }, 'job failed'),
    );
    worker.on('error', (error) =>
      this.log.warn({ queue: queueName, err: error.message }, 'worker error'),
    );
    this.workers.push(worker);
  }

  async counts(): Promise<Record<string, QueueCounts>> {
    const entries = await Promise.all(
      [...this.queues].map(async ([name, queue]) => {
        const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
        const counts: QueueCounts = {
          waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
          active: c.active ?? 0,
          delayed: c.delayed ?? 0,
          failed: c.failed ?? 0,
        };
        return [name, counts] as const;
      }),
    );
    return Object.fromEntries(entries);
  }

  get workersRunning(): boolean {
    return this.workers.every((worker) => worker.isRunning());
  }

  /** Registers a queue so health reports it before its first job. */
  declare(queueName: string): void {
    this.queue(queueName);
  }

  /**
   * Workers take no new job and resolve once the jobs they run have finished (a graceful
   * stop); queues stay open, so a finishing job can still queue the next step.
   */
  async stopWorkers(): Promise<void> {
    await Promise.allSettled(this.workers.map((worker) => worker.close()));
  }

  async close(): Promise<void> {
    await this.stopWorkers();
    await Promise.allSettled([...this.queues.values()].map((queue) => queue.close()));
  }

  private queue(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      // Producers fail fast while Redis is away; the outbox keeps what could not be added.
      queue = new Queue(name, {
        connection: this.redis.command(`queue:${name}`),
        prefix: this.prefix,
      });
      queue.on('error', (error) =>
        this.log.warn({ queue: name, err: error.message }, 'queue error'),
      );
      this.queues.set(name, queue);
    }
    return queue;
  }
}
