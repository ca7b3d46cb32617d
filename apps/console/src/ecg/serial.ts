import type { PriorExam } from '#contracts';

/** One line of a serial comparison: the same measure on the earlier and the current ECG. */
export interface SerialRow {
  label: string;
  unit: string;
  prior: number | null;
  current: number | null;
  /** current − prior, when both are known. */
  change: number | null;
  /** A change a reader should look at (beyond the measure's usual beat-to-beat spread). */
  notable: boolean;
}

/**
 * Changes worth a second look between two ECGs of one patient. Not diagnostic thresholds:
 * they mark what moved more than repeat recordings of a stable patient usually do (rate
 * 10/min, QRS 20 ms, QTc 30 ms; ST 50 µV = 0.5 mm, the smallest new deviation a reader
 * compares by eye).
 */
const NOTABLE = { heartRateBpm: 10, qrsMs: 20, qtcMs: 30, stUv: 50 } as const;

/** Rate, QRS, QTc, and ST at J+60 ms per lead that both recordings measured. */
export function serialComparison(prior: PriorExam, current: PriorExam): SerialRow[] {
  const rows: SerialRow[] = [
    row(
      'Heart rate',
      '/min',
      measure(prior, 'heartRateBpm'),
      measure(current, 'heartRateBpm'),
      NOTABLE.heartRateBpm,
    ),
    row('QRS', 'ms', measure(prior, 'qrsMs'), measure(current, 'qrsMs'), NOTABLE.qrsMs),
    row('QTc', 'ms', measure(prior, 'qtcMs'), measure(current, 'qtcMs'), NOTABLE.qtcMs),
  ];
  const priorSt = new Map(prior.st.map((s) => [s.lead, s.st60Uv]));
  for (const { lead, st60Uv } of current.st) {
    if (!priorSt.has(lead)) continue;
    rows.push(row(`ST ${lead} (J+60)`, 'µV', priorSt.get(lead) ?? null, st60Uv, NOTABLE.stUv));
  }
  return rows;
}

function measure(exam: PriorExam, key: 'heartRateBpm' | 'qrsMs' | 'qtcMs'): number | null {
  return exam.analysis?.measurements[key] ?? null;
}

function row(
  label: string,
  unit: string,
  prior: number | null,
  current: number | null,
  notableAt: number,
): SerialRow {
  const change = prior === null || current === null ? null : current - prior;
  return {
    label,
    unit,
    prior,
    current,
    change,
    notable: change !== null && Math.abs(change) >= notableAt,
  };
}
