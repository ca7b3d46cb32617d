import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { referenceBeatsFromAnnotations, scoreDetections } from './ec57.js';
import {
  QRS_EDGE_SECONDS,
  QrsDetectorError,
  detectQrs,
  detectQrsDetailed,
  detectQrsMultiLead,
} from './qrs-detector.js';
import {
  ECG_FINDINGS,
  synthesizeEcg,
  type SyntheticEcg,
  type SyntheticEcgOptions,
} from './synthetic-ecg.js';
import { readWfdbRecord } from './wfdb-node.js';

const MITDB = new URL('../../../../shared/data/mitdb/', import.meta.url).pathname;
/** The independently recorded leads; III, aVR, aVL and aVF derive from I and II. */
const INDEPENDENT = ['I', 'II', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'];

function lead(ecg: SyntheticEcg, name: string): Float64Array {
  const column = ecg.leads.indexOf(name);
  const width = ecg.leads.length;
  return Float64Array.from(
    { length: ecg.samplesPerLead },
    (_, i) => ecg.samples[i * width + column]!,
  );
}

/** Every known beat found within 50 ms, and nothing else. */
function expectExact(ecg: SyntheticEcg, detected: number[]): void {
  const score = scoreDetections(ecg.rPeaks, detected, {
    sampleRateHz: ecg.sampleRateHz,
    totalSamples: ecg.samplesPerLead,
    matchWindowSeconds: 0.05,
    learningPeriodSeconds: 0,
  });
  // A beat cut by either end may go unreported, by design (see QRS_EDGE_SECONDS).
  const edge = Math.round(QRS_EDGE_SECONDS * ecg.sampleRateHz);
  const missed = score.falseNegatives.filter((r) => r >= edge && r < ecg.samplesPerLead - edge);
  expect({ missed, extra: score.falsePositives }).toEqual({ missed: [], extra: [] });
}

const NOISY = { emgMicrovolts: 40, baselineMicrovolts: 400, mainsMicrovolts: 100 };

describe('detectQrs on synthetic ECGs with known beats', () => {
  for (const finding of ECG_FINDINGS) {
    it(`finds every beat of '${finding}' within 50 ms, with no extras (12-lead fusion and lead II alone)`, () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        for (const noise of [undefined, NOISY]) {
          const ecg = synthesizeEcg({ durationSeconds: 10, finding, seed, noise });
          const leads = INDEPENDENT.filter((name) => !(finding === 'lead-off' && name === 'V3'));
          expectExact(
            ecg,
            detectQrsMultiLead(
              leads.map((name) => lead(ecg, name)),
              ecg.sampleRateHz,
            ),
          );
          expectExact(ecg, detectQrs(lead(ecg, 'II'), ecg.sampleRateHz));
        }
      }
    });
  }

  it('works at 250, 360 and 1000 samples/s and at rates from 30 to 190 per minute', () => {
    const cases: SyntheticEcgOptions[] = [
      { durationSeconds: 20, sampleRateHz: 250, heartRateBpm: 72 },
      { durationSeconds: 20, sampleRateHz: 360, heartRateBpm: 72 },
      { durationSeconds: 10, sampleRateHz: 1000, heartRateBpm: 72 },
      { durationSeconds: 30, heartRateBpm: 30, finding: 'sinus-bradycardia' },
      { durationSeconds: 10, heartRateBpm: 190, finding: 'sinus-tachycardia' },
    ];
    for (const options of cases) {
      const ecg = synthesizeEcg(options);
      expectExact(ecg, detectQrs(lead(ecg, 'II'), ecg.sampleRateHz));
    }
  });

  it('follows sudden amplitude changes (halved, then up fourfold) without losing or adding beats', () => {
    for (const seed of [11, 12, 13]) {
      const ecg = synthesizeEcg({ durationSeconds: 60, seed });
      const x = lead(ecg, 'V5');
      const third = Math.floor(x.length / 3);
      for (let i = third; i < 2 * third; i++) x[i]! *= 0.5;
      for (let i = 2 * third; i < x.length; i++) x[i]! *= 2;
      expectExact(ecg, detectQrs(x, ecg.sampleRateHz));
    }
  });

  it('is not fooled by baseline steps of 2 mV', () => {
    const ecg = synthesizeEcg({ durationSeconds: 60, seed: 12 });
    const x = lead(ecg, 'II');
    const stepEvery = 7 * ecg.sampleRateHz;
    let offset = 0;
    for (let i = 0; i < x.length; i++) {
      if (i > 0 && i % stepEvery === 0) offset += (i / stepEvery) % 2 ? 800 : -800; // LSB of 2.5 µV
      x[i]! += offset;
    }
    expectExact(ecg, detectQrs(x, ecg.sampleRateHz));
  });

  it('keeps a lead full of large artefacts from adding beats when another lead is clean', () => {
    const ecg = synthesizeEcg({ durationSeconds: 60, seed: 13, noise: { emgMicrovolts: 5 } });
    const clean = lead(ecg, 'II');
    const spoiled = lead(ecg, 'V2');
    // Electrode-motion-like bumps (60 ms wide, 4 mV) every 1.3 s, out of step with the beats.
    const fs = ecg.sampleRateHz;
    for (
      let centre = Math.round(0.7 * fs);
      centre < spoiled.length;
      centre += Math.round(1.3 * fs)
    ) {
      for (let k = -Math.round(0.15 * fs); k <= Math.round(0.15 * fs); k++) {
        const i = centre + k;
        if (i >= 0 && i < spoiled.length)
          spoiled[i]! += 1600 * Math.exp(-0.5 * (k / (0.03 * fs)) ** 2);
      }
    }
    const detection = detectQrsDetailed([clean, spoiled], fs);
    expectExact(ecg, detection.rPeaks);
    expect(detection.leadWeights[0]!).toBeGreaterThan(detection.leadWeights[1]!);
  });

  it('finds beats that are visible in one lead only', () => {
    const ecg = synthesizeEcg({ durationSeconds: 30, seed: 14 });
    const flat = new Float64Array(ecg.samplesPerLead).map((_, i) => 3 * Math.sin(i / 7));
    expectExact(ecg, detectQrsMultiLead([flat, lead(ecg, 'V4')], ecg.sampleRateHz));
  });

  it('returns nothing for a flat line or a recording shorter than half a second', () => {
    expect(detectQrs(new Float64Array(5000), 500)).toEqual([]);
    expect(detectQrs(new Float64Array(200), 500)).toEqual([]);
  });

  it('rejects bad input with a coded error', () => {
    expect(() => detectQrsMultiLead([], 500)).toThrow(QrsDetectorError);
    expect(() => detectQrsMultiLead([new Float64Array(10), new Float64Array(11)], 500)).toThrow(
      /length/,
    );
    expect(() => detectQrs(new Float64Array(10), 0)).toThrow(QrsDetectorError);
    try {
      detectQrs(new Float64Array(10), Number.NaN);
    } catch (e) {
      expect((e as QrsDetectorError).code).toBe('QRS_INPUT_INVALID');
    }
  });
});

