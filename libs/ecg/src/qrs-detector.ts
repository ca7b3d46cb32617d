import { detectionBandPass, filterZeroPhase, highPassBiquad, lowPassBiquad } from './filters.js';

/**
 * QRS detection, single- and multi-lead.
 *
 * The structure is Pan & Tompkins' (J. Pan, W. J. Tompkins, "A real-time QRS detection
 * algorithm", IEEE Trans. Biomed. Eng. 32(3):230–236, 1985) with the decision rules as
 * refined by Hamilton & Tompkins ("Quantitative investigation of QRS detection rules using
 * the MIT/BIH arrhythmia database", IEEE Trans. Biomed. Eng. 33(12):1157–1165, 1986):
 *
 *  1. 5–15 Hz band-pass, derivative, squaring, moving-window integration (MWI);
 *  2. peaks of the integrated signal are candidates;
 *  3. a candidate is a QRS if it exceeds NPK + τ·(SPK − NPK), where SPK and NPK track the
 *     levels of recent QRS and noise peaks (Hamilton–Tompkins use medians of the last 8);
 *  4. 200 ms refractory period; within 360 ms of a QRS a candidate whose maximum slope is
 *     under half that of the QRS is a T wave;
 *  5. search-back: when no QRS has been found for 1.66 × the recent RR interval, the
 *     largest candidate in the gap above half the threshold is taken.
 *
 * Because whole recordings are analysed (not a live stream), the filters are zero-phase and
 * the integration window is centred, so the MWI peak sits on the QRS, and the thresholds
 * are primed from the first seconds before the first decision (Hamilton–Tompkins' 8 s
 * learning period done as a look-ahead).
 *
 * Multi-lead fusion: each lead's integrated signal is normalised by its own local QRS level
 * (automatic gain control, so a lead's amplitude does not matter) and the leads are
 * averaged with weights from their local signal-to-noise ratio, in the spirit of
 * spatial-combination detectors (e.g. I. Christov, "Real time electrocardiogram QRS
 * detection using combined adaptive threshold", BioMed. Eng. OnLine 3:28, 2004). A noisy or
 * disconnected lead then fades out instead of adding false beats, and a beat that is
 * small in one lead is still seen in the others. The weights come in two passes: first
 * from each lead's peak-to-floor ratio and activity, then from its QRS-to-interference
 * ratio around the beats the first pass found. Candidates must also win a lead vote (the
 * leads in which they stand out against those in which they are absent).
 *
 * Further rules, each against a failure seen in practice:
 *  - baseline-shift check after Hamilton's OSEA (BLSCheck): a QRS has both a rising and a
 *    falling slope, a step in the baseline only one;
 *  - look-ahead: a weak candidate shortly followed by a much larger one is a tall P wave
 *    or a spike of noise, not a beat;
 *  - RR intervals much shorter than usual do not shorten the search-back interval;
 *  - a complex cut by either end of the recording is not reported.
 */

export interface QrsDetectorOptions {
  /** Shortest RR accepted, seconds. Default 0.2 (a QRS cannot follow another sooner). */
  refractorySeconds?: number;
  /** Threshold position between noise and signal levels, τ. Default 0.3. */
  thresholdFraction?: number;
  /** Also return every candidate with its decision (for inspection and tuning). */
  diagnostics?: boolean;
}

export interface QrsCandidateTrace {
  index: number;
  height: number;
  slope: number;
  threshold: number;
  decision:
    | 'qrs'
    | 'search-back'
    | 'noise'
    | 't-wave'
    | 'baseline-shift'
    | 'unsupported'
    | 'overshadowed'
    | 'refractory'
    | 'replaced';
}

export interface QrsDetection {
  /** R-peak sample indices, ascending. */
  rPeaks: number[];
  /** Mean fusion weight given to each lead (0…1, summing to 1). */
  leadWeights: number[];
  /** Present when options.diagnostics is set. */
  candidates?: QrsCandidateTrace[];
  /** Present when options.diagnostics is set: the fused, normalised integrated signal. */
  fused?: Float64Array;
  /** Present when options.diagnostics is set: each lead's fusion weight per sample. */
  weights?: Float64Array[];
  /** Present when options.diagnostics is set: each lead's normalised integrated signal. */
  normalised?: Float64Array[];
}

export class QrsDetectorError extends Error {
  readonly code = 'QRS_INPUT_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'QrsDetectorError';
  }
}

