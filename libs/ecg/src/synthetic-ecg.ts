import { TWELVE_LEADS } from '#contracts';

/**
 * Synthetic 12-lead ECG for the device simulator and for tests that need known beat
 * positions.
 *
 * Wave model: in the spirit of ECGSYN (McSharry, Clifford, Tarassenko & Smith, "A dynamical
 * model for generating synthetic electrocardiogram signals", IEEE Trans. Biomed. Eng. 50(3),
 * 2003) each beat is a sum of Gaussian P, Q, R, S and T waves placed relative to the beat,
 * with the T wave moved and widened with sqrt(RR) (Bazett-like QT adaptation) and RR
 * modulated by respiratory sinus arrhythmia (~0.25 Hz) and Mayer waves (~0.1 Hz). Unlike
 * the scalar ECGSYN each wave carries a 3-D direction, so the model yields a heart vector
 * (the vectorcardiogram) that is projected onto lead vectors.
 *
 * Coordinates: x to the patient's left, y towards the feet, z anterior. Frontal leads use
 * the hexaxial reference system; precordial leads use horizontal-plane directions with a
 * proximity gain, because chest electrodes sit much closer to the heart than limb ones.
 *
 * Leads are formed from electrode potentials (RA, LA, LL, V1..V6) the way an
 * electrocardiograph forms them (AAMI EC11 / IEC 60601-2-25 lead definitions), and the
 * derived limb leads are computed from the quantised I and II, so Einthoven's and
 * Goldberger's relations hold to within one LSB even with noise switched on.
 */

export const ECG_FINDINGS = [
  'normal',
  'sinus-bradycardia',
  'sinus-tachycardia',
  'atrial-fibrillation',
  'pvc',
  'anterior-stemi',
  'lead-off',
] as const;
export type EcgFinding = (typeof ECG_FINDINGS)[number];

/** The electrode that is off in the 'lead-off' finding. */
export const LEAD_OFF_LEAD = 'V3';

export interface SyntheticEcgOptions {
  durationSeconds: number;
  /** Default 500. */
  sampleRateHz?: number;
  /** Default depends on the finding: normal 72, bradycardia 48, tachycardia 120, AF 110 (mean). */
  heartRateBpm?: number;
  /** Default 'normal'. */
  finding?: EcgFinding;
  /** Same seed, same samples. Default 1. */
  seed?: number;
  /** Approximate per-lead levels; defaults 8 µV RMS EMG, 100 µV wander, 15 µV mains. */
  noise?: { emgMicrovolts?: number; baselineMicrovolts?: number; mainsMicrovolts?: number };
  /** Default 50. */
  mainsHz?: 50 | 60;
  /** Default 2.5. */
  microvoltsPerLsb?: number;
}

export interface SyntheticEcg {
  /** TWELVE_LEADS order. */
  leads: string[];
  sampleRateHz: number;
  microvoltsPerLsb: number;
  samplesPerLead: number;
  /** Interleaved by sample (s0l0 s0l1 … s1l0 …). */
  samples: Int16Array;
  /** Sample index of each R peak (QRS fiducial) inside the recording. */
  rPeaks: number[];
  /** One label per rPeak: 'N' conducted sinus/AF beat, 'V' ventricular ectopic (PhysioNet/AAMI EC57 codes). */
  beatLabels: ('N' | 'V')[];
}

type Vec3 = readonly [number, number, number];
/** x, y, z components of the heart vector per sample, in millivolts. */
type HeartVector = [Float64Array, Float64Array, Float64Array];

/**
 * A Gaussian wave in time. ECGSYN uses symmetric Gaussians; separate widths before and after
 * the peak give the T wave its slow upstroke and quicker return, and the PVC its slurred
 * onset, without adding more waves.
 */
interface Wave {
  /** Peak time relative to the QRS fiducial, seconds, at RR = 1 s. */
  offset: number;
  sigmaBefore: number;
  sigmaAfter: number;
  /** Peak amplitude of the heart vector, millivolts. */
  amplitude: number;
  direction: Vec3;
  /** Repolarisation waves stretch with sqrt(RR); atrial and QRS timing does not. */
  scalesWithQt: boolean;
}

