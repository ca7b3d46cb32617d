import { describe, expect, it } from 'vitest';
import { AttemptLimiter } from './attempt-limiter.js';

describe('AttemptLimiter', () => {
  it('allows the configured attempts per window and again after it', () => {
    let now = 0;
    const limiter = new AttemptLimiter(3, 60_000, 100, () => now);
    expect([1, 2, 3, 4].map(() => limiter.tryAttempt('box-1'))).toEqual([true, true, true, false]);
    expect(limiter.tryAttempt('box-2')).toBe(true);
    now = 60_000;
    expect(limiter.tryAttempt('box-1')).toBe(true);
  });

  it('says a key is exhausted without counting another attempt', () => {
    let now = 0;
    const limiter = new AttemptLimiter(2, 1_000, 100, () => now);
    limiter.tryAttempt('user');
    expect(limiter.exhausted('user')).toBe(false);
    limiter.tryAttempt('user');
    expect(limiter.exhausted('user')).toBe(true);
    expect(limiter.exhausted('someone-else')).toBe(false);
    now = 1_000;
    expect(limiter.exhausted('user')).toBe(false);
  });

  it('forgets the oldest keys first when it tracks too many', () => {
    const limiter = new AttemptLimiter(1, 60_000, 2, () => 0);
    limiter.tryAttempt('a');
    limiter.tryAttempt('b');
    limiter.tryAttempt('c');
    // 'a' was evicted, so it starts a fresh window; 'c' is still counted.
    expect(limiter.tryAttempt('a')).toBe(true);
    expect(limiter.tryAttempt('c')).toBe(false);
  });
});
