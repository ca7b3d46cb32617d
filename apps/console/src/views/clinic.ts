import type { CaseSummary, Diagnosis } from '#contracts';
import { describeError } from '../api.js';
import { h, replaceContent } from '../dom.js';
import { t } from '../i18n/i18n.js';
import { caseExamLabel, formatDateTime, statusLabel } from '../format.js';
import { agoClock, priorityBadge, statusBadge, tickClocks, topFlag } from './badges.js';
import { boxesPanel } from './boxes.js';
import { caseHref, type ConsoleContext, type View } from './context.js';

const FRESH_MS = 8_000;

/** How a case waiting for its diagnosis is doing, in the clinic's words. */
function waitingText(status: CaseSummary['status']): string {
  const texts: Record<string, string> = {
    analysing: t('worklist:clinic.waiting.analysing'),
    awaiting_review: t('worklist:clinic.waiting.awaitingReview'),
    in_review: t('worklist:clinic.waiting.inReview'),
  };
  return texts[status] ?? statusLabel(status);
}
const DIAGNOSIS_FETCHES = 4;

/** The clinic's cases, newest first, each with its diagnosis once a reader has signed it. */
export function clinicCasesView(ctx: ConsoleContext): View {
  const fresh = new Map<string, number>();
  const requested = new Set<string>();
  const queue: string[] = [];
  let fetching = 0;
  let disposed = false;

  const error = h('p', { class: 'alert', role: 'alert', hidden: true });
  const counts = h('p', { class: 'counts' });
  const boxes = boxesPanel(ctx);
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'cases clinic-cases' },
    h('caption', {}, t('worklist:clinic.caption')),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [
          t('worklist:clinic.column.received'),
          t('worklist:clinic.column.exam'),
          t('worklist:clinic.column.priority'),
          t('worklist:clinic.column.analysis'),
          t('worklist:clinic.column.status'),
          t('worklist:clinic.column.diagnosis'),
        ]
          .map((name) => h('th', { scope: 'col' }, name))
          .concat(
            h(
              'th',
              { scope: 'col' },
              h('span', { class: 'visually-hidden' }, t('worklist:clinic.column.action')),
            ),
          ),
      ),
    ),
    body,
  );
  const element = h(
    'section',
    { class: 'view', 'aria-labelledby': 'clinic-title' },
    h(
      'div',
      { class: 'view-head' },
      h('h1', { id: 'clinic-title', tabindex: -1 }, t('worklist:clinic.title')),
      h(
        'div',
        { class: 'toolbar' },
        counts,
        h('a', { class: 'button primary', href: '#/orders' }, t('worklist:clinic.registerExam')),
        h('a', { class: 'button secondary', href: '#/upload' }, t('worklist:clinic.uploadImages')),
        h(
          'a',
          { class: 'button secondary', href: '#/ecg-upload' },
          t('worklist:clinic.uploadEcgFiles'),
        ),
      ),
    ),
    error,
    boxes.live,
    h('div', { class: 'clinic-body' }, h('div', { class: 'table-wrap' }, table), boxes.list),
  );

  function render(): void {
    if (disposed) return;
    const cases = ctx.store.list();
    const signed = cases.filter((item) => item.status === 'signed').length;
    const returned = cases.filter((item) => item.status === 'returned').length;
    const waiting = cases.length - signed - returned;
    counts.textContent = ctx.store.loaded
      ? returned > 0
        ? t('worklist:clinic.countsWithReturned', { waiting, signed, returned })
        : t('worklist:clinic.counts', { waiting, signed })
      : t('common:loading');
    counts.dataset['loaded'] = String(ctx.store.loaded);
    const now = Date.now();
    if (!ctx.store.loaded) {
      replaceContent(body, emptyRow(t('worklist:clinic.loadingList')));
    } else if (cases.length === 0) {
      replaceContent(body, emptyRow(t('worklist:clinic.empty')));
    } else {
      replaceContent(
        body,
        cases.map((item) => row(item, now - (fresh.get(item.id) ?? -Infinity) < FRESH_MS)),
      );
    }
    for (const item of cases) if (item.status === 'signed') wantDiagnosis(item.id);
  }

  function row(item: CaseSummary, isFresh: boolean): HTMLTableRowElement {
    const diagnosis = ctx.store.diagnosis(item.id);
    return h(
      'tr',
      {
        class: [item.status === 'returned' ? 'is-returned' : '', isFresh ? 'is-fresh' : '']
          .join(' ')
          .trim(),
        'data-case-id': item.id,
        'data-status': item.status,
      },
      h(
        'td',
        {},
        formatDateTime(item.createdAt),
        h('br'),
        h('span', { class: 'muted' }, agoClock(item.createdAt)),
      ),
      h('td', {}, caseExamLabel(item)),
      h('td', {}, priorityBadge(item.priority)),
      h('td', { class: 'flags-cell' }, topFlag(item.flags)),
      h('td', {}, statusBadge(item.status)),
      h('td', { class: 'diagnosis-cell' }, diagnosisCell(item, diagnosis)),
      h(
        'td',
        { class: 'action' },
        h(
          'a',
          {
            class: 'button small secondary',
            href: caseHref(item.id),
            'data-focus-key': `open-${item.id}`,
            'aria-label': openLabel(item, diagnosis !== undefined),
            'data-testid': 'open-case',
          },
          diagnosis ? t('worklist:clinic.openReport') : t('worklist:clinic.open'),
        ),
      ),
    );
  }

  function diagnosisCell(item: CaseSummary, diagnosis: Diagnosis | undefined): Node {
    if (diagnosis) {
      return h(
        'div',
        { class: 'diagnosis compact' },
        h('p', { class: 'conclusion' }, diagnosis.conclusion),
        h(
          'p',
          { class: 'signature' },
          diagnosis.hospitalName
            ? t('worklist:clinic.signedByAt', {
                reader: diagnosis.signedByName,
                hospital: diagnosis.hospitalName,
              })
            : diagnosis.signedByName,
          ' · ',
          h('time', { datetime: diagnosis.signedAt }, formatDateTime(diagnosis.signedAt)),
        ),
      );
    }
    if (item.status === 'signed')
      return h('span', { class: 'muted' }, t('worklist:clinic.loadingDiagnosis'));
    if (item.status === 'returned') {
      return h(
        'p',
        { class: 'returned-notice' },
        t('case:recordAgainBecause', { reason: item.returnReason ?? t('case:unreadable') }),
      );
    }
    return h('span', { class: 'muted' }, waitingText(item.status));
  }

  /** Signed cases from the initial list: their diagnoses, a few requests at a time. */
  function wantDiagnosis(caseId: string): void {
    if (ctx.store.diagnosis(caseId) || requested.has(caseId)) return;
    requested.add(caseId);
    queue.push(caseId);
    pump();
  }

  function pump(): void {
    while (!disposed && fetching < DIAGNOSIS_FETCHES && queue.length > 0) {
      const caseId = queue.shift()!;
      fetching++;
      ctx.api
        .caseDetail(caseId)
        .then((detail) => {
          if (detail.diagnosis && !ctx.store.diagnosis(caseId))
            ctx.store.addDiagnosis(detail.diagnosis);
        })
        .catch((failure: unknown) => {
          if (disposed) return;
          error.textContent = t('worklist:clinic.diagnosesFailed', {
            reason: describeError(failure),
          });
          error.hidden = false;
        })
        .finally(() => {
          fetching--;
          pump();
        });
    }
  }

  const unsubscribe = ctx.store.subscribe((change) => {
    if (change.type === 'diagnosis' && change.live) {
      fresh.set(change.diagnosis.caseId, Date.now());
      setTimeout(render, FRESH_MS + 50);
    }
    if (change.type === 'case' && change.added) fresh.set(change.summary.id, Date.now());
    render();
  });
  const clock = setInterval(() => tickClocks(body), 1000);
  render();

  return {
    element,
    dispose() {
      disposed = true;
      unsubscribe();
      clearInterval(clock);
      boxes.dispose();
    },
  };
}

/** The open link's name for a screen reader: what it opens, from when. */
function openLabel(item: CaseSummary, hasReport: boolean): string {
  const time = formatDateTime(item.createdAt);
  if (item.study) {
    return hasReport
      ? t('worklist:clinic.openStudyReportLabel', { time })
      : t('worklist:clinic.openStudyLabel', { time });
  }
  return hasReport
    ? t('worklist:clinic.openEcgReportLabel', { time })
    : t('worklist:clinic.openEcgLabel', { time });
}

function emptyRow(text: string): HTMLTableRowElement {
  return h('tr', {}, h('td', { colspan: 7, class: 'empty' }, text));
}
