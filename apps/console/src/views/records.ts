import type {
  AccessGrant,
  ConsentCodeNotice,
  ConsentTicket,
  PatientSummary,
  PriorExam,
} from '#contracts';
import { ApiFailure, describeError } from '../api.js';
import { decodeEcg } from '../ecg/decode.js';
import { serialComparison, type SerialRow } from '../ecg/serial.js';
import { EcgViewer } from '../ecg/viewer.js';
import { h, replaceContent } from '../dom.js';
import { examLabel, formatDateTime, statusLabel } from '../format.js';
import { t } from '../i18n/i18n.js';
import { MEASUREMENTS, formatMeasurement } from '../measurements.js';
import { accessLogLink } from './access-log.js';
import type { ConsoleContext, View } from './context.js';
import { addRevokeButtons } from './grant-revoke.js';

export const REQUEST_RECORD_HREF = '#/records/request';

export function recordHref(patientId: string, currentCaseId?: string): string {
  const base = `#/records/${encodeURIComponent(patientId)}`;
  return currentCaseId ? `${base}/${encodeURIComponent(currentCaseId)}` : base;
}

export function grantsHref(patientId: string): string {
  return `#/patients/${encodeURIComponent(patientId)}/grants`;
}

/**
 * A doctor asks for a patient's earlier record by the patient's document number and the
 * purpose; the patient reads out the code the relay sent them; the right code opens the
 * record for a limited time (docs/consent.md).
 */
export function requestRecordView(ctx: ConsoleContext): View {
  const status = h('p', { class: 'form-status', role: 'status' });
  const documentType = h(
    'select',
    { id: 'record-document-type', name: 'documentType' },
    h('option', { value: 'resident_id' }, t('records:request.documentOption.resident_id')),
    h('option', { value: 'passport' }, t('records:request.documentOption.passport')),
    h('option', { value: 'other' }, t('records:request.documentOption.other')),
  );
  const number = h('input', {
    id: 'record-number',
    name: 'number',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 32,
  });
  const purpose = h('textarea', {
    id: 'record-purpose',
    name: 'purpose',
    required: true,
    rows: 2,
    maxlength: 300,
    placeholder: t('records:request.purposePlaceholder'),
  });
  const requestButton = h('button', { type: 'submit', class: 'button' }, t('records:request.send'));
  const codeSection = h('section', {
    class: 'panel',
    hidden: true,
    'aria-labelledby': 'code-title',
  });
  const requestForm = h(
    'form',
    { class: 'panel record-request', onsubmit: (event: Event) => void ask(event) },
    h('h2', {}, t('records:request.form')),
    h('label', { for: 'record-document-type' }, t('records:request.document')),
    documentType,
    h('label', { for: 'record-number' }, t('records:request.number')),
    number,
    h('label', { for: 'record-purpose' }, t('records:request.purpose')),
    purpose,
    requestButton,
  );

  async function ask(event: Event): Promise<void> {
    event.preventDefault();
    requestButton.disabled = true;
    status.textContent = t('records:request.sending');
    try {
      const ticket = await ctx.api.requestConsent({
        documentType: documentType.value as 'resident_id' | 'passport' | 'other',
        idNumber: number.value,
        purpose: purpose.value,
      });
      // The number is not kept on the page once it has been sent.
      number.value = '';
      status.textContent = '';
      showCodeForm(ticket);
    } catch (failure) {
      status.textContent = describeError(failure);
    } finally {
      requestButton.disabled = false;
    }
  }

  function showCodeForm(ticket: ConsentTicket): void {
    const code = h('input', {
      id: 'record-code',
      name: 'code',
      inputmode: 'numeric',
      pattern: '[0-9]{6}',
      maxlength: 6,
      required: true,
      autocomplete: 'one-time-code',
    });
    const verifyButton = h(
      'button',
      { type: 'submit', class: 'button' },
      t('records:request.open'),
    );
    const codeStatus = h('p', { class: 'form-status', role: 'status' });
    let left = ticket.attemptsAllowed;
    replaceContent(
      codeSection,
      h('h2', { id: 'code-title' }, t('records:request.codeTitle')),
      h(
        'p',
        { class: 'hint' },
        t('records:request.codeHint', {
          until: formatDateTime(ticket.expiresAt),
          count: ticket.attemptsAllowed,
        }),
      ),
      h(
        'form',
        {
          class: 'record-code',
          onsubmit: (event: Event) => {
            event.preventDefault();
            void verify();
          },
        },
        h('label', { for: 'record-code' }, t('records:request.code')),
        code,
        verifyButton,
        codeStatus,
      ),
    );
    codeSection.hidden = false;
    code.focus();

    async function verify(): Promise<void> {
      verifyButton.disabled = true;
      try {
        const grant = await ctx.api.verifyConsent(ticket.requestId, code.value);
        ctx.announce(t('records:request.granted'));
        window.location.hash = recordHref(grant.patientId);
      } catch (failure) {
        left -= 1;
        codeStatus.textContent =
          failure instanceof ApiFailure && failure.status === 403
            ? `${describeError(failure)} ${left > 0 ? t('records:request.triesLeft', { count: left }) : t('records:request.askNewCode')}`
            : describeError(failure);
        verifyButton.disabled = left <= 0;
      }
    }
  }

  const element = h(
    'section',
    { class: 'view records-view', 'aria-labelledby': 'records-title' },
    h(
      'div',
      { class: 'view-head' },
      h('a', { class: 'back', href: '#/' }, t('records:back')),
      h('h1', { id: 'records-title', tabindex: -1 }, t('records:request.title')),
    ),
    h('p', { class: 'hint' }, t('records:request.intro')),
    requestForm,
    status,
    codeSection,
  );
  return { element, dispose() {} };
}

