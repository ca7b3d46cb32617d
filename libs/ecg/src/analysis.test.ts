import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ALGORITHM_VERSION,
  EcgAnalysisError,
  analyzeEcg,
  type EcgRecordingInput,
} from './analysis.js';
import { priorityOf } from './flags.js';
import { synthesizeEcg, type SyntheticEcg } from './synthetic-ecg.js';
import { EXPECTED_FLAGS, flagConfusion, formatConfusion } from './synthetic-evaluation.js';
import { readWfdbRecord } from './wfdb-node.js';
import { wfdbToRecording } from './wfdb.js';

const SHARED = new URL('../../../../shared/data/', import.meta.url).pathname;
const NO_NOISE = { emgMicrovolts: 0, baselineMicrovolts: 0, mainsMicrovolts: 0 };

const codes = (recording: EcgRecordingInput) => analyzeEcg(recording).flags.map((f) => f.code);

/** Replaces one lead's samples. */
function setLead(ecg: SyntheticEcg, name: string, value: (i: number, old: number) => number): void {
  const column = ecg.leads.indexOf(name);
  for (let i = 0; i < ecg.samplesPerLead; i++) {
    const p = i * ecg.leads.length + column;
    ecg.samples[p] = value(i, ecg.samples[p]!);
  }
}

describe('flag confusion on synthetic findings', () => {
  // Printed in full by `node dist/scripts/ecg/flag-confusion.js`.
  const seeds = Array.from({ length: 10 }, (_, k) => k + 1);
  const tables = [
    ['default noise', flagConfusion({ seeds })],
    [
      'noisy',
      flagConfusion({
        seeds,
        noise: { emgMicrovolts: 30, baselineMicrovolts: 300, mainsMicrovolts: 60 },
      }),
    ],
  ] as const;

  for (const [name, rows] of tables) {
    it(`flags every finding and never calls normal critical (${name})\n${formatConfusion(rows)}`, () => {
      for (const row of rows) {
        expect({ finding: row.finding, detected: row.detected }).toEqual({
          finding: row.finding,
          detected: row.recordings,
        });
      }
      const byFinding = Object.fromEntries(rows.map((r) => [r.finding, r]));
      expect(byFinding.normal!.critical).toBe(0);
      expect(byFinding.normal!.priorities.routine).toBe(byFinding.normal!.recordings);
      expect(byFinding['anterior-stemi']!.priorities.stat).toBe(
        byFinding['anterior-stemi']!.recordings,
      );
      for (const finding of [
        'sinus-bradycardia',
        'sinus-tachycardia',
        'pvc',
        'atrial-fibrillation',
        'lead-off',
      ] as const) {
        expect(byFinding[finding]!.critical).toBe(0);
        // No finding raises another finding's flag.
        for (const [other, expected] of Object.entries(EXPECTED_FLAGS)) {
          if (other === finding) continue;
          for (const code of expected) expect(byFinding[finding]!.flagCounts[code] ?? 0).toBe(0);
        }
      }
    });
  }
});

