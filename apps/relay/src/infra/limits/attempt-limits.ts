import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

/** How many attempts a key gets for free, and how long it waits once they are spent. */
export interface AttemptRule {
  /** Names the counter in the store; one per kind of key. */
  name: string;
  freeAttempts: number;
  windowSeconds: number;
  /** The first wait once the free attempts are spent; every later one doubles it. */
  firstBlockSeconds: number;
  maxBlockSeconds: number;
  /** How long past waits are remembered, so a patient attacker keeps paying the doubled one. */
  strikeMemorySeconds: number;
}

export type AttemptVerdict = { allowed: true } | { allowed: false; retryAfterMs: number };

/** The wait after the `strike`-th time a key spends its free attempts (1, 2, 4, … × first). */
export function backOffSeconds(strike: number, rule: AttemptRule): number {
  return Math.min(rule.firstBlockSeconds * 2 ** Math.max(strike - 1, 0), rule.maxBlockSeconds);
}

/**
 * Counts attempts per key in a store shared by every relay instance. Counting is one atomic
 * round trip (rate-limiter-flexible's Lua INCR + PEXPIRE), done before the credential is
 * checked, so parallel attempts cannot all slip under the limit.
 */
export class AttemptCounter {
  constructor(
    private readonly attempts: RateLimiterAbstract,
    private readonly strikes: RateLimiterAbstract,
    private readonly rule: AttemptRule,
  ) {}

  /** Counts one attempt; refused once the free attempts of the window are spent. */
  async take(key: string): Promise<AttemptVerdict> {
    try {
      await this.attempts.consume(key);
      return { allowed: true };
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      // The store counts atomically, so exactly one attempt crosses the line however many
      // run at once; that one sets the (doubled) wait, the others read it.
      if (rejection.consumedPoints !== this.rule.freeAttempts + 1) {
        return { allowed: false, retryAfterMs: rejection.msBeforeNext };
      }
      const strike = await this.strikes.penalty(key, 1);
      const seconds = backOffSeconds(strike.consumedPoints, this.rule);
      await this.attempts.block(key, seconds);
      return { allowed: false, retryAfterMs: seconds * 1000 };
    }
  }

  /** An attempt that turned out to be legitimate stops counting against the key. */
  async refund(key: string): Promise<void> {
    await this.attempts.reward(key, 1);
  }

  /** Forgets the key's attempts and past waits (the credential was proven correct). */
  async forget(key: string): Promise<void> {
    await Promise.all([this.attempts.delete(key), this.strikes.delete(key)]);
  }
}

/** Keys remembered for a while, such as the addresses a user has signed in from. */
export class RememberedKeys {
  constructor(private readonly store: RateLimiterAbstract) {}

  async remember(key: string): Promise<void> {
    await this.store.set(key, 1, this.store.duration);
  }

  async has(key: string): Promise<boolean> {
    return (await this.store.get(key)) !== null;
  }
}

const MAX_MEMORY_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

type LimiterFactory = (
  keyPrefix: string,
  points: number,
  durationSeconds: number,
) => RateLimiterAbstract;

/**
 * Attempt counters on Redis (shared by all instances), or in memory for tests. While Redis
 * is away the Redis counters fall back to this process's memory, so sign-ins and CONNECTs
 * are still limited, per process, instead of failing.
 */
export class AttemptLimits {
  private constructor(private readonly limiter: LimiterFactory) {}

  static onRedis(client: Redis): AttemptLimits {
    return new AttemptLimits(
      (keyPrefix, points, duration) =>
        new RateLimiterRedis({
          storeClient: client,
          keyPrefix,
          points,
          duration,
          rejectIfRedisNotReady: true,
          insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
        }),
    );
  }

  static inMemory(): AttemptLimits {
    return new AttemptLimits(
      (keyPrefix, points, duration) => new RateLimiterMemory({ keyPrefix, points, duration }),
    );
  }

  counter(rule: AttemptRule): AttemptCounter {
    if (Math.max(rule.windowSeconds, rule.strikeMemorySeconds) > MAX_MEMORY_SECONDS) {
      throw new RangeError(`attempt counters last at most ${MAX_MEMORY_SECONDS} s`);
    }
    return new AttemptCounter(
      this.limiter(`limits:${rule.name}`, rule.freeAttempts, rule.windowSeconds),
      // Points are never refused here; the count of past waits is all that is read.
      this.limiter(
        `limits:${rule.name}:strikes`,
        Number.MAX_SAFE_INTEGER,
        rule.strikeMemorySeconds,
      ),
      rule,
    );
  }

  remembered(name: string, rememberSeconds: number): RememberedKeys {
    // The in-memory store expires keys with setTimeout, which fires at once past 2^31 ms.
    if (rememberSeconds > MAX_MEMORY_SECONDS) {
      throw new RangeError(`remembered keys last at most ${MAX_MEMORY_SECONDS} s`);
    }
    return new RememberedKeys(this.limiter(`remembered:${name}`, 1, rememberSeconds));
  }
}
