import { filterZeroPhase, highPassBiquad, notchBiquad, type Biquad } from './filters.js';
import type { EcgMeasurements } from './measurements.js';

/**
 * Signal quality of each lead and of the recording as a whole: is the electrode on, is the
 * amplifier saturated, how much noise is there, and can the recording be read at all.
 * The checks follow the usual technical-quality criteria of resting-ECG devices and of the
 * PhysioNet/CinC Challenge 2011 on ECG acceptability (Silva, Moody & Behar, "Improving the
 * quality of ECGs collected using mobile phones", Computing in Cardiology 2011;38:273):
 * flat lines, saturation, large baseline excursions and high-frequency noise.
 */

export type LeadStatus = 'good' | 'noisy' | 'saturated' | 'off';

export interface LeadQuality {
  lead: string;
  status: LeadStatus;
  /** Usable for detection and measurement (not off, not mostly saturated). */
  usable: boolean;
  /** Share of 2-s windows that are dead: < 50 µV peak-to-peak apart from rail excursions, %. */
  flatPercent: number;
  /** Share of samples at an ADC rail or clipped at the lead's extreme, %. */
  saturatedPercent: number;
  /** RMS of the > 35 Hz band away from QRS complexes (muscle noise), µV; null if off. */
  noiseUv: number | null;
  /** Peak-to-peak of the < 0.67 Hz component (baseline wander), µV. */
  wanderUv: number;
  /** RMS of the mains-frequency component, µV. */
  mainsUv: number;
  reasons: string[];
}

export interface SignalQuality {
  readable: boolean;
  /** Why the recording is unreadable, plus warnings that do not prevent reading. */
  reasons: string[];
  perLead: LeadQuality[];
  /** Suspected limb-electrode reversal, if any. */
  limbLeadReversal: 'LA-RA' | null;
}

export const MIN_DIAGNOSTIC_SAMPLE_RATE_HZ = 500;
/** Flat: less than this peak-to-peak in a 2-s window (every 2 s holds a QRS above 30/min). */
const FLAT_UV = 50;
const FLAT_WINDOW_SECONDS = 2;
/** Off when flat this share of the time, or railed this share of the samples. */
const OFF_FLAT_FRACTION = 0.5;
const OFF_SATURATED_FRACTION = 0.2;
const SATURATED_FRACTION = 0.01;
/** Clipping at a lead's own extreme counts when it lasts this long this far from baseline. */
const CLIP_RUN_SECONDS = 0.02;
const CLIP_MIN_UV = 3000;
/** EMG levels: visible above ~30 µV RMS, obscuring P waves and ST above ~60 µV. */
const NOISY_UV = 60;
const UNREADABLE_NOISE_UV = 200;
const WANDER_UV = 2000;
const MAINS_UV = 50;
const QRS_GUARD_SECONDS = 0.06;
const INT16_MAX = 32767;
const INT16_MIN = -32768;
const MIN_SECONDS = 2.5;

