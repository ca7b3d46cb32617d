import { describe, expect, it } from 'vitest';
import { measureEcg, rrStatistics, type EcgMeasurements } from './measurements.js';
import { synthesizeEcg, type SyntheticEcg, type SyntheticEcgOptions } from './synthetic-ecg.js';

function signals(ecg: SyntheticEcg): Float64Array[] {
  const width = ecg.leads.length;
  return ecg.leads.map((_, c) =>
    Float64Array.from(
      { length: ecg.samplesPerLead },
      (_, i) => ecg.samples[i * width + c]! * ecg.microvoltsPerLsb,
    ),
  );
}

/** Measurements with the generator's own beat positions, to test measurement alone. */
function measure(
  options: SyntheticEcgOptions,
  excluded: string[] = [],
): { ecg: SyntheticEcg; m: EcgMeasurements } {
  const ecg = synthesizeEcg(options);
  const m = measureEcg({
    leads: ecg.leads,
    signals: signals(ecg),
    sampleRateHz: ecg.sampleRateHz,
    rPeaks: ecg.rPeaks,
    excludedLeads: new Set(excluded),
  });
  return { ecg, m };
}

const st60 = (m: EcgMeasurements, lead: string) => m.leads.find((l) => l.lead === lead)!.st60Uv!;

describe('rrStatistics', () => {
  it('computes the RR statistics exactly', () => {
    const rr = rrStatistics([0, 1000, 2100, 3000, 4000], 1000)!;
    expect(rr).toMatchObject({ count: 4, meanMs: 1000, medianMs: 1000, minMs: 900, maxMs: 1100 });
    expect(rr.sdMs).toBeCloseTo(Math.sqrt((0 + 100 ** 2 + 100 ** 2 + 0) / 4), 9);
    expect(rr.rmssdMs).toBeCloseTo(Math.sqrt((100 ** 2 + 200 ** 2 + 100 ** 2) / 3), 9);
    expect(rrStatistics([5], 500)).toBeNull();
  });
});

