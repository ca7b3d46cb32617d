import { describe, expect, it } from 'vitest';
import { TWELVE_LEADS } from '#contracts';
import {
  ECG_FINDINGS,
  LEAD_OFF_LEAD,
  synthesizeEcg,
  type SyntheticEcg,
  type SyntheticEcgOptions,
} from './synthetic-ecg.js';

const NO_NOISE = { emgMicrovolts: 0, baselineMicrovolts: 0, mainsMicrovolts: 0 };

/** One lead in microvolts. */
function lead(ecg: SyntheticEcg, name: string): Float64Array {
  const column = ecg.leads.indexOf(name);
  expect(column).toBeGreaterThanOrEqual(0);
  const leadCount = ecg.leads.length;
  return Float64Array.from(
    { length: ecg.samplesPerLead },
    (_, i) => ecg.samples[i * leadCount + column]! * ecg.microvoltsPerLsb,
  );
}

function rawLead(ecg: SyntheticEcg, name: string): Int16Array {
  const column = ecg.leads.indexOf(name);
  return Int16Array.from({ length: ecg.samplesPerLead }, (_, i) => ecg.samples[i * 12 + column]!);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function mean(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

function rrIntervals(ecg: SyntheticEcg): number[] {
  return ecg.rPeaks.slice(1).map((r, i) => (r - ecg.rPeaks[i]!) / ecg.sampleRateHz);
}

function coefficientOfVariation(values: number[]): number {
  const m = mean(values);
  return Math.sqrt(mean(values.map((v) => (v - m) ** 2))) / m;
}

const ms = (ecg: SyntheticEcg, milliseconds: number) =>
  Math.round((milliseconds / 1000) * ecg.sampleRateHz);

/** Beats whose analysis window (−300 ms … +300 ms) lies inside the recording. */
function innerBeats(ecg: SyntheticEcg): number[] {
  return ecg.rPeaks
    .map((_, k) => k)
    .filter((k) => {
      const r = ecg.rPeaks[k]!;
      return r - ms(ecg, 300) >= 0 && r + ms(ecg, 300) < ecg.samplesPerLead;
    });
}

/**
 * ST deviation at J+60 ms against the PR segment. The model's QRS ends ~50 ms after the
 * fiducial, so J+60 ms is R+110 ms; the PR segment is sampled 80–60 ms before R.
 */
function stDeviation(ecg: SyntheticEcg, signal: Float64Array, r: number): number {
  const pr: number[] = [];
  for (let i = r - ms(ecg, 80); i <= r - ms(ecg, 60); i++) pr.push(signal[i]!);
  return signal[r + ms(ecg, 110)]! - mean(pr);
}

function medianSt(ecg: SyntheticEcg, leadName: string): number {
  const signal = lead(ecg, leadName);
  return median(innerBeats(ecg).map((k) => stDeviation(ecg, signal, ecg.rPeaks[k]!)));
}

/**
 * QRS duration on a noise-free recording: around the fiducial, the span where the largest
 * absolute deflection over all leads stays above 15 % of its peak.
 */
function qrsWidthMs(ecg: SyntheticEcg, r: number): number {
  const envelope = (i: number) => {
    let max = 0;
    for (let l = 0; l < 12; l++) max = Math.max(max, Math.abs(ecg.samples[i * 12 + l]!));
    return max;
  };
  const threshold = 0.15 * envelope(r);
  let start = r;
  while (start > 0 && envelope(start - 1) >= threshold) start--;
  let end = r;
  while (end < ecg.samplesPerLead - 1 && envelope(end + 1) >= threshold) end++;
  return ((end - start + 1) / ecg.sampleRateHz) * 1000;
}

/**
 * Amplitude of one frequency component (single-bin DFT), in the signal's units. A Hann
 * window keeps strong low-frequency content from leaking into the bin being measured.
 */
function toneAmplitude(signal: Float64Array, sampleRateHz: number, hz: number): number {
  let re = 0;
  let im = 0;
  let windowSum = 0;
  for (let i = 0; i < signal.length; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (signal.length - 1));
    const angle = (2 * Math.PI * hz * i) / sampleRateHz;
    re += w * signal[i]! * Math.cos(angle);
    im -= w * signal[i]! * Math.sin(angle);
    windowSum += w;
  }
  return (2 * Math.hypot(re, im)) / windowSum;
}

function rms(values: ArrayLike<number>): number {
  let energy = 0;
  for (let i = 0; i < values.length; i++) energy += values[i]! ** 2;
  return Math.sqrt(energy / values.length);
}

describe('synthesizeEcg', () => {
  it('returns twelve interleaved leads in the contract order', () => {
    const ecg = synthesizeEcg({ durationSeconds: 2, sampleRateHz: 250 });
    expect(ecg.leads).toEqual([...TWELVE_LEADS]);
    expect(ecg.sampleRateHz).toBe(250);
    expect(ecg.microvoltsPerLsb).toBe(2.5);
    expect(ecg.samplesPerLead).toBe(500);
    expect(ecg.samples).toBeInstanceOf(Int16Array);
    expect(ecg.samples.length).toBe(500 * 12);
    expect(ecg.beatLabels.length).toBe(ecg.rPeaks.length);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const options: SyntheticEcgOptions = { durationSeconds: 5, finding: 'pvc', seed: 42 };
    const first = synthesizeEcg(options);
    const second = synthesizeEcg(options);
    expect(second.samples).toEqual(first.samples);
    expect(second.rPeaks).toEqual(first.rPeaks);
    const other = synthesizeEcg({ ...options, seed: 43 });
    expect(other.samples).not.toEqual(first.samples);
    expect(other.rPeaks).not.toEqual(first.rPeaks);
  });

  it.each([
    ['normal', 72],
    ['sinus-bradycardia', 48],
    ['sinus-tachycardia', 120],
  ] as const)('%s: beat count and mean RR match %i bpm', (finding, bpm) => {
    const ecg = synthesizeEcg({ durationSeconds: 60, finding, seed: 7 });
    expect(Math.abs(ecg.rPeaks.length - bpm)).toBeLessThanOrEqual(2);
    expect(mean(rrIntervals(ecg))).toBeCloseTo(60 / bpm, 1);
    expect(Math.abs(mean(rrIntervals(ecg)) / (60 / bpm) - 1)).toBeLessThan(0.03);
  });

  it('honours an explicit heart rate', () => {
    const ecg = synthesizeEcg({ durationSeconds: 30, heartRateBpm: 90, seed: 3 });
    expect(Math.abs(ecg.rPeaks.length - 45)).toBeLessThanOrEqual(2);
  });

  it.each(['normal', 'atrial-fibrillation', 'pvc', 'anterior-stemi'] as const)(
    '%s: every R peak is the largest |deflection| in lead II within ±10 ms',
    (finding) => {
      const ecg = synthesizeEcg({ durationSeconds: 20, finding, seed: 11 });
      const ii = lead(ecg, 'II');
      for (const k of innerBeats(ecg)) {
        const r = ecg.rPeaks[k]!;
        let argmax = r;
        for (let i = r - ms(ecg, 60); i <= r + ms(ecg, 60); i++) {
          if (Math.abs(ii[i]!) > Math.abs(ii[argmax]!)) argmax = i;
        }
        expect(Math.abs(argmax - r), `beat ${k} at sample ${r}`).toBeLessThanOrEqual(ms(ecg, 10));
      }
    },
  );

  it('has realistic lead II amplitudes: R 1–1.5 mV, P ~0.15 mV, T ~0.3 mV', () => {
    const ecg = synthesizeEcg({ durationSeconds: 10, seed: 5, noise: NO_NOISE });
    const ii = lead(ecg, 'II');
    const peak = (r: number, from: number, to: number) =>
      Math.max(...ii.subarray(r + ms(ecg, from), r + ms(ecg, to)));
    const beats = innerBeats(ecg).map((k) => ecg.rPeaks[k]!);
    const r = median(beats.map((b) => ii[b]!));
    const p = median(beats.map((b) => peak(b, -250, -100)));
    const t = median(beats.map((b) => peak(b, 150, 450)));
    expect(r).toBeGreaterThanOrEqual(1000);
    expect(r).toBeLessThanOrEqual(1500);
    expect(p).toBeGreaterThan(100);
    expect(p).toBeLessThan(250);
    expect(t).toBeGreaterThan(200);
    expect(t).toBeLessThan(500);
  });

  it.each([
    ['without noise', NO_NOISE],
    ['with default noise', undefined],
  ])('satisfies Einthoven and Goldberger to within 1 LSB %s', (_name, noise) => {
    const ecg = synthesizeEcg({ durationSeconds: 10, seed: 9, finding: 'pvc', noise });
    const [i, ii, iii, avr, avl, avf] = ['I', 'II', 'III', 'aVR', 'aVL', 'aVF'].map((name) =>
      rawLead(ecg, name),
    );
    let worst = 0;
    for (let n = 0; n < ecg.samplesPerLead; n++) {
      const I = i![n]!;
      const II = ii![n]!;
      expect(iii![n]).toBe(II - I);
      worst = Math.max(
        worst,
        Math.abs(avr![n]! + (I + II) / 2),
        Math.abs(avl![n]! - (I - II / 2)),
        Math.abs(avf![n]! - (II - I / 2)),
      );
    }
    expect(worst).toBeLessThanOrEqual(1);
    // Guard against a degenerate pass on a flat signal.
    expect(Math.max(...ii!)).toBeGreaterThan(300);
  });

  it('anterior STEMI: ST elevation in V1–V5 at J+60 ms with reciprocal inferior depression', () => {
    const ecg = synthesizeEcg({ durationSeconds: 20, finding: 'anterior-stemi', seed: 21 });
    for (const name of ['V2', 'V3', 'V4'])
      expect(medianSt(ecg, name), name).toBeGreaterThanOrEqual(200);
    for (const name of ['V1', 'V5']) expect(medianSt(ecg, name), name).toBeGreaterThanOrEqual(100);
    for (const name of ['III', 'aVF']) expect(medianSt(ecg, name), name).toBeLessThanOrEqual(-50);
  });

  it('normal: no ST deviation of 50 µV or more in any lead', () => {
    const ecg = synthesizeEcg({ durationSeconds: 20, finding: 'normal', seed: 21 });
    for (const name of TWELVE_LEADS) expect(Math.abs(medianSt(ecg, name)), name).toBeLessThan(50);
  });

  it('atrial fibrillation: irregular RR, no P waves, mean rate ~110 bpm', () => {
    const af = synthesizeEcg({ durationSeconds: 60, finding: 'atrial-fibrillation', seed: 4 });
    const sinus = synthesizeEcg({ durationSeconds: 60, finding: 'normal', seed: 4 });
    const afCv = coefficientOfVariation(rrIntervals(af));
    const sinusCv = coefficientOfVariation(rrIntervals(sinus));
    expect(afCv).toBeGreaterThan(0.15);
    expect(afCv).toBeGreaterThan(3 * sinusCv);
    expect(Math.abs(mean(rrIntervals(af)) / (60 / 110) - 1)).toBeLessThan(0.1);

    const clean = (finding: 'normal' | 'atrial-fibrillation') =>
      synthesizeEcg({ durationSeconds: 20, finding, seed: 4, noise: NO_NOISE });
    // After a short RR the previous T wave reaches into the P-wave window, so only beats
    // after RR ≥ 600 ms are looked at.
    const pWaveHeight = (ecg: SyntheticEcg) => {
      const ii = lead(ecg, 'II');
      return median(
        innerBeats(ecg)
          .filter((k) => k > 0 && ecg.rPeaks[k]! - ecg.rPeaks[k - 1]! >= ms(ecg, 600))
          .map((k) => {
            const r = ecg.rPeaks[k]!;
            return Math.max(...ii.subarray(r - ms(ecg, 220), r - ms(ecg, 100)));
          }),
      );
    };
    expect(pWaveHeight(clean('normal'))).toBeGreaterThan(100);
    expect(pWaveHeight(clean('atrial-fibrillation'))).toBeLessThan(50);
  });

  it('atrial fibrillation: small fibrillatory waves at 4–9 Hz in V1 between beats', () => {
    const ecg = synthesizeEcg({
      durationSeconds: 60,
      finding: 'atrial-fibrillation',
      seed: 8,
      noise: NO_NOISE,
    });
    const v1 = lead(ecg, 'V1');
    // T–Q intervals only, where V1 carries nothing but atrial activity.
    let crossings = 0;
    let seconds = 0;
    let energy = 0;
    for (let k = 0; k + 1 < ecg.rPeaks.length; k++) {
      const from = ecg.rPeaks[k]! + ms(ecg, 350);
      const to = ecg.rPeaks[k + 1]! - ms(ecg, 80);
      if (to - from < ms(ecg, 150)) continue;
      // Quantisation leaves runs of exact zeros at each crossing; compare non-zero signs.
      let lastSign = 0;
      for (let i = from; i < to; i++) {
        energy += v1[i]! ** 2;
        const sign = Math.sign(v1[i]!);
        if (sign !== 0 && lastSign !== 0 && sign !== lastSign) crossings++;
        if (sign !== 0) lastSign = sign;
      }
      seconds += (to - from) / ecg.sampleRateHz;
    }
    expect(seconds).toBeGreaterThan(3);
    const frequency = crossings / 2 / seconds;
    expect(frequency).toBeGreaterThanOrEqual(4);
    expect(frequency).toBeLessThanOrEqual(9);
    const fWaveRms = Math.sqrt(energy / (seconds * ecg.sampleRateHz));
    expect(fWaveRms).toBeGreaterThan(10);
    expect(fWaveRms).toBeLessThan(100);
  });

  it('pvc: premature wide ectopic beats labelled V, followed by a compensatory pause', () => {
    const ecg = synthesizeEcg({ durationSeconds: 30, finding: 'pvc', seed: 13, noise: NO_NOISE });
    const ectopic = ecg.beatLabels.flatMap((label, k) => (label === 'V' ? [k] : []));
    expect(ectopic.length).toBeGreaterThanOrEqual(3);
    const normalRr = median(
      ecg.rPeaks
        .slice(1)
        .flatMap((r, k) =>
          ecg.beatLabels[k] === 'N' && ecg.beatLabels[k + 1] === 'N' ? [r - ecg.rPeaks[k]!] : [],
        ),
    );
    for (const k of ectopic.filter((k) => k > 0 && k < ecg.rPeaks.length - 1)) {
      const before = ecg.rPeaks[k - 1]!;
      const pvc = ecg.rPeaks[k]!;
      const after = ecg.rPeaks[k + 1]!;
      expect(ecg.beatLabels[k - 1]).toBe('N');
      expect(pvc - before).toBeLessThan(0.8 * normalRr);
      expect(Math.abs((after - before) / normalRr - 2)).toBeLessThan(0.15);
    }
    for (const k of innerBeats(ecg)) {
      const width = qrsWidthMs(ecg, ecg.rPeaks[k]!);
      if (ecg.beatLabels[k] === 'V') expect(width, `beat ${k}`).toBeGreaterThanOrEqual(120);
      else expect(width, `beat ${k}`).toBeLessThan(110);
    }
  });

  it(`lead-off: ${LEAD_OFF_LEAD} is flat at zero apart from rail saturation`, () => {
    const ecg = synthesizeEcg({ durationSeconds: 30, finding: 'lead-off', seed: 17 });
    const off = rawLead(ecg, LEAD_OFF_LEAD);
    const zeros = off.filter((v) => v === 0).length;
    const rails = off.filter((v) => v === 32767 || v === -32768).length;
    expect(zeros + rails).toBe(off.length);
    expect(zeros / off.length).toBeGreaterThan(0.8);
    expect(rails).toBeGreaterThan(0);
    const neighbour = lead(ecg, 'V2');
    expect(Math.max(...neighbour) - Math.min(...neighbour)).toBeGreaterThan(500);
  });

  it.each([50, 60] as const)('puts mains interference at %i Hz', (mainsHz) => {
    const ecg = synthesizeEcg({
      durationSeconds: 10,
      seed: 2,
      mainsHz,
      noise: { emgMicrovolts: 0, baselineMicrovolts: 0, mainsMicrovolts: 40 },
    });
    const other = mainsHz === 50 ? 60 : 50;
    // Pick-up differs per electrode, so individual leads vary; the median lead is checked.
    const signals = TWELVE_LEADS.map((name) => lead(ecg, name));
    const atMains = median(signals.map((x) => toneAmplitude(x, ecg.sampleRateHz, mainsHz)));
    const atOther = median(signals.map((x) => toneAmplitude(x, ecg.sampleRateHz, other)));
    expect(atMains).toBeGreaterThan(12);
    expect(atMains).toBeLessThan(80);
    expect(atOther).toBeLessThan(0.1 * atMains);
  });

  it('adds EMG noise at roughly the requested RMS without moving the beats', () => {
    const base = { durationSeconds: 10, seed: 6 } as const;
    const clean = synthesizeEcg({ ...base, noise: NO_NOISE });
    const noisy = synthesizeEcg({ ...base, noise: { ...NO_NOISE, emgMicrovolts: 20 } });
    expect(noisy.rPeaks).toEqual(clean.rPeaks);
    const cleanII = lead(clean, 'II');
    const noiseRms = rms(lead(noisy, 'II').map((v, n) => v - cleanII[n]!));
    expect(noiseRms).toBeGreaterThan(14);
    expect(noiseRms).toBeLessThan(28);
  });

  it('keeps baseline wander below 0.5 Hz', () => {
    const base = { durationSeconds: 20, seed: 6 } as const;
    const clean = synthesizeEcg({ ...base, noise: NO_NOISE });
    const wandering = synthesizeEcg({ ...base, noise: { ...NO_NOISE, baselineMicrovolts: 200 } });
    const wanders = TWELVE_LEADS.map((name) => {
      const cleanLead = lead(clean, name);
      return lead(wandering, name).map((v, n) => v - cleanLead[n]!);
    });
    expect(median(wanders.map(rms))).toBeGreaterThan(50);
    for (const wander of wanders) {
      for (const hz of [1, 2, 5, 10]) {
        expect(toneAmplitude(wander, 500, hz), `${hz} Hz`).toBeLessThan(0.05 * rms(wander) + 1);
      }
    }
  });

  it('saturates at the int16 rails instead of wrapping around', () => {
    const ecg = synthesizeEcg({
      durationSeconds: 3,
      seed: 1,
      microvoltsPerLsb: 0.02,
      noise: NO_NOISE,
    });
    const ii = rawLead(ecg, 'II');
    for (const r of ecg.rPeaks) expect(ii[r]).toBe(32767);
  });

  it('produces a valid recording for every finding', () => {
    for (const finding of ECG_FINDINGS) {
      const ecg = synthesizeEcg({ durationSeconds: 10, finding });
      expect(ecg.rPeaks.length, finding).toBeGreaterThan(5);
      expect(
        ecg.rPeaks.every((r, k) => k === 0 || r > ecg.rPeaks[k - 1]!),
        finding,
      ).toBe(true);
    }
  });

  it.each<[string, SyntheticEcgOptions]>([
    ['zero duration', { durationSeconds: 0 }],
    ['non-finite duration', { durationSeconds: Number.NaN }],
    ['too low a sample rate', { durationSeconds: 1, sampleRateHz: 50 }],
    ['an impossible heart rate', { durationSeconds: 1, heartRateBpm: 400 }],
    ['negative noise', { durationSeconds: 1, noise: { emgMicrovolts: -1 } }],
    ['a fractional seed', { durationSeconds: 1, seed: 1.5 }],
    ['an unknown finding', { durationSeconds: 1, finding: 'torsades' as never }],
    ['an unsupported mains frequency', { durationSeconds: 1, mainsHz: 55 as never }],
  ])('rejects %s with a RangeError', (_name, options) => {
    expect(() => synthesizeEcg(options)).toThrow(RangeError);
  });
});
