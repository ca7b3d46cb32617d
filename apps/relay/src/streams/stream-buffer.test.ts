import { describe, expect, it } from 'vitest';
import { StreamBuffer } from './stream-buffer.js';

/** Two leads; sample n carries n on lead 0 and -n on lead 1. */
function frame(first: number, count: number): Int16Array {
  const samples = new Int16Array(count * 2);
  for (let i = 0; i < count; i += 1) {
    samples[i * 2] = first + i;
    samples[i * 2 + 1] = -(first + i);
  }
  return samples;
}

describe('StreamBuffer', () => {
  it('returns the newest samples in order, across the ring boundary', () => {
    const buffer = new StreamBuffer(2, 100);
    for (let first = 0; first < 250; first += 10) buffer.write(first, frame(first, 10));
    const { firstSample, samples } = buffer.latest(60);
    expect(firstSample).toBe(190);
    expect(samples.length).toBe(120);
    expect(samples[0]).toBe(190);
    expect(samples[1]).toBe(-190);
    expect(samples[118]).toBe(249);
  });

  it('stops at a gap left by a lost frame', () => {
    const buffer = new StreamBuffer(2, 100);
    buffer.write(0, frame(0, 10));
    buffer.write(20, frame(20, 10)); // frame 10–19 lost
    buffer.write(30, frame(30, 10));
    const { firstSample, samples } = buffer.latest(100);
    expect(firstSample).toBe(20);
    expect(samples.length / 2).toBe(20);
  });

  it('ignores a frame older than what it keeps', () => {
    const buffer = new StreamBuffer(2, 50);
    buffer.write(100, frame(100, 10));
    buffer.write(0, frame(0, 10));
    expect(buffer.latest(50)).toMatchObject({ firstSample: 100 });
  });
});