const BAND_LOW_HZ = 5;
const BAND_HIGH_HZ = 15;
/** MWI width: about a QRS duration (PT used 150 ms at 200 Hz). */
const INTEGRATION_SECONDS = 0.12;
/** Blocks for level/noise estimation, and how many neighbours smooth the level. */
const BLOCK_SECONDS = 2;
const LEVEL_NEIGHBOURS = 2;
/** Peaks of the integrated signal closer than this belong to one complex. */
const MERGE_SECONDS = 0.1;
/** T-wave rule window (Pan & Tompkins: 360 ms). */
const T_WAVE_SECONDS = 0.36;
const T_WAVE_SLOPE_RATIO = 0.5;
/** Look-ahead: a candidate under half the QRS level, followed closely by one 2.5× larger. */
const OVERSHADOW_MAX_LEVEL = 0.5;
const OVERSHADOW_RATIO = 2.5;
const SEARCH_BACK_RR = 1.66;
/** RR intervals below this fraction of the recent median do not update it. */
const SHORT_RR = 0.6;
/** Learning look-ahead used to prime the levels (Hamilton & Tompkins: 8 s). */
const LEARNING_SECONDS = 8;
/** Normalised MWI is clipped so that one lead's artefact cannot dominate the fusion. */
const FEATURE_CLIP = 2;
/** Half-width of the QRS zone around a beat centre, excluded from the interference level. */
const QRS_GUARD_SECONDS = 0.15;
/** Beat SNR at which a lead starts to count, and at which it counts fully. */
const BEAT_SNR_FLOOR = 1.2;
const BEAT_SNR_FULL = 3;
/** Normalised energy at the beats at which a lead starts to count, and counts fully. */
const BEAT_LEVEL_FLOOR = 0.3;
const BEAT_LEVEL_FULL = 0.7;
/** A lead supports a candidate when its normalised MWI reaches this fraction of its QRS level. */
const SUPPORT_LEVEL = 0.3;
/** …and opposes it when it stays under this fraction. */
const OPPOSE_LEVEL = 0.12;
/** Share of the vote given to whole-recording lead quality, to break ties. */
const TIE_BREAK = 0.1;
/** A vote lost by less than this is overturned for a candidate that comes on time… */
const TIE_MARGIN = 0.35;
/** …that is, 0.8–1.25 × the recent RR interval after the last beat. */
const ON_TIME_RR = [0.8, 1.25] as const;
/** Beats whose R peak lies this close to either end are checked for being cut short. */
export const QRS_EDGE_SECONDS = 0.05;
const EDGE_SECONDS = QRS_EDGE_SECONDS;
/** R-peak search half-window around the MWI peak. */
const LOCATE_SECONDS = 0.08;

interface LeadFeatures {
  /** Band-passed signal. */
  band: Float64Array;
  /** sqrt of the centred MWI of the squared derivative (an RMS slope, linear in amplitude). */
  energy: Float64Array;
}

function leadFeatures(signal: ArrayLike<number>, fs: number): LeadFeatures {
  const n = signal.length;
  const band = detectionBandPass(signal, fs, { lowHz: BAND_LOW_HZ, highHz: BAND_HIGH_HZ });
  const half = Math.max(1, Math.round((INTEGRATION_SECONDS * fs) / 2));
  const width = 2 * half + 1;
  // Squared central difference summed over a centred sliding window.
  const squaredDerivative = (i: number) => {
    if (i < 1 || i >= n - 1) return 0;
    const d = band[i + 1]! - band[i - 1]!;
    return d * d;
  };
  const energy = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < Math.min(half, n); i++) sum += squaredDerivative(i);
  for (let i = 0; i < n; i++) {
    sum += squaredDerivative(i + half);
    sum -= squaredDerivative(i - half - 1);
    energy[i] = Math.sqrt(sum > 0 ? sum / width : 0);
  }
  return { band, energy };
}

/** In-place median of a scratch array (it is reordered). */
function medianOf(values: Float64Array): number {
  const n = values.length;
  if (n === 0) return 0;
  values.sort();
  return n % 2 ? values[n >> 1]! : (values[(n >> 1) - 1]! + values[n >> 1]!) / 2;
}

interface LeadScale {
  /** Local QRS level of `energy`, per sample (interpolated between block centres). */
  level: Float64Array;
  /** Local signal-to-noise ratio per block. */
  blockSnr: Float64Array;
  /** Block maximum relative to the lead's median block maximum over the recording. */
  blockActivity: Float64Array;
}

/**
 * Local QRS level: median, over ±LEVEL_NEIGHBOURS blocks, of each block's maximum (a 2 s
 * block holds a QRS at any rate above 30/min). Noise floor: the block median of the
 * integrated signal, which sits in the isoelectric stretches between complexes. Their
 * ratio is the block's signal-to-noise ratio.
 */
