import { describe, expect, it } from 'vitest';
import { NoiseStressError, addStressNoise, qrsPeakToPeak, stressNoise } from './noise-stress.js';

const FS = 360;

/** Spikes of height 1000 every second on a flat line: a crude ECG of known amplitude. */
function spikes(seconds: number): { signal: Int16Array; beats: number[] } {
  const signal = new Int16Array(seconds * FS);
  const beats: number[] = [];
  for (let b = FS / 2; b < signal.length; b += FS) {
    beats.push(b);
    signal[b] = 1000;
    signal[b + 1] = -200;
  }
  return { signal, beats };
}

function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
}

describe('noise stress (NSTDB protocol with synthetic noise)', () => {
  it('measures the QRS amplitude as the median peak-to-peak around the beats', () => {
    const { signal, beats } = spikes(10);
    signal[beats[3]!] = 5000; // one outlier does not move the median
    expect(qrsPeakToPeak(signal, beats, FS)).toBe(1200);
    expect(() => qrsPeakToPeak(signal, [], FS)).toThrow(NoiseStressError);
  });

  it('adds noise at the requested SNR, S = pp²/8, from the given sample on', () => {
    const { signal, beats } = spikes(120);
    const pp = qrsPeakToPeak(signal, beats, FS);
    for (const kind of ['muscle', 'motion'] as const) {
      for (const snrDb of [12, 6, 0]) {
        const from = 30 * FS;
        const noisy = addStressNoise(signal, FS, pp, { kind, snrDb, seed: 7, fromSample: from });
        const noise = Float64Array.from(noisy, (v, i) => v - signal[i]!);
        expect(rms(noise, 0, from)).toBe(0);
        const measured = 10 * Math.log10((pp * pp) / 8 / rms(noise, from) ** 2);
        // Rounding to integers adds 1/12 LSB² of power, negligible at these levels.
        expect(measured).toBeGreaterThan(snrDb - 0.5);
        expect(measured).toBeLessThan(snrDb + 0.5);
      }
    }
  });

  it('is the same noise for the same seed and different for another', () => {
    const a = stressNoise(5000, FS, 'muscle', 1);
    expect(stressNoise(5000, FS, 'muscle', 1)).toEqual(a);
    const b = stressNoise(5000, FS, 'muscle', 2);
    let differing = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
    expect(differing).toBeGreaterThan(4900);
  });

  it('puts muscle noise at high frequencies and motion noise at low ones', () => {
    // Lag-one autocorrelation: negative for a differenced white noise, near 1 for a walk.
    const lagOne = (x: Float64Array) => {
      let s = 0;
      for (let i = 1; i < x.length; i++) s += x[i]! * x[i - 1]!;
      return s / (x.length - 1);
    };
    expect(lagOne(stressNoise(20_000, FS, 'muscle', 3))).toBeLessThan(0);
    expect(lagOne(stressNoise(20_000, FS, 'motion', 3))).toBeGreaterThan(0.9);
  });

  it('clips to 16 bits as a WFDB signal would', () => {
    const signal = new Int16Array(FS * 5).fill(32000);
    const noisy = addStressNoise(signal, FS, 30000, { kind: 'muscle', snrDb: -6, seed: 1 });
    expect(Math.max(...noisy)).toBe(32767);
    expect(Math.min(...noisy)).toBeGreaterThanOrEqual(-32768);
    expect(() => addStressNoise(signal, FS, 0, { kind: 'muscle', snrDb: 6, seed: 1 })).toThrow(
      NoiseStressError,
    );
  });
});
