import type { EcgRecordingInput } from './analysis.js';

/**
 * One lead as a file or a device stores it: raw integer values with the lead's own
 * calibration. Electrocardiographs and databases calibrate each lead separately (WFDB
 * gain and baseline per signal, DICOM Channel Sensitivity × Correction Factor and Channel
 * Baseline, SCP-ECG's AVM per lead group, HL7 aECG's scale per sequence).
 */
export interface CalibratedLead {
  name: string;
  /** Stored values, one per sample. */
  values: ArrayLike<number>;
  /** Microvolts per stored unit. */
  microvoltsPerUnit: number;
  /** Stored value that means 0 µV (WFDB's baseline); 0 when the format has none. */
  baselineUnits?: number;
  /** A physical offset added after scaling (DICOM's Channel Baseline), in µV. */
  baselineMicrovolts?: number;
}

export interface CommonScale extends EcgRecordingInput {
  /** Non-fatal findings (a coarser step was needed, leads of different lengths). */
  warnings: string[];
}

export class CommonScaleError extends Error {
  readonly code = 'ECG_SCALE_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'CommonScaleError';
  }
}

const INT16_MAX = 32767;

/**
 * Writes leads with different calibrations on the one scale the relay analyses: interleaved
 * Int16 samples and a single µV per LSB. The common step is the finest lead's step, so no
 * lead loses resolution; only when the largest value would then overflow 16 bits is a
 * coarser step used (and said in `warnings`). Leads of different lengths are cut to the
 * shortest. Values are rounded to the nearest step, so a lead whose step is a multiple of
 * the common one is carried exactly.
 */
export function toCommonScale(leads: readonly CalibratedLead[], sampleRateHz: number): CommonScale {
  if (leads.length === 0) throw new CommonScaleError('a recording needs at least one lead');
  if (!(sampleRateHz > 0))
    throw new CommonScaleError(`sample rate ${sampleRateHz} Hz is not usable`);
  const warnings: string[] = [];
  for (const lead of leads) {
    if (!(Math.abs(lead.microvoltsPerUnit) > 0) || !Number.isFinite(lead.microvoltsPerUnit)) {
      throw new CommonScaleError(
        `lead ${lead.name} has no usable scale (${lead.microvoltsPerUnit} µV per unit)`,
      );
    }
  }
  const lengths = leads.map((lead) => lead.values.length);
  const n = Math.min(...lengths);
  if (Math.max(...lengths) !== n) {
    warnings.push(
      `leads have different lengths (${Math.min(...lengths)}–${Math.max(...lengths)} samples); cut to the shortest`,
    );
  }
  const width = leads.length;
  const physical = new Float64Array(width * n);
  let largest = 0;
  for (let c = 0; c < width; c++) {
    const lead = leads[c]!;
    const scale = lead.microvoltsPerUnit;
    const zero = lead.baselineUnits ?? 0;
    const offset = lead.baselineMicrovolts ?? 0;
    for (let i = 0, p = c; i < n; i++, p += width) {
      const v = (lead.values[i]! - zero) * scale + offset;
      physical[p] = v;
      const magnitude = v < 0 ? -v : v;
      if (magnitude > largest) largest = magnitude;
    }
  }
  const finest = Math.min(...leads.map((lead) => Math.abs(lead.microvoltsPerUnit)));
  const microvoltsPerLsb = Math.max(finest, largest / INT16_MAX);
  if (microvoltsPerLsb > finest) {
    warnings.push(
      `values reach ${Math.round(largest)} µV, beyond 16 bits at the finest step (${finest} µV); a ${microvoltsPerLsb.toPrecision(3)} µV step is used`,
    );
  }
  const samples = new Int16Array(width * n);
  for (let i = 0; i < physical.length; i++)
    samples[i] = Math.round(physical[i]! / microvoltsPerLsb);
  return {
    leads: leads.map((lead) => lead.name),
    sampleRateHz,
    microvoltsPerLsb,
    samples,
    warnings,
  };
}
