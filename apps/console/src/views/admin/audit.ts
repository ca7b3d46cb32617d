import { AUDIT_OUTCOMES, type AuditQuery, type AuditRecord } from '#contracts';
import { describeError } from '../../api.js';
import { h, replaceContent } from '../../dom.js';
import { formatDateTime } from '../../format.js';
import { t } from '../../i18n/i18n.js';
import type { ConsoleContext, View } from '../context.js';
import { choice, field, FormMessage, outcomeLabel, adminTable } from './shared.js';

const PAGE_SIZE = 50;

/**
 * The audit trail with its filters: who (`user:<id>`, `device:<id>`, `anonymous`), what
 * (`mqtt.connect`, `admin.device.create`, `POST /api/cases/:id/claim` …), the outcome and a
 * start time; newest first, older pages on request. Reading it is itself audited.
 */
export function adminAuditView(ctx: ConsoleContext): View {
  let disposed = false;
  let entries: AuditRecord[] = [];
  let nextBefore: number | null = null;
  let query: AuditQuery = {};

  const actor = h('input', { type: 'text', name: 'actor', maxlength: 200, spellcheck: 'false' });
  const action = h('input', { type: 'text', name: 'action', maxlength: 200, spellcheck: 'false' });
  const outcome = choice('outcome', [
    { value: '', label: t('admin:audit.anyOutcome') },
    ...AUDIT_OUTCOMES.map((value) => ({ value, label: outcomeLabel(value) })),
  ]);
  const since = h('input', { type: 'datetime-local', name: 'since' });
  const message = new FormMessage();
  const search = h('button', { type: 'submit', class: 'button primary' }, t('admin:audit.search'));
  const form = h(
    'form',
    { class: 'admin-form audit-filters', 'data-testid': 'audit-filters', novalidate: true },
    field('audit-actor', t('admin:audit.actor'), actor, t('admin:audit.actorHint')),
    field('audit-action', t('admin:audit.action'), action, t('admin:audit.actionHint')),
    field('audit-outcome', t('admin:audit.outcomeHeading'), outcome),
    field('audit-since', t('admin:audit.since'), since),
    h('div', { class: 'form-actions' }, search),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    query = {
      actor: actor.value.trim() || undefined,
      action: action.value.trim() || undefined,
      outcome: (outcome.value || undefined) as AuditQuery['outcome'],
      // datetime-local is the browser's local time; the relay wants an ISO time with offset.
      since: since.value ? new Date(since.value).toISOString() : undefined,
    };
    void load(false);
  });

  const rows = h('tbody');
  const more = h(
    'button',
    { type: 'button', class: 'button secondary', hidden: true, 'data-testid': 'audit-more' },
    t('admin:audit.older'),
  );
  more.addEventListener('click', () => void load(true));
  const count = h('p', { class: 'counts', role: 'status' });

  async function load(older: boolean): Promise<void> {
    message.clear();
    search.disabled = true;
    try {
      const page = await ctx.api.audit({
        ...query,
        limit: PAGE_SIZE,
        before: older ? (nextBefore ?? undefined) : undefined,
      });
      if (disposed) return;
      entries = older ? [...entries, ...page.entries] : page.entries;
      nextBefore = page.nextBefore;
      render();
    } catch (failure) {
      if (disposed) return;
      message.error(t('admin:loadFailed', { reason: describeError(failure) }));
    } finally {
      search.disabled = false;
    }
  }

  function render(): void {
    more.hidden = nextBefore === null;
    count.textContent = t('admin:audit.shown', { count: entries.length });
    if (entries.length === 0) {
      replaceContent(
        rows,
        h('tr', {}, h('td', { colspan: 6, class: 'empty' }, t('admin:audit.none'))),
      );
      return;
    }
    replaceContent(
      rows,
      entries.map((entry) =>
        h(
          'tr',
          { 'data-audit-id': entry.id, 'data-outcome': entry.outcome },
          h('td', { class: 'nowrap' }, formatDateTime(entry.at)),
          h('td', {}, h('code', {}, entry.actor)),
          h('td', {}, h('code', {}, entry.action)),
          h(
            'td',
            {},
            h('span', { class: `outcome outcome-${entry.outcome}` }, outcomeLabel(entry.outcome)),
          ),
          h(
            'td',
            {},
            entry.subject ? h('code', {}, entry.subject) : null,
            entry.remoteAddress ? h('div', { class: 'muted' }, entry.remoteAddress) : null,
          ),
          h(
            'td',
            { class: 'audit-detail', 'data-field': 'detail' },
            // The relay's own record, as stored: ids and reasons, never patient identifiers.
            entry.detail ? h('code', {}, JSON.stringify(entry.detail)) : null,
          ),
        ),
      ),
    );
  }

  void load(false);

  const element = h(
    'section',
    { class: 'view admin-view', 'data-admin-page': 'audit' },
    h('div', { class: 'view-head' }, h('h1', { tabindex: -1 }, t('admin:audit.title')), count),
    h('p', { class: 'hint' }, t('admin:audit.intro')),
    form,
    message.element,
    adminTable(
      'audit-table',
      t('admin:audit.caption'),
      [
        t('admin:audit.at'),
        t('admin:audit.actor'),
        t('admin:audit.action'),
        t('admin:audit.outcomeHeading'),
        t('admin:audit.subject'),
        t('admin:audit.detail'),
      ],
      rows,
    ),
    h('div', { class: 'panel-actions' }, more),
  );
  return {
    element,
    dispose() {
      disposed = true;
    },
  };
}
