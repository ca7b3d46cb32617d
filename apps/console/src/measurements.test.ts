import { describe, expect, it } from 'vitest';
import { MEASUREMENTS, measurementReview } from './measurements.js';

const suggested = {
  heartRateBpm: 71.6,
  prMs: 160,
  qrsMs: 92,
  qtMs: 380,
  qtcMs: 412,
  axisDegrees: null,
};

describe('measurement review', () => {
  it('sends only the values the reader changed', () => {
    expect(
      measurementReview(
        suggested,
        { heartRateBpm: '72', prMs: '160', qtcMs: ' 455 ', axisDegrees: '' },
        false,
      ),
    ).toEqual({ review: { confirmed: false, corrections: { qtcMs: 455 } } });
    expect(measurementReview(suggested, { axisDegrees: '-30' }, true)).toEqual({
      review: { confirmed: true, corrections: { axisDegrees: -30 } },
    });
  });

  it('refuses what cannot be a measurement', () => {
    expect(measurementReview(suggested, { qtcMs: '4550' }, true)).toMatchObject({
      invalid: 'qtcMs',
    });
    expect(measurementReview(suggested, { prMs: 'abc' }, true)).toMatchObject({ invalid: 'prMs' });
  });
});

describe('measurement words', () => {
  it('names each measurement and says the allowed range in the page’s language (Chinese by default)', () => {
    expect(MEASUREMENTS.map((measure) => measure.label)).toEqual([
      '心率',
      'PR 间期',
      'QRS 时限',
      'QT 间期',
      'QTc 间期',
      '电轴',
    ]);
    expect(measurementReview(suggested, { heartRateBpm: '5' }, true)).toEqual({
      invalid: 'heartRateBpm',
      message: '心率应为 10 到 350 次/分 之间的数字。',
    });
  });
});
