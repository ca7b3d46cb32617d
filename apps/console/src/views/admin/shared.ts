import type { AuditOutcome, Facility, FacilityKind, Role } from '#contracts';
import { ApiFailure, describeError } from '../../api.js';
import { h, type Child } from '../../dom.js';
import { t } from '../../i18n/i18n.js';

/** What a facility is, in the words its people use (乡镇卫生院, 县级医院, 三甲医院). */
export function kindLabel(kind: FacilityKind): string {
  const labels: Record<FacilityKind, string> = {
    clinic: t('admin:kind.clinic'),
    county: t('admin:kind.county'),
    tertiary: t('admin:kind.tertiary'),
  };
  return labels[kind];
}

export function roleLabel(role: Role): string {
  const labels: Record<Role, string> = {
    clinic_staff: t('admin:role.clinicStaff'),
    reader: t('admin:role.reader'),
    admin: t('admin:role.admin'),
    health_authority: t('admin:role.healthAuthority'),
  };
  return labels[role];
}

export function outcomeLabel(outcome: AuditOutcome): string {
  const labels: Record<AuditOutcome, string> = {
    allowed: t('admin:audit.outcome.allowed'),
    denied: t('admin:audit.outcome.denied'),
    failed: t('admin:audit.outcome.failed'),
  };
  return labels[outcome];
}

/** "Township Clinic 1 (clinic-1)", or the id alone for a facility not (yet) listed. */
export function facilityLine(facilities: readonly Facility[], id: string): string {
  const facility = facilities.find((candidate) => candidate.id === id);
  return facility ? t('admin:facilityLine', { name: facility.name, id }) : id;
}

/**
 * The operations whose 409 the relay explains: each gets one plain sentence here, with what
 * can be read out of the relay's message (an id, a count), so nobody has to read
 * "CONFLICT: … held by a hospital that would no longer be above their clinic".
 */
export type AdminOperation =
  | { kind: 'facilityCreate'; id: string }
  | { kind: 'facilityMove'; id: string; parentId: string | null }
  | { kind: 'facilityDisable'; id: string; facilities: readonly Facility[] }
  | { kind: 'facilityEnable'; id: string }
  | { kind: 'aeTitles' }
  | { kind: 'deviceCreate'; id: string }
  | { kind: 'userCreate'; username: string };

/** A failed administrator's call as a sentence for the page: a 409 in plain words. */
export function adminErrorText(failure: unknown, operation: AdminOperation): string {
  if (!(failure instanceof ApiFailure) || failure.status !== 409) return describeError(failure);
  // Created, moved or enabled under a disabled facility.
  const disabledParent = /cannot be enabled under (\S+) while/.exec(failure.message)?.[1];
  if (disabledParent && operation.kind !== 'facilityDisable') {
    return t('admin:conflict.parentDisabled', {
      id: 'id' in operation ? operation.id : '',
      parent: disabledParent,
    });
  }
  switch (operation.kind) {
    case 'facilityCreate':
      return t('admin:conflict.facilityExists', { id: operation.id });
    case 'facilityEnable':
      return describeError(failure);
    case 'facilityDisable':
      return disableConflictText(failure.message, operation.id, operation.facilities);
    case 'facilityMove': {
      const count = /: (\d+) open case/.exec(failure.message)?.[1];
      const parent = operation.parentId ?? t('admin:facilities.noParent');
      return count === undefined
        ? t('admin:conflict.facilityMoveStrands', { id: operation.id, parent })
        : t('admin:conflict.facilityMoveStrandsCount', {
            id: operation.id,
            parent,
            count: Number(count),
          });
    }
    case 'aeTitles': {
      const taken = [...failure.message.matchAll(/AE title (\S+) belongs to (\S+)/g)].map(
        ([, title, clinic]) => t('admin:conflict.aeTitleOwner', { title, clinic }),
      );
      return t('admin:conflict.aeTitlesTaken', {
        titles: taken.join(t('admin:listSeparator')),
      });
    }
    case 'deviceCreate':
      return t('admin:conflict.deviceExists', { id: operation.id });
    case 'userCreate':
      return t('admin:conflict.usernameTaken', { username: operation.username });
  }
}

/**
 * Why the relay keeps a facility enabled, one sentence per reason it gave (open cases,
 * enabled facilities below, hospitals whose overflow it takes), with names instead of ids.
 */
function disableConflictText(message: string, id: string, facilities: readonly Facility[]): string {
  const names = (list: string) =>
    list
      .split(', ')
      .map((other) => facilityLine(facilities, other))
      .join(t('admin:listSeparator'));
  const name = facilityLine(facilities, id);
  const reasons: string[] = [];
  const open = /while (\d+) open case/.exec(message)?.[1];
  if (open !== undefined) {
    reasons.push(t('admin:conflict.disableOpenCases', { name, count: Number(open) }));
  }
  const below = /while (.+?) below it (?:is|are) enabled/.exec(message)?.[1];
  if (below !== undefined) {
    reasons.push(t('admin:conflict.disableEnabledBelow', { name, below: names(below) }));
  }
  const overflow = /takes the overflow of (.+?); change/.exec(message)?.[1];
  if (overflow !== undefined) {
    reasons.push(t('admin:conflict.disableOverflow', { name, hospitals: names(overflow) }));
  }
  // One reason a line (form messages keep line breaks).
  return reasons.length > 0 ? reasons.join('\n') : message;
}

/** A label above its control, with an optional hint below. */
export function field(id: string, label: string, control: HTMLElement, hint?: string): HTMLElement {
  control.id = id;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'hint' }, hint) : null,
  );
}

/** A `<select>` of these values, each shown with its label. */
export function choice(
  name: string,
  options: readonly { value: string; label: string }[],
  selected?: string,
): HTMLSelectElement {
  return h(
    'select',
    { name },
    options.map((option) =>
      h('option', { value: option.value, selected: option.value === selected }, option.label),
    ),
  );
}

/** The status line of a form: an error (role=alert) or a confirmation (role=status). */
export class FormMessage {
  readonly element = h('p', { class: 'form-message', hidden: true });

  error(text: string): void {
    this.show(text, 'alert');
  }

  done(text: string): void {
    this.show(text, 'status');
  }

  clear(): void {
    this.element.hidden = true;
    this.element.textContent = '';
  }

  private show(text: string, role: 'alert' | 'status'): void {
    this.element.className = role === 'alert' ? 'form-message alert' : 'form-message done';
    this.element.setAttribute('role', role);
    this.element.textContent = text;
    this.element.hidden = false;
  }
}

/** A panel with a heading of its own level two. */
export function panel(id: string, title: string, ...children: Child[]): HTMLElement {
  return h(
    'section',
    { class: 'panel admin-panel', 'aria-labelledby': id },
    h('h2', { id }, title),
    ...children,
  );
}

/**
 * A list page's table: caption, column headings (a heading of `null` is an actions column,
 * named for screen readers only) and the body the page keeps current.
 */
export function adminTable(
  testId: string,
  caption: string,
  headings: readonly (string | null)[],
  rows: HTMLTableSectionElement,
): HTMLElement {
  return h(
    'div',
    // A wide table scrolls sideways on a tablet: keyboard users must be able to scroll it.
    { class: 'table-wrap', tabindex: 0 },
    h(
      'table',
      { class: 'cases admin-table', 'data-testid': testId },
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headings.map((heading) =>
            h(
              'th',
              { scope: 'col' },
              heading ?? h('span', { class: 'visually-hidden' }, t('admin:actions')),
            ),
          ),
        ),
      ),
      rows,
    ),
  );
}
