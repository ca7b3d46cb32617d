import { conditionForMeasurement, filterZeroPhase, lowPassBiquad } from './filters.js';

/**
 * Interval, axis and amplitude measurements from a median beat, the way diagnostic
 * electrocardiographs make them (IEC 60601-2-25:2011 §201.12.4.102 "measurement of
 * durations and intervals" on a representative beat; AHA/ACCF/HRS recommendations for the
 * standardization and interpretation of the ECG, part I, Kligfield et al. 2007):
 *
 *  - beats are classed as dominant (N) or ventricular ectopic (V) by QRS correlation with
 *    the dominant template and QRS width; only dominant beats form the median beat;
 *  - the median beat is the sample-wise median of the aligned dominant beats of each lead,
 *    which suppresses noise, non-phase-locked activity (AF fibrillatory waves) and outliers;
 *  - global QRS onset and offset: a core from all leads together (spatial velocity), then
 *    widened lead by lead, so QRS duration runs from the earliest onset to the latest
 *    offset over the leads, as IEC 60601-2-25 asks (see qrsBoundaries);
 *  - the isoelectric level of each lead is the PR segment just before QRS onset; ST
 *    deviation is measured against it at J + 60 ms;
 *  - T end, per lead, is where the T-wave downslope has flattened to 10 % of its steepest
 *    slope; QT runs from the global QRS onset to the latest T end over the leads;
 *  - QTc by Bazett (Heart 1920;7:353) QT/√RR and Fridericia (Acta Med Scand 1920;53:469)
 *    QT/∛RR, RR in seconds;
 *  - frontal QRS axis from the net QRS areas of leads I and II (or I and aVF) in the
 *    hexaxial reference system.
 */

export type BeatLabel = 'N' | 'V' | 'Q';

export interface RrStatistics {
  count: number;
  meanMs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  sdMs: number;
  /** Root mean square of successive differences. */
  rmssdMs: number;
  /** sd / mean. */
  coefficientOfVariation: number;
}

export interface LeadMeasurement {
  lead: string;
  /** False when the lead was excluded (off, saturated); the values are then null. */
  measured: boolean;
  pAmplitudeUv: number | null;
  qAmplitudeUv: number | null;
  rAmplitudeUv: number | null;
  sAmplitudeUv: number | null;
  qrsPeakToPeakUv: number | null;
  /** Net QRS area, µV·ms. */
  qrsAreaUvMs: number | null;
  /** ST level at the J point and at J + 60 ms, relative to the PR segment. */
  stJUv: number | null;
  st60Uv: number | null;
  tAmplitudeUv: number | null;
}

export interface MedianBeat {
  sampleRateHz: number;
  /** Index of the R-peak fiducial within each lead's samples. */
  fiducialIndex: number;
  beatsUsed: number;
  /** Per lead (same order as `leads`), µV, isoelectric level subtracted; empty if excluded. */
  samples: Float64Array[];
}

export interface EcgMeasurements {
  beatCount: number;
  heartRateBpm: number | null;
  rr: RrStatistics | null;
  beatLabels: BeatLabel[];
  pvcCount: number;
  /** Ventricular ectopic beats as a share of all beats, %. */
  pvcBurdenPercent: number;
  /** P waves phase-locked to the QRS seen in the dominant beats. */
  pWavePresent: boolean;
  /** Median correlation of single-beat P segments with the median P segment (0…1). */
  pWaveConsistency: number | null;
  /** Largest P hump of the median beat (detrended), µV. */
  pWaveAmplitudeUv: number | null;
  prMs: number | null;
  qrsMs: number | null;
  qtMs: number | null;
  qtcBazettMs: number | null;
  qtcFridericiaMs: number | null;
  /** RR used for QTc: the median RR preceding the beats of the median beat. */
  qtcRrMs: number | null;
  qrsAxisDeg: number | null;
  /** Fiducial points of the median beat, ms relative to the R peak. */
  fiducialsMs: {
    pOnset: number | null;
    qrsOnset: number | null;
    qrsOffset: number | null;
    tEnd: number | null;
  };
  leads: LeadMeasurement[];
  medianBeat: MedianBeat | null;
}

export interface MeasurementInput {
  leads: readonly string[];
  /** One array per lead, microvolts, raw (conditioning is done here). */
  signals: readonly ArrayLike<number>[];
  sampleRateHz: number;
  rPeaks: readonly number[];
  /** Leads to leave out of the median beat and per-lead values (e.g. lead off). */
  excludedLeads?: ReadonlySet<string>;
  mainsHz?: 50 | 60;
}

/** Median-beat window around the R peak. */
const PRE_SECONDS = 0.5;
const POST_SECONDS = 0.7;
/** QRS window for beat classification. */
const QRS_HALF_SECONDS = 0.1;
/** Dominant-beat correlation and the width that makes a beat ventricular (AAMI: ≥ 120 ms). */
const DOMINANT_CORRELATION = 0.85;
const WIDE_QRS_MS = 120;
const ALIGN_SECONDS = 0.02;
const P_MIN_UV = 40;
const DELINEATION_LOW_PASS_HZ = 40;
const P_MIN_CONSISTENCY = 0.7;

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (position - lo);
}

