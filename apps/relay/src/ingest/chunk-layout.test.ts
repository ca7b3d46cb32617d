import { describe, expect, it } from 'vitest';
import { chunkPositionProblem } from './chunk-layout.js';
import type { ChunkSpan } from './recording-staging.js';

const none = new Map<number, ChunkSpan>();
const held = (...spans: [number, number, number][]) =>
  new Map(
    spans.map(([sequence, firstSample, sampleCount]) => [sequence, { firstSample, sampleCount }]),
  );

describe('chunkPositionProblem', () => {
  describe('with samplesPerChunk declared at open', () => {
    it('accepts chunk n at n × samplesPerChunk, the last one shorter', () => {
      expect(
        chunkPositionProblem({ sequence: 0, firstSample: 0, sampleCount: 250 }, 250, none),
      ).toBeNull();
      expect(
        chunkPositionProblem({ sequence: 3, firstSample: 750, sampleCount: 250 }, 250, none),
      ).toBeNull();
      expect(
        chunkPositionProblem({ sequence: 4, firstSample: 1000, sampleCount: 10 }, 250, none),
      ).toBeNull();
    });

    it('refuses sequence 1 claiming to start at sample 0, even with nothing held', () => {
      expect(
        chunkPositionProblem({ sequence: 1, firstSample: 0, sampleCount: 250 }, 250, none),
      ).toMatch(/chunk 1 starts at sample 0; .* starts at 250/);
    });

    it('refuses a chunk larger than declared', () => {
      expect(
        chunkPositionProblem({ sequence: 2, firstSample: 500, sampleCount: 251 }, 250, none),
      ).toMatch(/holds 251 samples/);
    });

    it('refuses a short chunk that is followed by one already held', () => {
      expect(
        chunkPositionProblem(
          { sequence: 2, firstSample: 500, sampleCount: 100 },
          250,
          held([3, 750, 250]),
        ),
      ).toMatch(/ends at sample 600; the chunk after it starts at 750/);
    });
  });

  describe('without samplesPerChunk', () => {
    it('refuses chunk 0 not at sample 0, and chunk n before sample n', () => {
      expect(
        chunkPositionProblem({ sequence: 0, firstSample: 5, sampleCount: 5 }, undefined, none),
      ).toMatch(/chunk 0/);
      expect(
        chunkPositionProblem({ sequence: 1, firstSample: 0, sampleCount: 250 }, undefined, none),
      ).toMatch(/before the 1 chunks ahead of it/);
    });

    it('refuses a gap or an overlap with a held neighbour on either side', () => {
      const neighbours = held([0, 0, 250], [2, 500, 250]);
      expect(
        chunkPositionProblem(
          { sequence: 1, firstSample: 250, sampleCount: 250 },
          undefined,
          neighbours,
        ),
      ).toBeNull();
      expect(
        chunkPositionProblem(
          { sequence: 1, firstSample: 200, sampleCount: 300 },
          undefined,
          neighbours,
        ),
      ).toMatch(/the chunk before it ends at 250/);
      expect(
        chunkPositionProblem(
          { sequence: 1, firstSample: 250, sampleCount: 200 },
          undefined,
          neighbours,
        ),
      ).toMatch(/the chunk after it starts at 500/);
    });

    it('checks a replacement against its neighbours, not against the chunk it replaces', () => {
      const replacing = held([0, 0, 250], [1, 250, 100]);
      expect(
        chunkPositionProblem(
          { sequence: 1, firstSample: 250, sampleCount: 250 },
          undefined,
          replacing,
        ),
      ).toBeNull();
    });
  });
});