function leadScale(energy: Float64Array, fs: number): LeadScale {
  const n = energy.length;
  const blockLength = Math.max(1, Math.round(BLOCK_SECONDS * fs));
  const blocks = Math.max(1, Math.ceil(n / blockLength));
  const blockMax = new Float64Array(blocks);
  const blockFloor = new Float64Array(blocks);
  // Every 4th sample is enough for a median of a smooth signal.
  const stride = Math.max(1, Math.round(fs / 90));
  const scratch = new Float64Array(Math.ceil(blockLength / stride) + 1);
  for (let b = 0; b < blocks; b++) {
    const start = b * blockLength;
    const end = Math.min(n, start + blockLength);
    let max = 0;
    for (let i = start; i < end; i++) if (energy[i]! > max) max = energy[i]!;
    blockMax[b] = max;
    let count = 0;
    for (let i = start; i < end; i += stride) scratch[count++] = energy[i]!;
    blockFloor[b] = medianOf(scratch.subarray(0, count));
  }
  const blockLevel = new Float64Array(blocks);
  const window = new Float64Array(2 * LEVEL_NEIGHBOURS + 1);
  for (let b = 0; b < blocks; b++) {
    const from = Math.max(0, b - LEVEL_NEIGHBOURS);
    const to = Math.min(blocks - 1, b + LEVEL_NEIGHBOURS);
    for (let k = from; k <= to; k++) window[k - from] = blockMax[k]!;
    blockLevel[b] = medianOf(window.subarray(0, to - from + 1));
  }
  const blockSnr = new Float64Array(blocks);
  for (let b = 0; b < blocks; b++) {
    blockSnr[b] = blockLevel[b]! / Math.max(blockFloor[b]!, blockLevel[b]! * 1e-3, 1e-12);
  }
  // A lead that goes quiet (amplifier blocked after an overload, electrode lifting) has a
  // tiny floor, hence a fine-looking ratio; its activity against its own usual level
  // gives it away.
  const usual = medianOf(Float64Array.from(blockMax));
  const blockActivity = blockMax.map((m) => (usual > 0 ? m / usual : 0));
  return { level: interpolateBlocks(blockLevel, blockLength, n), blockSnr, blockActivity };
}

/** Linear interpolation of per-block values between block centres. */
function interpolateBlocks(values: Float64Array, blockLength: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const blocks = values.length;
  const half = blockLength / 2;
  // Before the first centre and after the last one the value is held.
  const firstCentre = Math.min(n, Math.ceil(half - 0.5));
  out.fill(values[0]!, 0, firstCentre);
  for (let k = 0; k + 1 < blocks; k++) {
    const from = Math.max(0, Math.ceil(k * blockLength + half - 0.5));
    const to = Math.min(n, Math.ceil((k + 1) * blockLength + half - 0.5));
    const a = values[k]!;
    const step = (values[k + 1]! - a) / blockLength;
    let v = a + (from + 0.5 - (k * blockLength + half)) * step;
    for (let i = from; i < to; i++, v += step) out[i] = v;
  }
  const lastCentre = Math.max(0, Math.ceil((blocks - 1) * blockLength + half - 0.5));
  if (lastCentre < n) out.fill(values[blocks - 1]!, lastCentre, n);
  return out;
}

/**
 * Fusion weight from a block SNR. A clean lead has SNR ≳ 8; below ~2.5 the QRS hardly
 * stands out of the noise and the lead is better left out.
 */
function snrWeight(snr: number): number {
  return Math.min(1, Math.max(0, (snr - 2.5) / 5.5));
}

type ResolvedOptions = Required<Omit<QrsDetectorOptions, 'diagnostics'>>;

interface CandidateChecks {
  isBaselineShift: (index: number) => boolean;
  /** Weight of the leads that show the candidate minus that of the leads that do not. */
  voteBalance: (index: number) => number;
}

/** Fusion weight from a block's activity: below a fifth of the lead's usual level it is out. */
function activityWeight(activity: number): number {
  return Math.min(1, Math.max(0, (activity - 0.2) / 0.3));
}

interface Candidate {
  index: number;
  height: number;
  slope: number;
}

function findCandidates(
  fused: Float64Array,
  slopeAt: (index: number) => number,
  fs: number,
): Candidate[] {
  const merge = Math.round(MERGE_SECONDS * fs);
  const candidates: Candidate[] = [];
  const n = fused.length;
  for (let i = 1; i < n - 1; i++) {
    const v = fused[i]!;
    if (v <= fused[i - 1]! || v < fused[i + 1]!) continue;
    const previous = candidates.at(-1);
    if (previous && i - previous.index < merge) {
      if (v > previous.height) {
        previous.index = i;
        previous.height = v;
      }
      continue;
    }
    candidates.push({ index: i, height: v, slope: 0 });
  }
  for (const c of candidates) c.slope = slopeAt(c.index);
  return candidates;
}