const median = (values: readonly number[]) => quantile(values, 0.5);

export function rrStatistics(rPeaks: readonly number[], sampleRateHz: number): RrStatistics | null {
  if (rPeaks.length < 2) return null;
  const rr = rPeaks.slice(1).map((r, i) => ((r - rPeaks[i]!) * 1000) / sampleRateHz);
  const mean = rr.reduce((a, b) => a + b, 0) / rr.length;
  const sd = Math.sqrt(rr.reduce((a, b) => a + (b - mean) ** 2, 0) / rr.length);
  let successive = 0;
  for (let i = 1; i < rr.length; i++) successive += (rr[i]! - rr[i - 1]!) ** 2;
  return {
    count: rr.length,
    meanMs: mean,
    medianMs: median(rr),
    minMs: Math.min(...rr),
    maxMs: Math.max(...rr),
    sdMs: sd,
    rmssdMs: rr.length > 1 ? Math.sqrt(successive / (rr.length - 1)) : 0,
    coefficientOfVariation: mean > 0 ? sd / mean : 0,
  };
}

function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i]!;
    sb += b[i]!;
  }
  const ma = sa / n;
  const mb = sb / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma;
    const y = b[i]! - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** Concatenated QRS windows of the given leads around `centre` (the classification vector). */
function qrsVector(signals: readonly Float64Array[], centre: number, half: number): Float64Array {
  const out = new Float64Array(signals.length * (2 * half + 1));
  let p = 0;
  for (const s of signals) {
    for (let i = centre - half; i <= centre + half; i++) out[p++] = s[i] ?? 0;
  }
  return out;
}

/** Sample-wise median of equally long vectors (a template). */
function medianVector(vectors: readonly Float64Array[]): Float64Array {
  const length = vectors[0]?.length ?? 0;
  const out = new Float64Array(length);
  const column = new Float64Array(vectors.length);
  for (let i = 0; i < length; i++) {
    for (let k = 0; k < vectors.length; k++) column[k] = vectors[k]![i]!;
    column.sort();
    const m = column.length >> 1;
    out[i] = column.length % 2 ? column[m]! : (column[m - 1]! + column[m]!) / 2;
  }
  return out;
}

/** QRS duration proxy of one beat: time the summed absolute slope stays above 20 % of its peak. */
function qrsWidthMs(
  signals: readonly Float64Array[],
  centre: number,
  half: number,
  fs: number,
): number {
  const from = centre - half;
  const length = 2 * half + 1;
  const velocity = new Float64Array(length);
  for (const s of signals) {
    for (let k = 1; k < length; k++) {
      const i = from + k;
      velocity[k]! += Math.abs((s[i] ?? 0) - (s[i - 1] ?? 0));
    }
  }
  let peak = 0;
  let peakAt = half;
  for (let k = 0; k < length; k++) {
    if (velocity[k]! > peak) {
      peak = velocity[k]!;
      peakAt = k;
    }
  }
  const limit = 0.2 * peak;
  let start = peakAt;
  let end = peakAt;
  // Walk out from the steepest point, bridging dips shorter than 20 ms (notched complexes).
  const bridge = Math.round(0.02 * fs);
  for (let k = peakAt, gap = 0; k >= 0; k--) {
    if (velocity[k]! >= limit) {
      start = k;
      gap = 0;
    } else if (++gap > bridge) break;
  }
  for (let k = peakAt, gap = 0; k < length; k++) {
    if (velocity[k]! >= limit) {
      end = k;
      gap = 0;
    } else if (++gap > bridge) break;
  }
  return ((end - start + 1) * 1000) / fs;
}

/**
 * Template of the dominant QRS shape. The beats are clustered around medoids (the beat
 * that most others resemble): the largest cluster is dominant, unless a second cluster is
 * nearly as large (bigeminy) and has the narrower QRS, which makes it the conducted one.
 * A median over all beats would blend the two shapes of a bigeminal rhythm.
 */