/**
 * The patient's exams across the region, with the serial comparison: the chosen earlier
 * ECG on paper beside the current one (the case being read, else the newest), both with
 * their measurements and what changed.
 */
export function patientRecordView(
  ctx: ConsoleContext,
  patientId: string,
  currentCaseId?: string,
): View {
  const viewers: EcgViewer[] = [];
  let disposed = false;
  const body = h('div', { class: 'record-body' }, h('p', { role: 'status' }, t('records:loading')));
  const title = h('h1', { id: 'record-title', tabindex: -1 }, t('records:record.title'));
  const element = h(
    'section',
    { class: 'view records-view', 'aria-labelledby': 'record-title' },
    h(
      'div',
      { class: 'view-head' },
      h(
        'a',
        {
          class: 'back',
          href: currentCaseId ? `#/case/${encodeURIComponent(currentCaseId)}` : '#/',
        },
        t('records:back'),
      ),
      title,
    ),
    body,
  );

  async function load(): Promise<void> {
    try {
      const history = await ctx.api.patientHistory(patientId);
      if (disposed) return;
      const ecgs = history.exams.filter((exam) => exam.hasEcg);
      const current = ecgs.find((exam) => exam.caseId === currentCaseId) ?? ecgs[0];
      const priors = ecgs.filter((exam) => exam !== current);
      replaceContent(
        body,
        h(
          'p',
          { class: 'hint', 'data-access': history.access },
          history.access === 'grant'
            ? t('records:record.accessGrant', {
                until: formatDateTime(history.grantExpiresAt ?? ''),
              })
            : t('records:record.accessCase'),
        ),
        examList(history.exams),
        current && priors[0] ? comparison(current, priors) : null,
      );
    } catch (failure) {
      if (disposed) return;
      replaceContent(
        body,
        h(
          'p',
          { class: 'alert', role: 'alert' },
          failure instanceof ApiFailure && failure.status === 404
            ? t('records:record.none')
            : describeError(failure),
        ),
        h('a', { class: 'button', href: REQUEST_RECORD_HREF }, t('records:request.title')),
      );
    }
  }

  function comparison(current: PriorExam, priors: PriorExam[]): HTMLElement {
    const section = h('section', { class: 'serial', 'aria-labelledby': 'serial-title' });
    const picker = h(
      'select',
      { id: 'serial-prior', 'aria-label': t('records:record.earlierToCompare') },
      priors.map((exam) =>
        h(
          'option',
          { value: exam.caseId },
          `${formatDateTime(exam.recordedAt)} · ${exam.clinicName}`,
        ),
      ),
    );
    const pair = h('div', { class: 'serial-pair' });
    const table = h('div', { class: 'serial-table' });
    const show = () => {
      const prior = priors.find((exam) => exam.caseId === picker.value) ?? priors[0]!;
      for (const viewer of viewers.splice(0)) viewer.dispose();
      replaceContent(pair, ecgPanel('earlier', prior), ecgPanel('current', current));
      replaceContent(table, serialTable(serialComparison(prior, current)));
    };
    picker.addEventListener('change', show);
    replaceContent(
      section,
      h('h2', { id: 'serial-title' }, t('records:record.serialTitle')),
      h('label', { for: 'serial-prior' }, t('records:record.earlierToCompare')),
      ' ',
      picker,
      pair,
      table,
    );
    show();
    return section;
  }

  function ecgPanel(which: 'earlier' | 'current', exam: PriorExam): HTMLElement {
    const viewer = new EcgViewer();
    viewers.push(viewer);
    void ctx.api.priorEcg(patientId, exam.caseId).then(
      (ecg) => !disposed && viewer.show(decodeEcg(ecg)),
      (failure: unknown) => !disposed && viewer.showMessage(describeError(failure)),
    );
    const m = exam.analysis?.measurements ?? {};
    return h(
      'div',
      { class: 'serial-ecg', 'data-serial': which, 'data-case-id': exam.caseId },
      h(
        'h3',
        {},
        t(which === 'earlier' ? 'records:record.earlierHeading' : 'records:record.currentHeading', {
          at: formatDateTime(exam.recordedAt),
          clinic: exam.clinicName,
        }),
      ),
      viewer.element,
      h(
        'dl',
        { class: 'measurement-values' },
        MEASUREMENTS.map(({ key, label, unit }) => {
          const value = formatMeasurement(m[key]);
          return h('div', {}, h('dt', {}, label), h('dd', {}, value ? `${value} ${unit}` : '—'));
        }),
      ),
      exam.diagnosis ? h('p', { class: 'serial-diagnosis' }, exam.diagnosis.conclusion) : null,
    );
  }

  void load();
  return {
    element,
    dispose() {
      disposed = true;
      for (const viewer of viewers) viewer.dispose();
    },
  };
}

