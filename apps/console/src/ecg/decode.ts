import type { CaseEcg } from '#contracts';

/** A recording ready to draw: one array of millivolts per lead, baseline removed. */
export interface EcgTrace {
  leads: string[];
  sampleRateHz: number;
  samplesPerLead: number;
  durationSeconds: number;
  millivolts: Map<string, Float32Array>;
}

/**
 * Decodes the relay's base64 int16 little-endian samples (interleaved by sample:
 * s0l0 s0l1 … s1l0 …) into millivolts per lead. Each lead's median is subtracted so a
 * DC offset or slow drift does not push the trace off its row, as a paper recorder's
 * high-pass filter would.
 */
export function decodeEcg(ecg: CaseEcg): EcgTrace {
  const leadCount = ecg.leads.length;
  const { samplesPerLead, sampleRateHz } = ecg;
  if (leadCount === 0 || samplesPerLead <= 0 || sampleRateHz <= 0) {
    throw new Error('The recording has no samples.');
  }
  const binary = atob(ecg.samples);
  const expected = samplesPerLead * leadCount * 2;
  if (binary.length < expected) {
    throw new Error(`The recording is truncated: ${binary.length} of ${expected} bytes.`);
  }
  const bytes = new Uint8Array(expected);
  for (let i = 0; i < expected; i++) bytes[i] = binary.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const millivoltsPerLsb = ecg.microvoltsPerLsb / 1000;

  const millivolts = new Map<string, Float32Array>();
  ecg.leads.forEach((lead, leadIndex) => {
    const values = new Float32Array(samplesPerLead);
    for (let s = 0; s < samplesPerLead; s++) {
      values[s] = view.getInt16((s * leadCount + leadIndex) * 2, true) * millivoltsPerLsb;
    }
    const baseline = median(values);
    for (let s = 0; s < samplesPerLead; s++) values[s] = values[s]! - baseline;
    millivolts.set(lead, values);
  });
  return {
    leads: [...ecg.leads],
    sampleRateHz,
    samplesPerLead,
    durationSeconds: samplesPerLead / sampleRateHz,
    millivolts,
  };
}

function median(values: Float32Array): number {
  const sorted = Float32Array.from(values).sort();
  return sorted[sorted.length >> 1] ?? 0;
}