/** The independently recorded leads of a 12-lead ECG; the other four derive from I and II. */
export const ESSENTIAL_LEADS: readonly string[] = ['I', 'II', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'];

export interface LeadQualityInput {
  lead: string;
  /** Raw ADC values. */
  raw: Int16Array;
  microvoltsPerLsb: number;
  sampleRateHz: number;
  mainsHz?: 50 | 60;
}

interface ContactResult {
  flatFraction: number;
  saturatedFraction: number;
  wanderUv: number;
  mainsUv: number;
  /** Mains-notched, 0.67 Hz high-passed signal, µV. */
  clean: Float64Array;
}

function usable(frequencyHz: number, fs: number): boolean {
  return frequencyHz < 0.45 * fs;
}

/** Flat-line, saturation, wander and mains checks; they need no beat positions. */
function contact(input: LeadQualityInput): ContactResult {
  const { raw, microvoltsPerLsb: uv, sampleRateHz: fs } = input;
  const n = raw.length;
  const microvolts = new Float64Array(n);
  for (let i = 0; i < n; i++) microvolts[i] = raw[i]! * uv;

  // Saturation: samples at the int16 rails, and runs clipped at the lead's own extremes.
  let railed = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = raw[i]!;
    if (v === INT16_MAX || v === INT16_MIN) railed++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const sorted = Int16Array.from(raw).sort();
  const middle = sorted[n >> 1] ?? 0;
  const clipRun = Math.max(2, Math.round(CLIP_RUN_SECONDS * fs));
  let clipped = 0;
  for (const extreme of [min, max]) {
    if (extreme === INT16_MAX || extreme === INT16_MIN) continue; // counted as railed
    if (Math.abs(extreme - middle) * uv < CLIP_MIN_UV) continue;
    let run = 0;
    for (let i = 0; i <= n; i++) {
      if (i < n && raw[i] === extreme) run++;
      else {
        if (run >= clipRun) clipped += run;
        run = 0;
      }
    }
  }

  const baselineSections: Biquad[] = usable(0.67, fs) ? [highPassBiquad(0.67, fs)] : [];
  const mainsHz = input.mainsHz ?? 50;
  const mainsSections: Biquad[] = usable(mainsHz, fs) ? [notchBiquad(mainsHz, fs, 30)] : [];
  const notched = mainsSections.length
    ? filterZeroPhase(microvolts, mainsSections, Math.round(0.2 * fs))
    : microvolts;
  let mainsEnergy = 0;
  for (let i = 0; i < n; i++) mainsEnergy += (microvolts[i]! - notched[i]!) ** 2;
  const clean = baselineSections.length
    ? filterZeroPhase(notched, baselineSections, Math.round(1.5 * fs))
    : notched;
  let wanderMin = Infinity;
  let wanderMax = -Infinity;
  for (let i = 0; i < n; i++) {
    const w = notched[i]! - clean[i]!;
    if (w < wanderMin) wanderMin = w;
    if (w > wanderMax) wanderMax = w;
  }

  // Dead windows (2 s, overlapping by half): nothing but a flat line once the samples at
  // an ADC rail are set aside. This is what a loose electrode looks like: zero, or swinging
  // to a rail as it touches and lifts. A lead whose R waves merely clip is not dead: the
  // rest of its beats are still there. Flatness is judged on the raw samples and on the
  // mains-notched ones (a loose electrode picks up mains), the latter away from rail
  // excursions, where the notch rings.
  const nearRail = new Uint8Array(n);
  const ring = Math.round(0.25 * fs);
  for (let i = 0; i < n; i++) {
    const r = raw[i]!;
    if (r === INT16_MAX || r === INT16_MIN)
      nearRail.fill(1, Math.max(0, i - ring), Math.min(n, i + ring + 1));
  }
  const window = Math.min(n, Math.max(1, Math.round(FLAT_WINDOW_SECONDS * fs)));
  const step = Math.max(1, window >> 1);
  let windows = 0;
  let flat = 0;
  for (let start = 0; start + window <= n; start += step) {
    let rawLo = Infinity;
    let rawHi = -Infinity;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = start; i < start + window; i++) {
      const r = raw[i]!;
      if (r === INT16_MAX || r === INT16_MIN) continue;
      if (r < rawLo) rawLo = r;
      if (r > rawHi) rawHi = r;
      if (nearRail[i]) continue;
      const v = notched[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    windows++;
    const rawFlat = !(rawHi >= rawLo) || (rawHi - rawLo) * uv < FLAT_UV;
    const notchedFlat = hi >= lo && hi - lo < FLAT_UV;
    if (rawFlat || notchedFlat) flat++;
  }
  return {
    flatFraction: windows ? flat / windows : 1,
    saturatedFraction: n ? (railed + clipped) / n : 0,
    wanderUv: n ? wanderMax - wanderMin : 0,
    mainsUv: n ? Math.sqrt(mainsEnergy / n) : 0,
    clean,
  };
}

/** High-frequency (> 35 Hz) RMS away from the QRS complexes: mostly muscle noise. */
function highFrequencyNoise(
  clean: Float64Array,
  fs: number,
  rPeaks: readonly number[],
): number | null {
  if (!usable(35, fs)) return null;
  const hf = filterZeroPhase(clean, [highPassBiquad(35, fs)], Math.round(0.1 * fs));
  const n = hf.length;
  const excluded = new Uint8Array(n);
  const guard = Math.round(QRS_GUARD_SECONDS * fs);
  for (const r of rPeaks) excluded.fill(1, Math.max(0, r - guard), Math.min(n, r + guard + 1));
  // Median of per-second RMS values, so a short burst does not condemn the lead.
  const second = Math.max(1, Math.round(fs));
  const rms: number[] = [];
  for (let start = 0; start < n; start += second) {
    let sum = 0;
    let count = 0;
    for (let i = start; i < Math.min(n, start + second); i++) {
      if (excluded[i]) continue;
      sum += hf[i]! ** 2;
      count++;
    }
    if (count > second / 4) rms.push(Math.sqrt(sum / count));
  }
  if (rms.length === 0) return null;
  rms.sort((a, b) => a - b);
  return rms[rms.length >> 1]!;
}

export interface LeadQualityAssessment {
  quality: LeadQuality;
  /** Notched, baseline-corrected signal (µV), reused by the caller. */
  clean: Float64Array;
}

/** Contact checks of one lead (before QRS detection). */
export function assessLeadContact(input: LeadQualityInput): LeadQualityAssessment {
  const c = contact(input);
  const reasons: string[] = [];
  let status: LeadStatus = 'good';
  if (c.flatFraction >= OFF_FLAT_FRACTION || c.saturatedFraction >= OFF_SATURATED_FRACTION) {
    status = 'off';
    reasons.push(
      `${input.lead}: lead off or flat line (flat ${Math.round(100 * c.flatFraction)} % of the time, saturated ${Math.round(100 * c.saturatedFraction)} %)`,
    );
  } else if (c.saturatedFraction >= SATURATED_FRACTION) {
    status = 'saturated';
    reasons.push(
      `${input.lead}: amplifier saturated ${(100 * c.saturatedFraction).toFixed(1)} % of the time`,
    );
  }
  if (status !== 'off' && c.wanderUv > WANDER_UV) {
    reasons.push(`${input.lead}: large baseline wander (${(c.wanderUv / 1000).toFixed(1)} mV)`);
  }
  if (c.mainsUv > MAINS_UV) {
    reasons.push(`${input.lead}: mains interference ${Math.round(c.mainsUv)} µV RMS (filtered)`);
  }
  return {
    quality: {
      lead: input.lead,
      status,
      usable: status !== 'off' && c.saturatedFraction < 0.05,
      flatPercent: 100 * c.flatFraction,
      saturatedPercent: 100 * c.saturatedFraction,
      noiseUv: null,
      wanderUv: c.wanderUv,
      mainsUv: c.mainsUv,
      reasons,
    },
    clean: c.clean,
  };
}

/** Adds the muscle-noise estimate once beat positions are known (QRS energy excluded). */
export function addNoiseAssessment(
  assessment: LeadQualityAssessment,
  sampleRateHz: number,
  rPeaks: readonly number[],
): LeadQuality {
  const q = assessment.quality;
  if (q.status === 'off') return q;
  const noiseUv = highFrequencyNoise(assessment.clean, sampleRateHz, rPeaks);
  const reasons = [...q.reasons];
  let status = q.status;
  if (noiseUv !== null && noiseUv > NOISY_UV) {
    if (status === 'good') status = 'noisy';
    reasons.push(`${q.lead}: high-frequency noise ${Math.round(noiseUv)} µV RMS (muscle tremor?)`);
  }
  return { ...q, status, noiseUv, reasons };
}

/**
 * LA/RA reversal turns lead I upside down and swaps aVR with aVL: P, QRS and T negative in
 * I while aVR is upright (Batchvarov, Malik & Camm, "Incorrect electrode cable connection
 * during electrocardiographic recording", Europace 2007;9:1081). Dextrocardia looks the
 * same in the limb leads, so the flag says either.
 */
export function detectLimbLeadReversal(
  leads: readonly string[],
  measurements: EcgMeasurements,
): 'LA-RA' | null {
  const find = (name: string) =>
    measurements.leads.find((l, k) => leads[k]?.toLowerCase() === name.toLowerCase() && l.measured);
  const i = find('I');
  const avr = find('aVR');
  if (!i || !avr || i.qrsAreaUvMs === null || avr.qrsAreaUvMs === null) return null;
  const pNegative = !measurements.pWavePresent || (i.pAmplitudeUv ?? 0) < -20;
  const tNegative = (i.tAmplitudeUv ?? 0) < 0;
  if (i.qrsAreaUvMs < 0 && avr.qrsAreaUvMs > 0 && pNegative && tNegative) return 'LA-RA';
  return null;
}

export interface RecordingQualityInput {
  leads: readonly string[];
  sampleRateHz: number;
  samplesPerLead: number;
  perLead: readonly LeadQuality[];
  beatCount: number;
  limbLeadReversal: 'LA-RA' | null;
}

/** Recording-level verdict: readable or not, and why. */
export function summarizeQuality(input: RecordingQualityInput): SignalQuality {
  const { perLead, leads } = input;
  const problems: string[] = [];
  const warnings: string[] = [];
  const seconds = input.samplesPerLead / input.sampleRateHz;
  const off = perLead.filter((q) => q.status === 'off');
  const usableLeads = perLead.filter((q) => q.usable);
  const hasTwelve = ESSENTIAL_LEADS.every((name) =>
    leads.some((l) => l.toLowerCase() === name.toLowerCase()),
  );
  const essential = hasTwelve
    ? perLead.filter((q) =>
        ESSENTIAL_LEADS.some((name) => name.toLowerCase() === q.lead.toLowerCase()),
      )
    : perLead;
  const essentialOff = essential.filter((q) => q.status === 'off');

  if (seconds < MIN_SECONDS)
    problems.push(
      `recording is ${seconds.toFixed(1)} s long; at least ${MIN_SECONDS} s are needed`,
    );
  if (perLead.length > 0 && off.length === perLead.length) {
    // A flat line in every lead is almost always a technical fault, but asystole looks
    // much the same: say both.
    problems.push('all leads are flat or off — check the electrodes, and the patient');
  } else if (essential.length >= 2 && essentialOff.length >= 2) {
    problems.push(
      `${essentialOff.length} essential leads are off (${essentialOff.map((q) => q.lead).join(', ')})`,
    );
  }
  if (usableLeads.length === 0 && off.length < perLead.length)
    problems.push('no lead is usable (saturated)');
  const noisy = usableLeads.filter((q) => q.noiseUv !== null && q.noiseUv > UNREADABLE_NOISE_UV);
  if (usableLeads.length > 0 && noisy.length === usableLeads.length) {
    problems.push('noise exceeds 200 µV RMS in every usable lead');
  }
  if (input.sampleRateHz < MIN_DIAGNOSTIC_SAMPLE_RATE_HZ) {
    warnings.push(
      `sample rate ${input.sampleRateHz} Hz is below the ${MIN_DIAGNOSTIC_SAMPLE_RATE_HZ} Hz recommended for diagnostic ECGs (AHA/ACCF/HRS 2007); QRS timing and notches are less accurate`,
    );
  }
  if (input.limbLeadReversal === 'LA-RA') {
    warnings.push(
      'left/right arm electrodes probably reversed (or dextrocardia): lead I inverted, aVR upright',
    );
  }
  for (const q of perLead) warnings.push(...q.reasons);
  return {
    readable: problems.length === 0,
    reasons: [...problems, ...warnings],
    perLead: [...perLead],
    limbLeadReversal: input.limbLeadReversal,
  };
}