function examList(exams: PriorExam[]): HTMLElement {
  if (exams.length === 0) return h('p', { class: 'muted' }, t('records:exams.none'));
  return h(
    'table',
    { class: 'prior-exams' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, t('records:exams.columns.date')),
        h('th', {}, t('records:exams.columns.exam')),
        h('th', {}, t('records:exams.columns.where')),
        h('th', {}, t('records:exams.columns.status')),
        h('th', {}, t('records:exams.columns.diagnosis')),
      ),
    ),
    h(
      'tbody',
      {},
      exams.map((exam) =>
        h(
          'tr',
          { 'data-case-id': exam.caseId },
          h('td', {}, formatDateTime(exam.recordedAt)),
          h(
            'td',
            {},
            exam.study
              ? `${exam.study.modalities.join('/') || t('records:exams.imaging')} · ${exam.study.description ?? ''}`
              : examLabel(exam.examKind),
          ),
          h('td', {}, `${exam.clinicName} → ${exam.hospitalName}`),
          h('td', {}, statusLabel(exam.status)),
          h('td', {}, exam.diagnosis ? diagnosisLine(exam.diagnosis) : '—'),
        ),
      ),
    ),
  );
}

/** A signed diagnosis in the exam list: the conclusion, who signed it and where. */
function diagnosisLine(diagnosis: NonNullable<PriorExam['diagnosis']>): string {
  return diagnosis.hospitalName
    ? t('records:exams.diagnosisByAt', {
        conclusion: diagnosis.conclusion,
        doctor: diagnosis.signedByName,
        hospital: diagnosis.hospitalName,
      })
    : t('records:exams.diagnosisBy', {
        conclusion: diagnosis.conclusion,
        doctor: diagnosis.signedByName,
      });
}

/** `+3`, `-2`, `0`: a rounded change with its sign (never `-0`). */
function signed(value: number): string {
  return value > 0 ? `+${value}` : value < 0 ? String(value) : '0';
}

function serialTable(rows: SerialRow[]): HTMLElement {
  const show = (value: number | null, unit: string) =>
    value === null ? '—' : `${Math.round(value)} ${unit}`;
  return h(
    'table',
    { class: 'serial-measures', 'aria-label': t('records:record.measures') },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}),
        h('th', {}, t('records:record.measureColumns.earlier')),
        h('th', {}, t('records:record.measureColumns.current')),
        h('th', {}, t('records:record.measureColumns.change')),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          { class: row.notable ? 'notable' : '' },
          h('th', { scope: 'row' }, row.label),
          h('td', {}, show(row.prior, row.unit)),
          h('td', {}, show(row.current, row.unit)),
          h('td', {}, row.change === null ? '—' : `${signed(Math.round(row.change))} ${row.unit}`),
        ),
      ),
    ),
  );
}

/**
 * The panel on a case: the patient's earlier exams where the reader may see them (their
 * hospital reads this case), with a link to the serial comparison; otherwise the way to ask
 * for them. Asked for once the case's detail says whom it is about (`show`): a case without a
 * registered patient has no history to ask for, and clinic staff see other facilities' exams
 * only through a consent code, so for them the panel offers that instead of a request that
 * would be refused.
 */