function unit(x: number, y: number, z: number): Vec3 {
  const norm = Math.hypot(x, y, z);
  return [x / norm, y / norm, z / norm];
}

function wave(
  offset: number,
  sigmaBefore: number,
  sigmaAfter: number,
  amplitude: number,
  direction: Vec3,
  scalesWithQt = false,
): Wave {
  return { offset, sigmaBefore, sigmaAfter, amplitude, direction, scalesWithQt };
}

/**
 * Normal sinus beat. Directions follow the normal vectorcardiogram: P and the main QRS
 * vector point left-inferior (frontal axis ~55°); the septal Q vector points right and
 * anterior (small q in I/V6, r in V1); terminal S forces are posterior and superior (deep S
 * in V1–V2); T is concordant with the QRS and slightly anterior.
 */
const P_WAVE = wave(-0.16, 0.025, 0.022, 0.16, unit(0.55, 0.8, 0.2));
const SINUS_QRS: readonly Wave[] = [
  wave(-0.026, 0.008, 0.007, 0.18, unit(-0.7, 0.25, 0.65)),
  wave(0, 0.01, 0.01, 1.35, unit(0.6, 0.78, 0.1)),
  wave(0.028, 0.009, 0.01, 0.5, unit(-0.3, -0.35, -0.88)),
];
const SINUS_T = wave(0.3, 0.065, 0.045, 0.34, unit(0.7, 0.62, 0.35), true);

/**
 * PVC from a right-ventricular outflow focus: slow cell-to-cell conduction gives a broad
 * QRS (> 120 ms) with an inferior axis and LBBB-like precordial pattern, and the
 * repolarisation is discordant (T opposite to the QRS).
 */
const PVC_WAVES: readonly Wave[] = [
  wave(0, 0.04, 0.03, 1.7, unit(0.35, 0.8, -0.5)),
  wave(0.085, 0.025, 0.025, 0.35, unit(-0.4, -0.5, 0.4)),
  wave(0.33, 0.07, 0.055, 0.55, unit(-0.35, -0.8, 0.45), true),
];

/**
 * Anterior STEMI: the injury current points toward the anterior wall and away from the
 * inferior leads, giving ST elevation in V1–V5 (and I/aVL) with reciprocal depression in
 * II, III and aVF; the T wave becomes hyperacute along the same direction.
 */
const STEMI_DIRECTION = unit(0.3, -0.45, 0.85);
const STEMI_ST_MILLIVOLTS = 0.3;
const STEMI_HYPERACUTE_T = wave(0.3, 0.07, 0.05, 0.25, STEMI_DIRECTION, true);

/** Mean fibrillatory-wave direction: atrial activity is seen best in V1 and the inferior leads. */
const F_WAVE_DIRECTION = unit(-0.2, 0.6, 0.75);
const F_WAVE_MILLIVOLTS = 0.06;

const degrees = (angle: number) => (angle * Math.PI) / 180;

/** Hexaxial frontal-plane lead direction: 0° to the patient's left, +90° to the feet. */
function frontalLead(angleDeg: number): Vec3 {
  return [Math.cos(degrees(angleDeg)), Math.sin(degrees(angleDeg)), 0];
}

/** Horizontal-plane lead direction, from the patient's left towards anterior, with gain. */
function precordialLead(angleDeg: number, gain: number): Vec3 {
  return [gain * Math.cos(degrees(angleDeg)), 0, gain * Math.sin(degrees(angleDeg))];
}

/**
 * Only I (0°) and II (60°) are projected. III, aVR, aVL and aVF are derived from them, which
 * is the same as projecting onto 120°, −150°, −30° and 90° (the augmented leads at √3/2 of
 * unit length) but makes Einthoven's law hold by construction.
 */
const LEAD_I = frontalLead(0);
const LEAD_II = frontalLead(60);

/** V1 right of the sternum round to V6 in the left mid-axillary line. */
const PRECORDIAL_LEADS: readonly Vec3[] = [
  precordialLead(115, 1.3),
  precordialLead(95, 1.7),
  precordialLead(75, 1.8),
  precordialLead(55, 1.9),
  precordialLead(30, 1.6),
  precordialLead(0, 1.3),
];

