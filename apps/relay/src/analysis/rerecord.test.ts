import { describe, expect, it } from 'vitest';
import { analyzeEcg, synthesizeEcg } from '#ecg';
import { rerecordReason } from './ecg-analysis.service.js';

describe('rerecordReason', () => {
  it('sends a recording with an electrode off back to the clinic, naming the lead', () => {
    const analysis = analyzeEcg(
      synthesizeEcg({ durationSeconds: 10, finding: 'lead-off', seed: 4 }),
    );
    expect(rerecordReason(analysis)).toMatch(/V3 off/);
  });

  it('lets a clean recording through, even a critical one', () => {
    for (const finding of ['normal', 'anterior-stemi'] as const) {
      const analysis = analyzeEcg(synthesizeEcg({ durationSeconds: 10, finding, seed: 4 }));
      expect(rerecordReason(analysis)).toBeNull();
    }
  });
});
