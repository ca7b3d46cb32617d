import { crc32c } from '@node-rs/crc32';
import {
  FRAME_CRC_BYTES,
  FRAME_HEADER_BYTES,
  FRAME_OFFSETS,
  FRAME_VERSION,
  RECORDING_LIMITS,
  type DeviceErrorCode,
} from '#contracts';

/**
 * Codec for the binary chunk frame on `rec/chunk`. The byte layout is defined once, in
 * libs/contracts/src/frame.ts; this file only reads and writes it. The trailer is CRC-32C
 * (Castagnoli polynomial 0x1EDC6F41, as specified in RFC 3720 §12.1).
 */

/** Everything a frame says about itself except its samples. */
export interface ChunkFrameHeader {
  version: number;
  /** Lowercase canonical UUID text. */
  recordingId: string;
  sequence: number;
  /** Index of the first sample of this chunk, per lead. */
  firstSample: number;
  /** Samples per lead in this chunk. */
  sampleCount: number;
  leadCount: number;
}

export interface ChunkFrame extends ChunkFrameHeader {
  /** Interleaved by sample (s0l0 s0l1 … s1l0 …), length sampleCount·leadCount. */
  samples: Int16Array;
}

export type ChunkFrameInput = Omit<ChunkFrame, 'version'>;

export class FrameDecodeError extends Error {
  readonly code: DeviceErrorCode;
  readonly details: Record<string, number | string>;

  constructor(
    code: DeviceErrorCode,
    message: string,
    details: Record<string, number | string> = {},
  ) {
    super(message);
    this.name = 'FrameDecodeError';
    this.code = code;
    this.details = details;
  }
}

const MIN_FRAME_BYTES = FRAME_HEADER_BYTES + FRAME_CRC_BYTES;
const BYTES_PER_SAMPLE = 2;
const UINT32_MAX = 0xffff_ffff;
const UUID_BYTES = 16;
// Bytes 29..31 sit between the lead count and the samples; frame.ts names them only in prose.
const RESERVED_OFFSET = FRAME_OFFSETS.leadCount + 1;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Total frame size for a given shape; the one formula both directions rely on. */
function frameByteLength(sampleCount: number, leadCount: number): number {
  return FRAME_HEADER_BYTES + BYTES_PER_SAMPLE * sampleCount * leadCount + FRAME_CRC_BYTES;
}

/** RFC 9562 §4: the 16 bytes in the order the hex digits are written (network order). */
export function uuidToBytes(uuid: string): Uint8Array {
  if (!UUID_PATTERN.test(uuid)) {
    throw new RangeError(`not a UUID: ${JSON.stringify(uuid)}`);
  }
  return Uint8Array.from(Buffer.from(uuid.replaceAll('-', ''), 'hex'));
}

export function bytesToUuid(bytes: Uint8Array): string {
  if (bytes.length !== UUID_BYTES) {
    throw new RangeError(`a UUID is ${UUID_BYTES} bytes, got ${bytes.length}`);
  }
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

/**
 * Encodes one chunk. Refuses anything the decoder would reject, so a box (or the
 * simulator) cannot produce a frame the relay is bound to bounce.
 */
export function encodeChunkFrame(frame: ChunkFrameInput): Buffer {
  requireInteger('sequence', frame.sequence, 0, UINT32_MAX);
  requireInteger('firstSample', frame.firstSample, 0, UINT32_MAX);
  requireInteger('sampleCount', frame.sampleCount, 1, RECORDING_LIMITS.maxSamplesPerChunk);
  requireInteger('leadCount', frame.leadCount, 1, RECORDING_LIMITS.maxLeads);
  const sampleValues = frame.sampleCount * frame.leadCount;
  if (!(frame.samples instanceof Int16Array) || frame.samples.length !== sampleValues) {
    throw new RangeError(
      `samples must be an Int16Array of sampleCount·leadCount = ${sampleValues} values`,
    );
  }
  const totalBytes = frameByteLength(frame.sampleCount, frame.leadCount);
  if (totalBytes > RECORDING_LIMITS.maxFrameBytes) {
    throw new RangeError(
      `frame of ${totalBytes} bytes exceeds the ${RECORDING_LIMITS.maxFrameBytes}-byte limit`,
    );
  }
  const recordingId = uuidToBytes(frame.recordingId);

  // Buffer.alloc zero-fills, which is what the flags and reserved bytes must be.
  const bytes = Buffer.alloc(totalBytes);
  bytes.writeUInt8(FRAME_VERSION, FRAME_OFFSETS.version);
  bytes.set(recordingId, FRAME_OFFSETS.recordingId);
  bytes.writeUInt32LE(frame.sequence, FRAME_OFFSETS.sequence);
  bytes.writeUInt32LE(frame.firstSample, FRAME_OFFSETS.firstSample);
  bytes.writeUInt16LE(frame.sampleCount, FRAME_OFFSETS.sampleCount);
  bytes.writeUInt8(frame.leadCount, FRAME_OFFSETS.leadCount);

  // DataView with an explicit little-endian flag keeps the wire format independent of host order.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < sampleValues; i++) {
    view.setInt16(FRAME_OFFSETS.samples + BYTES_PER_SAMPLE * i, frame.samples[i]!, true);
  }
  const crcOffset = totalBytes - FRAME_CRC_BYTES;
  bytes.writeUInt32LE(crc32c(bytes.subarray(0, crcOffset)), crcOffset);
  return bytes;
}

