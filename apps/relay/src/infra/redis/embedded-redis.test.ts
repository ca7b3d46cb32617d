import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedRedis, RedisNotInstalledError } from './embedded-redis.js';

const log = pino({ level: 'silent' });

describe('EmbeddedRedis', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function dataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'telerelay-redis-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  it('runs a private redis-server with an append-only file in the data directory', async () => {
    const dir = await dataDir();
    const redis = await EmbeddedRedis.start({ bin: 'redis-server', dataDir: dir, log });
    cleanup.push(() => redis.stop());
    const client = new Redis(redis.url);
    cleanup.push(async () => void (await client.quit()));
    await client.set('k', 'v');
    expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    expect(await readFile(join(dir, 'redis', 'redis.port'), 'utf8')).toBe(String(redis.port));
  });

  it('keeps acknowledged writes across a stop and a new start on the same directory', async () => {
    const dir = await dataDir();
    const first = await EmbeddedRedis.start({ bin: 'redis-server', dataDir: dir, log });
    const writer = new Redis(first.url);
    await writer.hset('chunks', '0', 'frame');
    await writer.quit();
    await first.stop();

    const second = await EmbeddedRedis.start({ bin: 'redis-server', dataDir: dir, log });
    cleanup.push(() => second.stop());
    const reader = new Redis(second.url);
    cleanup.push(async () => void (await reader.quit()));
    expect(await reader.hget('chunks', '0')).toBe('frame');
  });

  it('says how to install Redis when the binary is missing', async () => {
    const attempt = EmbeddedRedis.start({
      bin: 'no-such-redis-server',
      dataDir: await dataDir(),
      log,
    });
    await expect(attempt).rejects.toBeInstanceOf(RedisNotInstalledError);
    await expect(attempt).rejects.toThrow(/apt-get install -y redis-server[\s\S]*REDIS_URL/);
  });
});