function dominantTemplate(
  vectors: readonly Float64Array[],
  leadCount: number,
  fs: number,
): Float64Array {
  // Up to 60 beats, evenly spread, keep this quadratic step cheap on long recordings.
  const step = Math.max(1, Math.ceil(vectors.length / 60));
  const sample = vectors.filter((_, k) => k % step === 0);
  const m = sample.length;
  const similar = Array.from({ length: m }, () => new Uint8Array(m));
  for (let i = 0; i < m; i++) {
    similar[i]![i] = 1;
    for (let j = i + 1; j < m; j++) {
      const match = pearson(sample[i]!, sample[j]!) >= DOMINANT_CORRELATION ? 1 : 0;
      similar[i]![j] = match;
      similar[j]![i] = match;
    }
  }
  const clusterAround = (candidates: number[]) => {
    let best = candidates[0]!;
    let bestSize = -1;
    for (const i of candidates) {
      const size = candidates.reduce((count, j) => count + similar[i]![j]!, 0);
      if (size > bestSize) {
        best = i;
        bestSize = size;
      }
    }
    return { medoid: best, members: candidates.filter((j) => similar[best]![j] === 1) };
  };
  const all = sample.map((_, i) => i);
  const first = clusterAround(all);
  const rest = all.filter((i) => !first.members.includes(i));
  let dominant = first;
  if (rest.length >= 0.2 * m) {
    const second = clusterAround(rest);
    const width = (i: number) => vectorQrsWidthMs(sample[i]!, leadCount, fs);
    if (
      second.members.length >= 0.6 * first.members.length &&
      width(second.medoid) + 20 < width(first.medoid)
    ) {
      dominant = second;
    }
  }
  return medianVector(dominant.members.map((i) => sample[i]!));
}

/** QRS width of a classification vector (leads concatenated, each 2·half + 1 samples). */
function vectorQrsWidthMs(vector: Float64Array, leadCount: number, fs: number): number {
  const length = vector.length / leadCount;
  const half = (length - 1) / 2;
  const leads = Array.from({ length: leadCount }, (_, l) =>
    vector.subarray(l * length, (l + 1) * length),
  );
  return qrsWidthMs(leads, half, half, fs);
}

interface Classification {
  labels: BeatLabel[];
  /** Fine alignment offset (samples) of each beat relative to its rPeak. */
  shifts: number[];
}

/**
 * Classes beats by QRS shape against the dominant template: correlation ≥ 0.85 is
 * dominant; a beat that does not match and is wide (≥ 120 ms, or 40 ms wider than the
 * dominant QRS) or premature with a different shape is ventricular (the AAMI EC57 'V'
 * class); other mismatches (noise, aberrancy) are 'Q', unclassified.
 */
function classifyBeats(
  signals: readonly Float64Array[],
  rPeaks: readonly number[],
  fs: number,
): Classification {
  const half = Math.round(QRS_HALF_SECONDS * fs);
  const align = Math.round(ALIGN_SECONDS * fs);
  const n = signals[0]?.length ?? 0;
  const usable = rPeaks.map((r) => r - half - align >= 0 && r + half + align < n);
  const vectors = rPeaks.map((r) => qrsVector(signals, r, half));
  const labels: BeatLabel[] = rPeaks.map(() => 'Q');
  const shifts = rPeaks.map(() => 0);
  const inside = vectors.filter((_, k) => usable[k]);
  if (inside.length === 0) return { labels, shifts };

  let template = dominantTemplate(inside, signals.length, fs);
  // Refine once on every beat that matches it.
  const matching = vectors.filter(
    (v, k) => usable[k] && pearson(v, template) >= DOMINANT_CORRELATION,
  );
  if (matching.length >= Math.max(1, inside.length * 0.25)) template = medianVector(matching);

  // Fine alignment: the shift within ±20 ms that correlates best with the template.
  const correlations = rPeaks.map((r, k) => {
    if (!usable[k]) return 0;
    let best = -2;
    for (let s = -align; s <= align; s++) {
      const c = pearson(qrsVector(signals, r + s, half), template);
      if (c > best) {
        best = c;
        shifts[k] = s;
      }
    }
    return best;
  });
  const dominantWidths = rPeaks
    .map((r, k) =>
      usable[k] && correlations[k]! >= DOMINANT_CORRELATION
        ? qrsWidthMs(signals, r + shifts[k]!, half, fs)
        : -1,
    )
    .filter((w) => w >= 0);
  const dominantWidth = dominantWidths.length ? median(dominantWidths) : 100;
  const rr = rPeaks.slice(1).map((r, i) => r - rPeaks[i]!);
  const typicalRr = rr.length ? median(rr) : Number.POSITIVE_INFINITY;

  rPeaks.forEach((r, k) => {
    if (!usable[k]) return;
    if (correlations[k]! >= DOMINANT_CORRELATION) {
      labels[k] = 'N';
      return;
    }
    const width = qrsWidthMs(signals, r + shifts[k]!, half, fs);
    const premature = k > 0 && r - rPeaks[k - 1]! < 0.85 * typicalRr;
    const wide = width >= WIDE_QRS_MS || width >= dominantWidth + 40;
    labels[k] = wide || (premature && correlations[k]! < 0.6) ? 'V' : 'Q';
  });
  return { labels, shifts };
}

interface Fiducials {
  qrsOnset: number;
  qrsOffset: number;
}

interface QrsBoundaries extends Fiducials {
  /** The spatial-velocity core (qrsCore), where amplitudes, the PR level and ST are read. */
  core: Fiducials;
}

/**
 * The QRS core (indices in the median beat): where the spatial velocity, summed over all
 * leads, stays above 10 % (onset) and 15 % (offset) of its peak. Leads with large QRS
 * complexes dominate the sum, so this misses the first and last deflections of the others;
 * qrsBoundaries() widens it lead by lead.
 */
