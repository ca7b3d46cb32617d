import { describe, expect, it } from 'vitest';
import type { CaseEcg } from '#contracts';
import { decodeEcg } from './decode.js';

function ecgOf(leads: string[], perLead: number[][], microvoltsPerLsb = 2.5): CaseEcg {
  const samplesPerLead = perLead[0]!.length;
  const bytes = Buffer.alloc(samplesPerLead * leads.length * 2);
  for (let s = 0; s < samplesPerLead; s++) {
    leads.forEach((_, l) => bytes.writeInt16LE(perLead[l]![s]!, (s * leads.length + l) * 2));
  }
  return {
    recordingId: 'r',
    leads,
    sampleRateHz: 500,
    microvoltsPerLsb,
    samplesPerLead,
    samples: bytes.toString('base64'),
  };
}

describe('decodeEcg', () => {
  it('de-interleaves little-endian int16 samples into millivolts per lead, around the median', () => {
    const trace = decodeEcg(
      ecgOf(
        ['I', 'II'],
        [
          [0, 0, 400, 0, 0],
          [-100, -100, -100, -500, -100],
        ],
      ),
    );
    expect(trace.leads).toEqual(['I', 'II']);
    expect(trace.durationSeconds).toBeCloseTo(0.01);
    // 400 LSB × 2.5 µV = 1 mV; lead II's constant −100 LSB offset is removed.
    expect([...trace.millivolts.get('I')!]).toEqual([0, 0, 1, 0, 0]);
    expect([...trace.millivolts.get('II')!]).toEqual([0, 0, 0, -1, 0]);
  });

  it('refuses a truncated payload', () => {
    const ecg = { ...ecgOf(['I'], [[1, 2, 3]]), samplesPerLead: 10 };
    expect(() => decodeEcg(ecg)).toThrow(/truncated/);
  });
});
