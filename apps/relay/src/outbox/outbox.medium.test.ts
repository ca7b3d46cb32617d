import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TestClock } from '../common/testing/test-clock.js';
import type { Database } from '../infra/database/database.js';
import { outbox } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import { withCorrelation } from '../infra/logging/correlation.js';
import type { Logger } from '../infra/logging/logger.js';
import type { JobQueues, NewJob } from '../infra/queue/job-queues.js';
import { OutboxRepository } from './outbox.repository.js';
import { Outbox, OUTBOX_PARK_AFTER_ATTEMPTS, outboxRetryDelayMs } from './outbox.js';

/**
 * The queue edge: remembers what was added and at which time of the caller's clock; refuses
 * the jobs whose ids are poisoned, and every job while Redis is "down".
 */
class FakeQueues {
  readonly added: { id: string; now: Date; correlationId?: string }[] = [];
  readonly poisoned = new Set<string>();
  down = false;
  tries = 0;

  add(_queue: string, job: NewJob<object>, now: Date): Promise<void> {
    this.tries++;
    if (this.down) return Promise.reject(new Error('connection refused'));
    if (this.poisoned.has(job.id)) return Promise.reject(new Error('job refused by the queue'));
    this.added.push({
      id: job.id,
      now,
      ...(job.correlationId !== undefined && { correlationId: job.correlationId }),
    });
    return Promise.resolve();
  }

  get ids(): string[] {
    return this.added.map((entry) => entry.id);
  }
}

/**
 * The transactional outbox on a real database (medium tier): the dispatcher flushes by the
 * clock the test moves, so an hour of back-off runs in milliseconds.
 */
