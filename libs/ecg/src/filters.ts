/**
 * Signal conditioning for ECG analysis, built from second-order IIR sections ("biquads")
 * designed with the bilinear-transform formulas of R. Bristow-Johnson's "Cookbook formulae
 * for audio EQ biquad filter coefficients" (the RBJ cookbook).
 *
 * Where a measurement depends on wave timing or on the ST level, filters run forward and
 * then backward (zero phase, as MATLAB/SciPy filtfilt), which is what the AHA/ACCF/HRS
 * recommendations for ECG standardization (Kligfield et al., Circulation 2007;115:1306,
 * part I) require for a 0.67 Hz baseline high-pass not to distort the ST segment; a causal
 * high-pass would need to be as low as 0.05 Hz.
 */

/** Coefficients normalised so that a0 = 1: y = b0·x + b1·x1 + b2·x2 − a1·y1 − a2·y2. */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

export class FilterDesignError extends Error {
  readonly code = 'FILTER_DESIGN_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'FilterDesignError';
  }
}

/** Q of a second-order Butterworth section: maximally flat pass band. */
export const BUTTERWORTH_Q = Math.SQRT1_2;

function prepare(frequencyHz: number, sampleRateHz: number, q: number) {
  if (!(sampleRateHz > 0) || !(frequencyHz > 0) || frequencyHz >= sampleRateHz / 2 || !(q > 0)) {
    throw new FilterDesignError(
      `cannot design a biquad at ${frequencyHz} Hz (Q ${q}) for ${sampleRateHz} samples/s; the frequency must lie in (0, fs/2)`,
    );
  }
  const w0 = (2 * Math.PI * frequencyHz) / sampleRateHz;
  const cos = Math.cos(w0);
  const alpha = Math.sin(w0) / (2 * q);
  return { cos, alpha, a0: 1 + alpha };
}

