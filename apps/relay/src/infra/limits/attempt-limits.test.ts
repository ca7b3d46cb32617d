import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedRedis } from '../redis/embedded-redis.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { AttemptLimits, backOffSeconds, type AttemptRule } from './attempt-limits.js';

const rule = (name: string): AttemptRule => ({
  name,
  freeAttempts: 3,
  windowSeconds: 60,
  firstBlockSeconds: 30,
  maxBlockSeconds: 3600,
  strikeMemorySeconds: 86_400,
});

/** The same contract for the Redis counters and the in-memory ones tests use. */
function contract(kind: string, limits: () => AttemptLimits): void {
  describe(`AttemptLimits (${kind})`, () => {
    it('allows the free attempts, then refuses with the wait, per key', async () => {
      const counter = limits().counter(rule(randomUUID()));
      for (let i = 0; i < 3; i += 1) expect(await counter.take('a')).toEqual({ allowed: true });
      const refused = await counter.take('a');
      expect(refused.allowed).toBe(false);
      if (refused.allowed) return;
      expect(refused.retryAfterMs).toBeGreaterThan(29_000);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(30_000);
      expect(await counter.take('b')).toEqual({ allowed: true });
    });

    it('counts parallel attempts atomically: exactly the free ones pass', async () => {
      const counter = limits().counter(rule(randomUUID()));
      const verdicts = await Promise.all(Array.from({ length: 30 }, () => counter.take('k')));
      expect(verdicts.filter((v) => v.allowed)).toHaveLength(3);
    });

    it('forgets a key whose credential was proven, and refunds a legitimate attempt', async () => {
      const counter = limits().counter(rule(randomUUID()));
      for (let i = 0; i < 4; i += 1) await counter.take('k');
      await counter.forget('k');
      expect(await counter.take('k')).toEqual({ allowed: true });
      for (let i = 0; i < 2; i += 1) await counter.take('k');
      await counter.refund('k');
      expect(await counter.take('k')).toEqual({ allowed: true });
      expect((await counter.take('k')).allowed).toBe(false);
    });

    it('remembers keys', async () => {
      const known = limits().remembered(randomUUID(), 60);
      expect(await known.has('user|10.0.0.1')).toBe(false);
      await known.remember('user|10.0.0.1');
      expect(await known.has('user|10.0.0.1')).toBe(true);
    });
  });
}

contract('in memory', () => AttemptLimits.inMemory());

describe('on a real Redis', () => {
  let dir: string;
  let redis: EmbeddedRedis;
  let connections: RedisConnections;
  let limits: AttemptLimits;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telerelay-limits-'));
    redis = await EmbeddedRedis.start({
      bin: 'redis-server',
      dataDir: dir,
      log: pino({ level: 'silent' }),
    });
    connections = new RedisConnections(redis.url);
    const client = connections.command('limits');
    if (client.status !== 'ready') await once(client, 'ready');
    limits = AttemptLimits.onRedis(client);
  });
  afterAll(async () => {
    await connections?.closeAll();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  contract('Redis', () => limits);

  it('is shared: a second instance sees the attempts of the first', async () => {
    const name = randomUUID();
    const other = new Redis(redis.url);
    try {
      // The limiter does not queue behind a connection still being made (it fails fast, as a
      // CONNECT must not wait on Redis): the second instance is one already running.
      if (other.status !== 'ready') await once(other, 'ready');
      const first = limits.counter(rule(name));
      const second = AttemptLimits.onRedis(other).counter(rule(name));
      for (let i = 0; i < 3; i += 1) await first.take('k');
      expect((await second.take('k')).allowed).toBe(false);
    } finally {
      await other.quit();
    }
  });
});

describe('backOffSeconds', () => {
  it('doubles the wait on every strike, up to the cap', () => {
    const r = rule('x');
    expect([1, 2, 3, 4].map((strike) => backOffSeconds(strike, r))).toEqual([30, 60, 120, 240]);
    expect(backOffSeconds(20, r)).toBe(3600);
  });
});
