import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RecordingCloseSchema, RecordingOpenSchema, TWELVE_LEADS } from '#contracts';
import { decodeChunkFrame } from '#ecg';
import { SimulatorConfigError } from './errors.js';
import { buildRecording, int16LittleEndianBytes, maxChunkSamples } from './recording-builder.js';

describe('buildRecording', () => {
  it('cuts the ECG into consecutive chunks whose payloads hash to the close sha256', () => {
    // 3 s at 500 Hz = 1500 samples per lead: 3 full chunks of 400 and a last one of 300.
    const { entry, sha256 } = buildRecording(
      { durationSeconds: 3, seed: 11, patientRef: 'P-17' },
      400,
    );
    expect(RecordingOpenSchema.parse(entry.open)).toEqual(entry.open);
    expect(RecordingCloseSchema.parse(entry.close)).toEqual(entry.close);
    expect(entry.open).toMatchObject({
      examKind: 'resting-12-lead',
      patientRef: 'P-17',
      sampleRateHz: 500,
    });
    expect(entry.open.leads).toEqual([...TWELVE_LEADS]);
    expect(entry.close).toMatchObject({ chunkCount: 4, samplesPerLead: 1500, sha256 });
    expect(entry.storedThrough).toBe(-1);

    const hash = createHash('sha256');
    entry.frames.forEach((bytes, sequence) => {
      if (!bytes) throw new Error('fresh recordings hold every frame');
      const frame = decodeChunkFrame(bytes);
      expect(frame).toMatchObject({
        recordingId: entry.open.recordingId,
        sequence,
        firstSample: sequence * 400,
        sampleCount: sequence === 3 ? 300 : 400,
        leadCount: 12,
      });
      hash.update(int16LittleEndianBytes(frame.samples));
    });
    expect(hash.digest('hex')).toBe(sha256);
  });

  it('gives every recording its own id and, without a seed, its own samples', () => {
    const a = buildRecording({ durationSeconds: 1 });
    const b = buildRecording({ durationSeconds: 1 });
    expect(a.entry.open.recordingId).not.toBe(b.entry.open.recordingId);
    expect(a.sha256).not.toBe(b.sha256);
  });

  it('refuses chunks the relay would reject as too large', () => {
    expect(maxChunkSamples(12)).toBe(2729); // (65536 - 36) / 24
    expect(() => buildRecording({ durationSeconds: 1 }, 2730)).toThrow(SimulatorConfigError);
    expect(() => buildRecording({ durationSeconds: 1 }, 0)).toThrow(SimulatorConfigError);
  });

  it('sends given samples as they are, with their own leads, rate and scale', () => {
    const samples = Int16Array.from({ length: 2 * 300 }, (_, i) => (i % 2 ? -i : i));
    const signal = { leads: ['MLII', 'V5'], sampleRateHz: 360, microvoltsPerLsb: 5, samples };
    const { entry, sha256 } = buildRecording({ signal, examKind: 'rhythm-strip', seed: 1 }, 128);
    expect(entry.open).toMatchObject({
      examKind: 'rhythm-strip',
      leads: ['MLII', 'V5'],
      sampleRateHz: 360,
      microvoltsPerLsb: 5,
    });
    expect(entry.close).toMatchObject({ chunkCount: 3, samplesPerLead: 300 });
    expect(sha256).toBe(createHash('sha256').update(int16LittleEndianBytes(samples)).digest('hex'));
    const sent = entry.frames.flatMap((bytes) => [...decodeChunkFrame(bytes!).samples]);
    expect(sent).toEqual([...samples]);
  });

  it('refuses given samples the relay could not take', () => {
    const signal = (samples: Int16Array, sampleRateHz = 360) => ({
      signal: { leads: ['I', 'II'], sampleRateHz, microvoltsPerLsb: 5, samples },
    });
    expect(() => buildRecording(signal(new Int16Array(5)))).toThrow(SimulatorConfigError);
    expect(() => buildRecording(signal(new Int16Array(0)))).toThrow(SimulatorConfigError);
    expect(() => buildRecording(signal(new Int16Array(2 * 150_001)))).toThrow(SimulatorConfigError);
    expect(() => buildRecording(signal(new Int16Array(20), 50))).toThrow(/sampleRateHz/);
  });
});

describe('int16LittleEndianBytes', () => {
  it('writes each sample low byte first', () => {
    expect([...int16LittleEndianBytes(Int16Array.of(0x0102, -2))]).toEqual([
      0x02, 0x01, 0xfe, 0xff,
    ]);
  });
});
