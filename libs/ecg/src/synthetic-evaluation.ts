import { analyzeEcg, type EcgAnalysis } from './analysis.js';
import type { FlagCode } from './flags.js';
import {
  ECG_FINDINGS,
  synthesizeEcg,
  type EcgFinding,
  type SyntheticEcgOptions,
} from './synthetic-ecg.js';

/**
 * Flag confusion table on synthetic recordings with known findings: for each finding, how
 * often each flag was raised and which priority resulted. Used by the tests (which assert
 * on it) and by scripts/ecg/flag-confusion.ts (which prints it).
 */

/** The flag(s) that count as "the finding was flagged". */
export const EXPECTED_FLAGS: Readonly<Record<EcgFinding, readonly FlagCode[]>> = {
  normal: [],
  'sinus-bradycardia': ['SINUS_BRADYCARDIA'],
  'sinus-tachycardia': ['SINUS_TACHYCARDIA'],
  'atrial-fibrillation': ['ATRIAL_FIBRILLATION'],
  pvc: ['PVCS', 'FREQUENT_PVCS'],
  'anterior-stemi': ['STEMI'],
  'lead-off': ['LEAD_OFF'],
};

export interface ConfusionRow {
  finding: EcgFinding;
  recordings: number;
  /** Recordings in which an expected flag was raised. */
  detected: number;
  /** Recordings with any critical flag. */
  critical: number;
  /** How many recordings raised each flag code. */
  flagCounts: Partial<Record<FlagCode, number>>;
  priorities: { stat: number; urgent: number; routine: number };
}

export interface ConfusionOptions {
  seeds: readonly number[];
  durationSeconds?: number;
  noise?: SyntheticEcgOptions['noise'];
  sampleRateHz?: number;
}

export function flagConfusion(options: ConfusionOptions): ConfusionRow[] {
  return ECG_FINDINGS.map((finding) => {
    const row: ConfusionRow = {
      finding,
      recordings: 0,
      detected: 0,
      critical: 0,
      flagCounts: {},
      priorities: { stat: 0, urgent: 0, routine: 0 },
    };
    for (const seed of options.seeds) {
      const ecg = synthesizeEcg({
        durationSeconds: options.durationSeconds ?? 10,
        finding,
        seed,
        noise: options.noise,
        sampleRateHz: options.sampleRateHz,
      });
      const analysis: EcgAnalysis = analyzeEcg(ecg);
      row.recordings++;
      const codes = new Set(analysis.flags.map((f) => f.code));
      for (const code of codes) row.flagCounts[code] = (row.flagCounts[code] ?? 0) + 1;
      const expected = EXPECTED_FLAGS[finding];
      if (expected.length === 0 ? codes.size === 0 : expected.some((c) => codes.has(c)))
        row.detected++;
      if (analysis.flags.some((f) => f.severity === 'critical')) row.critical++;
      row.priorities[analysis.priority]++;
    }
    return row;
  });
}

/** Plain-text rendering: one row per finding, one column per flag raised anywhere. */
export function formatConfusion(rows: readonly ConfusionRow[]): string {
  const codes = [...new Set(rows.flatMap((r) => Object.keys(r.flagCounts)))].sort() as FlagCode[];
  const header = ['finding', 'n', 'flagged', 'critical', 'stat/urg/rout', ...codes];
  const lines = rows.map((r) => [
    r.finding,
    String(r.recordings),
    String(r.detected),
    String(r.critical),
    `${r.priorities.stat}/${r.priorities.urgent}/${r.priorities.routine}`,
    ...codes.map((c) => String(r.flagCounts[c] ?? 0)),
  ]);
  const widths = header.map((h, k) => Math.max(h.length, ...lines.map((l) => l[k]!.length)));
  const render = (cells: string[]) =>
    cells.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join('  ');
  return [render(header), ...lines.map(render)].join('\n');
}