/** Median of the last `size` values (Hamilton & Tompkins use the last 8). */
class RunningMedian {
  private readonly values: number[] = [];
  private cached: number;
  constructor(
    private readonly size: number,
    initial: number,
  ) {
    this.values.push(initial);
    this.cached = initial;
  }
  push(value: number): void {
    this.values.push(value);
    if (this.values.length > this.size) this.values.shift();
    const sorted = [...this.values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    this.cached = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  }
  get median(): number {
    return this.cached;
  }
}

/** Threshold logic over the candidate list; returns indices into `candidates`. */
function classify(
  candidates: readonly Candidate[],
  fs: number,
  n: number,
  options: ResolvedOptions,
  trace: QrsCandidateTrace[] | undefined,
  checks: CandidateChecks,
): number[] {
  const refractory = Math.round(options.refractorySeconds * fs);
  const tWave = Math.round(T_WAVE_SECONDS * fs);
  const tau = options.thresholdFraction;

  // Priming: levels from the candidates of the first seconds. The normalised feature puts
  // QRS peaks near 1, so the largest candidate per second is a good QRS-level sample.
  const learningEnd = Math.min(n, Math.round(LEARNING_SECONDS * fs));
  const perSecond: number[] = [];
  const others: number[] = [];
  for (const c of candidates) {
    if (c.index >= learningEnd) break;
    const second = Math.floor(c.index / fs);
    perSecond[second] = Math.max(perSecond[second] ?? 0, c.height);
    others.push(c.height);
  }
  const peaks = perSecond.filter((v) => v !== undefined);
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? s[s.length >> 1]! : 0;
  };
  const spkInit = peaks.length ? median(peaks) : 1;
  const npkInit = Math.min(
    0.5 * spkInit,
    median(others.filter((h) => h < 0.5 * spkInit)) || 0.1 * spkInit,
  );
  const spk = new RunningMedian(8, spkInit);
  const npk = new RunningMedian(8, npkInit);
  const rr = new RunningMedian(8, Math.round(0.8 * fs));
  let shortRun = 0;

  const beats: number[] = [];
  const threshold = () => {
    const s = spk.median;
    const noise = npk.median;
    return noise + tau * Math.max(0, s - noise);
  };
  const isTWave = (c: Candidate, last: Candidate | undefined) =>
    last !== undefined && c.index - last.index < tWave && c.slope < T_WAVE_SLOPE_RATIO * last.slope;

  const note = (k: number, decision: QrsCandidateTrace['decision'], limit: number) => {
    if (!trace) return;
    const c = candidates[k]!;
    trace[k] = { index: c.index, height: c.height, slope: c.slope, threshold: limit, decision };
  };
  const accept = (k: number, searchBack: boolean) => {
    const c = candidates[k]!;
    note(k, searchBack ? 'search-back' : 'qrs', threshold());
    const lastIndex = beats.at(-1);
    if (lastIndex !== undefined) {
      // Intervals much shorter than usual are premature beats or false detections; they
      // must not shorten the search-back interval, unless the rate has really risen.
      const interval = c.index - candidates[lastIndex]!.index;
      if (interval > SHORT_RR * rr.median || ++shortRun >= 3) {
        rr.push(interval);
        shortRun = 0;
      }
    }
    beats.push(k);
    // Pan–Tompkins update search-back beats with a larger weight (0.25 vs 0.125) so the
    // level follows a sudden drop in amplitude; with medians, the beat is entered twice.
    spk.push(c.height);
    if (searchBack) spk.push(c.height);
  };