export function priorExamsPanel(
  ctx: ConsoleContext,
  currentCaseId: string,
): { element: HTMLElement; show(patient: PatientSummary | null): void; dispose(): void } {
  const element = h(
    'section',
    { class: 'panel prior-exams-panel', 'aria-labelledby': 'prior-title' },
    h('h2', { id: 'prior-title' }, t('records:prior.title')),
    h('p', { role: 'status' }, t('records:loading')),
  );
  let disposed = false;
  let shown = false;
  const offerRequest = (reason: string) =>
    replaceContent(
      element,
      h('h2', { id: 'prior-title' }, t('records:prior.title')),
      h('p', { class: 'muted' }, reason),
      h('a', { class: 'button ghost', href: REQUEST_RECORD_HREF }, t('records:request.title')),
    );
  const load = () =>
    ctx.api.caseHistory(currentCaseId).then(
      (history) => {
        if (disposed) return;
        const earlier = history.exams.filter((exam) => exam.caseId !== currentCaseId);
        replaceContent(
          element,
          h('h2', { id: 'prior-title' }, t('records:prior.title')),
          earlier.length === 0
            ? h('p', { class: 'muted' }, t('records:prior.noneInRegion'))
            : examList(earlier),
          earlier.some((exam) => exam.hasEcg)
            ? h(
                'a',
                { class: 'button', href: recordHref(history.patientId, currentCaseId) },
                t('records:prior.compare'),
              )
            : null,
        );
      },
      (failure: unknown) => {
        if (disposed) return;
        offerRequest(
          failure instanceof ApiFailure && failure.status === 404
            ? t('records:prior.noneWithoutConsent')
            : describeError(failure),
        );
      },
    );
  return {
    element,
    show(patient) {
      if (shown || disposed) return;
      shown = true;
      if (patient === null) {
        replaceContent(
          element,
          h('h2', { id: 'prior-title' }, t('records:prior.title')),
          h('p', { class: 'muted' }, t('records:prior.noPatient')),
        );
      } else if (ctx.user.role !== 'reader') {
        offerRequest(t('records:prior.consentNeeded'));
      } else {
        void load();
      }
    },
    dispose() {
      disposed = true;
    },
  };
}

/** Clinic staff: who was given access to the patient's record, to show the patient. */
export function patientGrantsView(ctx: ConsoleContext, patientId: string): View {
  const body = h('div', {}, h('p', { role: 'status' }, t('records:loading')));
  const element = h(
    'section',
    { class: 'view grants-view', 'aria-labelledby': 'grants-title' },
    h(
      'div',
      { class: 'view-head' },
      h('a', { class: 'back', href: '#/' }, t('records:backToCases')),
      h('h1', { id: 'grants-title', tabindex: -1 }, t('records:grants.title')),
    ),
    accessLogLink(patientId),
    body,
  );
  let disposed = false;
  const load = () =>
    ctx.api.patientGrants(patientId).then(
      (grants) =>
        !disposed &&
        replaceContent(
          body,
          addRevokeButtons(ctx, grantsTable(grants), patientId, grants, () => void load()),
        ),
      (failure: unknown) =>
        !disposed &&
        replaceContent(body, h('p', { class: 'alert', role: 'alert' }, describeError(failure))),
    );
  void load();
  return {
    element,
    dispose() {
      disposed = true;
    },
  };
}

function grantsTable(grants: AccessGrant[]): HTMLElement {
  if (grants.length === 0) return h('p', { class: 'muted' }, t('records:grants.nobody'));
  return h(
    'table',
    { class: 'grants' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, t('records:grants.columns.who')),
        h('th', {}, t('records:grants.columns.facility')),
        h('th', {}, t('records:grants.columns.purpose')),
        h('th', {}, t('records:grants.columns.when')),
        h('th', {}, t('records:grants.columns.until')),
      ),
    ),
    h(
      'tbody',
      {},
      grants.map((grant) =>
        h(
          'tr',
          { 'data-grant-id': grant.id },
          h('td', {}, grant.granteeName),
          h('td', {}, grant.facilityName),
          h('td', {}, grant.purpose),
          h('td', {}, formatDateTime(grant.grantedAt)),
          h(
            'td',
            {},
            grant.revokedAt
              ? t('records:grants.revoked', { at: formatDateTime(grant.revokedAt) })
              : formatDateTime(grant.expiresAt),
          ),
        ),
      ),
    ),
  );
}

/**
 * Demo notifier: a code for one of this clinic's patients, shown for the patient to read
 * out to the doctor who asked. It stays until the code expires or staff dismiss it.
 */
export function consentCodeNotice(notice: ConsentCodeNotice, onClose: () => void): HTMLElement {
  const element = h(
    'aside',
    { class: 'consent-code', role: 'alert', 'data-code': notice.code },
    h(
      'h2',
      {},
      t('records:notice.title', { name: notice.patientName, id: notice.maskedIdentifier }),
    ),
    h('p', { class: 'code' }, notice.code),
    h(
      'p',
      {},
      t('records:notice.body', {
        requester: notice.requestedByName,
        facility: notice.facilityName,
        purpose: notice.purpose,
        until: formatDateTime(notice.expiresAt),
      }),
    ),
    h('a', { href: grantsHref(notice.patientId) }, t('records:notice.whoHasAccess')),
    ' ',
    h(
      'button',
      { type: 'button', class: 'button ghost', onclick: onClose },
      t('records:notice.dismiss'),
    ),
  );
  return element;
}