describe.each(DRIVERS)('the outbox (%s)', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let clock: TestClock;
  let queues: FakeQueues;
  let dispatcher: Outbox;
  const log = { warn: vi.fn(), error: vi.fn(), info: vi.fn() };

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
  }, 60_000);
  afterAll(async () => {
    await dispose();
  });

  beforeEach(async () => {
    await database.db.delete(outbox);
    clock = new TestClock();
    queues = new FakeQueues();
    log.warn.mockClear();
    log.error.mockClear();
    dispatcher = new Outbox(
      new OutboxRepository(database),
      queues as unknown as JobQueues,
      clock,
      log as unknown as Logger,
    );
  });

  /** The change's transaction writes a row per job; nothing is queued until a flush. */
  const append = (...ids: string[]) =>
    database.db.transaction(async (tx) => {
      for (const id of ids) await dispatcher.append(tx, 'q', { name: 'job', id, data: {} });
    });
  const rows = () => database.db.select().from(outbox).orderBy(asc(outbox.id));

  it('gives each job the correlation id of the work that wrote its row, not of whoever flushes', async () => {
    await withCorrelation('recording-7', () => append('analysis-of-7'));
    await append('sweep');
    await withCorrelation('request-9', () => dispatcher.flush());
    expect(queues.added).toEqual([
      expect.objectContaining({ id: 'analysis-of-7', correlationId: 'recording-7' }),
      { id: 'sweep', now: expect.any(Date) },
    ]);
  });

  it('queues rows in the order they were written, at the clock’s time, and deletes them once queued', async () => {
    await append('first', 'second');
    expect(queues.added).toEqual([]);
    expect(await rows()).toHaveLength(2);

    await dispatcher.flush();
    expect(queues.added).toEqual([
      { id: 'first', now: clock.now() },
      { id: 'second', now: clock.now() },
    ]);
    expect(await rows()).toEqual([]);

    // Flushing again adds nothing: the rows are gone.
    await dispatcher.flush();
    expect(queues.tries).toBe(2);
  });

  it('one row that keeps failing waits longer each time while the rows after it go on, and is parked after 20 failures', async () => {
    queues.poisoned.add('poison');
    const start = clock.now();
    await append('first', 'poison', 'third');

    await dispatcher.flush();
    expect(queues.ids).toEqual(['first', 'third']);
    // Only the failing row is left, waiting for its back-off.
    expect(await rows()).toMatchObject([
      {
        kind: 'q:job',
        attempts: 1,
        lastError: 'job refused by the queue',
        nextAttemptAt: new Date(start.getTime() + outboxRetryDelayMs(1)),
        parkedAt: null,
      },
    ]);
    expect(log.warn).toHaveBeenCalledTimes(1);

    // Not due yet: not tried; a row written meanwhile goes through at once.
    await append('fourth');
    clock.advance(outboxRetryDelayMs(1) - 1);
    let tries = queues.tries;
    await dispatcher.flush();
    expect(queues.tries).toBe(tries + 1);
    expect(queues.ids).toEqual(['first', 'third', 'fourth']);

    // Due one millisecond later.
    clock.advance(1);
    tries = queues.tries;
    await dispatcher.flush();
    expect(queues.tries).toBe(tries + 1);
    expect(await rows()).toMatchObject([{ attempts: 2 }]);

    // Each retry when its back-off is over (doubling, at most 5 min), until it is parked.
    for (let attempt = 2; attempt < OUTBOX_PARK_AFTER_ATTEMPTS; attempt++) {
      clock.advance(outboxRetryDelayMs(attempt));
      await dispatcher.flush();
    }
    const [parked, ...others] = await rows();
    expect(others).toEqual([]);
    expect(parked).toMatchObject({
      attempts: OUTBOX_PARK_AFTER_ATTEMPTS,
      parkedAt: clock.now(),
      nextAttemptAt: null,
      lastError: 'job refused by the queue',
    });
    // About an hour of failing before it is given up.
    const failingFor = clock.now().getTime() - start.getTime();
    expect(failingFor).toBeGreaterThan(50 * 60_000);
    expect(failingFor).toBeLessThan(90 * 60_000);
    expect(log.error).toHaveBeenCalledWith(
      expect.objectContaining({ outboxId: parked!.id, attempts: OUTBOX_PARK_AFTER_ATTEMPTS }),
      'outbox row parked: its job was never queued',
    );
    // Still one warning: retries are not logged one by one.
    expect(log.warn).toHaveBeenCalledTimes(1);

    // Parked: never tried again, even a day later, and later rows still go through.
    tries = queues.tries;
    await append('fifth');
    clock.advance(24 * 3600_000);
    await dispatcher.flush();
    expect(queues.tries).toBe(tries + 1);
    expect(queues.ids).toEqual(['first', 'third', 'fourth', 'fifth']);
    expect(await rows()).toHaveLength(1);

    // A start counts what is parked, loudly, for the operator.
    const restarted = new Outbox(
      new OutboxRepository(database),
      queues as unknown as JobQueues,
      clock,
      log as unknown as Logger,
    );
    await restarted.onApplicationBootstrap();
    await restarted.onApplicationShutdown();
    expect(log.error).toHaveBeenLastCalledWith(
      { parkedRows: 1 },
      expect.stringContaining('outbox holds parked rows'),
    );
  });

  it('a Redis outage holds every row back until it is over; then they all go, in order, none twice', async () => {
    queues.down = true;
    await append('a', 'b', 'c');
    await dispatcher.flush();
    expect(queues.tries).toBe(3);
    expect(await rows()).toMatchObject([{ attempts: 1 }, { attempts: 1 }, { attempts: 1 }]);

    // Redis is back, but the rows wait out their back-off (1 s) first.
    queues.down = false;
    await dispatcher.flush();
    expect(queues.added).toEqual([]);
    clock.advance(outboxRetryDelayMs(1));
    await dispatcher.flush();
    expect(queues.ids).toEqual(['a', 'b', 'c']);
    expect(queues.added.every((entry) => entry.now.getTime() === clock.now().getTime())).toBe(true);
    expect(await rows()).toEqual([]);
  });

  it('concurrent flushes share one pass, and a flush asked for during a pass runs once more after it', async () => {
    await append('early');
    const first = dispatcher.flush();
    // Written while the pass runs; the flush asked for now joins the pass and asks for another.
    await append('late');
    const second = dispatcher.flush();
    expect(second).toBe(first);
    await first;
    // The follow-up pass (started as the first ended) is the one a shutdown waits for.
    await dispatcher.onApplicationShutdown();
    expect(queues.ids).toEqual(['early', 'late']);
    expect(queues.tries).toBe(2);
    expect(await rows()).toEqual([]);
  });

  it('waits longer after each failure, up to five minutes', () => {
    expect([1, 2, 3, 4].map(outboxRetryDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(outboxRetryDelayMs(OUTBOX_PARK_AFTER_ATTEMPTS)).toBe(5 * 60_000);
  });
});
