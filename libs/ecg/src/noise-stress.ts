/**
 * Noise stress for QRS detectors: seeded noise added to a recorded ECG at a chosen
 * signal-to-noise ratio, after the protocol of the MIT-BIH Noise Stress Test Database
 * (G. B. Moody, W. K. Muldrow, R. G. Mark, "A noise stress test for arrhythmia
 * detectors", Computers in Cardiology 11:381–384, 1984): the signal power is taken as
 * S = pp² / 8, pp being the median peak-to-peak amplitude of the QRS complexes, and the
 * noise is scaled to S / 10^(SNR/10). The NSTDB's own noise records are not at hand, so
 * the noise here is synthetic and says so: `muscle` is broadband noise weighted towards
 * high frequencies (white Gaussian noise through a first difference and a two-tap mean),
 * `motion` a slow random walk (a leaky integral of low-passed white noise) standing for
 * electrode motion. Results with it are a stress of the detector, not NSTDB figures.
 */

export type StressNoiseKind = 'muscle' | 'motion';

export interface NoiseStressOptions {
  kind: StressNoiseKind;
  /** Signal-to-noise ratio, dB (NSTDB uses 24, 18, 12, 6, 0 and −6). */
  snrDb: number;
  /** Seed of the noise generator: the same seed gives the same noise. */
  seed: number;
  /** First sample that gets noise (NSTDB leaves the first 5 minutes clean). */
  fromSample?: number;
}

export class NoiseStressError extends Error {
  readonly code = 'NOISE_STRESS_INPUT_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'NoiseStressError';
  }
}

/** A 32-bit linear congruential generator (Numerical Recipes constants), in [0, 1). */
function uniformGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** Standard Gaussian deviates by the Box–Muller transform. */
function gaussianGenerator(seed: number): () => number {
  const uniform = uniformGenerator(seed);
  return () => Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
}

/** Zero-mean, unit-RMS noise of the given kind. */
export function stressNoise(
  length: number,
  sampleRateHz: number,
  kind: StressNoiseKind,
  seed: number,
): Float64Array {
  const gauss = gaussianGenerator(seed);
  const x = new Float64Array(length);
  if (kind === 'muscle') {
    let previous = 0;
    let previousDifference = 0;
    for (let i = 0; i < length; i++) {
      const w = gauss();
      const d = w - previous;
      previous = w;
      x[i] = (d + previousDifference) / 2;
      previousDifference = d;
    }
  } else {
    let y = 0;
    let v = 0;
    for (let i = 0; i < length; i++) {
      v = 0.97 * v + 0.3 * gauss();
      y = 0.995 * y + v * (8 / sampleRateHz);
      x[i] = y;
    }
  }
  let mean = 0;
  for (let i = 0; i < length; i++) mean += x[i]!;
  mean /= length || 1;
  let power = 0;
  for (let i = 0; i < length; i++) {
    x[i]! -= mean;
    power += x[i]! * x[i]!;
  }
  const scale = power > 0 ? 1 / Math.sqrt(power / length) : 0;
  for (let i = 0; i < length; i++) x[i]! *= scale;
  return x;
}

/** Median peak-to-peak amplitude of the signal within ±50 ms of each beat. */
export function qrsPeakToPeak(
  signal: ArrayLike<number>,
  beats: readonly number[],
  sampleRateHz: number,
): number {
  const half = Math.max(1, Math.round(0.05 * sampleRateHz));
  const amplitudes: number[] = [];
  for (const b of beats) {
    let low = Infinity;
    let high = -Infinity;
    for (let i = Math.max(0, b - half); i < Math.min(signal.length, b + half); i++) {
      const v = signal[i]!;
      if (v < low) low = v;
      if (v > high) high = v;
    }
    if (high >= low) amplitudes.push(high - low);
  }
  if (amplitudes.length === 0) throw new NoiseStressError('no beats to measure the QRS amplitude');
  amplitudes.sort((a, b) => a - b);
  return amplitudes[amplitudes.length >> 1]!;
}

/**
 * The signal with noise added from `fromSample` on, at `snrDb` relative to the QRS
 * amplitude `peakToPeak` (same units as the signal), rounded and clipped to 16 bits as a
 * WFDB signal would be.
 */
export function addStressNoise(
  signal: ArrayLike<number>,
  sampleRateHz: number,
  peakToPeak: number,
  options: NoiseStressOptions,
): Int16Array {
  if (!Number.isFinite(options.snrDb)) throw new NoiseStressError('SNR must be a number');
  if (!(peakToPeak > 0)) throw new NoiseStressError('QRS amplitude must be positive');
  const n = signal.length;
  const from = Math.min(n, Math.max(0, options.fromSample ?? 0));
  // The noise is generated for the noisy stretch only, so its power there is the one asked.
  const noise = stressNoise(n - from, sampleRateHz, options.kind, options.seed);
  const rms = Math.sqrt((peakToPeak * peakToPeak) / 8 / 10 ** (options.snrDb / 10));
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const v = Math.round(signal[i]! + (i >= from ? noise[i - from]! * rms : 0));
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}
