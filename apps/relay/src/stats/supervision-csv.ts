import { stringify } from 'csv-stringify/sync';
import type { SupervisionReport } from '#contracts';

/**
 * A period's report as CSV, one row per facility and one for the region. Facility names
 * come from administrators, so a cell that a spreadsheet would run as a formula (=, +, -,
 * @, tab, CR first) is written with a leading apostrophe (OWASP "CSV injection"); numbers
 * are left as numbers. A byte order mark lets spreadsheets read the Chinese names as UTF-8.
 */
export function supervisionCsv(report: SupervisionReport): string {
  const kinds = [
    ...new Set(report.facilities.flatMap((f) => Object.keys(f.figures.examsByKind))),
  ].sort();
  const header = [
    'from',
    'to',
    'facility_id',
    'facility_kind',
    'facility_name',
    'parent_id',
    'exams',
    ...kinds.map((kind) => `exams_${kind}`),
    'signed',
    'received',
    'turnaround_p50_s',
    'turnaround_p90_s',
    'breaches',
    'escalated',
    'overflowed',
    'returned',
    'repeat_exam_warnings',
    'repeat_exams_went_ahead',
  ];
  const rows = [
    ...report.facilities.map((f) => ({ ...f, parentId: f.parentId ?? '' })),
    { id: 'region', kind: 'region', name: '', parentId: '', figures: report.region },
  ].map(({ id, kind, name, parentId, figures }) => [
    report.from,
    report.to,
    id,
    kind,
    name,
    parentId,
    figures.exams,
    ...kinds.map((k) => figures.examsByKind[k] ?? 0),
    figures.signed,
    figures.received,
    figures.turnaroundSeconds.p50 ?? '',
    figures.turnaroundSeconds.p90 ?? '',
    figures.breaches,
    figures.escalated,
    figures.overflowed,
    figures.returned,
    figures.repeatExamWarnings,
    figures.repeatExamsWentAhead,
  ]);
  return stringify([header, ...rows], {
    bom: true,
    escape_formulas: true,
    record_delimiter: 'windows',
  });
}