describe.skipIf(!existsSync(`${MITDB}100.hea`))(
  'detectQrs on MIT-BIH records from ../shared/data/mitdb, EC57 rules (skipped when that folder is absent)',
  () => {
    const score = (name: string, signals?: number[]) => {
      const record = readWfdbRecord(`${MITDB}${name}`);
      const fs = record.header.samplingFrequency;
      const total = record.signals.samplesPerSignal;
      const leads = signals
        ? signals.map((s) => record.signals.signals[s]!)
        : record.signals.signals;
      const reference = referenceBeatsFromAnnotations(record.annotations!, total);
      return scoreDetections(reference.beats, detectQrsMultiLead(leads, fs), {
        sampleRateHz: fs,
        totalSamples: total,
        excluded: reference.excluded,
      });
    };

    it('record 100: Se and +P ≥ 99.9 % with both leads and with MLII alone', () => {
      for (const s of [score('100'), score('100', [0])]) {
        expect(s.tp).toBeGreaterThan(1890);
        expect(s.se!).toBeGreaterThanOrEqual(0.999);
        expect(s.ppv!).toBeGreaterThanOrEqual(0.999);
      }
    });

    it('record 104 (paced, noisy): Se ≥ 99.7 % and +P ≥ 99.5 %', () => {
      const s = score('104');
      expect(s.se!).toBeGreaterThanOrEqual(0.997);
      expect(s.ppv!).toBeGreaterThanOrEqual(0.995);
    });

    it('record 100s (60 s, scored from the start): every beat', () => {
      const s = score('100s');
      expect(s.scoredFromStart).toBe(true);
      expect(s).toMatchObject({ fn: 0, fp: 0 });
    });
  },
);