describe('measureEcg on synthetic ECGs', () => {
  // The generator (synthetic-ecg.ts) puts P at −160 ms (σ ≈ 25 ms), Q at −26 ms and S at
  // +28 ms (σ 8–10 ms), and T at 300·√RR ms with a 45·√RR ms downslope: PR ≈ 170 ms,
  // QRS ≈ 90 ms, QT ≈ 0.39 s at 72/min, frontal QRS vector ≈ 52°.
  const noises = [undefined, { emgMicrovolts: 30, baselineMicrovolts: 300, mainsMicrovolts: 60 }];

  it('measures a normal ECG within plausible ranges of the generator settings', () => {
    for (const noise of noises) {
      for (const seed of [1, 2, 3]) {
        const { ecg, m } = measure({ durationSeconds: 10, seed, noise });
        const rr = ecg.rPeaks.slice(1).map((r, i) => r - ecg.rPeaks[i]!);
        const trueRate = (60 * ecg.sampleRateHz * rr.length) / rr.reduce((a, b) => a + b, 0);
        expect(m.heartRateBpm!).toBeCloseTo(trueRate, 6);
        expect(m.pWavePresent).toBe(true);
        expect(m.prMs!).toBeGreaterThan(140);
        expect(m.prMs!).toBeLessThan(200);
        expect(m.qrsMs!).toBeGreaterThan(75);
        // The generator's waves are Gaussians, with no sharp onset: the per-lead rule that
        // matches cardiologists' marks (2 % of a lead's steepest slope) reaches their
        // tails, ±3.3σ of the Q and S waves (−26 ms and +28 ms, σ 8–10 ms): about 115 ms.
        expect(m.qrsMs!).toBeLessThan(120);
        expect(m.qtMs!).toBeGreaterThan(350);
        // T end where the downslope has flattened to 10 % of its steepest: 2.6σ after the
        // peak of the generator's Gaussian T wave (σ 45 ms), as QRS onset reaches the Q tail.
        expect(m.qtMs!).toBeLessThan(470);
        const rrSeconds = m.qtcRrMs! / 1000;
        expect(Math.abs(m.qtcRrMs! - m.rr!.meanMs)).toBeLessThan(0.1 * m.rr!.meanMs);
        expect(m.qtcBazettMs!).toBeCloseTo(m.qtMs! / Math.sqrt(rrSeconds), 6);
        expect(m.qtcFridericiaMs!).toBeCloseTo(m.qtMs! / Math.cbrt(rrSeconds), 6);
        expect(m.qrsAxisDeg!).toBeGreaterThan(40);
        expect(m.qrsAxisDeg!).toBeLessThan(70);
        for (const lead of ecg.leads) expect(Math.abs(st60(m, lead))).toBeLessThan(50);
        expect(m.pvcCount).toBe(0);
        const ii = m.leads.find((l) => l.lead === 'II')!;
        expect(ii.rAmplitudeUv!).toBeGreaterThan(800);
        expect(ii.tAmplitudeUv!).toBeGreaterThan(150);
        expect(ii.pAmplitudeUv!).toBeGreaterThan(80);
        expect(m.medianBeat!.beatsUsed).toBeGreaterThanOrEqual(8);
      }
    }
  });

  it('lengthens QT with a slower rate and shortens it with a faster one, keeping QTc steady', () => {
    const slow = measure({ durationSeconds: 20, finding: 'sinus-bradycardia' }).m;
    const fast = measure({ durationSeconds: 10, finding: 'sinus-tachycardia' }).m;
    expect(slow.qtMs! - fast.qtMs!).toBeGreaterThan(100);
    expect(Math.abs(slow.qtcFridericiaMs! - fast.qtcFridericiaMs!)).toBeLessThan(60);
    // The previous T wave is not taken for a P wave (PR would then pass 250 ms); 130 ms, not
    // 140, since QRS onset now includes the Q wave's Gaussian tail (see above).
    expect(fast.prMs!).toBeGreaterThan(130);
    expect(fast.prMs!).toBeLessThan(200);
  });

  it('finds no P waves in atrial fibrillation', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { m } = measure({ durationSeconds: 10, finding: 'atrial-fibrillation', seed });
      expect(m.pWavePresent).toBe(false);
      expect(m.prMs).toBeNull();
    }
  });

  it('labels the ectopic beats as V and keeps them out of the median beat', () => {
    for (const seed of [1, 2, 3]) {
      const { ecg, m } = measure({ durationSeconds: 20, finding: 'pvc', seed });
      const inner = (k: number) =>
        ecg.rPeaks[k]! > 0.5 * ecg.sampleRateHz &&
        ecg.rPeaks[k]! < ecg.samplesPerLead - 0.5 * ecg.sampleRateHz;
      ecg.beatLabels.forEach((label, k) => {
        if (inner(k)) expect(m.beatLabels[k]).toBe(label);
      });
      expect(m.pvcCount).toBeGreaterThan(0);
      expect(m.pvcBurdenPercent).toBeCloseTo((100 * m.pvcCount) / m.beatCount, 9);
      expect(m.qrsMs!).toBeLessThan(120); // the dominant QRS, not the wide PVC (σ 40 ms)
    }
  });

  it('measures anterior ST elevation with reciprocal inferior depression', () => {
    const { m } = measure({ durationSeconds: 10, finding: 'anterior-stemi' });
    for (const lead of ['V2', 'V3', 'V4']) expect(st60(m, lead)).toBeGreaterThan(200);
    expect(st60(m, 'V1')).toBeGreaterThan(100);
    expect(st60(m, 'III')).toBeLessThan(-100);
    expect(st60(m, 'aVF')).toBeLessThan(-50);
  });

  it('leaves excluded leads unmeasured', () => {
    const { m } = measure({ durationSeconds: 10, finding: 'lead-off' }, ['V3']);
    const v3 = m.leads.find((l) => l.lead === 'V3')!;
    expect(v3).toMatchObject({ measured: false, st60Uv: null, rAmplitudeUv: null });
    expect(m.leads.filter((l) => l.measured)).toHaveLength(11);
    expect(m.qrsMs!).toBeGreaterThan(75);
  });

  it('measures QRS from the earliest onset to the latest offset over the leads', () => {
    // Twelve leads, one beat a second at 500 Hz. Six have a large QRS from −40 to +40 ms;
    // three start early with a small deflection (300 µV from −70 ms) and three end late
    // (300 µV until +70 ms). The spatial velocity alone, dominated by the large leads, ends
    // the QRS near ±40 ms; IEC 60601-2-25 asks for the union: about 140 ms.
    const fs = 500;
    const n = 10 * fs;
    const rPeaks = Array.from({ length: 9 }, (_, k) => (k + 1) * fs);
    // A triangle from `from` to `to` ms around each R peak, peaking midway.
    const triangle = (from: number, to: number, peak: number) => {
      const x = new Float64Array(n);
      for (const r of rPeaks) {
        const a = r + (from * fs) / 1000;
        const b = r + (to * fs) / 1000;
        const mid = (a + b) / 2;
        for (let i = Math.ceil(a); i <= b; i++) {
          x[i] = i <= mid ? (peak * (i - a)) / (mid - a) : (peak * (b - i)) / (b - mid);
        }
      }
      return x;
    };
    const signals = [
      ...[0, 1, 2, 3, 4, 5].map((k) => triangle(-40, 40, k % 2 ? -1500 : 1500)),
      ...[0, 1, 2].map(() => triangle(-70, 10, 300)),
      ...[0, 1, 2].map(() => triangle(-10, 70, -300)),
    ];
    const leads = ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'];
    const m = measureEcg({ leads, signals, sampleRateHz: fs, rPeaks });
    // The 40 Hz delineation filter spreads a triangle's sharp corners by up to ~15 ms, and
    // 2 % of the steepest slope sees where the spread begins.
    expect(m.fiducialsMs.qrsOnset!).toBeGreaterThan(-90);
    expect(m.fiducialsMs.qrsOnset!).toBeLessThan(-65);
    expect(m.fiducialsMs.qrsOffset!).toBeGreaterThan(65);
    expect(m.fiducialsMs.qrsOffset!).toBeLessThan(90);
    expect(m.qrsMs!).toBeGreaterThan(135);
    expect(m.qrsMs!).toBeLessThan(175);
  });

  it('returns empty measurements without beats', () => {
    const m = measureEcg({
      leads: ['II'],
      signals: [new Float64Array(5000)],
      sampleRateHz: 500,
      rPeaks: [],
    });
    expect(m).toMatchObject({ beatCount: 0, heartRateBpm: null, qrsMs: null, medianBeat: null });
  });
});