function qrsCore(beats: readonly Float64Array[], fiducial: number, fs: number): Fiducials {
  const length = beats[0]!.length;
  const velocity = new Float64Array(length);
  for (const b of beats) {
    for (let i = 1; i < length; i++) velocity[i]! += Math.abs(b[i]! - b[i - 1]!);
  }
  // Smooth over 10 ms so single-sample noise does not end the search early.
  const smooth = movingAverage(velocity, Math.max(1, Math.round(0.01 * fs)));
  const qrsFrom = Math.max(1, fiducial - Math.round(0.08 * fs));
  const qrsTo = Math.min(length - 1, fiducial + Math.round(0.08 * fs));
  let peak = 0;
  for (let i = qrsFrom; i <= qrsTo; i++) peak = Math.max(peak, smooth[i]!);
  // The quietest 40 ms before the QRS (in the PR segment) is the velocity floor.
  const floorWindow = Math.round(0.04 * fs);
  let floor = Number.POSITIVE_INFINITY;
  for (
    let start = Math.max(1, fiducial - Math.round(0.3 * fs));
    start + floorWindow < fiducial - Math.round(0.03 * fs);
    start++
  ) {
    let sum = 0;
    for (let i = start; i < start + floorWindow; i++) sum += smooth[i]!;
    floor = Math.min(floor, sum / floorWindow);
  }
  if (!Number.isFinite(floor)) floor = 0;
  const onsetLimit = floor + 0.1 * (peak - floor);
  const offsetLimit = floor + 0.15 * (peak - floor);
  let onset = qrsFrom;
  for (let i = fiducial; i >= Math.max(1, fiducial - Math.round(0.15 * fs)); i--) {
    if (smooth[i]! < onsetLimit) {
      onset = i;
      break;
    }
    onset = i;
  }
  let offset = qrsTo;
  for (let i = fiducial; i <= Math.min(length - 1, fiducial + Math.round(0.2 * fs)); i++) {
    if (smooth[i]! < offsetLimit) {
      offset = i;
      break;
    }
    offset = i;
  }
  return { qrsOnset: onset, qrsOffset: offset };
}

/** A lead's QRS lasts while its slope is above this share of its largest QRS slope. */
const QRS_LEAD_SLOPE_SHARE = 0.02;
/** How far a lead's QRS may reach beyond the spatial-velocity core, s. */
const QRS_LEAD_REACH_SECONDS = 0.1;
/** Leads with a smaller QRS (peak to peak, µV) are too close to noise to delineate. */
const QRS_LEAD_MIN_UV = 150;
/**
 * The global onset is the 3rd-earliest lead onset (the offset the 3rd-latest): one or two
 * leads whose noise keeps the slope above the share would otherwise set the interval.
 */
const QRS_LEAD_RANK = 3;

/**
 * Global QRS onset and offset: the earliest onset and the latest offset over the leads
 * (IEC 60601-2-25:2011 §201.12.4.102.3.2; the CSE study's reference was the same union of
 * per-lead boundaries), taken robustly (QRS_LEAD_RANK). Per lead, the QRS runs outward from
 * the core of qrsCore() for as long as the lead's own slope stays above 2 % of its largest
 * QRS slope; a lead with a small QRS thus counts as much as one with a large QRS, whose
 * slope dominates the spatial velocity. Tuned on LUDB (docs/ecg-measurements.md).
 */
function qrsBoundaries(
  beats: readonly Float64Array[],
  fiducial: number,
  fs: number,
): QrsBoundaries {
  const core = qrsCore(beats, fiducial, fs);
  const length = beats[0]!.length;
  const reach = Math.round(QRS_LEAD_REACH_SECONDS * fs);
  const smoothing = Math.max(1, Math.round(0.008 * fs));
  const onsets: number[] = [];
  const offsets: number[] = [];
  for (const b of beats) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = core.qrsOnset; i <= core.qrsOffset; i++) {
      lo = Math.min(lo, b[i]!);
      hi = Math.max(hi, b[i]!);
    }
    if (hi - lo < QRS_LEAD_MIN_UV) continue;
    const slope = new Float64Array(length);
    for (let i = 1; i < length; i++) slope[i] = Math.abs(b[i]! - b[i - 1]!);
    const smooth = movingAverage(slope, smoothing);
    let peak = 0;
    for (let i = core.qrsOnset; i <= core.qrsOffset; i++) peak = Math.max(peak, smooth[i]!);
    const from = Math.max(1, core.qrsOnset - reach);
    const to = Math.min(length - 1, core.qrsOffset + reach);
    let onset = core.qrsOnset;
    while (onset > from && smooth[onset - 1]! >= QRS_LEAD_SLOPE_SHARE * peak) onset--;
    let offset = core.qrsOffset;
    while (offset < to && smooth[offset + 1]! >= QRS_LEAD_SLOPE_SHARE * peak) offset++;
    onsets.push(onset);
    offsets.push(offset);
  }
  if (onsets.length === 0) return { ...core, core };
  onsets.sort((a, b) => a - b);
  offsets.sort((a, b) => b - a);
  const k = Math.min(onsets.length - 1, QRS_LEAD_RANK - 1);
  return { qrsOnset: onsets[k]!, qrsOffset: offsets[k]!, core };
}

