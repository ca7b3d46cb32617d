import type { EcgMeasurements } from './measurements.js';
import type { SignalQuality } from './quality.js';

/**
 * Findings a reading doctor should see first, and the priority of the case. The flags are
 * screening aids with stated, simple criteria; they are not a diagnosis and every one
 * names the measurement behind it.
 *
 * Severity: critical = act now (STAT read), major = read soon (urgent), minor = note.
 */

export type FlagSeverity = 'critical' | 'major' | 'minor';
export type Priority = 'stat' | 'urgent' | 'routine';

export const FLAG_CODES = [
  'EXTREME_BRADYCARDIA',
  'EXTREME_TACHYCARDIA',
  'SINUS_BRADYCARDIA',
  'SINUS_TACHYCARDIA',
  'TACHYCARDIA',
  'ATRIAL_FIBRILLATION',
  'PAUSE_OVER_3S',
  'PAUSE_OVER_2S',
  'PVCS',
  'FREQUENT_PVCS',
  'VENTRICULAR_RUN',
  'STEMI',
  'ST_ELEVATION_WIDE_QRS',
  'ST_DEPRESSION',
  'LONG_QTC',
  'NO_QRS',
  'UNREADABLE',
  'LEAD_OFF',
  'LIMB_LEAD_REVERSAL',
  'NOISY_LEADS',
  'LOW_SAMPLE_RATE',
] as const;
export type FlagCode = (typeof FLAG_CODES)[number];

export interface EcgFlag {
  code: FlagCode;
  severity: FlagSeverity;
  /** The finding in English, with its numbers. */
  text: string;
  /**
   * The numbers and leads in `text`, by name, so a reader's screen can say the finding in its
   * own language (the console's `ecgFlags` texts); `text` stays the record's own wording.
   */
  values: Record<string, string | number>;
}

/** What the analysis may know of the patient (docs/patients.md); either may be unknown. */
export interface PatientContext {
  sex: 'female' | 'male' | 'unknown';
  /** Whole years at the recording; null when unknown. */
  ageYears: number | null;
}

export interface FlagInput {
  /** Absent or unknown: the adult, sex-independent limits below. */
  patient?: PatientContext;
  leads: readonly string[];
  sampleRateHz: number;
  durationSeconds: number;
  rPeaks: readonly number[];
  measurements: EcgMeasurements;
  quality: SignalQuality;
}

export interface RateLimits {
  brady: number;
  tachy: number;
  extremeBrady: number;
  extremeTachy: number;
}

/** Rate limits (per minute) of adults: sinus brady/tachy at 60/100; extreme (critical) at 40/150. */
export const RATE_LIMITS: RateLimits = {
  brady: 60,
  tachy: 100,
  extremeBrady: 40,
  extremeTachy: 150,
};

/**
 * Children's rate limits by age (under 12; from 12 the adult ones). Sinus bradycardia and
 * tachycardia at about the 1st and 99th centiles of Fleming et al., Lancet 2011;377:1011
 * (rounded); the critical limits those of paediatric life support: below 60/min, and above
 * 220/min in infants and 180/min in children, where sinus tachycardia ends and SVT is likely
 * (AHA PALS 2020).
 */
const CHILD_RATE_LIMITS: readonly { underYears: number; limits: RateLimits }[] = [
  { underYears: 1, limits: { brady: 100, tachy: 170, extremeBrady: 60, extremeTachy: 220 } },
  { underYears: 3, limits: { brady: 90, tachy: 150, extremeBrady: 60, extremeTachy: 180 } },
  { underYears: 6, limits: { brady: 75, tachy: 135, extremeBrady: 60, extremeTachy: 180 } },
  { underYears: 12, limits: { brady: 65, tachy: 120, extremeBrady: 60, extremeTachy: 180 } },
];

/** The rate limits for a patient of this age; unknown age: the adult ones. */
export function rateLimitsFor(patient: PatientContext | undefined): RateLimits {
  const age = patient?.ageYears;
  if (age === null || age === undefined || age < 0) return RATE_LIMITS;
  return CHILD_RATE_LIMITS.find((band) => age < band.underYears)?.limits ?? RATE_LIMITS;
}

