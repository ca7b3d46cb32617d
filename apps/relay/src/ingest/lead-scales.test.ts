import { describe, expect, it } from 'vitest';
import { keptOnCommonScale } from './lead-scales.js';
import type { StagedRecording } from './recording-staging.js';

const staged = (extra: Partial<StagedRecording> = {}): StagedRecording => ({
  recordingId: '6f1c1d2e-0c1a-4b7e-9a51-3f5d7e2a9b10',
  examKind: 'rhythm-strip',
  leads: ['I', 'II', 'V1'],
  sampleRateHz: 500,
  microvoltsPerLsb: 5,
  startedAt: '2026-12-08T02:00:00.000Z',
  deviceId: 'box-1',
  clinicId: 'clinic-1',
  ...extra,
});

function int16le(values: number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => bytes.writeInt16LE(v, 2 * i));
  return bytes;
}

const read = (bytes: Buffer) =>
  Array.from({ length: bytes.byteLength / 2 }, (_, i) => bytes.readInt16LE(2 * i));

describe('keptOnCommonScale', () => {
  it('keeps a recording with one scale byte for byte', () => {
    const samples = int16le([1, 2, 3, 4, 5, 6]);
    const kept = keptOnCommonScale(staged(), samples);
    expect(kept.samples).toBe(samples);
    expect(kept.recording.microvoltsPerLsb).toBe(5);
  });

  it('writes leads calibrated separately on the finest lead step', () => {
    // I at 2.5 µV, II at 5 µV, V1 at 1.25 µV per LSB; the same 1 mV and −0.5 mV in each.
    const samples = int16le([400, 200, 800, -200, -100, -400]);
    const kept = keptOnCommonScale(staged({ leadMicrovoltsPerLsb: [2.5, 5, 1.25] }), samples);
    expect(kept.recording.microvoltsPerLsb).toBe(1.25);
    expect(read(kept.samples)).toEqual([800, 800, 800, -400, -400, -400]);
    expect(kept.warnings).toEqual([]);
  });
});