function movingAverage(x: Float64Array, width: number): Float64Array {
  const out = new Float64Array(x.length);
  const half = Math.floor(width / 2);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < Math.min(half, x.length); i++) {
    sum += x[i]!;
    count++;
  }
  for (let i = 0; i < x.length; i++) {
    const enter = i + half;
    if (enter < x.length) {
      sum += x[enter]!;
      count++;
    }
    const leave = i - half - 1;
    if (leave >= 0) {
      sum -= x[leave]!;
      count--;
    }
    out[i] = sum / count;
  }
  return out;
}

function mean(x: Float64Array, from: number, to: number): number {
  let sum = 0;
  let count = 0;
  for (let i = Math.max(0, from); i < Math.min(x.length, to); i++) {
    sum += x[i]!;
    count++;
  }
  return count ? sum / count : 0;
}

/** Signed extreme (largest |value|) in [from, to). */
function signedExtreme(x: Float64Array, from: number, to: number): { value: number; at: number } {
  let value = 0;
  let at = from;
  for (let i = Math.max(0, from); i < Math.min(x.length, to); i++) {
    if (Math.abs(x[i]!) > Math.abs(value)) {
      value = x[i]!;
      at = i;
    }
  }
  return { value, at };
}

/** T end: the T-wave downslope has flattened to this share of its steepest slope. */
const T_END_SLOPE_SHARE = 0.1;

/**
 * T end by a slope threshold: from the steepest point of the T-wave downslope (towards the
 * baseline) after the T peak, the first point where the slope has fallen under 10 % of the
 * steepest. The tangent method (Lepeschkin & Surawicz, Circulation 1952;6:378), used
 * before, ends the T wave where its steepest tangent meets the baseline, and came out
 * 20–30 ms before cardiologists' T ends on LUDB (docs/ecg-measurements.md): the tail of
 * the T wave is shallower than its tangent.
 */
function slopeTEnd(x: Float64Array, tPeak: number, searchTo: number, fs: number): number | null {
  const sign = Math.sign(x[tPeak]!);
  if (sign === 0) return null;
  // Slope towards the baseline, smoothed over ±2 samples.
  const towards = (i: number) =>
    (-sign * (x[Math.min(x.length - 1, i + 2)]! - x[Math.max(0, i - 2)]!)) / 4;
  let steepest = 0;
  let at = -1;
  const to = Math.min(x.length - 1, searchTo);
  for (let i = tPeak + 1; i < to; i++) {
    if (towards(i) > steepest) {
      steepest = towards(i);
      at = i;
    }
  }
  if (at < 0 || steepest <= 0) return null;
  for (let i = at + 1; i < to; i++) {
    if (towards(i) < T_END_SLOPE_SHARE * steepest) return Math.min(i, tPeak + Math.round(0.3 * fs));
  }
  return null;
}

export class MeasurementError extends Error {
  readonly code = 'MEASUREMENT_INPUT_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'MeasurementError';
  }
}

/** Index of a lead by name, case-insensitive ('aVF' = 'AVF'). */
function leadIndex(leads: readonly string[], name: string): number {
  const target = name.toLowerCase();
  return leads.findIndex((l) => l.toLowerCase() === target);
}