  /** Largest unaccepted candidate in (from, to) above `limit`; -1 if none. */
  // Checks that look at the signal around a candidate only are made once per candidate.
  const shift = new Int8Array(candidates.length).fill(-1);
  const balances = new Float64Array(candidates.length).fill(Number.NaN);
  /** Why candidate k cannot be a beat after the last one, if it cannot. */
  const rejectReason = (k: number): 'baseline-shift' | 'unsupported' | undefined => {
    const c = candidates[k]!;
    if (shift[k]! < 0) shift[k] = checks.isBaselineShift(c.index) ? 1 : 0;
    if (shift[k] === 1) return 'baseline-shift';
    if (Number.isNaN(balances[k]!)) balances[k] = checks.voteBalance(c.index);
    const balance = balances[k]!;
    if (balance >= 0) return undefined;
    // A narrow defeat is overturned when the candidate comes when the next beat is due:
    // then the silent lead has more likely lost the signal than the other made one up.
    const lastK = beats.at(-1);
    if (lastK !== undefined && balance > -TIE_MARGIN) {
      const interval = c.index - candidates[lastK]!.index;
      if (interval >= ON_TIME_RR[0] * rr.median && interval <= ON_TIME_RR[1] * rr.median)
        return undefined;
    }
    return 'unsupported';
  };
  const isRejected = (k: number) => rejectReason(k) !== undefined;
  const searchBack = (fromK: number, toK: number, limit: number): number => {
    let best = -1;
    const lastK = beats.at(-1);
    const last = lastK === undefined ? undefined : candidates[lastK];
    for (let k = fromK; k < toK; k++) {
      const c = candidates[k]!;
      if (last && c.index - last.index < refractory) continue;
      if (c.height < limit || isTWave(c, last) || isRejected(k)) continue;
      if (best < 0 || c.height > candidates[best]!.height) best = k;
    }
    return best;
  };

  // Look-ahead (the whole recording is at hand): a weak candidate followed within the
  // T-wave window by one several times larger is a tall P wave or a noise spike before the
  // QRS, not a beat. Only candidates well under the QRS level qualify, so a normal beat
  // followed by an early, large PVC is kept.
  const isOvershadowed = (k: number) => {
    const c = candidates[k]!;
    if (c.height >= OVERSHADOW_MAX_LEVEL * spk.median) return false;
    for (let j = k + 1; j < candidates.length && candidates[j]!.index - c.index < tWave; j++) {
      if (candidates[j]!.height >= OVERSHADOW_RATIO * c.height) return true;
    }
    return false;
  };

  let scanFrom = 0; // first candidate after the last accepted beat
  const gapCheck = (untilIndex: number, untilK: number) => {
    // Search back as long as the gap since the last beat is too long.
    for (;;) {
      const lastK = beats.at(-1);
      const lastIndex = lastK === undefined ? 0 : candidates[lastK]!.index;
      const gap = untilIndex - lastIndex;
      if (gap <= SEARCH_BACK_RR * rr.median) return;
      const found = searchBack(scanFrom, untilK, 0.5 * threshold());
      if (found < 0) return;
      accept(found, true);
      scanFrom = found + 1;
    }
  };

  for (let k = 0; k < candidates.length; k++) {
    const c = candidates[k]!;
    gapCheck(c.index, k);
    if (k < scanFrom) continue;
    const lastK = beats.at(-1);
    const last = lastK === undefined ? undefined : candidates[lastK];
    if (last && c.index - last.index < refractory) {
      // Two peaks within the refractory period are one complex: keep the larger.
      if (c.height > last.height) {
        note(beats.pop()!, 'replaced', threshold());
        beats.push(k);
        note(k, 'qrs', threshold());
      } else note(k, 'refractory', threshold());
      continue;
    }
    const limit = threshold();
    if (c.height < limit) {
      note(k, 'noise', limit);
      npk.push(c.height);
    } else if (isTWave(c, last)) {
      note(k, 't-wave', limit);
      npk.push(c.height);
    } else {
      const reason = rejectReason(k);
      if (reason) {
        note(k, reason, limit);
        npk.push(c.height);
        continue;
      }
      if (isOvershadowed(k)) {
        note(k, 'overshadowed', limit);
        npk.push(c.height);
        continue;
      }
      accept(k, false);
      scanFrom = k + 1;
    }
  }
  gapCheck(n, candidates.length);
  return beats;
}

/** Wide-band (1–40 Hz) copy used to place the R peak and to check for baseline shifts. */
function wideBand(signal: ArrayLike<number>, fs: number): Float64Array {
  const sections = [highPassBiquad(1, fs)];
  if (40 < 0.45 * fs) sections.push(lowPassBiquad(40, fs));
  return filterZeroPhase(signal, sections, Math.round(0.5 * fs));
}

/** Per-block weights normalised to sum 1 over leads; equal weights where all are 0. */
function normaliseWeights(blockWeights: Float64Array[]): Float64Array[] {
  const leadCount = blockWeights.length;
  const blocks = blockWeights[0]!.length;
  const out = blockWeights.map(() => new Float64Array(blocks));
  for (let b = 0; b < blocks; b++) {
    let total = 0;
    for (let l = 0; l < leadCount; l++) total += blockWeights[l]![b]!;
    for (let l = 0; l < leadCount; l++) {
      out[l]![b] = total > 0 ? blockWeights[l]![b]! / total : 1 / leadCount;
    }
  }
  return out;
}