/**
 * ST elevation, 4th Universal Definition of MI (Thygesen et al., Eur Heart J 2019;40:237,
 * table 5): new ST elevation at the J point in two contiguous leads of ≥ 0.1 mV in all
 * leads other than V2–V3, and in V2–V3 ≥ 0.2 mV in men ≥ 40 years, ≥ 0.25 mV in men under
 * 40 and ≥ 0.15 mV in women. These are the defaults, with 0.2 mV when sex or a man's age is
 * unknown (the value of men ≥ 40, between the other two); `stemiThresholdsFor` picks by patient.
 */
export const STEMI_THRESHOLD_UV = { v2v3: 200, other: 100 } as const;

/** The UDMI ST-elevation thresholds (µV) for this patient; see STEMI_THRESHOLD_UV. */
export function stemiThresholdsFor(patient: PatientContext | undefined): {
  v2v3: number;
  other: number;
} {
  if (patient?.sex === 'female') return { ...STEMI_THRESHOLD_UV, v2v3: 150 };
  if (patient?.sex === 'male' && patient.ageYears !== null && patient.ageYears < 40) {
    return { ...STEMI_THRESHOLD_UV, v2v3: 250 };
  }
  return STEMI_THRESHOLD_UV;
}
/** ST depression counted at 0.1 mV (UDMI uses 0.05 mV; the higher value spares false alarms). */
const ST_DEPRESSION_UV = 100;
/**
 * Contiguous lead pairs: inferior (II, III, aVF), lateral (I, aVL; V5, V6; I, V6) and the
 * precordial sequence V1…V6 (Cabrera order in the limb leads, aVR left out).
 */
const CONTIGUOUS_PAIRS: readonly [string, string][] = [
  ['II', 'aVF'],
  ['aVF', 'III'],
  ['II', 'III'],
  ['aVL', 'I'],
  ['I', 'V6'],
  ['V1', 'V2'],
  ['V2', 'V3'],
  ['V3', 'V4'],
  ['V4', 'V5'],
  ['V5', 'V6'],
];
/** Irregularity for AF: RMSSD/mean RR above 0.1 (Dash et al., Ann Biomed Eng 2009;37:1701). */
const AF_NORMALISED_RMSSD = 0.1;
const AF_MIN_INTERVALS = 6;
/** P-wave consistency needed to call an irregular rhythm sinus (see measurements.ts). */
const IRREGULAR_P_CONSISTENCY = 0.8;
const PVC_FREQUENT_PERCENT = 10;
const QTC_LONG_MS = 500;
const WIDE_QRS_MS = 120;

const round = (x: number) => Math.round(x);

/** RR intervals (samples) between consecutive dominant beats only, so PVCs do not count as AF. */
function dominantIntervals(rPeaks: readonly number[], labels: readonly string[]): number[] {
  const out: number[] = [];
  for (let k = 1; k < rPeaks.length; k++) {
    if (labels[k] === 'N' && labels[k - 1] === 'N') out.push(rPeaks[k]! - rPeaks[k - 1]!);
  }
  return out;
}

function normalisedRmssd(intervals: readonly number[]): number | null {
  if (intervals.length < AF_MIN_INTERVALS) return null;
  const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
  let sum = 0;
  for (let i = 1; i < intervals.length; i++) sum += (intervals[i]! - intervals[i - 1]!) ** 2;
  return Math.sqrt(sum / (intervals.length - 1)) / mean;
}

/**
 * Contiguous lead pairs whose ST level qualifies. The 4th UDMI measures ST elevation at the
 * J point; here the level must hold at J and at J + 60 ms (the smaller of the two counts),
 * so a J-point notch or the steep ST upslope of early repolarisation does not qualify.
 */
function stLeads(
  input: FlagInput,
  qualifies: (lead: string, st: { j: number; j60: number }) => boolean,
): { pairs: [string, string][]; leads: string[] } {
  const st = new Map<string, { j: number; j60: number }>();
  input.measurements.leads.forEach((l) => {
    if (l.measured && l.stJUv !== null && l.st60Uv !== null) {
      st.set(l.lead.toLowerCase(), { j: l.stJUv, j60: l.st60Uv });
    }
  });
  const hit = (lead: string) => {
    const v = st.get(lead.toLowerCase());
    return v !== undefined && qualifies(lead, v);
  };
  const pairs = CONTIGUOUS_PAIRS.filter(([a, b]) => hit(a) && hit(b));
  const leads = [...new Set(pairs.flat())];
  return { pairs, leads };
}