export function measureEcg(input: MeasurementInput): EcgMeasurements {
  const { leads, signals, sampleRateHz: fs, rPeaks } = input;
  if (signals.length !== leads.length) {
    throw new MeasurementError(`${leads.length} lead names for ${signals.length} signals`);
  }
  if (!(fs > 0)) throw new MeasurementError(`sample rate must be positive, got ${fs}`);
  const excluded = input.excludedLeads ?? new Set<string>();
  const used = leads.map((l) => !excluded.has(l));
  const rr = rrStatistics(rPeaks, fs);
  const heartRateBpm = rr ? 60000 / rr.meanMs : null;
  const conditioned = signals.map((s, l) =>
    used[l] ? conditionForMeasurement(s, fs, { mainsHz: input.mainsHz }) : new Float64Array(0),
  );
  const usedSignals = conditioned.filter((_, l) => used[l]);

  const emptyLeads: LeadMeasurement[] = leads.map((lead) => ({
    lead,
    measured: false,
    pAmplitudeUv: null,
    qAmplitudeUv: null,
    rAmplitudeUv: null,
    sAmplitudeUv: null,
    qrsPeakToPeakUv: null,
    qrsAreaUvMs: null,
    stJUv: null,
    st60Uv: null,
    tAmplitudeUv: null,
  }));
  const empty: EcgMeasurements = {
    beatCount: rPeaks.length,
    heartRateBpm,
    rr,
    beatLabels: rPeaks.map(() => 'Q'),
    pvcCount: 0,
    pvcBurdenPercent: 0,
    pWavePresent: false,
    pWaveConsistency: null,
    pWaveAmplitudeUv: null,
    prMs: null,
    qrsMs: null,
    qtMs: null,
    qtcBazettMs: null,
    qtcFridericiaMs: null,
    qtcRrMs: null,
    qrsAxisDeg: null,
    fiducialsMs: { pOnset: null, qrsOnset: null, qrsOffset: null, tEnd: null },
    leads: emptyLeads,
    medianBeat: null,
  };
  if (usedSignals.length === 0 || rPeaks.length === 0) return empty;

  const { labels, shifts } = classifyBeats(usedSignals, rPeaks, fs);
  const pvcCount = labels.filter((l) => l === 'V').length;
  const pvcBurdenPercent = (100 * pvcCount) / rPeaks.length;

  const pre = Math.round(PRE_SECONDS * fs);
  const post = Math.round(POST_SECONDS * fs);
  const length = pre + post + 1;
  const n = usedSignals[0]!.length;
  const dominantIndex = rPeaks
    .map((_, k) => k)
    .filter(
      (k) =>
        labels[k] === 'N' &&
        rPeaks[k]! + shifts[k]! - pre >= 0 &&
        rPeaks[k]! + shifts[k]! + post < n,
    );
  const dominant = dominantIndex.map((k) => rPeaks[k]! + shifts[k]!);
  // Beats after a long enough pause to show their P wave clear of the previous T wave.
  const rrBefore = dominantIndex.map((k) => (k > 0 ? rPeaks[k]! - rPeaks[k - 1]! : 0));
  const rrMedian = median(rrBefore.filter((x) => x > 0));
  const unhurried = dominant.filter((_, j) => rrBefore[j]! >= rrMedian);
  if (dominant.length === 0) return { ...empty, beatLabels: labels, pvcCount, pvcBurdenPercent };

  // Median beat of every measured lead.
  const raw = conditioned.map((s, l) => {
    if (!used[l]) return new Float64Array(0);
    return medianVector(dominant.map((r) => s.subarray(r - pre, r + post + 1) as Float64Array));
  });
  const fiducial = pre;
  // Amplitudes come from the wide-band median beat (AHA: 150 Hz for adult amplitudes; 100 Hz
  // here); wave boundaries are found on a 40 Hz copy, where residual muscle noise cannot
  // hold the slope above the onset/offset thresholds.
  const smooth = (x: Float64Array) =>
    DELINEATION_LOW_PASS_HZ < 0.45 * fs
      ? filterZeroPhase(x, [lowPassBiquad(DELINEATION_LOW_PASS_HZ, fs)], Math.round(0.05 * fs))
      : x;
  const smoothRaw = raw.map((b, l) => (used[l] ? smooth(b) : b));
  const { qrsOnset, qrsOffset, core } = qrsBoundaries(
    smoothRaw.filter((_, l) => used[l]),
    fiducial,
    fs,
  );

  // Isoelectric level: PR segment, 10–30 ms before the onset of the QRS core. Levels,
  // amplitudes and ST are read against the core, where the sum of all leads moves: the
  // widened onset and offset of the intervals reach the first and last small deflections
  // of single leads, and ST at J + 60 ms keeps the J point its criteria were written for.
  const isoFrom = core.qrsOnset - Math.round(0.03 * fs);
  const isoTo = core.qrsOnset - Math.round(0.01 * fs);
  const levels = raw.map((b, l) => (used[l] ? mean(b, isoFrom, isoTo) : 0));
  const beats = raw.map((b, l) => (used[l] ? b.map((v) => v - levels[l]!) : b));
  const smoothBeats = smoothRaw.map((b, l) => (used[l] ? b.map((v) => v - levels[l]!) : b));

  // RR before and after the beats in the median: in bigeminy the beat after a dominant
  // one comes early, and the median beat's T wave runs into it.
  const rrAfter = dominantIndex
    .map((k) => (k + 1 < rPeaks.length ? rPeaks[k + 1]! - rPeaks[k]! : 0))
    .filter((x) => x > 0);
  const nextRr = rrAfter.length ? median(rrAfter) : Number.POSITIVE_INFINITY;
  const previousRr = Number.isFinite(rrMedian) ? rrMedian : nextRr;
  // T wave and T end, per lead; QT from the median of the leads with a clear T wave. The
  // T peak is sought up to 250 ms before the next beat, so the next P wave is not taken,
  // and the T end before the next QRS.
  const tFrom = qrsOffset + Math.round(0.06 * fs);
  const tLimit = Math.min(
    length - 1,
    fiducial + Math.round(Math.min(0.6 * fs, Math.max(0.25 * fs, nextRr - 0.25 * fs))),
  );
  const tEndLimit = Math.min(length - 1, fiducial + Math.round(nextRr - 0.08 * fs));
  const tEnds: number[] = [];
  const tAmplitudes: (number | null)[] = smoothBeats.map((b, l) => {
    if (!used[l]) return null;
    const t = signedExtreme(b, tFrom, tLimit);
    if (Math.abs(t.value) >= 100) {
      const end = slopeTEnd(b, t.at, Math.min(tEndLimit, t.at + Math.round(0.25 * fs)), fs);
      if (end !== null && end <= tEndLimit) tEnds.push(end);
    }
    return t.value;
  });
  // The latest T end over the leads, as for the QRS offset (IEC 60601-2-25 measures QT
  // from the earliest QRS onset to the latest T end in any lead).
  const tEnd = tEnds.length ? Math.max(...tEnds) : null;

  // P wave: window from 400 ms before QRS onset (first-degree AV block lengthens PR to
  // 300–400 ms) to 30 ms before it, but not into the previous beat's T wave.
  const previousTEnd =
    tEnd === null ? fiducial - 0.55 * previousRr : tEnd - previousRr + Math.round(0.02 * fs);
  const pFrom = Math.max(0, core.qrsOnset - Math.round(0.4 * fs), Math.round(previousTEnd));
  const pTo = core.qrsOnset - Math.round(0.03 * fs);
  const p = pWave(
    smoothBeats,
    (l) => smooth(conditioned[l]!),
    unhurried.length >= 3 ? unhurried : dominant,
    used,
    pFrom,
    pTo,
    fiducial,
    fs,
  );

  const ms = (samples: number) => (samples * 1000) / fs;
  const qrsMs = ms(qrsOffset - qrsOnset);
  const qtMs = tEnd === null ? null : ms(tEnd - qrsOnset);
  // QT adapts to the interval before the beat: correct with the median RR preceding the
  // beats of the median beat (the mean RR in a regular rhythm).
  const rrSeconds = Number.isFinite(previousRr) ? previousRr / fs : rr ? rr.meanMs / 1000 : null;
  const qtcBazettMs = qtMs !== null && rrSeconds ? qtMs / Math.sqrt(rrSeconds) : null;
  const qtcFridericiaMs = qtMs !== null && rrSeconds ? qtMs / Math.cbrt(rrSeconds) : null;

  // Per-lead amplitudes and ST.
  const j60 = core.qrsOffset + Math.round(0.06 * fs);
  const perLead: LeadMeasurement[] = leads.map((lead, l) => {
    if (!used[l]) return emptyLeads[l]!;
    const b = beats[l]!;
    let max = 0;
    let min = 0;
    let area = 0;
    let firstExtreme = 0;
    for (let i = core.qrsOnset; i <= core.qrsOffset; i++) {
      const v = b[i]!;
      if (v > max) max = v;
      if (v < min) min = v;
      area += v;
      if (firstExtreme === 0 && Math.abs(v) >= 50) firstExtreme = v;
    }
    // A Q wave is an initial negative deflection before the R wave.
    let q = 0;
    if (firstExtreme < 0) {
      for (let i = core.qrsOnset; i <= core.qrsOffset && b[i]! <= 0; i++) q = Math.min(q, b[i]!);
    }
    return {
      lead,
      measured: true,
      pAmplitudeUv: p.present ? signedExtreme(smoothBeats[l]!, pFrom, pTo).value : null,
      qAmplitudeUv: q,
      rAmplitudeUv: max,
      sAmplitudeUv: min,
      qrsPeakToPeakUv: max - min,
      qrsAreaUvMs: (area * 1000) / fs,
      // ST levels are slow: read them off the 40 Hz copy, where noise is lower.
      stJUv: smoothBeats[l]![core.qrsOffset]!,
      st60Uv: j60 < length ? smoothBeats[l]![j60]! : null,
      tAmplitudeUv: tAmplitudes[l] ?? null,
    };
  });

  return {
    beatCount: rPeaks.length,
    heartRateBpm,
    rr,
    beatLabels: labels,
    pvcCount,
    pvcBurdenPercent,
    pWavePresent: p.present,
    pWaveConsistency: p.consistency,
    pWaveAmplitudeUv: p.amplitude,
    prMs: p.present && p.onset !== null ? ms(qrsOnset - p.onset) : null,
    qrsMs,
    qtMs,
    qtcBazettMs,
    qtcFridericiaMs,
    qtcRrMs: rrSeconds === null ? null : rrSeconds * 1000,
    qrsAxisDeg: frontalAxis(leads, perLead),
    fiducialsMs: {
      pOnset: p.present && p.onset !== null ? ms(p.onset - fiducial) : null,
      qrsOnset: ms(qrsOnset - fiducial),
      qrsOffset: ms(qrsOffset - fiducial),
      tEnd: tEnd === null ? null : ms(tEnd - fiducial),
    },
    leads: perLead,
    medianBeat: {
      sampleRateHz: fs,
      fiducialIndex: fiducial,
      beatsUsed: dominant.length,
      samples: beats,
    },
  };
}