const DEFAULT_HEART_RATE: Record<EcgFinding, number> = {
  normal: 72,
  'sinus-bradycardia': 48,
  'sinus-tachycardia': 120,
  'atrial-fibrillation': 110,
  pvc: 72,
  'anterior-stemi': 72,
  'lead-off': 72,
};

const RESPIRATION_HZ = 0.25;
const MAYER_HZ = 0.1;
/** Fractional RR modulation; gives an RR standard deviation of ~40 ms at 72 bpm. */
const RSA_DEPTH = 0.04;
const MAYER_DEPTH = 0.025;
const RR_JITTER = 0.012;
/** Irregularly irregular: lognormal RR with ~25 % coefficient of variation. */
const AF_RR_LOG_SIGMA = 0.25;
const MIN_RR_SECONDS = 0.3;
/** Sinus beats between PVCs: roughly one beat in five is ectopic. */
const PVC_MIN_GAP = 2;
const PVC_MAX_GAP = 6;
const PVC_COUPLING = 0.6;

const INT16_MIN = -32768;
const INT16_MAX = 32767;
/** Gaussians are negligible (< 4e-6) beyond five widths. */
const GAUSSIAN_SUPPORT_SIGMAS = 5;

/** mulberry32: tiny, fast, and good enough for signal synthesis; not for anything secret. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Random {
  uniform(min?: number, max?: number): number;
  gaussian(): number;
}

function createRandom(seed: number): Random {
  const next = mulberry32(seed);
  return {
    uniform: (min = 0, max = 1) => min + (max - min) * next(),
    gaussian: () => {
      // Box–Muller; 1 - u keeps the logarithm finite.
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}

interface Beat {
  /** QRS fiducial time, seconds; may lie before 0 or after the end to fill the edges. */
  time: number;
  label: 'N' | 'V';
  /** Interval from the previous QRS, which sets the QT of this beat. */
  precedingRr: number;
  /** P wave present (sinus rhythm), independent of whether the beat is conducted. */
  hasP: boolean;
  conducted: boolean;
  /** Respiratory modulation of QRS amplitude (electrical axis moves with the diaphragm). */
  amplitudeScale: number;
}

interface Rhythm {
  meanRr: number;
  respirationHz: number;
  respirationPhase: number;
  mayerPhase: number;
}

function planBeats(finding: EcgFinding, rhythm: Rhythm, endTime: number, random: Random): Beat[] {
  const { meanRr } = rhythm;
  const isAf = finding === 'atrial-fibrillation';
  const respiration = (t: number) =>
    Math.sin(2 * Math.PI * rhythm.respirationHz * t + rhythm.respirationPhase);
  const nextRr = (t: number) => {
    const rr = isAf
      ? meanRr * Math.exp(AF_RR_LOG_SIGMA * random.gaussian() - AF_RR_LOG_SIGMA ** 2 / 2)
      : meanRr *
        (1 +
          RSA_DEPTH * respiration(t) +
          MAYER_DEPTH * Math.sin(2 * Math.PI * MAYER_HZ * t + rhythm.mayerPhase) +
          RR_JITTER * random.gaussian());
    return Math.max(MIN_RR_SECONDS, rr);
  };

  // Sinus-node schedule first; start a beat or so before 0 so the recording opens mid-cycle.
  const sinusTimes: number[] = [];
  for (let t = -random.uniform(0.5, 1.5) * meanRr; t < endTime + 2 * meanRr; t += nextRr(t)) {
    sinusTimes.push(t);
  }

  // PVCs come every few sinus beats rather than by independent coin flips, so even a
  // 10-second strip asked for 'pvc' is guaranteed to show some.
  const sinusBeatsBeforePvc = () => Math.floor(random.uniform(PVC_MIN_GAP, PVC_MAX_GAP + 1));
  let untilPvc = sinusBeatsBeforePvc();
  const beats: Beat[] = [];
  for (const time of sinusTimes) {
    const previous = beats.at(-1);
    const precedingRr = previous ? time - previous.time : meanRr;
    const amplitudeScale = 1 + 0.05 * respiration(time);
    if (finding === 'pvc' && previous?.conducted && previous.label === 'N' && --untilPvc <= 0) {
      untilPvc = sinusBeatsBeforePvc();
      // The PVC fires early; the sinus node is not reset, so the sinus P on schedule finds
      // the ventricles refractory and is not conducted: a full compensatory pause.
      const ectopicTime = previous.time + PVC_COUPLING * (time - previous.time);
      beats.push({
        time: ectopicTime,
        label: 'V',
        precedingRr: ectopicTime - previous.time,
        hasP: false,
        conducted: true,
        amplitudeScale,
      });
      beats.push({ time, label: 'N', precedingRr, hasP: true, conducted: false, amplitudeScale });
      continue;
    }
    beats.push({
      time,
      label: 'N',
      precedingRr: previous && !previous.conducted ? time - beats.at(-2)!.time : precedingRr,
      hasP: !isAf,
      conducted: true,
      amplitudeScale,
    });
  }
  return beats;
}

