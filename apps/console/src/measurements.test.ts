import { describe, expect, it } from 'vitest';
import { flagLabel } from './format.js';
import { measurementReview } from './measurements.js';

describe('measurement review', () => {
  const suggested = {
    heartRateBpm: 71.6,
    prMs: 160,
    qrsMs: 92,
    qtMs: 380,
    qtcMs: 412,
    axisDegrees: null,
  };

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

describe('flag labels', () => {
  it('shortens known codes and still shows unknown ones', () => {
    expect(flagLabel('STEMI')).toBe('STEMI');
    expect(flagLabel('ATRIAL_FIBRILLATION')).toBe('AF');
    expect(flagLabel('SOMETHING_NEW')).toBe('Something new');
  });
});
