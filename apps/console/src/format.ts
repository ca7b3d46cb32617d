import {
  ageInYears,
  type CasePriority,
  type CaseStatus,
  type CaseSummary,
  type PatientSummary,
} from '#contracts';
import { currentLocale, t } from './i18n/i18n.js';

/**
 * A priority's name in the current language. Getters, not values: the words are looked up
 * each time, so a page drawn after a language switch shows the new language.
 */
export const PRIORITY_LABEL: Readonly<Record<CasePriority, string>> = {
  get stat() {
    return t('format:priority.stat');
  },
  get urgent() {
    return t('format:priority.urgent');
  },
  get routine() {
    return t('format:priority.routine');
  },
};

/** Keyed by string, so a status the relay adds later still shows (as its own words). */
export function statusLabel(status: CaseStatus): string {
  const labels: Record<string, string> = {
    analysing: t('format:status.analysing'),
    awaiting_review: t('format:status.awaitingReview'),
    in_review: t('format:status.inReview'),
    signed: t('format:status.signed'),
    returned: t('format:status.returned'),
  };
  return labels[status] ?? status.replaceAll('_', ' ');
}

export function examLabel(examKind: string): string {
  const labels: Record<string, string> = {
    'resting-12-lead': t('format:exam.resting12Lead'),
    'rhythm-strip': t('format:exam.rhythmStrip'),
  };
  return labels[examKind] ?? examKind;
}

/** What a case is, for its row and title: the ECG exam, or the imaging study's modalities and description. */
export function caseExamLabel(summary: Pick<CaseSummary, 'examKind' | 'study'>): string {
  const study = summary.study;
  if (!study) return examLabel(summary.examKind);
  // i18n-exempt: DICOM is the standard's name, the same in every language
  const modalities = study.modalities.length > 0 ? study.modalities.join('/') : 'DICOM';
  const count = study.instanceCount;
  return study.description
    ? t('format:study.described', { modalities, description: study.description, count })
    : t('format:study.plain', { modalities, count });
}

function sexLabel(sex: string): string {
  const labels: Record<string, string> = {
    female: t('format:sex.female'),
    male: t('format:sex.male'),
    unknown: t('format:sex.unknown'),
  };
  return labels[sex] ?? sex;
}

/**
 * The patient as every page and the printed report show them: name, masked identifier, sex
 * and age at `at` (the exam), e.g. `测试患者一 · 5001**********0017 · 男 · 45 岁`.
 */
export function patientLine(patient: PatientSummary, at: Date): string {
  const age = ageInYears(patient.birthDate, at);
  return [
    patient.name,
    patient.maskedIdentifier,
    sexLabel(patient.sex),
    age === null ? t('format:age.unknown') : t('format:age.years', { count: age }),
  ].join(' · ');
}

/** "2 分钟", "1 小时 05 分钟", "3 天 4 小时": how long ago something happened. */
export function formatAge(fromIso: string, now = Date.now()): string {
  return formatSpan(now - Date.parse(fromIso));
}

/** "2 分钟前": the same span, said as how long ago. */
export function formatAgo(fromIso: string, now = Date.now()): string {
  return t('format:span.ago', { span: formatAge(fromIso, now) });
}

/** "12:04" counting down; "超时 4 分钟" once the due time has passed. */
export function formatTimeLeft(
  dueIso: string,
  now = Date.now(),
): { text: string; overdue: boolean } {
  const left = Date.parse(dueIso) - now;
  if (left < 0)
    return { text: t('format:span.overdue', { span: formatSpan(-left) }), overdue: true };
  const seconds = Math.floor(left / 1000);
  if (seconds < 3600) {
    const mm = Math.floor(seconds / 60);
    const ss = String(seconds % 60).padStart(2, '0');
    return { text: `${mm}:${ss}`, overdue: false };
  }
  return { text: formatSpan(left), overdue: false };
}

function formatSpan(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 1) return t('format:span.underAMinute');
  if (minutes < 60) return t('format:span.minutes', { count: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return t('format:span.hoursMinutes', {
      count: hours,
      minutes: String(minutes % 60).padStart(2, '0'),
    });
  }
  return t('format:span.daysHours', { count: Math.floor(hours / 24), hours: hours % 24 });
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * Unambiguous local date and time for clinical records, in the page's language: the month
 * is written out, never a bare 03/07 (2025年3月7日 14:05, Mar 7, 2025, 14:05).
 */
export function formatDateTime(iso: string): string {
  const locale = currentLocale();
  let format = dateTimeFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, {
      dateStyle: 'medium',
      timeStyle: 'short',
      hourCycle: 'h23',
    });
    dateTimeFormats.set(locale, format);
  }
  return format.format(new Date(iso));
}

/** A number as the page's language writes it (grouping, decimal sign). */
export function formatNumber(value: number, options: Intl.NumberFormatOptions = {}): string {
  return new Intl.NumberFormat(currentLocale(), options).format(value);
}

/**
 * A phrase put into the conclusion where the caret is (replacing a selection), with a space
 * before it when it would otherwise run into the previous (Latin) word; returns the new caret.
 */
export function insertPhrase(
  value: string,
  start: number,
  end: number,
  phrase: string,
): { value: string; caret: number } {
  const before = value.slice(0, start);
  const after = value.slice(end);
  // Chinese runs on without spaces: none after a Chinese character or full-width punctuation.
  const gap =
    before !== '' && !/[\s\u3000-\u303f\u3400-\u9fff\uff00-\uffef]$/.test(before) ? ' ' : '';
  const inserted = `${before}${gap}${phrase}`;
  return { value: `${inserted}${after}`, caret: inserted.length };
}

/** Findings typed as "a, b; c" or one per line → a trimmed list without empty entries. */
export function splitFindings(text: string): string[] {
  return text
    .split(/[,;\n]/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** Short words for a flag's badge; the flag's own text says the rest. Unknown codes still show. */
export function flagLabel(code: string): string {
  const labels: Record<string, string> = {
    STEMI: t('format:flag.stemi'),
    ST_ELEVATION_WIDE_QRS: t('format:flag.stElevationWideQrs'),
    ST_DEPRESSION: t('format:flag.stDepression'),
    NO_QRS: t('format:flag.noQrs'),
    EXTREME_BRADYCARDIA: t('format:flag.extremeBradycardia'),
    EXTREME_TACHYCARDIA: t('format:flag.extremeTachycardia'),
    VENTRICULAR_RUN: t('format:flag.ventricularRun'),
    PAUSE_OVER_3S: t('format:flag.pauseOver3s'),
    PAUSE_OVER_2S: t('format:flag.pauseOver2s'),
    ATRIAL_FIBRILLATION: t('format:flag.atrialFibrillation'),
    TACHYCARDIA: t('format:flag.tachycardia'),
    SINUS_TACHYCARDIA: t('format:flag.sinusTachycardia'),
    SINUS_BRADYCARDIA: t('format:flag.sinusBradycardia'),
    LONG_QTC: t('format:flag.longQtc'),
    FREQUENT_PVCS: t('format:flag.frequentPvcs'),
    PVCS: t('format:flag.pvcs'),
    UNREADABLE: t('format:flag.unreadable'),
    LEAD_OFF: t('format:flag.leadOff'),
    NOISY_LEADS: t('format:flag.noisyLeads'),
    LIMB_LEAD_REVERSAL: t('format:flag.limbLeadReversal'),
    LOW_SAMPLE_RATE: t('format:flag.lowSampleRate'),
  };
  const known = labels[code];
  if (known) return known;
  // A code this console does not know yet: its own words, readable.
  const words = code.toLowerCase().replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
