import { describe, expect, it } from 'vitest';
import {
  caseExamLabel,
  formatAge,
  formatTimeLeft,
  insertPhrase,
  patientLine,
  splitFindings,
} from './format.js';

describe('console formatting', () => {
  const now = Date.parse('2025-03-07T12:00:00Z');

  it('counts down to the due time as m:ss, then says how long it is overdue', () => {
    expect(formatTimeLeft('2025-03-07T12:04:05Z', now)).toEqual({ text: '4:05', overdue: false });
    expect(formatTimeLeft('2025-03-07T13:30:00Z', now)).toEqual({
      text: '1 h 30 min',
      overdue: false,
    });
    expect(formatTimeLeft('2025-03-07T11:57:00Z', now)).toEqual({
      text: '3 min overdue',
      overdue: true,
    });
  });

  it('gives ages in minutes, hours and days', () => {
    expect(formatAge('2025-03-07T11:59:30Z', now)).toBe('<1 min');
    expect(formatAge('2025-03-07T10:55:00Z', now)).toBe('1 h 05 min');
    expect(formatAge('2025-03-05T09:00:00Z', now)).toBe('2 d 3 h');
  });

  it('splits findings on commas, semicolons and new lines', () => {
    expect(splitFindings(' sinus rhythm, LVH;\n q waves ,, ')).toEqual([
      'sinus rhythm',
      'LVH',
      'q waves',
    ]);
  });
});

describe('patientLine', () => {
  it('shows name, masked identifier, sex and age at the exam, never more of the number', () => {
    const patient = {
      id: 'p-1',
      name: '测试患者一',
      sex: 'male' as const,
      birthDate: '1981-06-12',
      maskedIdentifier: '5001**********1237',
      documentType: 'resident_id' as const,
    };
    expect(patientLine(patient, new Date('2026-06-11T12:00:00Z'))).toBe(
      '测试患者一 · 5001**********1237 · male · 44 y',
    );
    expect(patientLine({ ...patient, sex: 'unknown', birthDate: null }, new Date())).toBe(
      '测试患者一 · 5001**********1237 · sex unknown · age unknown',
    );
  });
});

describe('insertPhrase', () => {
  it('puts the phrase at the caret, with a space after a word', () => {
    expect(insertPhrase('Sinus rhythm.', 13, 13, 'Normal ECG.')).toEqual({
      value: 'Sinus rhythm. Normal ECG.',
      caret: 25,
    });
  });

  it('replaces a selection and needs no space at the start or after whitespace', () => {
    expect(insertPhrase('', 0, 0, 'Normal ECG.')).toEqual({ value: 'Normal ECG.', caret: 11 });
    expect(insertPhrase('A\nB', 2, 3, 'C')).toEqual({ value: 'A\nC', caret: 3 });
  });
});

describe('case exam label', () => {
  it('names an ECG by its exam and an imaging case by its study', () => {
    expect(caseExamLabel({ examKind: 'rhythm-strip', study: null })).toBe('Rhythm strip');
    const study = {
      studyInstanceUid: '1.2.3',
      description: 'Chest',
      modalities: ['CT', 'CR'],
      seriesCount: 2,
      instanceCount: 121,
    };
    expect(caseExamLabel({ examKind: 'imaging', study })).toBe('CT/CR · Chest (121 images)');
    expect(
      caseExamLabel({
        examKind: 'imaging',
        study: { ...study, description: null, modalities: [], instanceCount: 1 },
      }),
    ).toBe('DICOM (1 image)');
  });
});
