import { isBeatAnnotation, type WfdbAnnotation } from './wfdb.js';

/**
 * Beat-by-beat scoring of a QRS detector against reference annotations, following
 * ANSI/AAMI EC57:2012 (Testing and reporting performance results of cardiac rhythm and
 * ST segment measurement algorithms), as implemented by PhysioNet's bxb:
 *  - a detection matches a reference beat if they are at most 150 ms apart (§3.2: the
 *    match window), each annotation matching at most one of the other kind;
 *  - only beat annotations count as reference beats (WFDB isqrs());
 *  - the first 5 minutes are a learning period that is not scored (§4.2.1);
 *  - ventricular flutter/fibrillation episodes ('[' … ']') are excluded, since there are
 *    no beats to detect in them (EC57 §4.2.1.1, bxb's VF exclusion).
 * Gross statistics sum TP/FN/FP over records before dividing (§4.3.1 "gross").
 */

export const EC57_MATCH_WINDOW_SECONDS = 0.15;
export const EC57_LEARNING_PERIOD_SECONDS = 300;
/** MIT-BIH records with paced rhythm, which EC57 §4.3 allows to be reported separately. */
export const MITDB_PACED_RECORDS: readonly string[] = ['102', '104', '107', '217'];

const VF_ON = '[';
const VF_OFF = ']';

export interface ReferenceBeats {
  /** Sample indices of beat annotations, ascending, outside excluded intervals. */
  beats: number[];
  /** [start, end) sample intervals that are not scored (VF/flutter episodes). */
  excluded: [number, number][];
}

/** Extracts EC57 reference beats (and the VF episodes to exclude) from WFDB annotations. */
export function referenceBeatsFromAnnotations(
  annotations: readonly Pick<WfdbAnnotation, 'sample' | 'code' | 'symbol'>[],
  totalSamples = Number.POSITIVE_INFINITY,
): ReferenceBeats {
  const excluded: [number, number][] = [];
  let vfStart: number | undefined;
  for (const a of annotations) {
    if (a.symbol === VF_ON && vfStart === undefined) vfStart = a.sample;
    else if (a.symbol === VF_OFF && vfStart !== undefined) {
      excluded.push([vfStart, a.sample + 1]);
      vfStart = undefined;
    }
  }
  if (vfStart !== undefined) excluded.push([vfStart, totalSamples]);
  const beats = annotations
    .filter((a) => isBeatAnnotation(a.code) && !inIntervals(a.sample, excluded))
    .map((a) => a.sample)
    .sort((a, b) => a - b);
  return { beats, excluded };
}

function inIntervals(sample: number, intervals: readonly [number, number][]): boolean {
  return intervals.some(([start, end]) => sample >= start && sample < end);
}

export interface Ec57Options {
  sampleRateHz: number;
  /** Samples in the record; decides whether the learning period can be skipped. */
  totalSamples: number;
  /** Default 150 ms. */
  matchWindowSeconds?: number;
  /** Default 300 s. */
  learningPeriodSeconds?: number;
  /** Intervals excluded from scoring, e.g. from referenceBeatsFromAnnotations(). */
  excluded?: readonly [number, number][];
}

export interface Ec57Score {
  tp: number;
  fn: number;
  fp: number;
  /** Sensitivity TP/(TP+FN); null when there are no reference beats. */
  se: number | null;
  /** Positive predictivity TP/(TP+FP); null when there are no detections. */
  ppv: number | null;
}

export interface Ec57RecordScore extends Ec57Score {
  /** First scored sample. */
  scoredFrom: number;
  /** True when the record is no longer than the learning period and was scored whole. */
  scoredFromStart: boolean;
  /** Unmatched reference beats (scored region only), for inspection. */
  falseNegatives: number[];
  /** Unmatched detections (scored region only). */
  falsePositives: number[];
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? numerator / denominator : null;
}

/**
 * Matches detections to reference beats and counts TP/FN/FP in the scored region. Pairs
 * are formed closest-first, so a detection between two reference beats goes to the nearer
 * one, as bxb does.
 */
export function scoreDetections(
  reference: readonly number[],
  detected: readonly number[],
  options: Ec57Options,
): Ec57RecordScore {
  const window = Math.round(
    (options.matchWindowSeconds ?? EC57_MATCH_WINDOW_SECONDS) * options.sampleRateHz,
  );
  const learning = Math.round(
    (options.learningPeriodSeconds ?? EC57_LEARNING_PERIOD_SECONDS) * options.sampleRateHz,
  );
  const scoredFromStart = options.totalSamples <= learning;
  const scoredFrom = scoredFromStart ? 0 : learning;
  const excluded = options.excluded ?? [];
  const refs = [...reference].filter((s) => !inIntervals(s, excluded)).sort((a, b) => a - b);
  const dets = [...detected].filter((s) => !inIntervals(s, excluded)).sort((a, b) => a - b);

  // Candidate pairs within the match window, closest first.
  const pairs: [distance: number, ref: number, det: number][] = [];
  let firstCandidate = 0;
  for (let i = 0; i < refs.length; i++) {
    const r = refs[i]!;
    while (firstCandidate < dets.length && dets[firstCandidate]! < r - window) firstCandidate++;
    for (let j = firstCandidate; j < dets.length && dets[j]! <= r + window; j++) {
      pairs.push([Math.abs(dets[j]! - r), i, j]);
    }
  }
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
  const refMatched = new Uint8Array(refs.length);
  const detMatched = new Uint8Array(dets.length);
  for (const [, i, j] of pairs) {
    if (refMatched[i] || detMatched[j]) continue;
    refMatched[i] = 1;
    detMatched[j] = 1;
  }

  let tp = 0;
  const falseNegatives: number[] = [];
  const falsePositives: number[] = [];
  refs.forEach((r, i) => {
    if (r < scoredFrom) return;
    if (refMatched[i]) tp++;
    else falseNegatives.push(r);
  });
  dets.forEach((d, j) => {
    // A detection in the scored region matched to a reference beat just before it is
    // neither a hit nor a false alarm; it simply is not scored.
    if (d >= scoredFrom && !detMatched[j]) falsePositives.push(d);
  });
  const fn = falseNegatives.length;
  const fp = falsePositives.length;
  return {
    tp,
    fn,
    fp,
    se: ratio(tp, tp + fn),
    ppv: ratio(tp, tp + fp),
    scoredFrom,
    scoredFromStart,
    falseNegatives,
    falsePositives,
  };
}

/** EC57 gross statistics: totals over records, then the ratios. */
export function grossScore(scores: readonly Ec57Score[]): Ec57Score {
  let tp = 0;
  let fn = 0;
  let fp = 0;
  for (const s of scores) {
    tp += s.tp;
    fn += s.fn;
    fp += s.fp;
  }
  return { tp, fn, fp, se: ratio(tp, tp + fn), ppv: ratio(tp, tp + fp) };
}