/** Decodes and fully validates one chunk, samples included. */
export function decodeChunkFrame(bytes: Uint8Array): ChunkFrame {
  const header = readChunkFrameHeader(bytes);
  // Socket buffers are routinely at odd byte offsets, where an Int16Array view would throw
  // or (on a big-endian host) misread; reading through the DataView sidesteps both.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Int16Array(header.sampleCount * header.leadCount);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = view.getInt16(FRAME_OFFSETS.samples + BYTES_PER_SAMPLE * i, true);
  }
  return { ...header, samples };
}

/**
 * Validates one chunk as fully as decodeChunkFrame (length, CRC over every byte, version,
 * reserved bytes, limits) without reading its samples out: the ingest path stores the
 * frame's bytes as sent and never needs them as numbers. Order matters: size checks first
 * (cheap, and they only need the buffer length and the two shape fields), then the CRC, and
 * only after the CRC has vouched for the header are version, reserved bytes and limits
 * interpreted.
 */
export function readChunkFrameHeader(bytes: Uint8Array): ChunkFrameHeader {
  const length = bytes.byteLength;
  if (length < MIN_FRAME_BYTES) {
    throw new FrameDecodeError(
      'MALFORMED_FRAME',
      `frame of ${length} bytes is shorter than header and CRC (${MIN_FRAME_BYTES})`,
      { length, minimum: MIN_FRAME_BYTES },
    );
  }
  if (length > RECORDING_LIMITS.maxFrameBytes) {
    throw new FrameDecodeError(
      'LIMIT_EXCEEDED',
      `frame of ${length} bytes exceeds the ${RECORDING_LIMITS.maxFrameBytes}-byte limit`,
      { length, limit: RECORDING_LIMITS.maxFrameBytes },
    );
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sampleCount = view.getUint16(FRAME_OFFSETS.sampleCount, true);
  const leadCount = view.getUint8(FRAME_OFFSETS.leadCount);
  const expectedLength = frameByteLength(sampleCount, leadCount);
  if (length !== expectedLength) {
    throw new FrameDecodeError(
      'MALFORMED_FRAME',
      `frame is ${length} bytes but its header describes ${expectedLength}`,
      { length, expectedLength, sampleCount, leadCount },
    );
  }

  const crcOffset = length - FRAME_CRC_BYTES;
  const expectedCrc = view.getUint32(crcOffset, true);
  const actualCrc = crc32c(bytes.subarray(0, crcOffset));
  if (actualCrc !== expectedCrc) {
    throw new FrameDecodeError('CRC_MISMATCH', 'frame CRC-32C does not match its contents', {
      expectedCrc,
      actualCrc,
    });
  }

  const version = view.getUint8(FRAME_OFFSETS.version);
  if (version !== FRAME_VERSION) {
    throw new FrameDecodeError('UNKNOWN_VERSION', `frame version ${version} is not supported`, {
      version,
      supported: FRAME_VERSION,
    });
  }
  const flags = view.getUint8(FRAME_OFFSETS.flags);
  let reserved = 0;
  for (let offset = RESERVED_OFFSET; offset < FRAME_OFFSETS.samples; offset++) {
    reserved |= view.getUint8(offset);
  }
  if (flags !== 0 || reserved !== 0) {
    throw new FrameDecodeError('MALFORMED_FRAME', 'reserved header bytes must be zero', {
      flags,
      reserved,
    });
  }
  if (leadCount === 0 || leadCount > RECORDING_LIMITS.maxLeads) {
    throw new FrameDecodeError(
      'LIMIT_EXCEEDED',
      `lead count ${leadCount} outside 1..${RECORDING_LIMITS.maxLeads}`,
      { leadCount, limit: RECORDING_LIMITS.maxLeads },
    );
  }
  if (sampleCount === 0 || sampleCount > RECORDING_LIMITS.maxSamplesPerChunk) {
    throw new FrameDecodeError(
      'LIMIT_EXCEEDED',
      `sample count ${sampleCount} outside 1..${RECORDING_LIMITS.maxSamplesPerChunk}`,
      { sampleCount, limit: RECORDING_LIMITS.maxSamplesPerChunk },
    );
  }

  return {
    version,
    recordingId: bytesToUuid(
      bytes.subarray(FRAME_OFFSETS.recordingId, FRAME_OFFSETS.recordingId + UUID_BYTES),
    ),
    sequence: view.getUint32(FRAME_OFFSETS.sequence, true),
    firstSample: view.getUint32(FRAME_OFFSETS.firstSample, true),
    sampleCount,
    leadCount,
  };
}

/**
 * The raw sample bytes of a frame that has already passed readChunkFrameHeader, as a view (no
 * copy). The recording checksum in `rec/close` is over these bytes exactly as sent, so they
 * must not be re-encoded from decoded samples.
 */
export function frameSamplePayload(frameBytes: Uint8Array): Uint8Array {
  if (frameBytes.byteLength < MIN_FRAME_BYTES) {
    throw new FrameDecodeError(
      'MALFORMED_FRAME',
      `frame of ${frameBytes.byteLength} bytes is shorter than header and CRC`,
      { length: frameBytes.byteLength, minimum: MIN_FRAME_BYTES },
    );
  }
  return frameBytes.subarray(FRAME_OFFSETS.samples, frameBytes.byteLength - FRAME_CRC_BYTES);
}
