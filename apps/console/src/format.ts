import {
  ageInYears,
  type CasePriority,
  type CaseStatus,
  type CaseSummary,
  type PatientSummary,
} from '#contracts';

export const PRIORITY_LABEL: Record<CasePriority, string> = {
  stat: 'STAT',
  urgent: 'Urgent',
  routine: 'Routine',
};

/** Keyed by string, so a status the relay adds later still shows (as its own words). */
const STATUS_LABEL: Record<string, string> = {
  analysing: 'Analysing',
  awaiting_review: 'Awaiting review',
  in_review: 'In review',
  signed: 'Signed',
  returned: 'Returned',
};

export function statusLabel(status: CaseStatus): string {
  return STATUS_LABEL[status] ?? status.replaceAll('_', ' ');
}

const EXAM_LABEL: Record<string, string> = {
  'resting-12-lead': 'Resting 12-lead ECG',
  'rhythm-strip': 'Rhythm strip',
};

export function examLabel(examKind: string): string {
  return EXAM_LABEL[examKind] ?? examKind;
}

/** What a case is, for its row and title: the ECG exam, or the imaging study's modalities and description. */
export function caseExamLabel(summary: Pick<CaseSummary, 'examKind' | 'study'>): string {
  const study = summary.study;
  if (!study) return examLabel(summary.examKind);
  const modalities = study.modalities.length > 0 ? study.modalities.join('/') : 'DICOM';
  const images = `${study.instanceCount} ${study.instanceCount === 1 ? 'image' : 'images'}`;
  return `${modalities} ${study.description ? `· ${study.description} ` : ''}(${images})`;
}

const SEX_LABEL: Record<string, string> = {
  female: 'female',
  male: 'male',
  unknown: 'sex unknown',
};

/**
 * The patient as every page and the printed report show them: name, masked identifier, sex
 * and age at `at` (the exam), e.g. `测试患者一 · 5001**********0017 · male · 45 y`.
 */
export function patientLine(patient: PatientSummary, at: Date): string {
  const age = ageInYears(patient.birthDate, at);
  return [
    patient.name,
    patient.maskedIdentifier,
    SEX_LABEL[patient.sex] ?? patient.sex,
    age === null ? 'age unknown' : `${age} y`,
  ].join(' · ');
}

/** "2 min", "1 h 05 min", "3 d 4 h": how long ago something happened. */
export function formatAge(fromIso: string, now = Date.now()): string {
  return formatSpan(now - Date.parse(fromIso));
}

/** "12:04 left" counting down; "4 min overdue" once the due time has passed. */
export function formatTimeLeft(
  dueIso: string,
  now = Date.now(),
): { text: string; overdue: boolean } {
  const left = Date.parse(dueIso) - now;
  if (left < 0) return { text: `${formatSpan(-left)} overdue`, overdue: true };
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
  if (minutes < 1) return '<1 min';
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Unambiguous local date and time for clinical records: 2025-03-07 14:05. */
export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/**
 * A phrase put into the conclusion where the caret is (replacing a selection), with a space
 * before it when it would otherwise run into the previous word; returns the new caret.
 */
export function insertPhrase(
  value: string,
  start: number,
  end: number,
  phrase: string,
): { value: string; caret: number } {
  const before = value.slice(0, start);
  const after = value.slice(end);
  const gap = before !== '' && !/\s$/.test(before) ? ' ' : '';
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
const FLAG_LABEL: Record<string, string> = {
  STEMI: 'STEMI',
  ST_ELEVATION_WIDE_QRS: 'ST↑ wide QRS',
  ST_DEPRESSION: 'ST↓',
  NO_QRS: 'No QRS',
  EXTREME_BRADYCARDIA: 'Rate < 40',
  EXTREME_TACHYCARDIA: 'Rate > 150',
  VENTRICULAR_RUN: 'VT run',
  PAUSE_OVER_3S: 'Pause > 3 s',
  PAUSE_OVER_2S: 'Pause > 2 s',
  ATRIAL_FIBRILLATION: 'AF',
  TACHYCARDIA: 'Tachycardia',
  SINUS_TACHYCARDIA: 'Sinus tachy',
  SINUS_BRADYCARDIA: 'Sinus brady',
  LONG_QTC: 'Long QTc',
  FREQUENT_PVCS: 'Frequent PVCs',
  PVCS: 'PVCs',
  UNREADABLE: 'Unreadable',
  LEAD_OFF: 'Lead off',
  NOISY_LEADS: 'Noisy',
  LIMB_LEAD_REVERSAL: 'Arm leads reversed?',
  LOW_SAMPLE_RATE: 'Low sample rate',
};

export function flagLabel(code: string): string {
  const known = FLAG_LABEL[code];
  if (known) return known;
  const words = code.toLowerCase().replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
