import type { PatientAccessEntry, PatientAccessPage } from '#contracts';
import { describeError } from '../api.js';
import { h, replaceContent } from '../dom.js';
import { formatDateTime } from '../format.js';
import { t } from '../i18n/i18n.js';
import type { ConsoleContext, View } from './context.js';

/** Rows per page: a screenful the clinic can read out to the patient. */
export const ACCESS_LOG_PAGE_SIZE = 20;

export function accessLogHref(patientId: string): string {
  return `#/patients/${encodeURIComponent(patientId)}/access-log`;
}

/** The link on the patient's pages (grants, record) to "who looked at my record". */
export function accessLogLink(patientId: string): HTMLElement {
  return h(
    'a',
    { class: 'access-log-link', href: accessLogHref(patientId), 'data-testid': 'access-log-link' },
    t('accessLog:link'),
  );
}

/**
 * "Who looked at my record" (issue 13, 6): the clinic that registered the patient shows them
 * every audited look at and change to their data, newest first, a page at a time: when, who
 * (name, role, facility), what and why. Reading it is itself written down, so the patient
 * sees that too.
 */
export function accessLogView(ctx: ConsoleContext, patientId: string): View {
  const body = h(
    'div',
    { class: 'access-log-body' },
    h('p', { role: 'status' }, t('accessLog:loading')),
  );
  const element = h(
    'section',
    { class: 'view access-log-view', 'aria-labelledby': 'access-log-title' },
    h(
      'div',
      { class: 'view-head' },
      h(
        'a',
        { class: 'back', href: `#/patients/${encodeURIComponent(patientId)}/grants` },
        t('accessLog:backToGrants'),
      ),
      h('h1', { id: 'access-log-title', tabindex: -1 }, t('accessLog:title')),
    ),
    h('p', { class: 'muted' }, t('accessLog:intro')),
    body,
  );
  let disposed = false;
  /** `before` of each page shown so far: the first page has none. */
  const cursors: (number | undefined)[] = [undefined];

  const show = (page: PatientAccessPage) => {
    const number = cursors.length;
    const newer = h(
      'button',
      {
        type: 'button',
        class: 'button secondary',
        'data-testid': 'access-log-newer',
        disabled: number === 1,
        onclick: () => {
          cursors.pop();
          load();
        },
      },
      t('accessLog:newer'),
    );
    const older = h(
      'button',
      {
        type: 'button',
        class: 'button secondary',
        'data-testid': 'access-log-older',
        disabled: page.nextBefore === null,
        onclick: () => {
          if (page.nextBefore === null) return;
          cursors.push(page.nextBefore);
          load();
        },
      },
      t('accessLog:older'),
    );
    replaceContent(
      body,
      page.entries.length === 0
        ? h('p', { class: 'muted' }, t('accessLog:empty'))
        : entriesTable(page.entries),
      h(
        'nav',
        { class: 'access-log-pages', 'aria-label': t('accessLog:pagesLabel') },
        newer,
        h(
          'span',
          { 'data-testid': 'access-log-page', 'data-page': number },
          t('accessLog:page', { page: number }),
        ),
        older,
      ),
    );
  };

  const load = () => {
    const before = cursors.at(-1);
    ctx.api.patientAccessLog(patientId, ACCESS_LOG_PAGE_SIZE, before).then(
      (page) => {
        if (!disposed) show(page);
      },
      (failure: unknown) => {
        if (!disposed) {
          replaceContent(body, h('p', { class: 'alert', role: 'alert' }, describeError(failure)));
        }
      },
    );
  };
  load();
  return {
    element,
    dispose() {
      disposed = true;
    },
  };
}

function entriesTable(entries: PatientAccessEntry[]): HTMLElement {
  return h(
    'table',
    { class: 'grants access-log' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, t('accessLog:column.when')),
        h('th', { scope: 'col' }, t('accessLog:column.who')),
        h('th', { scope: 'col' }, t('accessLog:column.role')),
        h('th', { scope: 'col' }, t('accessLog:column.facility')),
        h('th', { scope: 'col' }, t('accessLog:column.what')),
        h('th', { scope: 'col' }, t('accessLog:column.why')),
        h('th', { scope: 'col' }, t('accessLog:column.outcome')),
      ),
    ),
    h(
      'tbody',
      {},
      entries.map((entry) =>
        h(
          'tr',
          { 'data-action': entry.action, 'data-outcome': entry.outcome },
          h('td', {}, h('time', { datetime: entry.at }, formatDateTime(entry.at))),
          h('td', {}, entry.actorName),
          h('td', {}, roleText(entry.role)),
          h('td', {}, entry.facilityName ?? entry.facilityId ?? '—'),
          h('td', {}, actionText(entry.action)),
          h('td', {}, entry.purpose ?? '—'),
          h('td', {}, outcomeText(entry.outcome)),
        ),
      ),
    ),
  );
}

/** What was done, as a clinic tells a patient; an action without words shows its code. */
function actionText(action: string): string {
  const known: Record<string, string> = {
    'exam_order.create': t('accessLog:action.examOrderCreate'),
    'case.patient.read': t('accessLog:action.casePatientRead'),
    'consent.request': t('accessLog:action.consentRequest'),
    'consent.grant': t('accessLog:action.consentGrant'),
    'consent.revoke': t('accessLog:action.consentRevoke'),
    'records.history.read': t('accessLog:action.historyRead'),
    'records.ecg.read': t('accessLog:action.ecgRead'),
    'records.access-log.read': t('accessLog:action.accessLogRead'),
    'fhir.read': t('accessLog:action.fhirRead'),
  };
  return known[action] ?? t('accessLog:action.other', { action });
}

function roleText(role: string | null): string {
  const known: Record<string, string> = {
    clinic_staff: t('accessLog:role.clinicStaff'),
    reader: t('accessLog:role.reader'),
    admin: t('accessLog:role.admin'),
    health_authority: t('accessLog:role.healthAuthority'),
  };
  return role === null ? '—' : (known[role] ?? role);
}

function outcomeText(outcome: PatientAccessEntry['outcome']): string {
  switch (outcome) {
    case 'allowed':
      return t('accessLog:outcome.allowed');
    case 'denied':
      return t('accessLog:outcome.denied');
    case 'failed':
      return t('accessLog:outcome.failed');
  }
}