/**
 * P-wave presence and onset. Sinus P waves are locked to the QRS, so each beat's P segment
 * resembles the median one; fibrillatory waves are not, and average away in the median.
 * Consistency is judged on beats whose preceding RR is at least the median, so that the
 * previous T wave, which is locked to the previous beat, stays out of the window.
 * Present = a median P hump ≥ 40 µV in some lead (normal P waves are 50–250 µV in II) and
 * a median single-beat correlation with it ≥ 0.7 in that lead. On MIT-BIH and PTB-XL sinus
 * rhythm scores 0.75–0.99 (0.75 at 100 samples/s), AF mostly under 0.6; residual
 * fibrillatory activity reaches the amplitude at times but rarely the consistency.
 */
function pWave(
  beats: readonly Float64Array[],
  leadSignal: (lead: number) => Float64Array,
  dominant: readonly number[],
  used: readonly boolean[],
  from: number,
  to: number,
  fiducial: number,
  fs: number,
): {
  present: boolean;
  consistency: number | null;
  onset: number | null;
  amplitude: number | null;
} {
  const none = { present: false, consistency: null, onset: null, amplitude: null };
  if (to - from < Math.round(0.04 * fs)) return none;
  // Lead with the largest P hump. Segments are detrended (a straight line through their
  // ends removed) so that the tail of the previous T wave, a slope, counts for nothing.
  let best = -1;
  let bestAmplitude = 0;
  beats.forEach((b, l) => {
    if (!used[l]) return;
    const segment = detrend(b.slice(from, to));
    const a = Math.abs(signedExtreme(segment, 0, segment.length).value);
    if (a > bestAmplitude) {
      bestAmplitude = a;
      best = l;
    }
  });
  if (best < 0) return none;
  // Each beat is compared with the median of the *other* beats: with a dozen beats, a
  // median that includes the beat itself keeps enough of its fibrillatory waves to
  // correlate with them.
  const signal = leadSignal(best);
  const segments = dominant.map((r) => {
    const start = r - fiducial + from;
    return detrend(signal.slice(start, start + (to - from)));
  });
  const correlations = segments.map((segment, j) =>
    pearson(segment, medianVector(segments.filter((_, k) => k !== j))),
  );
  const consistency = correlations.length >= 3 ? median(correlations) : null;
  const present =
    bestAmplitude >= P_MIN_UV && (consistency === null || consistency >= P_MIN_CONSISTENCY);
  if (!present) return { present, consistency, onset: null, amplitude: bestAmplitude };

  // Onset: spatial magnitude of the P segment falls below 15 % of its peak, going back.
  const magnitude = new Float64Array(to - from);
  beats.forEach((b, l) => {
    if (!used[l]) return;
    for (let i = from; i < to; i++) magnitude[i - from]! += Math.abs(b[i]!);
  });
  let peakAt = 0;
  for (let i = 0; i < magnitude.length; i++) if (magnitude[i]! > magnitude[peakAt]!) peakAt = i;
  // At fast rates the previous T wave runs into the window: stop also at a trough (the
  // T–P junction) that is under half the P peak.
  const peak = magnitude[peakAt]!;
  const limit = 0.15 * peak;
  const smoothing = Math.max(1, Math.round(0.01 * fs));
  let onset = from;
  for (let i = peakAt; i >= 0; i--) {
    const v = magnitude[i]!;
    const trough =
      v < 0.5 * peak &&
      i - smoothing >= 0 &&
      magnitude[i - smoothing]! > v &&
      magnitude[Math.min(magnitude.length - 1, i + smoothing)]! > v;
    if (v < limit || trough) {
      onset = from + i;
      break;
    }
  }
  return { present, consistency, onset, amplitude: bestAmplitude };
}