/**
 * Block weights from a lead's QRS-to-interference ratio: the median normalised energy at
 * the beats of the block (and its neighbours) over the largest energy away from them. A
 * clean lead scores 3–10 (only the T wave stands between beats); a lead whose artefacts
 * reach its QRS level scores about 1 and is left out.
 */
function beatSnrWeights(
  energy: Float64Array,
  level: Float64Array,
  beats: readonly number[],
  blocks: number,
  blockLength: number,
  fs: number,
): Float64Array {
  const n = energy.length;
  const guard = Math.round(QRS_GUARD_SECONDS * fs);
  const isQrs = new Uint8Array(n);
  for (const b of beats) isQrs.fill(1, Math.max(0, b - guard), Math.min(n, b + guard + 1));
  const beatLevel = new Float64Array(blocks);
  const interference = new Float64Array(blocks);
  const perBlock: number[][] = Array.from({ length: blocks }, () => []);
  for (const b of beats) {
    const lv = level[b]!;
    perBlock[Math.min(blocks - 1, Math.floor(b / blockLength))]!.push(lv > 0 ? energy[b]! / lv : 0);
  }
  for (let k = 0; k < blocks; k++) {
    const values = [...(perBlock[k - 1] ?? []), ...perBlock[k]!, ...(perBlock[k + 1] ?? [])];
    values.sort((a, c) => a - c);
    beatLevel[k] = values.length ? values[values.length >> 1]! : 0;
    let max = 0;
    const end = Math.min(n, (k + 1) * blockLength);
    for (let i = k * blockLength; i < end; i++) {
      if (isQrs[i]) continue;
      const lv = level[i]!;
      const v = lv > 0 ? energy[i]! / lv : 0;
      if (v > max) max = v;
    }
    interference[k] = max;
  }
  const weights = new Float64Array(blocks);
  const clamp = (x: number) => Math.min(1, Math.max(0, x));
  for (let k = 0; k < blocks; k++) {
    const snr = beatLevel[k]! / Math.max(interference[k]!, 1e-6);
    // A lead must also show the beats: with its energy normalised to its own QRS level,
    // beats found by the fusion should reach about 1 in it. A lead that is quiet at the
    // beats (blocked amplifier, QRS axis perpendicular to the lead) has no say.
    const shows = clamp((beatLevel[k]! - BEAT_LEVEL_FLOOR) / (BEAT_LEVEL_FULL - BEAT_LEVEL_FLOOR));
    weights[k] = shows * clamp((snr - BEAT_SNR_FLOOR) / (BEAT_SNR_FULL - BEAT_SNR_FLOOR));
  }
  return weights;
}

interface PassResult {
  weights: Float64Array[];
  /** Centres (MWI peaks) of the accepted beats. */
  beats: number[];
  fused: Float64Array;
  trace: QrsCandidateTrace[] | undefined;
}

