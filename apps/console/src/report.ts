import type { CaseSummary, Diagnosis, PatientSummary } from '#contracts';
import type { EcgTrace } from './ecg/decode.js';
import { printableEcg } from './ecg/viewer.js';
import { h } from './dom.js';
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
      h('h1', {}, `${caseExamLabel(summary)} — report`),
      h('p', {}, `Telerelay · printed ${formatDateTime(new Date().toISOString())}`),
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
          field('Clinic', summary.clinicName),
          field('Recorded', formatDateTime(summary.createdAt)),
          field('Read at', summary.hospitalId),
          field('Priority', PRIORITY_LABEL[summary.priority]),
          field('Case', summary.id, true),
          field('Recording', summary.recordingId ?? '—', true),
        ),
        patient
          ? h(
              'p',
              { class: 'report-patient', 'data-patient-id': patient.id },
              h('span', {}, 'Patient:'),
              h('strong', {}, patientLine(patient, new Date(summary.createdAt))),
            )
          : h(
              'p',
              { class: 'report-patient' },
              h('span', {}, 'Patient:'),
              h('span', { class: 'write-in' }),
              h('span', {}, 'Clinic ref.:'),
              h('span', { class: 'write-in short' }),
            ),
      ),
      h(
        'section',
        { class: 'report-diagnosis' },
        h('h2', {}, 'Conclusion'),
        h('p', { class: 'report-conclusion' }, diagnosis.conclusion),
        diagnosis.findings.length > 0
          ? [h('h2', {}, 'Findings'), h('p', {}, diagnosis.findings.join(' · '))]
          : null,
        h(
          'p',
          { class: 'report-signature' },
          `Signed by ${diagnosis.signedByName} (${diagnosis.hospitalName ?? summary.hospitalId}) on ${formatDateTime(diagnosis.signedAt)}`,
        ),
      ),
    ),
    trace
      ? h('figure', { class: 'report-figure' }, printableEcg(trace))
      : h('p', { class: 'report-missing' }, 'The ECG tracing could not be loaded for printing.'),
  );
}
