import { describe, expect, it } from 'vitest';
import { dayIn, midnightOf, reportPeriod } from './report-period.js';

describe('report periods in Asia/Shanghai days', () => {
  // 2026-03-01T16:30Z is already 00:30 on 2 March in Shanghai.
  const now = new Date('2026-03-01T16:30:00Z');

  it("reads today as Shanghai's day, not UTC's", () => {
    expect(dayIn(now)).toBe('2026-03-02');
    expect(midnightOf('2026-03-02').toISOString()).toBe('2026-03-01T16:00:00.000Z');
  });

  it('defaults to today, and to one day when only one end is given', () => {
    expect(reportPeriod(now)).toEqual({
      from: '2026-03-02',
      to: '2026-03-02',
      start: new Date('2026-03-01T16:00:00Z'),
      end: new Date('2026-03-02T16:00:00Z'),
    });
    expect(reportPeriod(now, '2026-02-27')).toMatchObject({ from: '2026-02-27', to: '2026-03-02' });
    expect(reportPeriod(now, undefined, '2026-02-27')).toMatchObject({
      from: '2026-02-27',
      to: '2026-02-27',
    });
  });

  it('ends at the midnight after the last day, across a month end', () => {
    expect(reportPeriod(now, '2026-02-01', '2026-02-28').end.toISOString()).toBe(
      '2026-02-28T16:00:00.000Z',
    );
  });
});