/**
 * Adds one Gaussian wave along its direction into the heart-vector buffers. `qtScale` is
 * sqrt(preceding RR in seconds) and stretches only the waves that follow QT.
 */
function addWave(
  vector: HeartVector,
  sampleRateHz: number,
  beatTime: number,
  qtScale: number,
  amplitudeScale: number,
  { offset, sigmaBefore, sigmaAfter, amplitude, direction, scalesWithQt }: Wave,
): void {
  const stretch = scalesWithQt ? qtScale : 1;
  const center = beatTime + offset * stretch;
  const before = sigmaBefore * stretch;
  const after = sigmaAfter * stretch;
  const first = Math.max(0, Math.ceil((center - GAUSSIAN_SUPPORT_SIGMAS * before) * sampleRateHz));
  const last = Math.min(
    vector[0].length - 1,
    Math.floor((center + GAUSSIAN_SUPPORT_SIGMAS * after) * sampleRateHz),
  );
  const peak = amplitude * amplitudeScale;
  for (let i = first; i <= last; i++) {
    const dt = i / sampleRateHz - center;
    const sigma = dt < 0 ? before : after;
    const g = peak * Math.exp(-0.5 * (dt / sigma) ** 2);
    vector[0][i]! += g * direction[0];
    vector[1][i]! += g * direction[1];
    vector[2][i]! += g * direction[2];
  }
}

/**
 * ST-segment injury current: a plateau from the J point to just after the T peak, built
 * from two logistic edges so it has no discontinuity a filter could ring on.
 */
function addStPlateau(
  vector: HeartVector,
  sampleRateHz: number,
  beatTime: number,
  qtScale: number,
): void {
  const riseAt = beatTime + 0.03;
  const fallAt = beatTime + (SINUS_T.offset + 0.06) * qtScale;
  const fallWidth = 0.03 * qtScale;
  const first = Math.max(0, Math.floor((beatTime - 0.05) * sampleRateHz));
  const last = Math.min(vector[0].length - 1, Math.ceil((fallAt + 10 * fallWidth) * sampleRateHz));
  for (let i = first; i <= last; i++) {
    const t = i / sampleRateHz;
    const rise = 1 / (1 + Math.exp(-(t - riseAt) / 0.005));
    const fall = 1 / (1 + Math.exp((t - fallAt) / fallWidth));
    const g = STEMI_ST_MILLIVOLTS * rise * fall;
    vector[0][i]! += g * STEMI_DIRECTION[0];
    vector[1][i]! += g * STEMI_DIRECTION[1];
    vector[2][i]! += g * STEMI_DIRECTION[2];
  }
}

/**
 * Fibrillatory waves: a quasi-sinusoid whose rate wanders within 4–9 Hz (atrial cycle
 * length 110–250 ms) and whose amplitude waxes and wanes, as coarse AF does.
 */
