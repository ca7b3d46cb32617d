import { describe, expect, it } from 'vitest';
import { MAX_PERIOD_DAYS, SupervisionQuerySchema } from './supervision.js';

describe('SupervisionQuerySchema', () => {
  it('takes no period (today), one day, or a range of whole days', () => {
    expect(SupervisionQuerySchema.parse({})).toEqual({});
    expect(SupervisionQuerySchema.parse({ from: '2026-03-01', to: '2026-03-31' })).toEqual({
      from: '2026-03-01',
      to: '2026-03-31',
    });
  });

  it.each([
    [{ from: '2026-13-01' }, 'not a day'],
    [{ from: '2026-03-01T00:00:00Z' }, 'a time, not a day'],
    [{ from: '2026-03-02', to: '2026-03-01' }, 'ends before it starts'],
    [{ from: '2026-01-01', to: '2026-12-31' }, `longer than ${MAX_PERIOD_DAYS} days`],
    [{ from: '2026-03-01', limit: '5' }, 'an unknown key'],
  ])('refuses %o (%s)', (query: Record<string, string>, why: string) => {
    expect(SupervisionQuerySchema.safeParse(query).success, why).toBe(false);
  });

  it(`accepts exactly ${MAX_PERIOD_DAYS} days`, () => {
    const to = new Date(Date.parse('2026-01-01') + (MAX_PERIOD_DAYS - 1) * 86_400_000);
    const query = { from: '2026-01-01', to: to.toISOString().slice(0, 10) };
    expect(SupervisionQuerySchema.safeParse(query).success).toBe(true);
  });
});