/** Removes the straight line through the first and last samples. */
function detrend(x: Float64Array): Float64Array {
  const n = x.length;
  if (n < 2) return x;
  const first = x[0]!;
  const slope = (x[n - 1]! - first) / (n - 1);
  for (let i = 0; i < n; i++) x[i] = x[i]! - first - slope * i;
  return x;
}

/**
 * Frontal-plane QRS axis from net QRS areas. Hexaxial system: lead I at 0°, II at +60°,
 * aVF at +90°; with I = Hx and II = ½Hx + (√3/2)Hy, Hy = (2·II − I)/√3; aVF = (√3/2)Hy.
 */
function frontalAxis(leads: readonly string[], perLead: readonly LeadMeasurement[]): number | null {
  const area = (name: string) => {
    const k = leadIndex(leads, name);
    return k >= 0 ? (perLead[k]?.qrsAreaUvMs ?? null) : null;
  };
  const i = area('I');
  const ii = area('II');
  const avf = area('aVF');
  let hy: number | null = null;
  if (i !== null && ii !== null) hy = (2 * ii - i) / Math.sqrt(3);
  else if (i !== null && avf !== null) hy = (2 * avf) / Math.sqrt(3);
  if (i === null || hy === null || (i === 0 && hy === 0)) return null;
  return (Math.atan2(hy, i) * 180) / Math.PI;
}
