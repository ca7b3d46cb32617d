import { flagEcg, priorityOf, type EcgFlag, type PatientContext, type Priority } from './flags.js';
import { measureEcg, type EcgMeasurements } from './measurements.js';
import { detectQrsMultiLead } from './qrs-detector.js';
import {
  ESSENTIAL_LEADS,
  addNoiseAssessment,
  assessLeadContact,
  detectLimbLeadReversal,
  summarizeQuality,
  type LeadQuality,
  type SignalQuality,
} from './quality.js';

/**
 * One call from samples to a triage result: signal quality, QRS detection, median-beat
 * measurements, flags and priority. Every result names the algorithm version that made
 * it, so a reading can be traced to the code that produced it.
 */

/** Bump on any change that can change a result. */
export const ALGORITHM_VERSION = 'telerelay-ecg 0.3.0';

export interface EcgRecordingInput {
  leads: string[];
  sampleRateHz: number;
  microvoltsPerLsb: number;
  /** Interleaved by sample (s0l0 s0l1 … s1l0 …). */
  samples: Int16Array;
}

export interface AnalyzeOptions {
  /** Mains frequency for the notch filter. Default 50. */
  mainsHz?: 50 | 60;
  /** Keep the median beat samples in the result (large). Default false. */
  includeMedianBeat?: boolean;
  /** Sex and age for sex-specific ST and age-appropriate rate limits; default unknown. */
  patient?: PatientContext;
}

export interface EcgAnalysis {
  algorithmVersion: string;
  heartRateBpm: number | null;
  measurements: EcgMeasurements;
  flags: EcgFlag[];
  priority: Priority;
  quality: SignalQuality;
  /** R-peak sample indices (per lead). */
  rPeaks: number[];
}

export class EcgAnalysisError extends Error {
  readonly code = 'ECG_INPUT_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'EcgAnalysisError';
  }
}

/** Smallest median-beat QRS (peak-to-peak, largest lead) that counts as a heartbeat. */
const MIN_QRS_UV = 150;

/** …and the smallest single-beat QRS when the beats have no common shape. */
const MIN_SINGLE_QRS_UV = 300;

/** Median over beats of the largest peak-to-peak (µV) within ±60 ms in any lead. */
function typicalBeatAmplitude(
  rPeaks: readonly number[],
  leads: readonly Float64Array[],
  fs: number,
): number {
  const half = Math.round(0.06 * fs);
  const amplitudes = rPeaks.map((r) => {
    let largest = 0;
    for (const x of leads) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = Math.max(0, r - half); i <= Math.min(x.length - 1, r + half); i++) {
        if (x[i]! < lo) lo = x[i]!;
        if (x[i]! > hi) hi = x[i]!;
      }
      if (hi - lo > largest) largest = hi - lo;
    }
    return largest;
  });
  amplitudes.sort((a, b) => a - b);
  return amplitudes[amplitudes.length >> 1] ?? 0;
}

/** Limb leads computed from I and II by the electrocardiograph. */
const DERIVED_LIMB_LEADS = ['III', 'aVR', 'aVL', 'aVF'];

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function validate(recording: EcgRecordingInput): number {
  const { leads, sampleRateHz, microvoltsPerLsb, samples } = recording;
  if (!Array.isArray(leads) || leads.length === 0) throw new EcgAnalysisError('no leads');
  if (!(sampleRateHz > 0) || !Number.isFinite(sampleRateHz)) {
    throw new EcgAnalysisError(`sample rate must be positive, got ${sampleRateHz}`);
  }
  if (!(microvoltsPerLsb > 0) || !Number.isFinite(microvoltsPerLsb)) {
    throw new EcgAnalysisError(`microvoltsPerLsb must be positive, got ${microvoltsPerLsb}`);
  }
  if (!(samples instanceof Int16Array)) throw new EcgAnalysisError('samples must be an Int16Array');
  if (samples.length % leads.length !== 0) {
    throw new EcgAnalysisError(
      `${samples.length} samples do not divide into ${leads.length} leads`,
    );
  }
  return samples.length / leads.length;
}

