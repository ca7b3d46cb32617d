import type { ChunkSpan } from './recording-staging.js';

export interface ChunkPosition extends ChunkSpan {
  sequence: number;
}

/**
 * Why a chunk cannot sit where it says it does in its recording, or null when it can
 * (docs/protocol.md §Chunks). Checked before the chunk is acknowledged: once acknowledged,
 * the box may forget it, and a misplaced chunk would then fail the close for good.
 *
 * With `samplesPerChunk` declared at open the position is exact. Without it only what the
 * relay already holds can be checked: chunk 0 starts at 0, every chunk has at least one
 * sample so chunk n starts at n or later, and a chunk meets its held neighbours exactly.
 * `held` may include this sequence: a chunk sent again replaces it, so it is not its own
 * neighbour.
 */
export function chunkPositionProblem(
  chunk: ChunkPosition,
  samplesPerChunk: number | undefined,
  held: ReadonlyMap<number, ChunkSpan>,
): string | null {
  const { sequence, firstSample, sampleCount } = chunk;
  if (samplesPerChunk !== undefined) {
    const expected = sequence * samplesPerChunk;
    if (firstSample !== expected) {
      return `chunk ${sequence} starts at sample ${firstSample}; with ${samplesPerChunk} samples per chunk it starts at ${expected}`;
    }
    if (sampleCount > samplesPerChunk) {
      return `chunk ${sequence} holds ${sampleCount} samples; the open declared ${samplesPerChunk} per chunk`;
    }
  }
  if (sequence === 0 && firstSample !== 0) {
    return `chunk 0 starts at sample ${firstSample}, not 0`;
  }
  if (firstSample < sequence) {
    return `chunk ${sequence} starts at sample ${firstSample}, before the ${sequence} chunks ahead of it can end`;
  }
  const before = held.get(sequence - 1);
  if (before && before.firstSample + before.sampleCount !== firstSample) {
    return `chunk ${sequence} starts at sample ${firstSample}; the chunk before it ends at ${before.firstSample + before.sampleCount}`;
  }
  const after = held.get(sequence + 1);
  if (after && firstSample + sampleCount !== after.firstSample) {
    return `chunk ${sequence} ends at sample ${firstSample + sampleCount}; the chunk after it starts at ${after.firstSample}`;
  }
  return null;
}
