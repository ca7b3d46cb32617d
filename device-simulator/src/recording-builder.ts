import { createHash, randomInt, randomUUID } from 'node:crypto';
import { endianness } from 'node:os';
import {
  FRAME_CRC_BYTES,
  FRAME_HEADER_BYTES,
  RECORDING_LIMITS,
  RecordingCloseSchema,
  RecordingOpenSchema,
  type ExamKind,
  type RecordingClose,
  type RecordingOpen,
} from '#contracts';
import { encodeChunkFrame, synthesizeEcg, type EcgFinding } from '#ecg';
import { SimulatorConfigError } from './errors.js';
import type { OutboxEntry } from './outbox.js';

export const DEFAULT_CHUNK_SAMPLES = 250;
export const DEFAULT_DURATION_SECONDS = 10;

/** Samples a box acquired, in the units it sends them: int16 counts of microvoltsPerLsb. */
export interface EcgSignal {
  leads: readonly string[];
  sampleRateHz: number;
  microvoltsPerLsb: number;
  /** Interleaved by sample (s0l0 s0l1 … s1l0 …). */
  samples: Int16Array;
}

export interface RecordingRequest {
  /** For the synthetic ECG; ignored with `signal`. */
  finding?: EcgFinding;
  /** For the synthetic ECG; ignored with `signal`. */
  durationSeconds?: number;
  /** For the synthetic ECG; ignored with `signal`. */
  seed?: number;
  patientRef?: string;
  /** The exam order the operator entered (docs/patients.md); the relay links the case to it. */
  orderNumber?: string;
  /** Send these samples (e.g. a window of a real WFDB record) instead of synthesising. */
  signal?: EcgSignal;
  /** Default resting-12-lead. */
  examKind?: ExamKind;
}

export interface BuiltRecording {
  entry: OutboxEntry;
  sha256: string;
}

/** Largest chunk (samples per lead) whose frame fits the relay's limits for `leadCount` leads. */
export function maxChunkSamples(leadCount: number): number {
  const byBytes = Math.floor(
    (RECORDING_LIMITS.maxFrameBytes - FRAME_HEADER_BYTES - FRAME_CRC_BYTES) / (2 * leadCount),
  );
  return Math.min(RECORDING_LIMITS.maxSamplesPerChunk, byBytes);
}

/**
 * The int16 samples as little-endian bytes, the wire order the close's sha256 is defined
 * over. A view on little-endian hosts; an explicit copy on the rare big-endian one.
 */
export function int16LittleEndianBytes(samples: Int16Array): Buffer {
  if (endianness() === 'LE') {
    return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  }
  const bytes = Buffer.alloc(samples.byteLength);
  samples.forEach((value, index) => bytes.writeInt16LE(value, index * 2));
  return bytes;
}

/** The request's own samples, or a freshly synthesised resting 12-lead ECG. */
function acquire(request: RecordingRequest): EcgSignal & { samplesPerLead: number } {
  if (request.signal) {
    const { leads, samples } = request.signal;
    if (leads.length < 1 || samples.length % leads.length !== 0) {
      throw new SimulatorConfigError(
        `${samples.length} samples cannot be interleaved over ${leads.length} leads`,
      );
    }
    const samplesPerLead = samples.length / leads.length;
    if (samplesPerLead < 1 || samplesPerLead > RECORDING_LIMITS.maxSamplesPerLead) {
      throw new SimulatorConfigError(
        `${samplesPerLead} samples per lead; the relay takes 1..${RECORDING_LIMITS.maxSamplesPerLead}`,
      );
    }
    return { ...request.signal, samplesPerLead };
  }
  return synthesizeEcg({
    durationSeconds: request.durationSeconds ?? DEFAULT_DURATION_SECONDS,
    ...(request.finding !== undefined && { finding: request.finding }),
    // The synthesiser is deterministic per seed; a real patient never gives the same trace twice.
    seed: request.seed ?? randomInt(1, 2 ** 31),
  });
}

/**
 * Acquires one ECG (synthesised, or the samples given) and cuts it into the open message,
 * the chunk frames and the close message, ready for the outbox. Validates the messages with
 * the relay's own schemas so a simulator bug shows up here rather than as a relay error.
 */
export function buildRecording(
  request: RecordingRequest,
  chunkSamples: number = DEFAULT_CHUNK_SAMPLES,
  now: Date = new Date(),
): BuiltRecording {
  const ecg = acquire(request);
  const leadCount = ecg.leads.length;
  if (
    !Number.isInteger(chunkSamples) ||
    chunkSamples < 1 ||
    chunkSamples > maxChunkSamples(leadCount)
  ) {
    throw new SimulatorConfigError(
      `chunk size ${chunkSamples} must be an integer in 1..${maxChunkSamples(leadCount)} for ${leadCount} leads`,
    );
  }
  const chunkCount = Math.ceil(ecg.samplesPerLead / chunkSamples);
  if (chunkCount > RECORDING_LIMITS.maxChunksPerRecording) {
    throw new SimulatorConfigError(
      `${chunkCount} chunks exceed the relay's limit of ${RECORDING_LIMITS.maxChunksPerRecording}`,
    );
  }

  const recordingId = randomUUID();
  const open: RecordingOpen = RecordingOpenSchema.parse({
    recordingId,
    examKind: request.examKind ?? 'resting-12-lead',
    leads: ecg.leads,
    sampleRateHz: ecg.sampleRateHz,
    microvoltsPerLsb: ecg.microvoltsPerLsb,
    startedAt: now.toISOString(),
    ...(request.patientRef !== undefined && { patientRef: request.patientRef }),
    ...(request.orderNumber !== undefined && { orderNumber: request.orderNumber }),
    // Chunk n starts at n·chunkSamples (below), so the relay can place every chunk exactly.
    samplesPerChunk: chunkSamples,
  });

  const frames: Buffer[] = [];
  for (let sequence = 0; sequence < chunkCount; sequence++) {
    const firstSample = sequence * chunkSamples;
    const sampleCount = Math.min(chunkSamples, ecg.samplesPerLead - firstSample);
    frames.push(
      encodeChunkFrame({
        recordingId,
        sequence,
        firstSample,
        sampleCount,
        leadCount,
        samples: ecg.samples.subarray(
          firstSample * leadCount,
          (firstSample + sampleCount) * leadCount,
        ),
      }),
    );
  }

  // The concatenated chunk payloads are exactly the whole interleaved array.
  const sha256 = createHash('sha256').update(int16LittleEndianBytes(ecg.samples)).digest('hex');
  const close: RecordingClose = RecordingCloseSchema.parse({
    recordingId,
    chunkCount,
    samplesPerLead: ecg.samplesPerLead,
    sha256,
  });
  return { entry: { open, close, frames, storedThrough: -1 }, sha256 };
}