describe('analyzeEcg', () => {
  it('stamps every result with the algorithm version', () => {
    const result = analyzeEcg(synthesizeEcg({ durationSeconds: 10 }));
    expect(result.algorithmVersion).toBe(ALGORITHM_VERSION);
    expect(ALGORITHM_VERSION).toMatch(/^telerelay-ecg \d+\.\d+\.\d+$/);
    expect(result).toMatchObject({ priority: 'routine', flags: [] });
    expect(result.quality.readable).toBe(true);
    expect(result.measurements.medianBeat).toBeNull();
    expect(
      analyzeEcg(synthesizeEcg({ durationSeconds: 10 }), { includeMedianBeat: true }).measurements
        .medianBeat,
    ).not.toBeNull();
  });

  it('calls extreme rates critical', () => {
    expect(codes(synthesizeEcg({ durationSeconds: 15, heartRateBpm: 35 }))).toContain(
      'EXTREME_BRADYCARDIA',
    );
    const fast = analyzeEcg(
      synthesizeEcg({ durationSeconds: 10, heartRateBpm: 170, finding: 'sinus-tachycardia' }),
    );
    expect(fast.flags.map((f) => f.code)).toContain('EXTREME_TACHYCARDIA');
    expect(fast.priority).toBe('stat');
  });

  it('flags pauses over 2 s (major) and over 3 s (critical)', () => {
    const pause = (beatsDropped: number) => {
      const ecg = synthesizeEcg({ durationSeconds: 12, seed: 4, noise: NO_NOISE });
      // Sinus arrest: flat line from after one T wave to before a later P wave.
      const fs = ecg.sampleRateHz;
      const from = ecg.rPeaks[4]! + Math.round(0.45 * fs);
      const to = ecg.rPeaks[5 + beatsDropped]! - Math.round(0.3 * fs);
      for (const lead of ecg.leads) setLead(ecg, lead, (i, old) => (i >= from && i < to ? 0 : old));
      return analyzeEcg(ecg);
    };
    const two = pause(2);
    expect(two.flags.map((f) => f.code)).toContain('PAUSE_OVER_2S');
    expect(two.priority).toBe('urgent');
    const three = pause(3);
    expect(three.flags.map((f) => f.code)).toContain('PAUSE_OVER_3S');
    expect(three.priority).toBe('stat');
  });

  it('calls a recording with every lead flat unreadable, with the reason', () => {
    const ecg = synthesizeEcg({ durationSeconds: 10 });
    ecg.samples.fill(0);
    const result = analyzeEcg(ecg);
    expect(result.quality.readable).toBe(false);
    expect(result.quality.reasons[0]).toMatch(/all leads are flat or off/);
    expect(result.heartRateBpm).toBeNull();
    expect(result.flags.map((f) => f.code)).toContain('UNREADABLE');
    expect(result.priority).toBe('urgent');
  });

  it('calls a recording with two essential leads off unreadable, and one off readable', () => {
    const one = synthesizeEcg({ durationSeconds: 10, finding: 'lead-off' });
    const oneResult = analyzeEcg(one);
    expect(oneResult.quality.readable).toBe(true);
    expect(oneResult.quality.perLead.find((q) => q.lead === 'V3')!.status).toBe('off');
    expect(oneResult.quality.reasons.join('\n')).toMatch(/V3: lead off/);

    const two = synthesizeEcg({ durationSeconds: 10, finding: 'lead-off' });
    setLead(two, 'V5', () => 0);
    const twoResult = analyzeEcg(two);
    expect(twoResult.quality.readable).toBe(false);
    expect(twoResult.quality.reasons[0]).toMatch(/2 essential leads are off \(V3, V5\)/);
  });

  it('does not trust limb leads derived from an electrode that is off', () => {
    const ecg = synthesizeEcg({ durationSeconds: 10 });
    setLead(ecg, 'I', () => 0);
    const result = analyzeEcg(ecg);
    const avl = result.quality.perLead.find((q) => q.lead === 'aVL')!;
    expect(avl.usable).toBe(false);
    expect(result.measurements.leads.find((l) => l.lead === 'aVL')!.measured).toBe(false);
    expect(result.quality.readable).toBe(true);
  });

  it('reports saturation, mains interference and a low sample rate', () => {
    const ecg = synthesizeEcg({
      durationSeconds: 10,
      sampleRateHz: 250,
      noise: { mainsMicrovolts: 300 },
    });
    // An input offset drives V4 into the upper rail whenever it rises 0.5 mV above baseline.
    setLead(ecg, 'V4', (_, old) => Math.min(32767, old + 32767 - 200));
    const result = analyzeEcg(ecg);
    const v4 = result.quality.perLead.find((q) => q.lead === 'V4')!;
    expect(v4.status).toBe('saturated');
    expect(v4.saturatedPercent).toBeGreaterThan(1);
    expect(result.quality.reasons.join('\n')).toMatch(/V4: amplifier saturated/);
    expect(result.quality.reasons.join('\n')).toMatch(/mains interference/);
    expect(result.quality.reasons.join('\n')).toMatch(/250 Hz is below the 500 Hz/);
    expect(result.flags.map((f) => f.code)).toContain('LOW_SAMPLE_RATE');
    expect(result.quality.readable).toBe(true);
  });

  it('recognises left/right arm reversal', () => {
    const ecg = synthesizeEcg({ durationSeconds: 10, seed: 5 });
    // LA↔RA: I → −I, II ↔ III, aVR ↔ aVL, aVF unchanged.
    const width = ecg.leads.length;
    const at = (name: string) => ecg.leads.indexOf(name);
    for (let i = 0; i < ecg.samplesPerLead; i++) {
      const row = i * width;
      const s = ecg.samples;
      const [I, II, III, aVR, aVL] = [
        s[row + at('I')]!,
        s[row + at('II')]!,
        s[row + at('III')]!,
        s[row + at('aVR')]!,
        s[row + at('aVL')]!,
      ];
      s[row + at('I')] = -I;
      s[row + at('II')] = III;
      s[row + at('III')] = II;
      s[row + at('aVR')] = aVL;
      s[row + at('aVL')] = aVR;
    }
    const result = analyzeEcg(ecg);
    expect(result.quality.limbLeadReversal).toBe('LA-RA');
    expect(result.flags.map((f) => f.code)).toContain('LIMB_LEAD_REVERSAL');
    expect(
      analyzeEcg(synthesizeEcg({ durationSeconds: 10, seed: 5 })).quality.limbLeadReversal,
    ).toBeNull();
  });

  it('raises NO_QRS (critical) when leads are attached but no QRS is found', () => {
    const ecg = synthesizeEcg({ durationSeconds: 10 });
    let state = 1;
    const noise = () => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return Math.round((state / 0x7fffffff - 0.5) * 60); // ±75 µV of white noise
    };
    ecg.samples.forEach((_, p) => (ecg.samples[p] = noise()));
    const result = analyzeEcg(ecg);
    expect(result.quality.readable).toBe(true);
    expect(result.flags.map((f) => f.code)).toContain('NO_QRS');
    expect(result.priority).toBe('stat');
  });

  it('rejects malformed input with a coded error', () => {
    const bad = (recording: Partial<EcgRecordingInput>) => () =>
      analyzeEcg({
        leads: ['I'],
        sampleRateHz: 500,
        microvoltsPerLsb: 1,
        samples: new Int16Array(10),
        ...recording,
      });
    expect(bad({ leads: [] })).toThrow(EcgAnalysisError);
    expect(bad({ sampleRateHz: 0 })).toThrow(/sample rate/);
    expect(bad({ microvoltsPerLsb: -1 })).toThrow(/microvoltsPerLsb/);
    expect(bad({ leads: ['I', 'II', 'III'] })).toThrow(/do not divide/);
    try {
      bad({ leads: [] })();
    } catch (e) {
      expect((e as EcgAnalysisError).code).toBe('ECG_INPUT_INVALID');
    }
  });

  it('derives the priority from the most severe flag', () => {
    expect(priorityOf([])).toBe('routine');
    expect(priorityOf([{ code: 'PVCS', severity: 'minor', text: '', values: {} }])).toBe('routine');
    expect(
      priorityOf([
        { code: 'PVCS', severity: 'minor', text: '', values: {} },
        { code: 'ATRIAL_FIBRILLATION', severity: 'major', text: '', values: {} },
      ]),
    ).toBe('urgent');
    expect(priorityOf([{ code: 'STEMI', severity: 'critical', text: '', values: {} }])).toBe(
      'stat',
    );
  });
});

