import type { CaseSummary } from '#contracts';
import { ApiFailure, describeError } from '../api.js';
import { h, replaceContent } from '../dom.js';
import { t } from '../i18n/i18n.js';
import { PRIORITY_LABEL, caseExamLabel, formatDateTime } from '../format.js';
import { ageClock, dueClock, priorityBadge, statusBadge, tickClocks, topFlag } from './badges.js';
import { shortcut } from '../shortcuts.js';
import { caseHref, type ConsoleContext, type View } from './context.js';

const FRESH_MS = 5_000;

/** The reader's live worklist: the hospital's open cases, most urgent first. */
export function readerWorklistView(ctx: ConsoleContext): View {
  const fresh = new Map<string, number>();
  let busy = false;
  let disposed = false;

  const error = h('p', { class: 'alert', role: 'alert', hidden: true });
  const counts = h('p', { class: 'counts' });
  const claimNext = h(
    'button',
    {
      type: 'button',
      class: 'button primary',
      'data-focus-key': 'claim-next',
      'data-testid': 'claim-next',
      ...shortcut('claim-next'),
      onclick: () => void claimFirstWaiting(),
    },
    t('worklist:claimNext'),
  );
  const body = h('tbody');
  const table = h(
    'table',
    { class: 'cases worklist' },
    h('caption', {}, t('worklist:caption')),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [
          t('worklist:column.priority'),
          t('worklist:column.analysis'),
          t('worklist:column.clinic'),
          t('worklist:column.exam'),
          t('worklist:column.age'),
          t('worklist:column.dueIn'),
          t('worklist:column.status'),
          t('worklist:column.claimedBy'),
          t('worklist:column.action'),
        ].map((name) => h('th', { scope: 'col' }, name)),
      ),
    ),
    body,
  );
  const element = h(
    'section',
    { class: 'view', 'aria-labelledby': 'worklist-title' },
    h(
      'div',
      { class: 'view-head' },
      h('h1', { id: 'worklist-title', tabindex: -1 }, t('worklist:title')),
      h('div', { class: 'toolbar' }, counts, claimNext),
    ),
    error,
    h('div', { class: 'table-wrap' }, table),
  );

  function showError(message: string | null): void {
    error.hidden = message === null;
    error.textContent = message ?? '';
  }

  function render(): void {
    if (disposed) return;
    const cases = ctx.store.list();
    const waiting = cases.filter((item) => item.status === 'awaiting_review').length;
    counts.textContent = ctx.store.loaded
      ? t('worklist:counts', { waiting, inReview: cases.length - waiting })
      : t('common:loading');
    counts.dataset['loaded'] = String(ctx.store.loaded);
    claimNext.disabled = busy || waiting === 0;
    const now = Date.now();
    if (!ctx.store.loaded) {
      replaceContent(body, emptyRow(t('worklist:loadingList')));
    } else if (cases.length === 0) {
      replaceContent(body, emptyRow(t('worklist:empty')));
    } else {
      replaceContent(
        body,
        cases.map((item) => row(item, now - (fresh.get(item.id) ?? -Infinity) < FRESH_MS)),
      );
    }
  }

  function row(item: CaseSummary, isFresh: boolean): HTMLTableRowElement {
    const mine = item.claimedById === ctx.user.id;
    const which = { priority: PRIORITY_LABEL[item.priority], clinic: item.clinicName };
    let action: HTMLElement;
    if (item.status === 'awaiting_review') {
      action = h(
        'button',
        {
          type: 'button',
          class: 'button small',
          'data-focus-key': `claim-${item.id}`,
          'aria-label': t('worklist:claimLabel', which),
          'data-testid': 'claim',
          disabled: busy,
          onclick: () => void claim([item.id]),
        },
        t('worklist:claim'),
      );
    } else {
      action = h(
        'a',
        {
          class: 'button small secondary',
          href: caseHref(item.id),
          'data-focus-key': `open-${item.id}`,
          'aria-label': mine ? t('worklist:continueLabel', which) : t('worklist:viewLabel', which),
          'data-testid': mine ? 'continue' : 'view',
        },
        mine ? t('worklist:continue') : t('worklist:view'),
      );
    }
    // Warned at 80 % of the deadline: the row stands out until someone claims the case.
    const deadlineNear = item.status === 'awaiting_review' && item.deadlineAlertedAt !== null;
    return h(
      'tr',
      {
        class: [
          `priority-row-${item.priority}`,
          isFresh ? 'is-fresh' : '',
          deadlineNear ? 'deadline-near' : '',
        ]
          .join(' ')
          .trim(),
        'data-deadline-near': deadlineNear ? 'true' : null,
        'data-case-id': item.id,
        'data-status': item.status,
      },
      h('td', {}, priorityBadge(item.priority)),
      h('td', { class: 'flags-cell' }, topFlag(item.flags)),
      h('td', {}, item.clinicName),
      h('td', {}, caseExamLabel(item)),
      h('td', {}, ageClock(item.createdAt)),
      h(
        'td',
        {},
        dueClock(item.dueAt),
        deadlineNear
          ? h(
              'span',
              {
                class: 'badge deadline-badge',
                title: item.deadlineAt
                  ? t('worklist:movesOnAt', { time: formatDateTime(item.deadlineAt) })
                  : t('worklist:movesOn'),
              },
              t('worklist:deadlineNear'),
            )
          : null,
      ),
      h('td', {}, statusBadge(item.status)),
      h(
        'td',
        {},
        item.claimedById !== null
          ? mine
            ? t('common:you')
            : (item.claimedByName ?? t('common:anotherReader'))
          : h('span', { class: 'muted' }, '—'),
      ),
      h('td', { class: 'action' }, action),
    );
  }

  /** Claims the first of `ids` nobody else has taken, then opens it. */
  async function claim(ids: string[]): Promise<void> {
    if (busy) return;
    busy = true;
    showError(null);
    render();
    try {
      for (const id of ids) {
        try {
          const claimed = await ctx.api.claim(id);
          ctx.store.upsert(claimed);
          window.location.hash = caseHref(id);
          return;
        } catch (failure) {
          // Another reader was quicker: with "Claim next", try the following case.
          if (failure instanceof ApiFailure && failure.status === 409 && ids.length > 1) continue;
          throw failure;
        }
      }
      showError(t('worklist:allTaken'));
      ctx.reload();
    } catch (failure) {
      showError(
        t('worklist:claimFailed', {
          reason: describeError(failure, { CONFLICT: t('worklist:takenByAnother') }),
        }),
      );
      if (failure instanceof ApiFailure && failure.status === 409) ctx.reload();
    } finally {
      busy = false;
      render();
    }
  }

  function claimFirstWaiting(): Promise<void> {
    return claim(
      ctx.store
        .list()
        .filter((item) => item.status === 'awaiting_review')
        .map((item) => item.id),
    );
  }

  const unsubscribe = ctx.store.subscribe((change) => {
    if (change.type === 'case' && change.added) {
      fresh.set(change.summary.id, Date.now());
      ctx.announce(
        t('worklist:newCase', {
          priority: PRIORITY_LABEL[change.summary.priority],
          clinic: change.summary.clinicName,
        }),
      );
      setTimeout(render, FRESH_MS + 50);
    }
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
    },
  };
}

function emptyRow(text: string): HTMLTableRowElement {
  return h('tr', {}, h('td', { colspan: 9, class: 'empty' }, text));
}
