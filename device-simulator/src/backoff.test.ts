import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

const RANGE = { minMs: 1_000, maxMs: 30_000 };

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt and draws from its upper half', () => {
    expect(backoffDelay(0, RANGE, () => 0)).toBe(1_000);
    expect(backoffDelay(3, RANGE, () => 0)).toBe(4_000);
    expect(backoffDelay(3, RANGE, () => 0.999_999)).toBe(8_000);
  });

  it('stays within 1 s .. 30 s however many attempts failed', () => {
    for (const attempt of [0, 1, 5, 10, 100, 10_000]) {
      for (const r of [0, 0.5, 0.999_999]) {
        const delay = backoffDelay(attempt, RANGE, () => r);
        expect(delay).toBeGreaterThanOrEqual(1_000);
        expect(delay).toBeLessThanOrEqual(30_000);
      }
    }
    expect(backoffDelay(100, RANGE, () => 0)).toBe(15_000);
  });
});
