import { describe, expect, it } from 'vitest';
import { analyzeEcg, type EcgRecordingInput } from './analysis.js';
import { rateLimitsFor, RATE_LIMITS, stemiThresholdsFor, type PatientContext } from './flags.js';
import { borderlineAnteriorSt, synthesizeEcg } from './synthetic-ecg.js';

const woman = (ageYears: number | null): PatientContext => ({ sex: 'female', ageYears });
const man = (ageYears: number | null): PatientContext => ({ sex: 'male', ageYears });

describe('ST-elevation thresholds by sex and age (4th UDMI)', () => {
  it('uses 0.15 mV in V2–V3 for women, 0.2 for men from 40, 0.25 for younger men, 0.1 elsewhere', () => {
    expect(stemiThresholdsFor(woman(30))).toEqual({ v2v3: 150, other: 100 });
    expect(stemiThresholdsFor(man(40))).toEqual({ v2v3: 200, other: 100 });
    expect(stemiThresholdsFor(man(39))).toEqual({ v2v3: 250, other: 100 });
  });

  it("keeps today's 0.2 mV when the sex, or a man's age, is unknown", () => {
    expect(stemiThresholdsFor(undefined)).toEqual({ v2v3: 200, other: 100 });
    expect(stemiThresholdsFor({ sex: 'unknown', ageYears: 25 })).toEqual({ v2v3: 200, other: 100 });
    expect(stemiThresholdsFor(man(null))).toEqual({ v2v3: 200, other: 100 });
  });
});

describe('heart-rate limits by age', () => {
  it('gives infants and children their own limits and adults from 12 the adult ones', () => {
    expect(rateLimitsFor(woman(0))).toMatchObject({ brady: 100, extremeTachy: 220 });
    expect(rateLimitsFor(man(4))).toMatchObject({ brady: 75, tachy: 135, extremeBrady: 60 });
    expect(rateLimitsFor(man(11))).toMatchObject({ tachy: 120 });
    expect(rateLimitsFor(man(12))).toBe(RATE_LIMITS);
    expect(rateLimitsFor({ sex: 'unknown', ageYears: null })).toBe(RATE_LIMITS);
    expect(rateLimitsFor(undefined)).toBe(RATE_LIMITS);
  });
});

const codes = (patient?: PatientContext, recording: EcgRecordingInput = borderlineAnteriorSt()) =>
  analyzeEcg(recording, { patient }).flags.map((flag) => flag.code);

describe('the analysis with the patient', () => {
  it('flags ST elevation of 0.15–0.2 mV in V2–V3 as STEMI in a woman only', () => {
    const recording = borderlineAnteriorSt();
    const st = analyzeEcg(recording).measurements.leads.filter((l) => /^V[23]$/.test(l.lead));
    for (const lead of st) {
      const level = Math.min(lead.stJUv!, lead.st60Uv!);
      expect(level, lead.lead).toBeGreaterThanOrEqual(150);
      expect(level, lead.lead).toBeLessThan(200);
    }
    expect(codes(woman(60), recording)).toContain('STEMI');
    expect(codes(man(60), recording)).not.toContain('STEMI');
    expect(codes(man(30), recording)).not.toContain('STEMI');
    expect(codes(undefined, recording)).not.toContain('STEMI');
    expect(analyzeEcg(recording, { patient: woman(60) }).priority).toBe('stat');
  });

  it('calls 72/min bradycardia in an infant and 160/min no emergency in one, unlike in an adult', () => {
    const normal = synthesizeEcg({ durationSeconds: 10, finding: 'normal', seed: 3 });
    expect(codes(man(0), normal)).toContain('SINUS_BRADYCARDIA');
    expect(codes(undefined, normal)).not.toContain('SINUS_BRADYCARDIA');
    const fast = synthesizeEcg({
      durationSeconds: 10,
      finding: 'sinus-tachycardia',
      heartRateBpm: 160,
      seed: 3,
    });
    expect(codes(man(40), fast)).toContain('EXTREME_TACHYCARDIA');
    expect(codes(man(0), fast)).not.toContain('EXTREME_TACHYCARDIA');
    expect(codes({ sex: 'unknown', ageYears: null }, fast)).toContain('EXTREME_TACHYCARDIA');
  });
});
