import type { CasePriority, CaseStatus } from '#contracts';
import { h } from '../dom.js';
import { PRIORITY_LABEL, formatAge, formatTimeLeft, statusLabel } from '../format.js';

export function priorityBadge(priority: CasePriority): HTMLElement {
  return h('span', { class: `badge priority-${priority}` }, PRIORITY_LABEL[priority]);
}

export function statusBadge(status: CaseStatus): HTMLElement {
  return h('span', { class: `badge status-${status.replaceAll('_', '-')}` }, statusLabel(status));
}

/** Text kept current by `tickClocks`: time since `iso`. */
export function ageClock(iso: string): HTMLElement {
  return h('time', { class: 'clock', datetime: iso, 'data-since': iso }, formatAge(iso));
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
  for (const element of root.querySelectorAll<HTMLElement>('[data-due]')) {
    const left = formatTimeLeft(element.dataset['due']!, now);
    element.textContent = left.text;
    element.classList.toggle('overdue', left.overdue);
  }
}
