import { crc32c } from '@node-rs/crc32';
import { describe, expect, it } from 'vitest';
import { FRAME_OFFSETS, FRAME_VERSION, RECORDING_LIMITS, type DeviceErrorCode } from '#contracts';
import {
  bytesToUuid,
  decodeChunkFrame,
  encodeChunkFrame,
  FrameDecodeError,
  frameSamplePayload,
  readChunkFrameHeader,
  uuidToBytes,
  type ChunkFrameInput,
} from './frame-codec.js';

const RECORDING_ID = '0192f1c3-7b4e-7a10-8c3d-5e6f7a8b9c0d';

function sampleFrame(overrides: Partial<ChunkFrameInput> = {}): ChunkFrameInput {
  return {
    recordingId: RECORDING_ID,
    sequence: 7,
    firstSample: 3500,
    sampleCount: 3,
    leadCount: 2,
    samples: Int16Array.from([0, -1, 32767, -32768, 1234, -4321]),
    ...overrides,
  };
}

/** Rewrites the CRC so a test can reach the checks that run after it. */
function withValidCrc(bytes: Buffer): Buffer {
  const crcOffset = bytes.length - 4;
  bytes.writeUInt32LE(crc32c(bytes.subarray(0, crcOffset)), crcOffset);
  return bytes;
}

/** A frame with arbitrary header shape fields and a matching payload length and CRC. */
function forgeFrame(sampleCount: number, leadCount: number): Buffer {
  const bytes = Buffer.alloc(32 + 2 * sampleCount * leadCount + 4);
  bytes[FRAME_OFFSETS.version] = FRAME_VERSION;
  bytes.set(uuidToBytes(RECORDING_ID), FRAME_OFFSETS.recordingId);
  bytes.writeUInt16LE(sampleCount, FRAME_OFFSETS.sampleCount);
  bytes[FRAME_OFFSETS.leadCount] = leadCount;
  return withValidCrc(bytes);
}

function decodeErrorCode(bytes: Uint8Array): DeviceErrorCode {
  try {
    decodeChunkFrame(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(FrameDecodeError);
    return (error as FrameDecodeError).code;
  }
  throw new Error('expected decodeChunkFrame to reject');
}

describe('CRC-32C', () => {
  it('matches the Castagnoli check value (RFC 3720 appendix B.4)', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283);
  });
});

describe('encodeChunkFrame', () => {
  it('writes every header field at the offsets defined in the contract', () => {
    const bytes = encodeChunkFrame(sampleFrame());
    expect(bytes.length).toBe(32 + 2 * 3 * 2 + 4);
    expect(bytes[0]).toBe(FRAME_VERSION);
    expect(bytes[1]).toBe(0);
    expect(bytes.subarray(2, 18).toString('hex')).toBe(RECORDING_ID.replaceAll('-', ''));
    expect(bytes.readUInt32LE(18)).toBe(7);
    expect(bytes.readUInt32LE(22)).toBe(3500);
    expect(bytes.readUInt16LE(26)).toBe(3);
    expect(bytes[28]).toBe(2);
    expect([...bytes.subarray(29, 32)]).toEqual([0, 0, 0]);
    // Interleaved int16 LE: -1 is ff ff, 32767 is ff 7f, -32768 is 00 80.
    expect(bytes.subarray(32, 40).toString('hex')).toBe('0000ffffff7f0080');
    expect(bytes.readUInt32LE(bytes.length - 4)).toBe(crc32c(bytes.subarray(0, bytes.length - 4)));
  });

  it.each<[string, Partial<ChunkFrameInput>]>([
    ['negative sequence', { sequence: -1 }],
    ['sequence beyond u32', { sequence: 2 ** 32 }],
    ['fractional first sample', { firstSample: 1.5 }],
    ['zero sample count', { sampleCount: 0, samples: new Int16Array(0) }],
    ['too many leads', { leadCount: 17, sampleCount: 1, samples: new Int16Array(17) }],
    ['samples length not count·leads', { samples: new Int16Array(5) }],
    ['samples not an Int16Array', { samples: [1, 2, 3, 4, 5, 6] as unknown as Int16Array }],
    ['malformed recording id', { recordingId: 'not-a-uuid' }],
    [
      'frame larger than the byte limit',
      { sampleCount: 4000, leadCount: 9, samples: new Int16Array(36_000) },
    ],
  ])('rejects %s with a RangeError', (_name, overrides) => {
    expect(() => encodeChunkFrame(sampleFrame(overrides))).toThrow(RangeError);
  });
});