export function flagEcg(input: FlagInput): EcgFlag[] {
  const { measurements: m, quality, sampleRateHz: fs } = input;
  const flags: EcgFlag[] = [];
  const add = (
    code: FlagCode,
    severity: FlagSeverity,
    text: string,
    values: Record<string, string | number> = {},
  ) => flags.push({ code, severity, text, values });

  for (const q of quality.perLead) {
    if (q.status === 'off')
      add('LEAD_OFF', 'minor', `Lead ${q.lead} off or flat — check the electrode`, {
        lead: q.lead,
      });
  }
  const noisy = quality.perLead.filter((q) => q.status === 'noisy').map((q) => q.lead);
  if (noisy.length)
    add('NOISY_LEADS', 'minor', `Noisy leads: ${noisy.join(', ')}`, { leads: noisy.join(', ') });
  if (quality.limbLeadReversal) {
    add(
      'LIMB_LEAD_REVERSAL',
      'minor',
      'Left/right arm electrodes probably reversed (or dextrocardia) — check and repeat',
    );
  }
  if (fs < 500)
    add(
      'LOW_SAMPLE_RATE',
      'minor',
      `Sampled at ${fs} Hz; 500 Hz is recommended for diagnostic ECGs`,
      { rate: fs },
    );

  if (!quality.readable) {
    add(
      'UNREADABLE',
      'major',
      `Recording cannot be analysed: ${quality.reasons[0] ?? 'poor signal'} — repeat the ECG`,
    );
    return flags;
  }

  if (input.rPeaks.length < 2) {
    // Leads attached and not flat, yet no QRS: asystole, VF, or a technical fault.
    if (input.durationSeconds >= 6) {
      add(
        'NO_QRS',
        'critical',
        'No QRS complexes detected — check the patient (asystole/VF?) and the recording',
      );
    }
    return flags;
  }

  const hr = m.heartRateBpm ?? 0;
  const limits = rateLimitsFor(input.patient);
  const child = limits !== RATE_LIMITS;
  const rrIntervals = input.rPeaks.slice(1).map((r, k) => (r - input.rPeaks[k]!) / fs);
  const longest = Math.max(...rrIntervals);
  const irregularity = normalisedRmssd(dominantIntervals(input.rPeaks, m.beatLabels));
  const irregular = irregularity !== null && irregularity > AF_NORMALISED_RMSSD;

  const forAge = child ? ` for age ${input.patient?.ageYears}` : '';
  const ageValue: Record<string, number> =
    child && input.patient?.ageYears != null ? { age: input.patient.ageYears } : {};

  if (hr < limits.extremeBrady) {
    add(
      'EXTREME_BRADYCARDIA',
      'critical',
      `Heart rate ${round(hr)}/min (< ${limits.extremeBrady}${forAge})`,
      { rate: round(hr), limit: limits.extremeBrady, ...ageValue },
    );
  } else if (hr > limits.extremeTachy) {
    add(
      'EXTREME_TACHYCARDIA',
      'critical',
      `Heart rate ${round(hr)}/min (> ${limits.extremeTachy}${forAge})`,
      { rate: round(hr), limit: limits.extremeTachy, ...ageValue },
    );
  }
  // An irregular rhythm needs clearer P waves to count as sinus: missing AF is worse
  // than a doctor looking at sinus arrhythmia.
  const clearP = m.pWavePresent && (m.pWaveConsistency ?? 1) >= IRREGULAR_P_CONSISTENCY;
  if (irregular && !clearP) {
    add(
      'ATRIAL_FIBRILLATION',
      'major',
      `Irregular rhythm without P waves (RMSSD/RR ${irregularity.toFixed(2)}), atrial fibrillation suspected; rate ${round(hr)}/min`,
      { irregularity: irregularity.toFixed(2), rate: round(hr) },
    );
  } else if (m.pWavePresent) {
    if (hr < limits.brady && hr >= limits.extremeBrady) {
      add('SINUS_BRADYCARDIA', 'minor', `Sinus bradycardia ${round(hr)}/min${forAge}`, {
        rate: round(hr),
        ...ageValue,
      });
    } else if (hr > limits.tachy && hr <= limits.extremeTachy) {
      add('SINUS_TACHYCARDIA', 'minor', `Sinus tachycardia ${round(hr)}/min${forAge}`, {
        rate: round(hr),
        ...ageValue,
      });
    }
  } else if (hr > limits.tachy && hr <= limits.extremeTachy) {
    add('TACHYCARDIA', 'major', `Tachycardia ${round(hr)}/min without visible P waves`, {
      rate: round(hr),
    });
  }

  if (longest > 3) {
    add('PAUSE_OVER_3S', 'critical', `Pause of ${longest.toFixed(1)} s (> 3 s)`, {
      seconds: longest.toFixed(1),
    });
  } else if (longest > 2) {
    add('PAUSE_OVER_2S', 'major', `Pause of ${longest.toFixed(1)} s (> 2 s)`, {
      seconds: longest.toFixed(1),
    });
  }

  if (m.pvcCount > 0) {
    let run = 0;
    let longestRun = 0;
    for (const label of m.beatLabels) {
      run = label === 'V' ? run + 1 : 0;
      longestRun = Math.max(longestRun, run);
    }
    const burden = `${m.pvcCount} of ${m.beatCount} beats (${m.pvcBurdenPercent.toFixed(0)} %)`;
    const burdenValues = {
      pvcs: m.pvcCount,
      beats: m.beatCount,
      percent: m.pvcBurdenPercent.toFixed(0),
    };
    if (longestRun >= 3) {
      add(
        'VENTRICULAR_RUN',
        'major',
        `Run of ${longestRun} ventricular beats (non-sustained VT?)`,
        {
          beats: longestRun,
        },
      );
    }
    if (m.pvcBurdenPercent >= PVC_FREQUENT_PERCENT)
      add('FREQUENT_PVCS', 'major', `Frequent PVCs: ${burden}`, burdenValues);
    else add('PVCS', 'minor', `PVCs: ${burden}`, burdenValues);
  }

  const wide = m.qrsMs !== null && m.qrsMs >= WIDE_QRS_MS;
  const stemi = stemiThresholdsFor(input.patient);
  const elevation = stLeads(input, (lead, st) => {
    const v2v3 = /^v[23]$/i.test(lead);
    return Math.min(st.j, st.j60) >= (v2v3 ? stemi.v2v3 : stemi.other);
  });
  if (elevation.pairs.length > 0) {
    const where = elevation.leads
      .map((lead) => {
        const l = m.leads.find((x) => x.lead.toLowerCase() === lead.toLowerCase());
        const st = Math.min(l?.stJUv ?? 0, l?.st60Uv ?? 0);
        return `${lead} ${(st / 1000).toFixed(2)} mV`;
      })
      .join(', ');
    if (wide) {
      add(
        'ST_ELEVATION_WIDE_QRS',
        'major',
        `ST elevation in ${where} with QRS ${round(m.qrsMs!)} ms: STEMI criteria do not apply to wide QRS (LBBB/paced) — review (Sgarbossa)`,
        { leads: where, qrs: round(m.qrsMs!) },
      );
    } else {
      add(
        'STEMI',
        'critical',
        `ST elevation meeting STEMI criteria in contiguous leads: ${where}`,
        {
          leads: where,
        },
      );
    }
  }
  const depression = stLeads(input, (_lead, st) => Math.max(st.j, st.j60) <= -ST_DEPRESSION_UV);
  if (depression.pairs.length > 0 && !wide) {
    add('ST_DEPRESSION', 'major', `ST depression ≥ 0.1 mV in ${depression.leads.join(', ')}`, {
      leads: depression.leads.join(', '),
    });
  }
  if (!wide && m.qtcBazettMs !== null && m.qtcBazettMs >= QTC_LONG_MS) {
    add('LONG_QTC', 'major', `QTc ${round(m.qtcBazettMs)} ms (Bazett) ≥ ${QTC_LONG_MS} ms`, {
      qtc: round(m.qtcBazettMs),
      limit: QTC_LONG_MS,
    });
  }
  return flags;
}

/** STAT if anything is critical, urgent if anything is major (or the ECG must be repeated). */
export function priorityOf(flags: readonly EcgFlag[]): Priority {
  if (flags.some((f) => f.severity === 'critical')) return 'stat';
  if (flags.some((f) => f.severity === 'major')) return 'urgent';
  return 'routine';
}
