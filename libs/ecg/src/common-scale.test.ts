import { describe, expect, it } from 'vitest';
import { CommonScaleError, toCommonScale } from './common-scale.js';

describe('toCommonScale', () => {
  it('writes leads of different gains on the finest step, each value exact', () => {
    // WFDB style: lead A 200 units/mV (5 µV per unit), lead B 1000 units/mV (1 µV per unit).
    const result = toCommonScale(
      [
        { name: 'I', values: [1024, 1124, 924], microvoltsPerUnit: 5, baselineUnits: 1024 },
        { name: 'II', values: [0, -250, 37], microvoltsPerUnit: 1 },
      ],
      500,
    );
    expect(result.microvoltsPerLsb).toBe(1);
    expect(Array.from(result.samples)).toEqual([0, 0, 500, -250, -500, 37]);
    expect(result.leads).toEqual(['I', 'II']);
    expect(result.warnings).toEqual([]);
  });

  it('adds a physical baseline after scaling (DICOM Channel Baseline)', () => {
    const result = toCommonScale(
      [{ name: 'V1', values: [10, 20], microvoltsPerUnit: 2.5, baselineMicrovolts: 5 }],
      250,
    );
    expect(result.microvoltsPerLsb).toBe(2.5);
    expect(Array.from(result.samples)).toEqual([12, 22]);
  });

  it('uses a coarser step and says so when the finest one would overflow 16 bits', () => {
    const result = toCommonScale(
      [
        { name: 'I', values: [40_000, -40_000], microvoltsPerUnit: 1 },
        { name: 'II', values: [1, 2], microvoltsPerUnit: 4 },
      ],
      500,
    );
    expect(result.microvoltsPerLsb).toBeCloseTo(40_000 / 32_767, 9);
    expect(result.samples[0]).toBe(32_767);
    expect(result.samples[2]).toBe(-32_767);
    expect(result.warnings.join()).toMatch(/16 bits/);
  });

  it('cuts leads of different lengths to the shortest and says so', () => {
    const result = toCommonScale(
      [
        { name: 'I', values: [1, 2, 3], microvoltsPerUnit: 1 },
        { name: 'II', values: [4, 5], microvoltsPerUnit: 1 },
      ],
      500,
    );
    expect(result.samples.length).toBe(4);
    expect(result.warnings.join()).toMatch(/different lengths/);
  });

  it('refuses a lead without a usable scale', () => {
    expect(() => toCommonScale([{ name: 'I', values: [1], microvoltsPerUnit: 0 }], 500)).toThrow(
      CommonScaleError,
    );
    expect(() => toCommonScale([], 500)).toThrow(/at least one lead/);
  });
});
