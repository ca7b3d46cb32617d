import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  caseExamLabel,
  flagLabel,
  formatAge,
  formatAgo,
  formatDateTime,
  formatTimeLeft,
  insertPhrase,
  patientLine,
  PRIORITY_LABEL,
  splitFindings,
  statusLabel,
} from './format.js';
import { DEFAULT_LOCALE, useLocale, type Locale } from './i18n/i18n.js';

/** The page's language for one test: the document is the boundary faked here. */
function inLanguage(locale: Locale): void {
  beforeEach(() => {
    vi.stubGlobal('document', { documentElement: { lang: '' } });
    useLocale(locale);
  });
  afterEach(() => {
    useLocale(DEFAULT_LOCALE);
    vi.unstubAllGlobals();
  });
}

const now = Date.parse('2025-03-07T12:00:00Z');
const patient = {
  id: 'p-1',
  name: '测试患者一',
  sex: 'male' as const,
  birthDate: '1981-06-12',
  maskedIdentifier: '5001**********1237',
  documentType: 'resident_id' as const,
};
const study = {
  studyInstanceUid: '1.2.3',
  description: 'Chest',
  modalities: ['CT', 'CR'],
  seriesCount: 2,
  instanceCount: 121,
};

describe('console formatting in Chinese (the default)', () => {
  it('counts down to the due time as m:ss, then says how long it is overdue', () => {
    expect(formatTimeLeft('2025-03-07T12:04:05Z', now)).toEqual({ text: '4:05', overdue: false });
    expect(formatTimeLeft('2025-03-07T13:30:00Z', now)).toEqual({
      text: '1 小时 30 分钟',
      overdue: false,
    });
    expect(formatTimeLeft('2025-03-07T11:57:00Z', now)).toEqual({
      text: '超时 3 分钟',
      overdue: true,
    });
  });

  it('gives ages in minutes, hours and days, and how long ago', () => {
    expect(formatAge('2025-03-07T11:59:30Z', now)).toBe('不到 1 分钟');
    expect(formatAge('2025-03-07T10:55:00Z', now)).toBe('1 小时 05 分钟');
    expect(formatAge('2025-03-05T09:00:00Z', now)).toBe('2 天 3 小时');
    expect(formatAgo('2025-03-07T11:55:00Z', now)).toBe('5 分钟前');
  });

  it('writes dates with the month spelt out, in 24-hour time', () => {
    const local = new Date(2025, 2, 7, 14, 5).toISOString();
    expect(formatDateTime(local)).toBe('2025年3月7日 14:05');
  });

  it('names statuses, priorities, exams and flags in the glossary’s words', () => {
    expect(statusLabel('awaiting_review')).toBe('待诊断');
    expect(statusLabel('in_review')).toBe('诊断中');
    expect(statusLabel('signed')).toBe('已签发');
    expect([PRIORITY_LABEL.stat, PRIORITY_LABEL.urgent, PRIORITY_LABEL.routine]).toEqual([
      '危急',
      '加急',
      '常规',
    ]);
    expect(caseExamLabel({ examKind: 'resting-12-lead', study: null })).toBe('常规十二导联心电图');
    expect(flagLabel('ATRIAL_FIBRILLATION')).toBe('房颤');
    expect(caseExamLabel({ examKind: 'imaging', study })).toBe('CT/CR · Chest（121 幅图像）');
  });

  it('shows the patient with sex and age in Chinese, never more of the number', () => {
    expect(patientLine(patient, new Date('2026-06-11T12:00:00Z'))).toBe(
      '测试患者一 · 5001**********1237 · 男 · 44 岁',
    );
    expect(patientLine({ ...patient, sex: 'unknown', birthDate: null }, new Date())).toBe(
      '测试患者一 · 5001**********1237 · 性别不详 · 年龄不详',
    );
  });
});

describe('console formatting in English', () => {
  inLanguage('en');

  it('counts down to the due time as m:ss, then says how long it is overdue', () => {
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
    expect(formatAgo('2025-03-07T11:55:00Z', now)).toBe('5 min ago');
  });

  it('writes dates with the month spelt out, in 24-hour time', () => {
    const local = new Date(2025, 2, 7, 14, 5).toISOString();
    expect(formatDateTime(local)).toBe('Mar 7, 2025, 14:05');
  });

  it('names an ECG by its exam and an imaging case by its study, one image or many', () => {
    expect(caseExamLabel({ examKind: 'rhythm-strip', study: null })).toBe('Rhythm strip');
    expect(caseExamLabel({ examKind: 'imaging', study })).toBe('CT/CR · Chest (121 images)');
    expect(
      caseExamLabel({
        examKind: 'imaging',
        study: { ...study, description: null, modalities: [], instanceCount: 1 },
      }),
    ).toBe('DICOM (1 image)');
  });

  it('shows the patient with sex and age in English', () => {
    expect(patientLine(patient, new Date('2026-06-11T12:00:00Z'))).toBe(
      '测试患者一 · 5001**********1237 · male · 44 y',
    );
    expect(patientLine({ ...patient, sex: 'unknown', birthDate: null }, new Date())).toBe(
      '测试患者一 · 5001**********1237 · sex unknown · age unknown',
    );
  });

  it('shortens known flag codes and still shows unknown ones', () => {
    expect(flagLabel('ATRIAL_FIBRILLATION')).toBe('AF');
    expect(flagLabel('SOMETHING_NEW')).toBe('Something new');
  });
});

describe('splitFindings', () => {
  it('splits findings on commas, semicolons and new lines', () => {
    expect(splitFindings(' sinus rhythm, LVH;\n q waves ,, ')).toEqual([
      'sinus rhythm',
      'LVH',
      'q waves',
    ]);
  });
});

describe('insertPhrase', () => {
  it('puts the phrase at the caret, with a space after a word', () => {
    expect(insertPhrase('Sinus rhythm.', 13, 13, 'Normal ECG.')).toEqual({
      value: 'Sinus rhythm. Normal ECG.',
      caret: 25,
    });
  });

  it('runs Chinese on without a space', () => {
    expect(insertPhrase('窦性心律。', 5, 5, '正常心电图。')).toEqual({
      value: '窦性心律。正常心电图。',
      caret: 11,
    });
  });

  it('replaces a selection and needs no space at the start or after whitespace', () => {
    expect(insertPhrase('', 0, 0, 'Normal ECG.')).toEqual({ value: 'Normal ECG.', caret: 11 });
    expect(insertPhrase('A\nB', 2, 3, 'C')).toEqual({ value: 'A\nC', caret: 3 });
  });
});
