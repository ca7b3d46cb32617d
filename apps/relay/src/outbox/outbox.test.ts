import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Database } from '../infra/database/database.js';
import { outbox } from '../infra/database/schema.js';
import type { Logger } from '../infra/logging/logger.js';
import type { JobQueues, NewJob } from '../infra/queue/job-queues.js';
import { OutboxRepository } from './outbox.repository.js';
import { Outbox, OUTBOX_PARK_AFTER_ATTEMPTS, outboxRetryDelayMs } from './outbox.js';

/** The queue edge: remembers what was added, and refuses the job with the poisoned id. */
class FakeQueues {
  readonly added: string[] = [];
  tries = 0;
  add(_queue: string, job: NewJob<object>): Promise<void> {
    this.tries++;
    if (job.id === 'poison') return Promise.reject(new Error('job refused by the queue'));
    this.added.push(job.id);
    return Promise.resolve();
  }
}

describe('Outbox (real PGlite, fake queue edge)', () => {
  let dataDir: string;
  let database: Database;
  let queues: FakeQueues;
  let dispatcher: Outbox;
  const log = { warn: vi.fn(), error: vi.fn(), info: vi.fn() };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-outbox-'));
    database = await Database.open({ dataDir });
    queues = new FakeQueues();
    dispatcher = new Outbox(
      new OutboxRepository(database),
      queues as unknown as JobQueues,
      log as unknown as Logger,
    );
  }, 60_000);
  afterAll(async () => {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const append = (...ids: string[]) =>
    database.db.transaction(async (tx) => {
      for (const id of ids) await dispatcher.append(tx, 'q', { name: 'job', id, data: {} });
    });
  const rows = () => database.db.select().from(outbox).orderBy(asc(outbox.id));

  it('deletes delivered rows, and one row that keeps failing neither blocks the rows after it nor is retried for ever', async () => {
    const start = new Date('2026-12-01T08:00:00Z');
    await append('first', 'poison', 'third');

    await dispatcher.dispatchDue(start);
    expect(queues.added).toEqual(['first', 'third']);
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
    const triesBefore = queues.tries;
    await dispatcher.dispatchDue(new Date(start.getTime() + outboxRetryDelayMs(1) - 1));
    expect(queues.tries).toBe(triesBefore + 1);
    expect(queues.added).toEqual(['first', 'third', 'fourth']);

    // Each retry when its back-off is over, until it is parked.
    let now = start;
    for (let attempt = 1; attempt < OUTBOX_PARK_AFTER_ATTEMPTS; attempt++) {
      now = new Date(now.getTime() + outboxRetryDelayMs(attempt));
      await dispatcher.dispatchDue(now);
    }
    const [parked, ...others] = await rows();
    expect(others).toEqual([]);
    expect(parked).toMatchObject({
      attempts: OUTBOX_PARK_AFTER_ATTEMPTS,
      parkedAt: now,
      nextAttemptAt: null,
      lastError: 'job refused by the queue',
    });
    expect(log.error).toHaveBeenCalledWith(
      expect.objectContaining({ outboxId: parked!.id, attempts: OUTBOX_PARK_AFTER_ATTEMPTS }),
      'outbox row parked: its job was never queued',
    );
    // Still one warning: retries are not logged one by one.
    expect(log.warn).toHaveBeenCalledTimes(1);

    // Parked: never tried again, and later rows still go through.
    const triesAtPark = queues.tries;
    await append('fifth');
    await dispatcher.dispatchDue(new Date(now.getTime() + 24 * 3600_000));
    expect(queues.tries).toBe(triesAtPark + 1);
    expect(queues.added).toEqual(['first', 'third', 'fourth', 'fifth']);
    expect(await rows()).toHaveLength(1);
  });

  it('waits longer after each failure, up to five minutes', () => {
    expect([1, 2, 3, 4].map(outboxRetryDelayMs)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(outboxRetryDelayMs(OUTBOX_PARK_AFTER_ATTEMPTS)).toBe(5 * 60_000);
  });
});