function detectPass(
  features: readonly LeadFeatures[],
  scales: readonly LeadScale[],
  wide: readonly Float64Array[],
  blockWeights: Float64Array[],
  blockLength: number,
  fs: number,
  options: ResolvedOptions,
  trace: QrsCandidateTrace[] | undefined,
): PassResult {
  const leadCount = features.length;
  const n = features[0]!.energy.length;
  const weights = blockWeights.map((w) => interpolateBlocks(w, blockLength, n));

  // Fused, normalised integrated signal.
  const fused = new Float64Array(n);
  for (let l = 0; l < leadCount; l++) {
    const energy = features[l]!.energy;
    const level = scales[l]!.level;
    const w = weights[l]!;
    for (let i = 0; i < n; i++) {
      const lv = level[i]!;
      if (lv <= 0) continue;
      const v = energy[i]! / lv;
      fused[i]! += w[i]! * (v > FEATURE_CLIP ? FEATURE_CLIP : v);
    }
  }

  // Maximum slope near a candidate, fused the same way (T-wave rule).
  const slopeHalf = Math.round((INTEGRATION_SECONDS * fs) / 2);
  const slopeAt = (index: number) => {
    let best = 0;
    const from = Math.max(1, index - slopeHalf);
    const to = Math.min(n - 2, index + slopeHalf);
    for (let i = from; i <= to; i++) {
      let s = 0;
      for (let l = 0; l < leadCount; l++) {
        const band = features[l]!.band;
        const lv = scales[l]!.level[i]!;
        if (lv > 0) s += (weights[l]![i]! * Math.abs(band[i + 1]! - band[i - 1]!)) / lv;
      }
      if (s > best) best = s;
    }
    return best;
  };

  // Baseline-shift check, after Hamilton's OSEA BLSCheck: a QRS has a rising and a
  // falling slope of comparable size (within a factor 8); a step in the baseline has one
  // of them only. OSEA also asks for the two within 150 ms, which fails on wide paced
  // complexes whose MWI peak lies well after the spike, so that condition is left out.
  // The check is made on the lead that contributes most to the fused signal there.
  const blsHalf = Math.round(0.11 * fs);
  const isBaselineShift = (index: number) => {
    let lead = 0;
    let bestContribution = -1;
    for (let l = 0; l < leadCount; l++) {
      const lv = scales[l]!.level[index]!;
      const contribution = lv > 0 ? (weights[l]![index]! * features[l]!.energy[index]!) / lv : 0;
      if (contribution > bestContribution) {
        bestContribution = contribution;
        lead = l;
      }
    }
    const x = wide[lead]!;
    let max = 0;
    let min = 0;
    const from = Math.max(1, index - blsHalf);
    const to = Math.min(n - 1, index + blsHalf);
    for (let i = from; i <= to; i++) {
      const d = x[i]! - x[i - 1]!;
      if (d > max) max = d;
      else if (d < min) min = d;
    }
    min = -min;
    return !(max > min / 8 && min > max / 8);
  };

  // Lead vote: with several leads, a candidate is rejected when the leads in which it is
  // clearly absent (under OPPOSE_LEVEL of the lead's QRS level) outweigh those in which it
  // stands out (over SUPPORT_LEVEL); leads in between abstain. This keeps a large
  // artefact in one lead from passing on the strength of that lead alone, while a lead
  // whose level estimate lags (after a gain change or a baseline jump) merely abstains.
  // Ties between two leads of equal weight go to the lead that is cleaner over the whole
  // recording.
  const globalWeight = weights.map((w) => {
    let sum = 0;
    for (let i = 0; i < n; i += 16) sum += w[i]!;
    return sum;
  });
  const globalTotal = globalWeight.reduce((a, b) => a + b, 0) || 1;
  const voteBalance = (index: number) => {
    if (leadCount === 1) return 1;
    let balance = 0;
    for (let l = 0; l < leadCount; l++) {
      const lv = scales[l]!.level[index]!;
      const v = lv > 0 ? features[l]!.energy[index]! / lv : 0;
      const vote =
        (1 - TIE_BREAK) * weights[l]![index]! + (TIE_BREAK * globalWeight[l]!) / globalTotal;
      if (v >= SUPPORT_LEVEL) balance += vote;
      else if (v < OPPOSE_LEVEL) balance -= vote;
    }
    return balance;
  };

  const candidates = findCandidates(fused, slopeAt, fs);
  const beatIndices = classify(candidates, fs, n, options, trace, { isBaselineShift, voteBalance });
  return { weights, beats: beatIndices.map((k) => candidates[k]!.index), fused, trace };
}

function requireInput(leads: readonly ArrayLike<number>[], fs: number): number {
  if (!(fs > 0) || !Number.isFinite(fs)) {
    throw new QrsDetectorError(`sample rate must be a positive number, got ${fs}`);
  }
  if (leads.length === 0) throw new QrsDetectorError('no leads given');
  const n = leads[0]!.length;
  if (leads.some((l) => l.length !== n)) throw new QrsDetectorError('leads differ in length');
  return n;
}

/**
 * Detects QRS complexes using several leads together (all must have the same length and
 * sample rate). Leads known to be unusable (off, saturated) should be left out by the
 * caller; noisy ones are down-weighted here.
 */