describe('decodeChunkFrame', () => {
  it('round-trips a frame, normalising the recording id to lowercase', () => {
    const input = sampleFrame({ recordingId: RECORDING_ID.toUpperCase(), sequence: 2 ** 32 - 1 });
    const decoded = decodeChunkFrame(encodeChunkFrame(input));
    expect(decoded).toEqual({ ...input, recordingId: RECORDING_ID, version: FRAME_VERSION });
    expect(decoded.samples).toBeInstanceOf(Int16Array);
  });

  it('round-trips the largest frame the limits allow', () => {
    const leadCount = RECORDING_LIMITS.maxLeads;
    const sampleCount = Math.floor((RECORDING_LIMITS.maxFrameBytes - 36) / (2 * leadCount));
    const samples = Int16Array.from(
      { length: sampleCount * leadCount },
      (_, i) => (i * 7919) % 65536,
    );
    const bytes = encodeChunkFrame(sampleFrame({ sampleCount, leadCount, samples }));
    expect(bytes.length).toBeLessThanOrEqual(RECORDING_LIMITS.maxFrameBytes);
    expect(decodeChunkFrame(bytes).samples).toEqual(samples);
  });

  it('decodes samples from a buffer at an odd byte offset', () => {
    const encoded = encodeChunkFrame(sampleFrame());
    const backing = new ArrayBuffer(encoded.length + 1);
    const unaligned = new Uint8Array(backing, 1, encoded.length);
    unaligned.set(encoded);
    expect(unaligned.byteOffset % 2).toBe(1);
    expect([...decodeChunkFrame(unaligned).samples]).toEqual([0, -1, 32767, -32768, 1234, -4321]);
  });

  it('rejects a frame shorter than header plus CRC as MALFORMED_FRAME', () => {
    expect(decodeErrorCode(new Uint8Array(35))).toBe('MALFORMED_FRAME');
    expect(decodeErrorCode(new Uint8Array(0))).toBe('MALFORMED_FRAME');
  });

  it('rejects a frame whose length disagrees with its header as MALFORMED_FRAME', () => {
    const encoded = encodeChunkFrame(sampleFrame());
    const padded = withValidCrc(Buffer.concat([encoded, Buffer.alloc(2)]));
    expect(decodeErrorCode(padded)).toBe('MALFORMED_FRAME');
    const truncated = withValidCrc(Buffer.from(encoded.subarray(0, encoded.length - 2)));
    expect(decodeErrorCode(truncated)).toBe('MALFORMED_FRAME');
  });

  it('rejects a frame with non-zero flags or reserved bytes as MALFORMED_FRAME', () => {
    for (const offset of [FRAME_OFFSETS.flags, 29, 30, 31]) {
      const bytes = encodeChunkFrame(sampleFrame());
      bytes[offset] = 1;
      expect(decodeErrorCode(withValidCrc(bytes))).toBe('MALFORMED_FRAME');
    }
  });

  it('rejects an unknown version as UNKNOWN_VERSION', () => {
    const bytes = encodeChunkFrame(sampleFrame());
    bytes[FRAME_OFFSETS.version] = FRAME_VERSION + 1;
    expect(decodeErrorCode(withValidCrc(bytes))).toBe('UNKNOWN_VERSION');
  });

  it('checks the CRC before the version', () => {
    const bytes = encodeChunkFrame(sampleFrame());
    bytes[FRAME_OFFSETS.version] = FRAME_VERSION + 1;
    expect(decodeErrorCode(bytes)).toBe('CRC_MISMATCH');
  });

  it('rejects a corrupted CRC field as CRC_MISMATCH with both values in the details', () => {
    const bytes = encodeChunkFrame(sampleFrame());
    bytes[bytes.length - 1]! ^= 0xff;
    const error = (() => {
      try {
        decodeChunkFrame(bytes);
      } catch (caught) {
        return caught as FrameDecodeError;
      }
      throw new Error('expected a rejection');
    })();
    expect(error.code).toBe('CRC_MISMATCH');
    expect(error.details.actualCrc).toBe(crc32c(bytes.subarray(0, bytes.length - 4)));
    expect(error.details.expectedCrc).toBe(bytes.readUInt32LE(bytes.length - 4));
  });

  it.each([
    ['zero leads', 1, 0],
    ['more leads than the limit', 1, RECORDING_LIMITS.maxLeads + 1],
    ['zero samples', 0, 1],
    ['more samples per chunk than the limit', RECORDING_LIMITS.maxSamplesPerChunk + 1, 1],
  ])('rejects %s as LIMIT_EXCEEDED', (_name, sampleCount, leadCount) => {
    expect(decodeErrorCode(forgeFrame(sampleCount, leadCount))).toBe('LIMIT_EXCEEDED');
  });

  it('rejects a frame larger than the byte limit as LIMIT_EXCEEDED', () => {
    expect(decodeErrorCode(new Uint8Array(RECORDING_LIMITS.maxFrameBytes + 1))).toBe(
      'LIMIT_EXCEEDED',
    );
  });

  it('detects every single-bit flip anywhere in the frame', () => {
    const original = encodeChunkFrame(sampleFrame());
    const shapeFieldBytes = new Set([26, 27, 28]);
    for (let byte = 0; byte < original.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const corrupted = Buffer.from(original);
        corrupted[byte]! ^= 1 << bit;
        // A flip in the shape fields changes the length the header describes, so it is
        // caught as structurally malformed before the CRC is even computed.
        const expected = shapeFieldBytes.has(byte) ? 'MALFORMED_FRAME' : 'CRC_MISMATCH';
        expect(decodeErrorCode(corrupted), `byte ${byte} bit ${bit}`).toBe(expected);
      }
    }
  });
});