export function analyzeEcg(
  recording: EcgRecordingInput,
  options: AnalyzeOptions = {},
): EcgAnalysis {
  const n = validate(recording);
  const { leads, sampleRateHz: fs, microvoltsPerLsb } = recording;
  const width = leads.length;
  const raw = leads.map((_, l) => {
    const out = new Int16Array(n);
    for (let i = 0, p = l; i < n; i++, p += width) out[i] = recording.samples[p]!;
    return out;
  });

  // 1. Electrode contact and saturation, lead by lead.
  const contact = raw.map((r, l) =>
    assessLeadContact({
      lead: leads[l]!,
      raw: r,
      microvoltsPerLsb,
      sampleRateHz: fs,
      mainsHz: options.mainsHz,
    }),
  );
  // Derived limb leads are only as good as I and II.
  const limbSourceOff = ['I', 'II'].filter((name) =>
    contact.some((c) => same(c.quality.lead, name) && c.quality.status === 'off'),
  );
  if (limbSourceOff.length) {
    for (const c of contact) {
      if (DERIVED_LIMB_LEADS.some((d) => same(d, c.quality.lead)) && c.quality.usable) {
        c.quality = {
          ...c.quality,
          usable: false,
          reasons: [
            ...c.quality.reasons,
            `${c.quality.lead}: derived from ${limbSourceOff.join(' and ')}, which is off`,
          ],
        };
      }
    }
  }

  // 2. QRS detection on the usable, independently recorded leads.
  const usable = contact.map((c) => c.quality.usable);
  const independent = leads
    .map((_, l) => l)
    .filter(
      (l) =>
        usable[l] && (ESSENTIAL_LEADS.some((e) => same(e, leads[l]!)) || !hasTwelveLeads(leads)),
    );
  const detectionLeads = independent.length
    ? independent
    : leads.map((_, l) => l).filter((l) => usable[l]);
  const detected = detectionLeads.length
    ? detectQrsMultiLead(
        detectionLeads.map((l) => contact[l]!.clean),
        fs,
      )
    : [];

  // 3. Measurements on the median beat of the usable leads.
  const excluded = new Set(leads.filter((_, l) => !contact[l]!.quality.usable));
  const signals = raw.map((r) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = r[i]! * microvoltsPerLsb;
    return out;
  });
  const measure = (peaks: number[]) =>
    measureEcg({
      leads,
      signals,
      sampleRateHz: fs,
      rPeaks: peaks,
      excludedLeads: excluded,
      mainsHz: options.mainsHz,
    });
  let rPeaks = detected;
  let measured = measure(rPeaks);
  // The detector adapts to any amplitude, so in leads showing only noise (or the chaos of
  // VF) it finds noise peaks. Real QRS complexes resemble each other and survive in the
  // median beat; noise peaks do neither. No beat matching the dominant shape, or a median
  // QRS under 150 µV peak-to-peak in every lead (low-voltage QRS is < 500 µV in the limb
  // leads, still far above this), means there are no QRS complexes to report.
  // (Multiform ectopy can also leave no dominant shape, so that case also needs small
  // complexes: the median, over beats, of the largest QRS peak-to-peak in any lead.)
  const largestQrs = Math.max(0, ...measured.leads.map((l) => l.qrsPeakToPeakUv ?? 0));
  const noConsistentBeat =
    rPeaks.length >= 3 &&
    measured.medianBeat === null &&
    typicalBeatAmplitude(
      rPeaks,
      contact.filter((c) => c.quality.usable).map((c) => c.clean),
      fs,
    ) < MIN_SINGLE_QRS_UV;
  if (rPeaks.length > 0 && (noConsistentBeat || (measured.medianBeat && largestQrs < MIN_QRS_UV))) {
    rPeaks = [];
    measured = measure(rPeaks);
  }

  // 4. Noise, now that the QRS complexes can be left out of it.
  const perLead: LeadQuality[] = contact.map((c) => addNoiseAssessment(c, fs, rPeaks));
  const measurements = options.includeMedianBeat ? measured : { ...measured, medianBeat: null };

  // 5. Recording-level quality, flags and priority.
  const quality = summarizeQuality({
    leads,
    sampleRateHz: fs,
    samplesPerLead: n,
    perLead,
    beatCount: rPeaks.length,
    limbLeadReversal: detectLimbLeadReversal(leads, measured),
  });
  const flags = flagEcg({
    patient: options.patient,
    leads,
    sampleRateHz: fs,
    durationSeconds: n / fs,
    rPeaks,
    measurements: measured,
    quality,
  });
  return {
    algorithmVersion: ALGORITHM_VERSION,
    heartRateBpm: quality.readable ? measured.heartRateBpm : null,
    measurements,
    flags,
    priority: priorityOf(flags),
    quality,
    rPeaks,
  };
}

function hasTwelveLeads(leads: readonly string[]): boolean {
  return ESSENTIAL_LEADS.every((e) => leads.some((l) => same(e, l)));
}