export function lowPassBiquad(cutoffHz: number, sampleRateHz: number, q = BUTTERWORTH_Q): Biquad {
  const { cos, alpha, a0 } = prepare(cutoffHz, sampleRateHz, q);
  const b = (1 - cos) / 2 / a0;
  return { b0: b, b1: 2 * b, b2: b, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
}

export function highPassBiquad(cutoffHz: number, sampleRateHz: number, q = BUTTERWORTH_Q): Biquad {
  const { cos, alpha, a0 } = prepare(cutoffHz, sampleRateHz, q);
  const b = (1 + cos) / 2 / a0;
  return { b0: b, b1: -2 * b, b2: b, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
}

/** Band-pass with 0 dB peak gain at the centre frequency. */
export function bandPassBiquad(centerHz: number, sampleRateHz: number, q: number): Biquad {
  const { cos, alpha, a0 } = prepare(centerHz, sampleRateHz, q);
  return { b0: alpha / a0, b1: 0, b2: -alpha / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
}

/** Notch; Q = centre / −3 dB bandwidth. */
export function notchBiquad(centerHz: number, sampleRateHz: number, q: number): Biquad {
  const { cos, alpha, a0 } = prepare(centerHz, sampleRateHz, q);
  return { b0: 1 / a0, b1: (-2 * cos) / a0, b2: 1 / a0, a1: (-2 * cos) / a0, a2: (1 - alpha) / a0 };
}

/** Gain of a section at 0 Hz; used to start it in steady state. */
function dcGain(s: Biquad): number {
  const denominator = 1 + s.a1 + s.a2;
  return denominator === 0 ? 0 : (s.b0 + s.b1 + s.b2) / denominator;
}

/**
 * Runs one section in place over buf[from..to] (inclusive) in direction `step` (±1),
 * transposed direct form II, with its state set as if the input had been constant at the
 * first value for ever (SciPy's lfilter_zi), so a DC offset does not ring.
 */
function runSection(buf: Float64Array, s: Biquad, from: number, to: number, step: 1 | -1): void {
  const { b0, b1, b2, a1, a2 } = s;
  const x0 = buf[from]!;
  const y0 = dcGain(s) * x0;
  let z2 = b2 * x0 - a2 * y0;
  let z1 = b1 * x0 - a1 * y0 + z2;
  const end = to + step;
  for (let i = from; i !== end; i += step) {
    const x = buf[i]!;
    const y = b0 * x + z1;
    z1 = b1 * x - a1 * y + z2;
    z2 = b2 * x - a2 * y;
    buf[i] = y;
  }
}

/** Causal cascade of sections; returns a new array. */
export function filterCausal(signal: ArrayLike<number>, sections: readonly Biquad[]): Float64Array {
  const out = Float64Array.from(signal);
  if (out.length === 0) return out;
  for (const s of sections) runSection(out, s, 0, out.length - 1, 1);
  return out;
}

/**
 * Zero-phase filtering: the cascade forward, then backward. The magnitude response is
 * squared and the phase is zero. The ends are extended by odd reflection about the end
 * samples (as SciPy's filtfilt padtype='odd') so the filter transients fall outside the
 * signal.
 */
export function filterZeroPhase(
  signal: ArrayLike<number>,
  sections: readonly Biquad[],
  padSamples = 0,
): Float64Array {
  const n = signal.length;
  if (n === 0) return new Float64Array(0);
  const pad = Math.max(0, Math.min(Math.floor(padSamples), n - 1));
  const buf = new Float64Array(n + 2 * pad);
  const first = signal[0]!;
  const last = signal[n - 1]!;
  for (let i = 0; i < pad; i++) {
    buf[pad - 1 - i] = 2 * first - signal[i + 1]!;
    buf[pad + n + i] = 2 * last - signal[n - 2 - i]!;
  }
  for (let i = 0; i < n; i++) buf[pad + i] = signal[i]!;
  for (const s of sections) runSection(buf, s, 0, buf.length - 1, 1);
  for (const s of sections) runSection(buf, s, buf.length - 1, 0, -1);
  return pad === 0 ? buf : buf.slice(pad, pad + n);
}

/** Sections usable at this sample rate: frequencies at or above 0.45·fs are dropped. */
function usable(frequencyHz: number, sampleRateHz: number): boolean {
  return frequencyHz > 0 && frequencyHz < 0.45 * sampleRateHz;
}

/**
 * Baseline-wander removal: zero-phase Butterworth high-pass at 0.67 Hz (the AHA 2007 limit
 * for bidirectional filters: it keeps the ST segment and heart rates down to 40/min).
 */
export function removeBaselineWander(
  signal: ArrayLike<number>,
  sampleRateHz: number,
  cutoffHz = 0.67,
): Float64Array {
  if (!usable(cutoffHz, sampleRateHz)) return Float64Array.from(signal);
  // The transient of a 0.67 Hz section lasts about 1 s; pad with 1.5 s of reflection.
  return filterZeroPhase(
    signal,
    [highPassBiquad(cutoffHz, sampleRateHz)],
    Math.round(1.5 * sampleRateHz),
  );
}

export interface MainsFilterOptions {
  /** Default 50 Hz (Europe, Africa, most of Asia); 60 Hz in the Americas. */
  mainsHz?: 50 | 60;
  /** Default true: forward-backward, no phase shift. */
  zeroPhase?: boolean;
  /** Notch Q; default 30 (about 1.7 Hz wide at 50 Hz: narrow enough to spare the QRS). */
  q?: number;
}

/** Mains (power-line) interference notch at the fundamental. */
export function removeMains(
  signal: ArrayLike<number>,
  sampleRateHz: number,
  options: MainsFilterOptions = {},
): Float64Array {
  const mainsHz = options.mainsHz ?? 50;
  if (!usable(mainsHz, sampleRateHz)) return Float64Array.from(signal);
  const section = notchBiquad(mainsHz, sampleRateHz, options.q ?? 30);
  return options.zeroPhase === false
    ? filterCausal(signal, [section])
    : filterZeroPhase(signal, [section], Math.round(0.2 * sampleRateHz));
}

/**
 * Band-pass that keeps most QRS energy and rejects P/T waves, baseline wander, mains and
 * much EMG: 5–15 Hz as in Pan & Tompkins 1985 (IEEE Trans. Biomed. Eng. 32(3):230), here
 * as Butterworth sections. Zero-phase by default so detections line up with the QRS.
 */
export function detectionBandPass(
  signal: ArrayLike<number>,
  sampleRateHz: number,
  options: { lowHz?: number; highHz?: number; zeroPhase?: boolean } = {},
): Float64Array {
  const sections: Biquad[] = [];
  const lowHz = options.lowHz ?? 5;
  const highHz = options.highHz ?? 15;
  if (usable(lowHz, sampleRateHz)) sections.push(highPassBiquad(lowHz, sampleRateHz));
  if (usable(highHz, sampleRateHz)) sections.push(lowPassBiquad(highHz, sampleRateHz));
  return options.zeroPhase === false
    ? filterCausal(signal, sections)
    : filterZeroPhase(signal, sections, Math.round(0.5 * sampleRateHz));
}

/**
 * Conditioning for measurements (intervals, amplitudes, ST): baseline removal at 0.67 Hz,
 * mains notch and a 40 Hz low-pass against EMG, all zero-phase. 40 Hz blunts Q waves and
 * notches a little but keeps interval measurements within a few milliseconds.
 */
export function conditionForMeasurement(
  signal: ArrayLike<number>,
  sampleRateHz: number,
  options: { mainsHz?: 50 | 60; lowPassHz?: number } = {},
): Float64Array {
  const sections: Biquad[] = [];
  if (usable(0.67, sampleRateHz)) sections.push(highPassBiquad(0.67, sampleRateHz));
  const mainsHz = options.mainsHz ?? 50;
  if (usable(mainsHz, sampleRateHz)) sections.push(notchBiquad(mainsHz, sampleRateHz, 30));
  const lowPassHz = options.lowPassHz ?? 100;
  if (usable(lowPassHz, sampleRateHz)) sections.push(lowPassBiquad(lowPassHz, sampleRateHz));
  return filterZeroPhase(signal, sections, Math.round(1.5 * sampleRateHz));
}
