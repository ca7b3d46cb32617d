import type { AnalysisFlag, CasePriority, CaseStatus } from '#contracts';
import { h } from '../dom.js';
import {
  PRIORITY_LABEL,
  flagLabel,
  formatAge,
  formatAgo,
  formatTimeLeft,
  statusLabel,
} from '../format.js';
import { currentLocale, hasTranslation as i18nHas, t } from '../i18n/i18n.js';

export function priorityBadge(priority: CasePriority): HTMLElement {
  return h('span', { class: `badge priority-${priority}` }, PRIORITY_LABEL[priority]);
}

export function statusBadge(status: CaseStatus): HTMLElement {
  return h('span', { class: `badge status-${status.replaceAll('_', '-')}` }, statusLabel(status));
}

function severityLabel(severity: AnalysisFlag['severity']): string {
  const labels: Record<AnalysisFlag['severity'], string> = {
    critical: t('case:severity.critical'),
    major: t('case:severity.major'),
    minor: t('case:severity.minor'),
  };
  return labels[severity];
}

/**
 * The finding in the page's language: the analysis sends its numbers and leads by name
 * (`values`), so a flag it knows is said from `ecgFlags`; in English, and for a flag from
 * before `values` or with a code this console does not know, the analysis's own words.
 */
export function flagText(flag: AnalysisFlag): string {
  const key = `ecgFlags:${flag.code}`;
  if (currentLocale() === 'en' || !flag.values || !i18nHas(key)) return flag.text;
  const age = flag.values['age'];
  const forAge = age === undefined ? '' : t('ecgFlags:forAge', { age });
  return t(key, { ...flag.values, forAge });
}

export function flagBadge(flag: AnalysisFlag): HTMLElement {
  return h(
    'span',
    { class: `badge flag flag-${flag.severity}`, title: flagText(flag), 'data-flag': flag.code },
    flagLabel(flag.code),
  );
}

/** A worklist cell: the most severe flag (they come most severe first), and how many more. */
export function topFlag(flags: AnalysisFlag[]): HTMLElement {
  const [first, ...rest] = flags;
  if (!first) return h('span', { class: 'muted' }, '—');
  return h(
    'span',
    { class: 'top-flag' },
    flagBadge(first),
    h('span', { class: 'visually-hidden' }, t('case:flagText', { text: flagText(first) })),
    rest.length > 0
      ? h('span', { class: 'more-flags', title: rest.map(flagText).join('\n') }, `+${rest.length}`)
      : null,
  );
}

/** Every flag with its severity and the analysis's own words. */
export function flagList(flags: AnalysisFlag[]): HTMLElement {
  return h(
    'ul',
    { class: 'flag-list', 'aria-label': t('case:flagListLabel') },
    flags.map((flag) =>
      h(
        'li',
        { class: `flag-item flag-item-${flag.severity}` },
        flagBadge(flag),
        h(
          'span',
          { class: 'visually-hidden' },
          t('case:severityNote', { severity: severityLabel(flag.severity) }),
        ),
        h('span', { class: 'flag-text' }, flagText(flag)),
      ),
    ),
  );
}

/** Text kept current by `tickClocks`: time since `iso` ("5 分钟"). */
export function ageClock(iso: string): HTMLElement {
  return h('time', { class: 'clock', datetime: iso, 'data-since': iso }, formatAge(iso));
}

/** Text kept current by `tickClocks`: how long ago `iso` was ("5 分钟前"), one phrase per language. */
export function agoClock(iso: string): HTMLElement {
  return h('time', { class: 'clock', datetime: iso, 'data-ago': iso }, formatAgo(iso));
}

/** Text kept current by `tickClocks`: time left until `iso`, or how long overdue. */
export function dueClock(iso: string): HTMLElement {
  const left = formatTimeLeft(iso);
  return h(
    'time',
    { class: left.overdue ? 'clock overdue' : 'clock', datetime: iso, 'data-due': iso },
    left.text,
  );
}

/** Updates every age and countdown under `root`; called once a second. */
export function tickClocks(root: ParentNode, now = Date.now()): void {
  for (const element of root.querySelectorAll<HTMLElement>('[data-since]')) {
    element.textContent = formatAge(element.dataset['since']!, now);
  }
  for (const element of root.querySelectorAll<HTMLElement>('[data-ago]')) {
    element.textContent = formatAgo(element.dataset['ago']!, now);
  }
  for (const element of root.querySelectorAll<HTMLElement>('[data-due]')) {
    const left = formatTimeLeft(element.dataset['due']!, now);
    element.textContent = left.text;
    element.classList.toggle('overdue', left.overdue);
  }
}
