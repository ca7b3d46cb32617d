import { describe, expect, it } from 'vitest';
import {
  FilterDesignError,
  conditionForMeasurement,
  detectionBandPass,
  filterCausal,
  filterZeroPhase,
  highPassBiquad,
  lowPassBiquad,
  notchBiquad,
  removeBaselineWander,
  removeMains,
} from './filters.js';

const FS = 500;

function sine(frequencyHz: number, seconds: number, amplitude = 1, fs = FS): Float64Array {
  return Float64Array.from(
    { length: Math.round(seconds * fs) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / fs),
  );
}

/** RMS over the middle half, away from edge effects. */
function rmsMiddle(x: Float64Array): number {
  const from = Math.floor(x.length / 4);
  const to = Math.floor((3 * x.length) / 4);
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i]! ** 2;
  return Math.sqrt(sum / (to - from));
}

const db = (ratio: number) => 20 * Math.log10(ratio);

describe('biquad design (RBJ cookbook)', () => {
  it('has unit DC gain for a low-pass and zero DC gain for high-pass and band stop at DC', () => {
    const lp = lowPassBiquad(40, FS);
    expect((lp.b0 + lp.b1 + lp.b2) / (1 + lp.a1 + lp.a2)).toBeCloseTo(1, 12);
    const hp = highPassBiquad(0.67, FS);
    expect(hp.b0 + hp.b1 + hp.b2).toBeCloseTo(0, 12);
    const notch = notchBiquad(50, FS, 30);
    expect((notch.b0 + notch.b1 + notch.b2) / (1 + notch.a1 + notch.a2)).toBeCloseTo(1, 12);
  });

  it('is −3 dB at the cut-off for a Butterworth section run once', () => {
    const out = filterCausal(sine(40, 4), [lowPassBiquad(40, FS)]);
    expect(db(rmsMiddle(out) / rmsMiddle(sine(40, 4)))).toBeCloseTo(-3.01, 1);
  });

  it('refuses frequencies outside (0, fs/2) with a coded error', () => {
    expect(() => lowPassBiquad(300, FS)).toThrow(FilterDesignError);
    try {
      highPassBiquad(0, FS);
    } catch (e) {
      expect((e as FilterDesignError).code).toBe('FILTER_DESIGN_INVALID');
    }
  });
});

describe('removeMains', () => {
  it('removes 50 Hz by more than 40 dB and leaves 10 Hz within 0.1 dB', () => {
    const mains = removeMains(sine(50, 4), FS);
    expect(db(rmsMiddle(mains) / rmsMiddle(sine(50, 4)))).toBeLessThan(-40);
    const signal = removeMains(sine(10, 4), FS);
    expect(Math.abs(db(rmsMiddle(signal) / rmsMiddle(sine(10, 4))))).toBeLessThan(0.1);
  });

  it('takes 60 Hz when asked, and then leaves 50 Hz alone', () => {
    expect(
      db(rmsMiddle(removeMains(sine(60, 4), FS, { mainsHz: 60 })) / Math.SQRT1_2),
    ).toBeLessThan(-40);
    expect(
      Math.abs(db(rmsMiddle(removeMains(sine(50, 4), FS, { mainsHz: 60 })) / Math.SQRT1_2)),
    ).toBeLessThan(0.5);
  });

  it('is a no-op when the mains frequency is above the usable band (100 Hz sampling)', () => {
    const x = sine(10, 2, 1, 100);
    expect(Array.from(removeMains(x, 100))).toEqual(Array.from(x));
  });
});

describe('zero-phase filtering', () => {
  it('does not move a pulse, where the causal filter delays it', () => {
    const pulse = Float64Array.from({ length: 2000 }, (_, i) =>
      Math.exp(-0.5 * ((i - 1000) / 8) ** 2),
    );
    const sections = [lowPassBiquad(15, FS)];
    const argmax = (x: Float64Array) => x.indexOf(Math.max(...x));
    expect(argmax(filterZeroPhase(pulse, sections))).toBe(1000);
    expect(argmax(filterCausal(pulse, sections))).toBeGreaterThan(1003);
  });

  it('starts in steady state: a constant passes a low-pass unchanged from the first sample', () => {
    const out = filterZeroPhase(new Float64Array(100).fill(42), [lowPassBiquad(40, FS)], 20);
    for (const v of out) expect(v).toBeCloseTo(42, 9);
  });
});

describe('removeBaselineWander', () => {
  it('removes 0.15 Hz wander and a DC offset but keeps a 10 Hz component', () => {
    const n = 20 * FS;
    const x = Float64Array.from(
      { length: n },
      (_, i) =>
        500 +
        800 * Math.sin((2 * Math.PI * 0.15 * i) / FS) +
        100 * Math.sin((2 * Math.PI * 10 * i) / FS),
    );
    const y = removeBaselineWander(x, FS);
    const tone = sine(10, 20, 100);
    let error = 0;
    for (let i = n / 4; i < (3 * n) / 4; i++) error = Math.max(error, Math.abs(y[i]! - tone[i]!));
    expect(error).toBeLessThan(40); // 800 µV of wander down to < 5 %
  });
});

describe('detectionBandPass and conditionForMeasurement', () => {
  it('passes the QRS band and rejects T-wave and EMG bands', () => {
    const gain = (f: number) => rmsMiddle(detectionBandPass(sine(f, 8), FS)) / Math.SQRT1_2;
    expect(gain(10)).toBeGreaterThan(0.7);
    expect(gain(1)).toBeLessThan(0.05);
    expect(gain(60)).toBeLessThan(0.05);
  });

  it('keeps 2–45 Hz within 0.5 dB, 1 Hz within 2 dB, and removes mains for measurements', () => {
    const gainDb = (f: number) =>
      db(rmsMiddle(conditionForMeasurement(sine(f, 8), FS)) / Math.SQRT1_2);
    for (const f of [2, 5, 15, 30, 45]) expect(Math.abs(gainDb(f))).toBeLessThan(0.5);
    // 0.67 Hz Butterworth run forward and backward: −0.8 dB twice at 1 Hz.
    expect(gainDb(1)).toBeCloseTo(-1.59, 1);
    expect(gainDb(0.3)).toBeLessThan(-20);
    expect(rmsMiddle(conditionForMeasurement(sine(50, 8), FS))).toBeLessThan(0.01);
  });
});
