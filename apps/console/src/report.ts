import type { CaseSummary, Diagnosis, PatientSummary } from '#contracts';
import type { EcgTrace } from './ecg/decode.js';
import { printableEcg } from './ecg/viewer.js';
import { h } from './dom.js';
import { t } from './i18n/i18n.js';
import { PRIORITY_LABEL, caseExamLabel, formatDateTime, patientLine } from './format.js';

/**
 * The printed report: one A4 landscape page with the case, the patient, the ECG at true
 * scale and the signed diagnosis. The patient's identifier is printed masked, as everywhere
 * (docs/patients.md); for an exam that was not registered the clinic writes the name in.
 */
export function buildReport(
  summary: CaseSummary,
  diagnosis: Diagnosis,
  trace: EcgTrace | null,
  patient: PatientSummary | null = null,
): HTMLElement {
  const field = (label: string, value: string, wide = false) => [
    h('dt', {}, label),
    h('dd', { class: wide ? 'wide' : null }, value),
  ];
  return h(
    'article',
    { class: 'report' },
    h(
      'header',
      { class: 'report-head' },
      h('h1', {}, t('report:title', { exam: caseExamLabel(summary) })),
      h(
        'p',
        {},
        t('report:printed', {
          app: t('common:app.name'),
          time: formatDateTime(new Date().toISOString()),
        }),
      ),
    ),
    h(
      'div',
      { class: 'report-summary' },
      h(
        'div',
        { class: 'report-case' },
        h(
          'dl',
          { class: 'report-meta' },
          field(t('report:clinic'), summary.clinicName),
          field(t('report:recorded'), formatDateTime(summary.createdAt)),
          field(t('report:readAt'), diagnosis.hospitalName ?? summary.hospitalId),
          field(t('report:priority'), PRIORITY_LABEL[summary.priority]),
          field(t('report:case'), summary.id, true),
          field(t('report:recording'), summary.recordingId ?? '—', true),
        ),
        patient
          ? h(
              'p',
              { class: 'report-patient', 'data-patient-id': patient.id },
              h('span', {}, t('report:patient')),
              h('strong', {}, patientLine(patient, new Date(summary.createdAt))),
            )
          : h(
              'p',
              { class: 'report-patient' },
              h('span', {}, t('report:patient')),
              h('span', { class: 'write-in' }),
              h('span', {}, t('report:clinicRef')),
              h('span', { class: 'write-in short' }),
            ),
      ),
      h(
        'section',
        { class: 'report-diagnosis' },
        h('h2', {}, t('report:conclusion')),
        h('p', { class: 'report-conclusion' }, diagnosis.conclusion),
        diagnosis.findings.length > 0
          ? [h('h2', {}, t('report:findings')), h('p', {}, diagnosis.findings.join(' · '))]
          : null,
        h(
          'p',
          { class: 'report-signature' },
          t('report:signature', {
            reader: diagnosis.signedByName,
            hospital: diagnosis.hospitalName ?? summary.hospitalId,
            time: formatDateTime(diagnosis.signedAt),
          }),
        ),
      ),
    ),
    trace
      ? h('figure', { class: 'report-figure' }, printableEcg(trace))
      : h('p', { class: 'report-missing' }, t('report:ecgMissing')),
  );
}
