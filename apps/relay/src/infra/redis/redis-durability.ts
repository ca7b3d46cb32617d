import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';

/**
 * What the relay's promise needs from Redis (docs/operations.md, "Redis"): a chunk is
 * acknowledged as stored once Redis has it, so Redis must keep it (append-only file, fsynced
 * on every write) and must never evict it or a BullMQ job to make room (`noeviction`).
 * BullMQ checks the eviction policy too, but only on the console; this says it in the log,
 * with the rest, once at start. A Redis that refuses CONFIG (some managed services) is judged
 * on INFO alone.
 */
export function durabilityWarnings(info: string, appendfsync: string | undefined): string[] {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const warnings: string[] = [];
  const policy = fields.get('maxmemory_policy');
  if (policy !== undefined && policy !== 'noeviction') {
    warnings.push(
      `Redis maxmemory-policy is ${policy}: set noeviction, or Redis may drop stored chunks and queued jobs when full`,
    );
  }
  if (fields.get('aof_enabled') === '0') {
    warnings.push(
      'Redis runs without its append-only file (appendonly no): chunks acknowledged as stored are lost if Redis restarts',
    );
  } else if (appendfsync !== undefined && appendfsync !== 'always') {
    warnings.push(
      `Redis appendfsync is ${appendfsync}: a power cut of the Redis host can lose up to a second of chunks already acknowledged as stored (always keeps them)`,
    );
  }
  return warnings;
}

/** Reads the settings on `client`, logs what falls short, and disconnects the client. */
export async function warnOnRedisDurability(client: Redis, log: Logger): Promise<void> {
  try {
    if (client.status !== 'ready') {
      // A command client fails fast until connected; give it the few moments a start allows.
      await Promise.race([
        once(client, 'ready'),
        setTimeout(5_000, undefined, { ref: false }).then(() =>
          Promise.reject(new Error('no answer within 5 s')),
        ),
      ]);
    }
    const info = await client.info();
    let appendfsync: string | undefined;
    try {
      const reply = (await client.config('GET', 'appendfsync')) as string[];
      appendfsync = reply[1];
    } catch {
      // CONFIG is renamed or refused on this Redis: INFO says what it can.
    }
    for (const warning of durabilityWarnings(info, appendfsync)) log.warn(warning);
  } catch (error) {
    log.warn({ err: (error as Error).message }, 'Redis settings could not be read');
  } finally {
    client.disconnect();
  }
}
