import type { CaseSummary, Diagnosis } from '#contracts';
import { describeError } from '../api.js';
import { h, replaceContent } from '../dom.js';
import { caseExamLabel, formatDateTime, statusLabel } from '../format.js';
import { ageClock, priorityBadge, statusBadge, tickClocks, topFlag } from './badges.js';
import { boxesPanel } from './boxes.js';
import { caseHref, type ConsoleContext, type View } from './context.js';

const FRESH_MS = 8_000;

const WAITING_TEXT: Record<string, string> = {
  analysing: 'Being checked',
  awaiting_review: 'Waiting for a reader',
  in_review: 'Being read',
};
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
    h(
      'caption',
      {},
      'ECGs and images sent from your clinic, newest first. Diagnoses appear as soon as they are signed.',
    ),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Received', 'Exam', 'Priority', 'Analysis', 'Status', 'Diagnosis', ''].map((name) =>
          h('th', { scope: 'col' }, name || h('span', { class: 'visually-hidden' }, 'Action')),
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
      h('h1', { id: 'clinic-title', tabindex: -1 }, 'Cases'),
      h(
        'div',
        { class: 'toolbar' },
        counts,
        h('a', { class: 'button primary', href: '#/orders' }, 'Register an exam'),
        h('a', { class: 'button secondary', href: '#/upload' }, 'Upload images'),
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
    counts.textContent = ctx.store.loaded
      ? `${cases.length - signed - returned} waiting · ${signed} signed` +
        (returned > 0 ? ` · ${returned} to record again` : '')
      : 'Loading…';
    const now = Date.now();
    if (!ctx.store.loaded) {
      replaceContent(body, emptyRow('Loading your cases…'));
    } else if (cases.length === 0) {
      replaceContent(body, emptyRow('No ECGs from this clinic yet.'));
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
        h('span', { class: 'muted' }, ageClock(item.createdAt), ' ago'),
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
            // Begins with the visible words, so a speech user can say what they see (WCAG 2.5.3).
            'aria-label': `${diagnosis ? 'Open report' : 'Open'}: ${item.study ? 'study' : 'ECG'} received ${formatDateTime(item.createdAt)}`,
          },
          diagnosis ? 'Open report' : 'Open',
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
          diagnosis.signedByName,
          diagnosis.hospitalName ? `, ${diagnosis.hospitalName}` : '',
          ' · ',
          h('time', { datetime: diagnosis.signedAt }, formatDateTime(diagnosis.signedAt)),
        ),
      );
    }
    if (item.status === 'signed') return h('span', { class: 'muted' }, 'Loading the diagnosis…');
    if (item.status === 'returned') {
      return h(
        'p',
        { class: 'returned-notice' },
        `Record again: ${item.returnReason ?? 'the recording could not be read'}`,
      );
    }
    return h('span', { class: 'muted' }, WAITING_TEXT[item.status] ?? statusLabel(item.status));
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
          error.textContent = `Some diagnoses could not be loaded: ${describeError(failure)}`;
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

function emptyRow(text: string): HTMLTableRowElement {
  return h('tr', {}, h('td', { colspan: 7, class: 'empty' }, text));
}
