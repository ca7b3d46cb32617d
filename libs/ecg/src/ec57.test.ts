import { describe, expect, it } from 'vitest';
import { grossScore, referenceBeatsFromAnnotations, scoreDetections } from './ec57.js';

const FS = 360;
const WINDOW = Math.round(0.15 * FS); // 54 samples
const LONG = { sampleRateHz: FS, totalSamples: 1000 * FS, learningPeriodSeconds: 0 };

describe('scoreDetections (EC57 beat-by-beat)', () => {
  it('counts matches within 150 ms and misses and extras outside it', () => {
    const reference = [1000, 2000, 3000, 4000];
    const detected = [1000 + WINDOW, 2000 - WINDOW - 1, 3005, 5000];
    const s = scoreDetections(reference, detected, LONG);
    expect(s).toMatchObject({ tp: 2, fn: 2, fp: 2 });
    expect(s.falseNegatives).toEqual([2000, 4000]);
    expect(s.falsePositives).toEqual([2000 - WINDOW - 1, 5000]);
    expect(s.se).toBeCloseTo(0.5);
    expect(s.ppv).toBeCloseTo(0.5);
  });

  it('pairs closest first, so one detection cannot serve two beats', () => {
    // Two beats 60 samples apart, one detection between them nearer the second.
    const s = scoreDetections([1000, 1060], [1040], LONG);
    expect(s).toMatchObject({ tp: 1, fn: 1, fp: 0, falseNegatives: [1000] });
    // Two detections for one beat: one is a false positive.
    expect(scoreDetections([1000], [990, 1003], LONG)).toMatchObject({
      tp: 1,
      fp: 1,
      falsePositives: [990],
    });
  });

  it('skips the 5-minute learning period, and scores short records whole and says so', () => {
    const fiveMinutes = 300 * FS;
    const reference = [100, fiveMinutes - 1000, fiveMinutes + 1000, fiveMinutes + 2000];
    const detected = [100, fiveMinutes + 1000];
    const long = scoreDetections(reference, detected, {
      sampleRateHz: FS,
      totalSamples: 1800 * FS,
    });
    expect(long).toMatchObject({
      tp: 1,
      fn: 1,
      fp: 0,
      scoredFrom: fiveMinutes,
      scoredFromStart: false,
    });
    const short = scoreDetections([100, 500], [100], { sampleRateHz: FS, totalSamples: 60 * FS });
    expect(short).toMatchObject({ tp: 1, fn: 1, scoredFrom: 0, scoredFromStart: true });
  });

  it('does not score a detection just after the learning period matched to a beat just before it', () => {
    const start = 300 * FS;
    const s = scoreDetections([start - 10], [start + 10], {
      sampleRateHz: FS,
      totalSamples: 1800 * FS,
    });
    expect(s).toMatchObject({ tp: 0, fn: 0, fp: 0 });
  });

  it('reports null ratios when there is nothing to divide by', () => {
    expect(scoreDetections([], [], LONG)).toMatchObject({ se: null, ppv: null });
  });

  it('leaves out excluded intervals on both sides', () => {
    const s = scoreDetections([1000, 2000], [1000, 2500, 3000], {
      ...LONG,
      excluded: [[1500, 2600]],
    });
    expect(s).toMatchObject({ tp: 1, fn: 0, fp: 1, falsePositives: [3000] });
  });
});

describe('referenceBeatsFromAnnotations', () => {
  it('keeps beat labels only and excludes ventricular flutter episodes', () => {
    const a = (sample: number, code: number, symbol: string) => ({ sample, code, symbol });
    const ref = referenceBeatsFromAnnotations([
      a(10, 28, '+'),
      a(100, 1, 'N'),
      a(200, 5, 'V'),
      a(250, 14, '~'),
      a(300, 32, '['),
      a(350, 1, 'N'),
      a(400, 33, ']'),
      a(500, 12, '/'),
      a(600, 38, 'f'),
      a(700, 13, 'Q'),
    ]);
    expect(ref.beats).toEqual([100, 200, 500, 600, 700]);
    expect(ref.excluded).toEqual([[300, 401]]);
  });
});

describe('grossScore', () => {
  it('sums counts before dividing (EC57 gross statistics)', () => {
    const g = grossScore([
      { tp: 90, fn: 10, fp: 0, se: 0.9, ppv: 1 },
      { tp: 10, fn: 0, fp: 10, se: 1, ppv: 0.5 },
    ]);
    expect(g).toMatchObject({ tp: 100, fn: 10, fp: 10 });
    expect(g.se).toBeCloseTo(100 / 110);
    expect(g.ppv).toBeCloseTo(100 / 110);
  });
});