describe.skipIf(!existsSync(`${SHARED}ecg-other/ptb-xl/00001_lr.hea`))(
  'analyzeEcg on PTB-XL 12-lead records from ../shared/data (skipped when that folder is absent)',
  () => {
    it('reads real 100-Hz 12-lead ECGs, warns about the sample rate, and finds a sensible rate', () => {
      for (const name of ['00001_lr', '00002_lr', '00003_lr']) {
        const record = readWfdbRecord(`${SHARED}ecg-other/ptb-xl/${name}`);
        const result = analyzeEcg(wfdbToRecording(record));
        expect(result.quality.readable).toBe(true);
        expect(result.flags.map((f) => f.code)).toContain('LOW_SAMPLE_RATE');
        expect(result.heartRateBpm!).toBeGreaterThan(40);
        expect(result.heartRateBpm!).toBeLessThan(120);
        expect(result.rPeaks.length).toBeGreaterThan(5);
      }
    });
  },
);

describe.skipIf(!existsSync(`${SHARED}mitdb/100.hea`))(
  'analyzeEcg on MIT-BIH 100 from ../shared/data (skipped when that folder is absent)',
  () => {
    it('analyses 10-s strips of a 2-lead Holter record as routine sinus rhythm', () => {
      const record = wfdbToRecording(readWfdbRecord(`${SHARED}mitdb/100`));
      const fs = record.sampleRateHz;
      for (const start of [0, 600, 1200]) {
        const strip = {
          ...record,
          samples: record.samples.slice(start * fs * 2, (start + 10) * fs * 2),
        };
        const result = analyzeEcg(strip);
        expect(result.quality.readable).toBe(true);
        expect(result.heartRateBpm!).toBeGreaterThan(60);
        expect(result.heartRateBpm!).toBeLessThan(90);
        expect(result.flags.filter((f) => f.severity !== 'minor')).toEqual([]);
      }
    });
  },
);
