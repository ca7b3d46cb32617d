import { describe, expect, it } from 'vitest';
import { SweepBuffer } from './sweep.js';

describe('SweepBuffer', () => {
  // 2 leads, 10 Hz, a 1 s sweep: 10 positions. 1000 µV per LSB: 1 LSB = 1 mV.
  const sweep = () => new SweepBuffer(2, 10, 1000, 1, 1000);

  it('writes interleaved samples round the sweep, leaving gaps where frames were lost', () => {
    const buffer = sweep();
    expect(buffer.cursor).toBe(-1);
    buffer.write(0, [0, 0, 1, 2, 1, 2]);
    expect(buffer.cursor).toBe(3);
    expect(buffer.values[0]![1]).toBeCloseTo(1, 2);
    expect(buffer.values[1]![2]).toBeCloseTo(2, 2);
    // Samples 3..5 are lost; 6..7 arrive.
    buffer.write(6, [0, 0, 0, 0]);
    expect(Number.isNaN(buffer.values[0]![4]!)).toBe(true);
    expect(buffer.cursor).toBe(8);
    // Round the sweep: sample 12 lands at position 2.
    buffer.write(8, [0, 0, 0, 0, 0, 0, 0, 0, 5, 5]);
    expect(buffer.cursor).toBe(3);
    expect(buffer.values[0]![2]).toBeCloseTo(5, 1);
  });

  it('ignores samples it already has, and a gap longer than the sweep blanks all of it', () => {
    const buffer = sweep();
    buffer.write(0, [1, 1, 1, 1]);
    buffer.write(0, [9, 9]);
    expect(buffer.values[0]![0]).toBeCloseTo(0, 2);
    buffer.write(100, [1, 1]);
    expect(buffer.values[0]!.filter((value) => !Number.isNaN(value))).toHaveLength(1);
    expect(buffer.cursor).toBe(1);
  });
});
