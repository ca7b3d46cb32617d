import { z } from 'zod';
import { orderNumberSchema } from './patients.js';
import { text } from './text.js';

/** Standard 12-lead order; boxes may send a subset (rhythm strips) but name each lead. */
export const TWELVE_LEADS = [
  'I',
  'II',
  'III',
  'aVR',
  'aVL',
  'aVF',
  'V1',
  'V2',
  'V3',
  'V4',
  'V5',
  'V6',
] as const;

/** Limits the relay enforces on every recording (docs/protocol.md §Limits). */
export const RECORDING_LIMITS = {
  maxLeads: 16,
  minSampleRateHz: 100,
  maxSampleRateHz: 2000,
  /** 5 minutes at 500 Hz per lead. */
  maxSamplesPerLead: 150_000,
  maxSamplesPerChunk: 4_000,
  maxChunksPerRecording: 10_000,
  maxFrameBytes: 64 * 1024,
  /** Missing chunks named in one stored ack; a box learns of further gaps from later acks. */
  maxMissingListed: 64,
} as const;

export const EXAM_KINDS = ['resting-12-lead', 'rhythm-strip'] as const;
export type ExamKind = (typeof EXAM_KINDS)[number];

const uuid = z.uuid();
/** A lead's name as the box labels it ('II', 'V5', …). */
const leadName = text({ min: 1, max: 8 });
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lowercase hex digits');

/** Box → relay on `rec/open`: announces a recording before its chunks. */
export const RecordingOpenSchema = z
  .strictObject({
    recordingId: uuid,
    examKind: z.enum(EXAM_KINDS),
    leads: z.array(leadName).min(1).max(RECORDING_LIMITS.maxLeads),
    sampleRateHz: z
      .int()
      .min(RECORDING_LIMITS.minSampleRateHz)
      .max(RECORDING_LIMITS.maxSampleRateHz),
    microvoltsPerLsb: z.number().positive().max(1000),
    startedAt: z.iso.datetime(),
    /** The clinic's own reference for the patient (never the national ID). */
    patientRef: text({ min: 1, max: 64 }).optional(),
    /**
     * The exam order the operator entered (docs/patients.md): links the recording to the
     * registered patient. `ABCD-2345`, case and dash optional.
     */
    orderNumber: orderNumberSchema.optional(),
    /**
     * Samples per lead in every chunk but the last (which may hold fewer). Declared, it lets
     * the relay refuse a misplaced chunk exactly, before acknowledging it.
     */
    samplesPerChunk: z.int().min(1).max(RECORDING_LIMITS.maxSamplesPerChunk).optional(),
    /**
     * Microvolts per LSB of each lead, in `leads` order, for a box that calibrates its leads
     * separately. When given, it replaces `microvoltsPerLsb` for the samples; the relay writes
     * the leads on one common scale (the finest lead's step) when the recording is stored.
     */
    leadMicrovoltsPerLsb: z
      .array(z.number().positive().max(1000))
      .min(1)
      .max(RECORDING_LIMITS.maxLeads)
      .optional(),
  })
  .refine(
    (open) =>
      open.leadMicrovoltsPerLsb === undefined ||
      open.leadMicrovoltsPerLsb.length === open.leads.length,
    { message: 'leadMicrovoltsPerLsb needs one value per lead', path: ['leadMicrovoltsPerLsb'] },
  );
export type RecordingOpen = z.infer<typeof RecordingOpenSchema>;

/** Box → relay on `rec/close`: the recording is complete on the box's side. */
export const RecordingCloseSchema = z.strictObject({
  recordingId: uuid,
  chunkCount: z.int().min(1).max(RECORDING_LIMITS.maxChunksPerRecording),
  samplesPerLead: z.int().min(1).max(RECORDING_LIMITS.maxSamplesPerLead),
  /** sha256 of the concatenated sample payloads of all chunks, in sequence order. */
  sha256: sha256Hex,
});
export type RecordingClose = z.infer<typeof RecordingCloseSchema>;

/**
 * Relay → box on `ack`: what the relay holds durably. The box may forget a chunk only
 * once it is covered by `storedThrough` or the recording is `complete`.
 */
export interface StoredAck {
  recordingId: string;
  /** Highest sequence number such that every chunk 0..storedThrough is durable; -1 for none. */
  storedThrough: number;
  /** Chunks below the highest one seen that the relay does not hold (ask to resend). */
  missing: number[];
  /** True once the whole recording is verified, stored and handed to a hospital. */
  complete: boolean;
  caseId?: string;
}

export const DEVICE_ERROR_CODES = [
  'MALFORMED_FRAME',
  'CRC_MISMATCH',
  'UNKNOWN_VERSION',
  'UNKNOWN_RECORDING',
  'FRAME_MISMATCH',
  'LIMIT_EXCEEDED',
  'INVALID_MESSAGE',
  'INCOMPLETE',
  'CHECKSUM_MISMATCH',
  'TEMPORARILY_UNAVAILABLE',
  /** Stored, but the analysis found it unreadable (e.g. a lead off): record again. */
  'UNREADABLE_RECORDING',
  /** The `orderNumber` of a `rec/open` names no open ECG order of the box's clinic. */
  'UNKNOWN_ORDER',
] as const;
export type DeviceErrorCode = (typeof DEVICE_ERROR_CODES)[number];

/** Relay → box on `error`. `retryable` tells the box whether sending again can help. */
export interface DeviceError {
  code: DeviceErrorCode;
  message: string;
  retryable: boolean;
  recordingId?: string;
  sequence?: number;
}

/** Relay → box on `diagnosis` (retained, so a box that was offline sees the latest). */
export interface DeviceDiagnosis {
  caseId: string;
  recordingId: string;
  conclusion: string;
  signedBy: string;
  signedAt: string;
}

/** Box → relay on `status` (retained; also the box's last will with online=false). */
export const DeviceStatusSchema = z.strictObject({
  online: z.boolean(),
  firmware: text({ max: 64 }).optional(),
  batteryPercent: z.int().min(0).max(100).optional(),
});
export type DeviceStatus = z.infer<typeof DeviceStatusSchema>;

/** Limits of live monitoring streams (docs/protocol.md §Live streams). */
export const STREAM_LIMITS = {
  maxLeads: 3,
  minSampleRateHz: 250,
  maxSampleRateHz: 500,
  /** How much of a stream the relay keeps, for late watchers and rhythm-strip snapshots. */
  bufferSeconds: 60,
} as const;

/**
 * Box → relay on `stream/open`: a live monitoring stream starts. Its frames on
 * `stream/frame` use the chunk frame layout with the stream id in the recording id field,
 * sent at QoS 0: a live view wants the newest samples, not every sample.
 */
export const StreamOpenSchema = z.strictObject({
  streamId: uuid,
  leads: z.array(leadName).min(1).max(STREAM_LIMITS.maxLeads),
  sampleRateHz: z.int().min(STREAM_LIMITS.minSampleRateHz).max(STREAM_LIMITS.maxSampleRateHz),
  microvoltsPerLsb: z.number().positive().max(1000),
  startedAt: z.iso.datetime(),
});
export type StreamOpen = z.infer<typeof StreamOpenSchema>;

/** Box → relay on `stream/close`. */
export const StreamCloseSchema = z.strictObject({ streamId: uuid });
export type StreamClose = z.infer<typeof StreamCloseSchema>;