describe('readChunkFrameHeader', () => {
  it('returns what decodeChunkFrame returns, without the samples', () => {
    const bytes = encodeChunkFrame(sampleFrame());
    const { samples, ...header } = decodeChunkFrame(bytes);
    expect(samples).toHaveLength(6);
    expect(readChunkFrameHeader(bytes)).toEqual(header);
  });

  it('checks the CRC over the sample bytes it does not read', () => {
    const corrupted = encodeChunkFrame(sampleFrame());
    corrupted[FRAME_OFFSETS.samples + 3]! ^= 0x10;
    expect(() => readChunkFrameHeader(corrupted)).toThrow(
      expect.objectContaining({ code: 'CRC_MISMATCH' }),
    );
  });
});

describe('frameSamplePayload', () => {
  it('returns a view of exactly the sample bytes, sharing memory with the frame', () => {
    const bytes = encodeChunkFrame(sampleFrame());
    const payload = frameSamplePayload(bytes);
    expect(payload.byteLength).toBe(12);
    expect(payload.buffer).toBe(bytes.buffer);
    expect(payload.byteOffset).toBe(bytes.byteOffset + 32);
    bytes[32] = 0xab;
    expect(payload[0]).toBe(0xab);
  });

  it('refuses a buffer too short to be a frame', () => {
    expect(() => frameSamplePayload(new Uint8Array(10))).toThrow(FrameDecodeError);
  });
});

describe('uuid bytes', () => {
  it('keeps RFC 9562 byte order and round-trips', () => {
    const bytes = uuidToBytes(RECORDING_ID);
    expect(bytes[0]).toBe(0x01);
    expect(bytes[15]).toBe(0x0d);
    expect(bytesToUuid(bytes)).toBe(RECORDING_ID);
  });

  it('rejects malformed input', () => {
    expect(() => uuidToBytes('0192f1c37b4e7a108c3d5e6f7a8b9c0d')).toThrow(RangeError);
    expect(() => uuidToBytes('0192f1c3-7b4e-7a10-8c3d-5e6f7a8b9c0g')).toThrow(RangeError);
    expect(() => bytesToUuid(new Uint8Array(15))).toThrow(RangeError);
  });
});
