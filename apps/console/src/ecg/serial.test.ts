import { describe, expect, it } from 'vitest';
import type { PriorExam } from '#contracts';
import { serialComparison } from './serial.js';

function exam(
  measurements: { heartRateBpm: number | null; qrsMs: number | null; qtcMs: number | null },
  st: { lead: string; st60Uv: number | null }[],
): PriorExam {
  return {
    caseId: 'c',
    kind: 'ecg',
    examKind: 'resting-12-lead',
    status: 'signed',
    clinicId: 'clinic-1',
    clinicName: 'Clinic 1',
    hospitalName: 'County 1',
    recordedAt: '2026-12-01T08:00:00.000Z',
    hasEcg: true,
    analysis: {
      algorithmVersion: 'test',
      heartRateBpm: measurements.heartRateBpm,
      measurements,
      flags: [],
      priority: 'routine',
      readable: true,
      qualityNotes: [],
    },
    st: st.map((s) => ({ ...s, stJUv: null })),
    study: null,
    diagnosis: null,
  };
}

describe('serial comparison', () => {
  it('sets rate, QRS, QTc and the ST of shared leads side by side and marks what moved', () => {
    const prior = exam({ heartRateBpm: 72, qrsMs: 90, qtcMs: 410 }, [
      { lead: 'II', st60Uv: 10 },
      { lead: 'V2', st60Uv: 20 },
    ]);
    const current = exam({ heartRateBpm: 75, qrsMs: 128, qtcMs: 415 }, [
      { lead: 'V2', st60Uv: 180 },
      { lead: 'V5', st60Uv: 0 },
    ]);
    expect(serialComparison(prior, current)).toEqual([
      { label: 'Heart rate', unit: '/min', prior: 72, current: 75, change: 3, notable: false },
      { label: 'QRS', unit: 'ms', prior: 90, current: 128, change: 38, notable: true },
      { label: 'QTc', unit: 'ms', prior: 410, current: 415, change: 5, notable: false },
      { label: 'ST V2 (J+60)', unit: 'µV', prior: 20, current: 180, change: 160, notable: true },
    ]);
  });

  it('leaves the change empty where either recording could not measure', () => {
    const prior = exam({ heartRateBpm: null, qrsMs: 90, qtcMs: 400 }, []);
    const current = exam({ heartRateBpm: 80, qrsMs: null, qtcMs: 400 }, []);
    const rows = serialComparison(prior, current);
    expect(rows.map((r) => r.change)).toEqual([null, null, 0]);
    expect(rows.some((r) => r.notable)).toBe(false);
  });
});