export function detectQrsDetailed(
  leads: readonly ArrayLike<number>[],
  sampleRateHz: number,
  options: QrsDetectorOptions = {},
): QrsDetection {
  const fs = sampleRateHz;
  const n = requireInput(leads, fs);
  const resolved: ResolvedOptions = {
    refractorySeconds: options.refractorySeconds ?? 0.2,
    thresholdFraction: options.thresholdFraction ?? 0.3,
  };
  const leadCount = leads.length;
  if (n < Math.round(0.5 * fs)) return { rPeaks: [], leadWeights: leads.map(() => 1 / leadCount) };

  const features = leads.map((signal) => leadFeatures(signal, fs));
  const scales = features.map((f) => leadScale(f.energy, fs));
  const wide = leads.map((signal) => wideBand(signal, fs));
  const blockLength = Math.max(1, Math.round(BLOCK_SECONDS * fs));
  const blocks = scales[0]!.blockSnr.length;

  // Pass 1: weights from each lead's level-to-floor ratio.
  const firstWeights = normaliseWeights(
    scales.map((scale) =>
      scale.blockSnr.map((snr, b) =>
        leadCount === 1 ? 1 : snrWeight(snr) * activityWeight(scale.blockActivity[b]!),
      ),
    ),
  );
  let pass = detectPass(features, scales, wide, firstWeights, blockLength, fs, resolved, undefined);
  if (leadCount > 1) {
    // Pass 2: weights from each lead's own QRS-to-interference ratio around the beats of
    // pass 1, which catches artefacts (electrode motion, baseline shifts) that leave the
    // median floor alone but would otherwise be taken for beats.
    const beatCentres = pass.beats;
    const secondWeights = normaliseWeights(
      features.map((f, l) =>
        beatSnrWeights(f.energy, scales[l]!.level, beatCentres, blocks, blockLength, fs),
      ),
    );
    pass = detectPass(
      features,
      scales,
      wide,
      secondWeights,
      blockLength,
      fs,
      resolved,
      options.diagnostics ? [] : undefined,
    );
  } else if (options.diagnostics) {
    pass = detectPass(features, scales, wide, firstWeights, blockLength, fs, resolved, []);
  }
  const { weights, beats, fused, trace } = pass;

  // R peak: the largest deflection of the best-weighted lead near the MWI peak, on a
  // wide-band (1–40 Hz) copy so the R wave is not shifted by the narrow band-pass.
  const locateHalf = Math.round(LOCATE_SECONDS * fs);
  const edge = Math.round(EDGE_SECONDS * fs);
  const rPeaks: number[] = [];
  for (const centre of beats) {
    let bestLead = 0;
    for (let l = 1; l < leadCount; l++) {
      if (weights[l]![centre]! > weights[bestLead]![centre]!) bestLead = l;
    }
    const signal = wide[bestLead]!;
    let peak = centre;
    let peakValue = -1;
    const from = Math.max(0, centre - locateHalf);
    const to = Math.min(n - 1, centre + locateHalf);
    for (let i = from; i <= to; i++) {
      const v = Math.abs(signal[i]!);
      if (v > peakValue) {
        peakValue = v;
        peak = i;
      }
    }
    // Near either end the complex may be cut, and its largest remaining deflection be an
    // S wave whose R lies outside the recording. It is reported only if the signal has come
    // back towards the baseline by the end, without a large opposite deflection there.
    if (peak < edge || peak >= n - edge) {
      // Judged on the input itself: the zero-phase filters pin their output to the end
      // samples (odd reflection), which would hide a cut complex.
      const input = leads[bestLead]!;
      const from = Math.max(0, peak - Math.round(0.25 * fs));
      const to = Math.min(n, peak + Math.round(0.25 * fs));
      let baseline = 0;
      for (let i = from; i < to; i++) baseline += input[i]!;
      baseline /= to - from;
      // Median of the three end samples: the last sample of a record is sometimes a glitch.
      const ends =
        peak < edge
          ? [input[0]!, input[1]!, input[2]!]
          : [input[n - 1]!, input[n - 2]!, input[n - 3]!];
      const boundary = ends.sort((a, b) => a - b)[1]! - baseline;
      const value = input[peak]! - baseline;
      const cut =
        peak === 0 ||
        peak === n - 1 ||
        Math.abs(boundary) > 0.7 * Math.abs(value) ||
        (Math.sign(boundary) !== Math.sign(value) && Math.abs(boundary) > 0.3 * Math.abs(value));
      if (cut) continue;
    }
    if (rPeaks.length === 0 || peak > rPeaks.at(-1)!) rPeaks.push(peak);
  }

  const leadWeights = weights.map((w) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += w[i]!;
    return sum / n;
  });
  if (!options.diagnostics) return { rPeaks, leadWeights };
  const normalised = features.map((f, l) =>
    f.energy.map((e, i) => (scales[l]!.level[i]! > 0 ? e / scales[l]!.level[i]! : 0)),
  );
  return { rPeaks, leadWeights, candidates: trace ?? [], fused, weights, normalised };
}

/** QRS detection on one lead; returns R-peak sample indices. */
export function detectQrs(
  signal: ArrayLike<number>,
  sampleRateHz: number,
  options: QrsDetectorOptions = {},
): number[] {
  return detectQrsDetailed([signal], sampleRateHz, options).rPeaks;
}

/** QRS detection on several leads together (multi-lead fusion); returns R-peak indices. */
export function detectQrsMultiLead(
  leads: readonly ArrayLike<number>[],
  sampleRateHz: number,
  options: QrsDetectorOptions = {},
): number[] {
  return detectQrsDetailed(leads, sampleRateHz, options).rPeaks;
}
