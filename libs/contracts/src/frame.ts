/**
 * Binary layout of a chunk frame on `rec/chunk` (docs/protocol.md §Chunk frame).
 * All integers little-endian. The codec lives in libs/ecg; this is the one definition
 * of the byte offsets.
 *
 *  off size field
 *    0    1 version (FRAME_VERSION)
 *    1    1 flags (reserved, 0)
 *    2   16 recording id (UUID, RFC 9562 byte order)
 *   18    4 sequence (u32, 0-based, one per chunk)
 *   22    4 first sample index (u32, per lead)
 *   26    2 sample count per lead (u16)
 *   28    1 lead count (u8)
 *   29    3 reserved (0)
 *   32    n samples: int16 LE, interleaved by sample (s0l0 s0l1 … s1l0 …), n = 2·count·leads
 * 32+n    4 CRC-32C (Castagnoli) of bytes 0 .. 32+n-1
 */
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 32;
export const FRAME_CRC_BYTES = 4;
export const FRAME_OFFSETS = {
  version: 0,
  flags: 1,
  recordingId: 2,
  sequence: 18,
  firstSample: 22,
  sampleCount: 26,
  leadCount: 28,
  samples: 32,
} as const;