function addFibrillatoryWaves(vector: HeartVector, sampleRateHz: number, random: Random): void {
  const rateDrift = [random.uniform(0.05, 0.2), random.uniform(0, 2 * Math.PI)] as const;
  const amplitudeDrift = [random.uniform(0.1, 0.4), random.uniform(0, 2 * Math.PI)] as const;
  let phase = random.uniform(0, 2 * Math.PI);
  for (let i = 0; i < vector[0].length; i++) {
    const t = i / sampleRateHz;
    const frequency = 6.5 + 2 * Math.sin(2 * Math.PI * rateDrift[0] * t + rateDrift[1]);
    phase += (2 * Math.PI * frequency) / sampleRateHz;
    const envelope = 0.7 + 0.3 * Math.sin(2 * Math.PI * amplitudeDrift[0] * t + amplitudeDrift[1]);
    const g = F_WAVE_MILLIVOLTS * envelope * Math.sin(phase);
    vector[0][i]! += g * F_WAVE_DIRECTION[0];
    vector[1][i]! += g * F_WAVE_DIRECTION[1];
    vector[2][i]! += g * F_WAVE_DIRECTION[2];
  }
}

interface NoiseLevels {
  emg: number;
  baseline: number;
  mains: number;
}

/**
 * Noise on one electrode, in microvolts. It is added per electrode rather than per lead
 * because that is where it arises (skin contact, muscle under the electrode, capacitive
 * mains pick-up), and it keeps the leads mutually consistent. Each lead is a difference
 * of two electrode signals, so per-electrode levels are divided by √2.
 */
function electrodeNoise(
  length: number,
  sampleRateHz: number,
  levels: NoiseLevels,
  mainsHz: number,
  respirationHz: number,
  random: Random,
): Float64Array {
  const noise = new Float64Array(length);
  const perElectrode = Math.SQRT1_2;

  if (levels.emg > 0) {
    // EMG: white Gaussian noise band-limited to roughly 20–150 Hz (one-pole high- and
    // low-pass), amplitude-modulated by slow bursts of muscle activity.
    const highPass = Math.exp((-2 * Math.PI * 20) / sampleRateHz);
    const lowPass = Math.exp((-2 * Math.PI * Math.min(150, sampleRateHz / 3)) / sampleRateHz);
    const burstHz = random.uniform(0.2, 0.6);
    const burstPhase = random.uniform(0, 2 * Math.PI);
    const emg = new Float64Array(length);
    let previousInput = 0;
    let highPassed = 0;
    let lowPassed = 0;
    let energy = 0;
    for (let i = 0; i < length; i++) {
      const input = random.gaussian();
      highPassed = highPass * (highPassed + input - previousInput);
      previousInput = input;
      lowPassed = lowPass * lowPassed + (1 - lowPass) * highPassed;
      const burst = 1 + 0.5 * Math.sin((2 * Math.PI * burstHz * i) / sampleRateHz + burstPhase);
      emg[i] = lowPassed * burst;
      energy += emg[i]! ** 2;
    }
    const scale = energy > 0 ? (levels.emg * perElectrode) / Math.sqrt(energy / length) : 0;
    for (let i = 0; i < length; i++) noise[i]! += emg[i]! * scale;
  }

  // Baseline wander follows respiration (< 0.5 Hz) plus a slower electrode drift. Chest
  // and limb electrodes move differently with breathing, hence a phase per electrode.
  const wanderAmplitude = levels.baseline * perElectrode * random.uniform(0.6, 1.2);
  const wanderPhase = random.uniform(0, 2 * Math.PI);
  const driftHz = random.uniform(0.02, 0.08);
  const driftPhase = random.uniform(0, 2 * Math.PI);
  // Residual differential mains pick-up differs per electrode in amplitude and phase.
  const mainsAmplitude = levels.mains * perElectrode * random.uniform(0.5, 1.2);
  const mainsPhase = random.uniform(0, 2 * Math.PI);
  for (let i = 0; i < length; i++) {
    const t = i / sampleRateHz;
    noise[i]! +=
      wanderAmplitude *
        (Math.sin(2 * Math.PI * respirationHz * t + wanderPhase) +
          0.4 * Math.sin(2 * Math.PI * driftHz * t + driftPhase)) +
      mainsAmplitude * Math.sin(2 * Math.PI * mainsHz * t + mainsPhase);
  }
  return noise;
}

function quantise(microvolts: number, microvoltsPerLsb: number): number {
  return clampInt16(Math.round(microvolts / microvoltsPerLsb));
}

function clampInt16(value: number): number {
  return Math.min(INT16_MAX, Math.max(INT16_MIN, value));
}

