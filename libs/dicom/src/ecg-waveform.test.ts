import { describe, expect, it } from 'vitest';
import { TWELVE_LEADS } from '#contracts';
import {
  DicomWaveformError,
  decodeEcgWaveform,
  inspectInstance,
  type InspectedInstance,
} from '#dicom';
import { makeInstance, type SyntheticWaveform } from '#dicom/testing';
import { analyzeEcg, synthesizeEcg } from '#ecg';

function inspect(bytes: Uint8Array): InspectedInstance {
  const inspection = inspectInstance(bytes);
  if (!inspection.ok) throw new Error(`${inspection.refusal.code}: ${inspection.refusal.reason}`);
  return inspection.instance;
}

/** Stored values that differ per lead and sample, within 16 bits. */
function storedSamples(leads: number, n: number): Int16Array {
  const samples = new Int16Array(leads * n);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < leads; l++) {
      samples[i * leads + l] = Math.round(3000 * Math.sin((i * (l + 1)) / 40) + 17 * l - 5);
    }
  }
  return samples;
}

describe('decodeEcgWaveform (PS3.3 C.10.9)', () => {
  it('round-trips a 12-lead waveform with per-lead sensitivity, correction and baseline', () => {
    const leads = [...TWELVE_LEADS];
    const n = 2500;
    const waveform: SyntheticWaveform = {
      leads,
      sampleRateHz: 500,
      samples: storedSamples(leads.length, n),
      sensitivity: leads.map((_, l) => 0.5 + 0.25 * l),
      correction: leads.map((_, l) => 1 + l / 100),
      baseline: leads.map((_, l) => (l % 3) * 7 - 5),
    };
    const bytes = makeInstance({ sopClass: 'ECG12', waveform });
    const recording = decodeEcgWaveform(bytes, inspect(bytes));

    expect(recording.leads).toEqual(leads);
    expect(recording.sampleRateHz).toBe(500);
    expect(recording.examKind).toBe('resting-12-lead');
    expect(recording.samples.length).toBe(leads.length * n);
    expect(recording.startedAt).toBe('2026-12-07T10:15:00.000Z');
    expect(recording.channels[3]).toEqual({
      lead: 'aVR',
      microvoltsPerUnit: expect.closeTo(1.25 * 1.03, 9),
      baselineMicrovolts: -5,
    });
    for (let l = 0; l < leads.length; l++) {
      const step = waveform.sensitivity![l]! * waveform.correction![l]!;
      const tolerance = Math.min(step, recording.microvoltsPerLsb);
      for (let i = 0; i < n; i++) {
        const expected = waveform.samples[i * leads.length + l]! * step + waveform.baseline![l]!;
        const decoded = recording.samples[i * leads.length + l]! * recording.microvoltsPerLsb;
        expect(Math.abs(decoded - expected)).toBeLessThanOrEqual(tolerance);
      }
    }
  });

  it('names leads from SCP-ECG codes in any order, and reads millivolt sensitivities', () => {
    const leads = ['V6', 'aVF', 'II', 'I'];
    const bytes = makeInstance({
      sopClass: 'ECG',
      waveform: {
        leads,
        sampleRateHz: 250,
        samples: storedSamples(leads.length, 500),
        codingScheme: 'SCPECG',
        units: 'mV',
        sensitivity: [0.005, 0.005, 0.0025, 0.0025],
      },
    });
    const recording = decodeEcgWaveform(bytes, inspect(bytes));
    expect(recording.leads).toEqual(leads);
    expect(recording.examKind).toBe('rhythm-strip');
    expect(recording.microvoltsPerLsb).toBeCloseTo(2.5, 9);
    // Lead V6 at 5 µV per unit: its stored values come back doubled on the 2.5 µV scale.
    expect(recording.samples[0]).toBe(storedSamples(4, 1)[0]! * 2);
  });

  it('gives the analysis what a box recording gives it', () => {
    const ecg = synthesizeEcg({ durationSeconds: 10, heartRateBpm: 75, seed: 3 });
    const bytes = makeInstance({
      sopClass: 'ECG12',
      waveform: {
        leads: ecg.leads,
        sampleRateHz: ecg.sampleRateHz,
        samples: ecg.samples,
        sensitivity: ecg.leads.map(() => ecg.microvoltsPerLsb),
      },
    });
    const recording = decodeEcgWaveform(bytes, inspect(bytes));
    expect(recording.samples).toEqual(ecg.samples);
    expect(recording.microvoltsPerLsb).toBe(ecg.microvoltsPerLsb);
    const fromDicom = analyzeEcg(recording);
    const fromBox = analyzeEcg(ecg);
    expect(fromDicom.heartRateBpm).toBe(fromBox.heartRateBpm);
    expect(fromDicom.heartRateBpm).toBeGreaterThan(70);
    expect(fromDicom.heartRateBpm).toBeLessThan(80);
  });

  it('refuses an instance that is not an ECG', () => {
    const bytes = makeInstance({ sopClass: 'CT' });
    expect(() => decodeEcgWaveform(bytes, inspect(bytes))).toThrow(DicomWaveformError);
  });
});