/**
 * An electrode that has lost skin contact: the amplifier reports zero, except while the
 * loose electrode touches or lifts, when the input swings to a rail.
 */
function leadOffTrace(length: number, sampleRateHz: number, random: Random): Int16Array {
  const trace = new Int16Array(length);
  let start = Math.floor(random.uniform(0.05, 0.4) * length);
  while (start < length) {
    const burst = Math.round(random.uniform(0.1, 0.3) * sampleRateHz);
    trace.fill(
      random.uniform() < 0.5 ? INT16_MAX : INT16_MIN,
      start,
      Math.min(length, start + burst),
    );
    start += burst + Math.round(random.uniform(2, 5) * sampleRateHz);
  }
  return trace;
}

function requireRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${name} must be in [${min}, ${max}], got ${value}`);
  }
}

export function synthesizeEcg(options: SyntheticEcgOptions): SyntheticEcg {
  const finding = options.finding ?? 'normal';
  if (!ECG_FINDINGS.includes(finding)) {
    throw new RangeError(`unknown finding ${JSON.stringify(finding)}`);
  }
  const sampleRateHz = options.sampleRateHz ?? 500;
  const heartRateBpm = options.heartRateBpm ?? DEFAULT_HEART_RATE[finding];
  const microvoltsPerLsb = options.microvoltsPerLsb ?? 2.5;
  const mainsHz = options.mainsHz ?? 50;
  const seed = options.seed ?? 1;
  const noise: NoiseLevels = {
    emg: options.noise?.emgMicrovolts ?? 8,
    baseline: options.noise?.baselineMicrovolts ?? 100,
    mains: options.noise?.mainsMicrovolts ?? 15,
  };
  // Twice the relay's 5-minute limit, so over-long recordings can still be simulated.
  requireRange('durationSeconds', options.durationSeconds, Number.MIN_VALUE, 600);
  // Below ~100 Hz the QRS (tens of ms) would not be resolved.
  requireRange('sampleRateHz', sampleRateHz, 100, 10_000);
  requireRange('heartRateBpm', heartRateBpm, 20, 200);
  requireRange('microvoltsPerLsb', microvoltsPerLsb, 0.01, 1000);
  requireRange('noise.emgMicrovolts', noise.emg, 0, 10_000);
  requireRange('noise.baselineMicrovolts', noise.baseline, 0, 10_000);
  requireRange('noise.mainsMicrovolts', noise.mains, 0, 10_000);
  if (mainsHz !== 50 && mainsHz !== 60) throw new RangeError(`mainsHz must be 50 or 60`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);

  const random = createRandom(seed);
  const samplesPerLead = Math.round(options.durationSeconds * sampleRateHz);
  if (samplesPerLead < 1) throw new RangeError('durationSeconds is shorter than one sample');
  const durationSeconds = samplesPerLead / sampleRateHz;
  const rhythm: Rhythm = {
    meanRr: 60 / heartRateBpm,
    respirationHz: RESPIRATION_HZ * random.uniform(0.85, 1.15),
    respirationPhase: random.uniform(0, 2 * Math.PI),
    mayerPhase: random.uniform(0, 2 * Math.PI),
  };
  const beats = planBeats(finding, rhythm, durationSeconds, random);

  const vector: HeartVector = [
    new Float64Array(samplesPerLead),
    new Float64Array(samplesPerLead),
    new Float64Array(samplesPerLead),
  ];
  for (const beat of beats) {
    const qtScale = Math.sqrt(beat.precedingRr);
    const add = (w: Wave, amplitudeScale = 1) =>
      addWave(vector, sampleRateHz, beat.time, qtScale, amplitudeScale, w);
    if (beat.hasP) add(P_WAVE);
    if (!beat.conducted) continue;
    if (beat.label === 'V') {
      PVC_WAVES.forEach((w) => add(w));
      continue;
    }
    SINUS_QRS.forEach((w) => add(w, beat.amplitudeScale));
    add(SINUS_T);
    if (finding === 'anterior-stemi') {
      addStPlateau(vector, sampleRateHz, beat.time, qtScale);
      add(STEMI_HYPERACUTE_T);
    }
  }
  if (finding === 'atrial-fibrillation') addFibrillatoryWaves(vector, sampleRateHz, random);

  // Heart vector → electrode potentials in microvolts, with the Wilson central terminal
  // at 0: RA/LA/LL are the unique potentials summing to 0 whose differences are the
  // projections onto leads I and II.
  const project = (lead: Vec3, i: number) =>
    1000 * (vector[0][i]! * lead[0] + vector[1][i]! * lead[1] + vector[2][i]! * lead[2]);
  const noiseFor = () =>
    electrodeNoise(samplesPerLead, sampleRateHz, noise, mainsHz, rhythm.respirationHz, random);
  const [raNoise, laNoise, llNoise] = [noiseFor(), noiseFor(), noiseFor()];
  const chestNoise = PRECORDIAL_LEADS.map(noiseFor);

  const leadCount = TWELVE_LEADS.length;
  const samples = new Int16Array(samplesPerLead * leadCount);
  for (let i = 0; i < samplesPerLead; i++) {
    const leadI = project(LEAD_I, i);
    const leadII = project(LEAD_II, i);
    const ra = -(leadI + leadII) / 3 + raNoise[i]!;
    const la = (2 * leadI - leadII) / 3 + laNoise[i]!;
    const ll = (2 * leadII - leadI) / 3 + llNoise[i]!;
    const wilson = (ra + la + ll) / 3;

    // Einthoven (III = II − I) and Goldberger (aVR, aVL, aVF) computed from the stored I
    // and II, as an electrocardiograph derives them, so they hold on the integers.
    const qI = quantise(la - ra, microvoltsPerLsb);
    const qII = quantise(ll - ra, microvoltsPerLsb);
    const row = i * leadCount;
    samples[row] = qI;
    samples[row + 1] = qII;
    samples[row + 2] = clampInt16(qII - qI);
    samples[row + 3] = clampInt16(Math.round(-(qI + qII) / 2));
    samples[row + 4] = clampInt16(Math.round(qI - qII / 2));
    samples[row + 5] = clampInt16(Math.round(qII - qI / 2));
    for (let v = 0; v < PRECORDIAL_LEADS.length; v++) {
      const electrode = project(PRECORDIAL_LEADS[v]!, i) + chestNoise[v]![i]!;
      samples[row + 6 + v] = quantise(electrode - wilson, microvoltsPerLsb);
    }
  }

  if (finding === 'lead-off') {
    const column = TWELVE_LEADS.indexOf(LEAD_OFF_LEAD);
    const trace = leadOffTrace(samplesPerLead, sampleRateHz, random);
    for (let i = 0; i < samplesPerLead; i++) samples[i * leadCount + column] = trace[i]!;
  }

  const rPeaks: number[] = [];
  const beatLabels: ('N' | 'V')[] = [];
  for (const beat of beats) {
    const index = Math.round(beat.time * sampleRateHz);
    if (beat.conducted && index >= 0 && index < samplesPerLead) {
      rPeaks.push(index);
      beatLabels.push(beat.label);
    }
  }

  return {
    leads: [...TWELVE_LEADS],
    sampleRateHz,
    microvoltsPerLsb,
    samplesPerLead,
    samples,
    rPeaks,
    beatLabels,
  };
}

/**
 * A 12-lead ECG whose only ST elevation is in V2 and V3, about 0.17–0.19 mV: the normal ECG
 * with 55 % of the anterior-STEMI difference added in those two leads only. Between the 4th
 * Universal Definition's thresholds there (≥ 0.15 mV for women, ≥ 0.2 mV for men of 40 or
 * more), so it shows whether the patient's sex reached the analysis.
 */
export function borderlineAnteriorSt(seed = 7): SyntheticEcg {
  const normal = synthesizeEcg({ durationSeconds: 10, finding: 'normal', seed });
  const stemi = synthesizeEcg({ durationSeconds: 10, finding: 'anterior-stemi', seed });
  const width = normal.leads.length;
  const chest = new Set(['V2', 'V3'].map((lead) => normal.leads.indexOf(lead)));
  const samples = normal.samples.map((value, i) =>
    chest.has(i % width) ? Math.round(value + 0.55 * (stemi.samples[i]! - value)) : value,
  );
  return { ...normal, samples };
}
