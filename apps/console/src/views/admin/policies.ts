import {
  CASE_KINDS,
  CASE_PRIORITIES,
  DEADLINE_ACTIONS,
  DEADLINE_SECONDS_MAX,
  DEADLINE_SECONDS_MIN,
  type CaseKind,
  type CasePriority,
  type DeadlineAction,
  type DeadlineOverrides,
  type Facility,
  type HospitalPolicy,
} from '#contracts';
import { describeError } from '../../api.js';
import { h, replaceContent } from '../../dom.js';
import { formatDateTime } from '../../format.js';
import { t } from '../../i18n/i18n.js';
import type { ConsoleContext, View } from '../context.js';
import { choice, facilityLine, field, FormMessage, panel } from './shared.js';

function kindName(kind: CaseKind): string {
  const names: Record<CaseKind, string> = {
    ecg: t('admin:policies.kind.ecg'),
    imaging: t('admin:policies.kind.imaging'),
  };
  return names[kind];
}

function priorityName(priority: CasePriority): string {
  const names: Record<CasePriority, string> = {
    stat: t('admin:policies.priority.stat'),
    urgent: t('admin:policies.priority.urgent'),
    routine: t('admin:policies.priority.routine'),
  };
  return names[priority];
}

function actionName(action: DeadlineAction): string {
  const names: Record<DeadlineAction, string> = {
    escalate: t('admin:policies.action.escalate'),
    overflow: t('admin:policies.action.overflow'),
  };
  return names[action];
}

/**
 * A county hospital's deadlines (seconds per kind × priority; an empty box keeps the relay's
 * default) and what happens to an unclaimed case at its deadline: escalate to the tertiary
 * hospital, or pass to another county hospital.
 */
export function adminPoliciesView(ctx: ConsoleContext): View {
  let facilities: Facility[] = [];
  let disposed = false;
  const message = new FormMessage();
  const hospitalSelect = h('select', { name: 'hospital' });
  const body = h('div', { class: 'policy-body' });

  async function show(hospitalId: string): Promise<void> {
    message.clear();
    replaceContent(body, h('p', { class: 'muted' }, t('admin:loading')));
    try {
      const policy = await ctx.api.hospitalPolicy(hospitalId);
      if (!disposed) replaceContent(body, policyForm(policy));
    } catch (failure) {
      if (!disposed) message.error(t('admin:loadFailed', { reason: describeError(failure) }));
    }
  }

  function policyForm(policy: HospitalPolicy): HTMLElement {
    const inputs = new Map<string, HTMLInputElement>();
    const grid = h(
      'table',
      { class: 'cases admin-table policy-grid' },
      h('caption', {}, t('admin:policies.gridCaption')),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, t('admin:policies.kindHeading')),
          CASE_PRIORITIES.map((priority) => h('th', { scope: 'col' }, priorityName(priority))),
        ),
      ),
      h(
        'tbody',
        {},
        CASE_KINDS.map((kind) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, kindName(kind)),
            CASE_PRIORITIES.map((priority) => {
              const override = policy.overrides[kind]?.[priority];
              const input = h('input', {
                type: 'number',
                min: DEADLINE_SECONDS_MIN,
                max: DEADLINE_SECONDS_MAX,
                step: 1,
                inputmode: 'numeric',
                name: `${kind}-${priority}`,
                'data-testid': `deadline-${kind}-${priority}`,
                value: override ?? '',
                placeholder: String(policy.deadlines[kind]?.[priority] ?? ''),
                'aria-label': t('admin:policies.secondsFor', {
                  kind: kindName(kind),
                  priority: priorityName(priority),
                }),
              });
              inputs.set(`${kind}.${priority}`, input);
              return h('td', {}, input);
            }),
          ),
        ),
      ),
    );
    // A disabled county takes no overflow (the relay refuses it), unless it is the one named now.
    const counties = facilities.filter(
      (facility) =>
        facility.kind === 'county' &&
        facility.id !== policy.hospitalId &&
        (!facility.disabled || facility.id === policy.overflowHospitalId),
    );
    const action = choice(
      'atDeadline',
      DEADLINE_ACTIONS.map((value) => ({ value, label: actionName(value) })),
      policy.atDeadline,
    );
    const overflow = choice(
      'overflowHospitalId',
      counties.map((county) => ({ value: county.id, label: facilityLine(facilities, county.id) })),
      policy.overflowHospitalId ?? undefined,
    );
    const overflowField = field('policy-overflow', t('admin:policies.overflowHospital'), overflow);
    const syncOverflow = () => (overflowField.hidden = action.value !== 'overflow');
    action.addEventListener('change', syncOverflow);
    syncOverflow();
    const save = h('button', { type: 'submit', class: 'button primary' }, t('admin:policies.save'));
    const formMessage = new FormMessage();
    const form = h(
      'form',
      { class: 'admin-form', 'data-testid': 'policy-form', novalidate: true },
      h('div', { class: 'table-wrap policy-table' }, grid),
      h('p', { class: 'hint' }, t('admin:policies.gridHint', { min: DEADLINE_SECONDS_MIN })),
      field('policy-action', t('admin:policies.atDeadline'), action),
      overflowField,
      formMessage.element,
      save,
      h(
        'p',
        { class: 'hint' },
        policy.updatedAt
          ? t('admin:policies.updatedAt', { at: formatDateTime(policy.updatedAt) })
          : t('admin:policies.defaults'),
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void (async () => {
        formMessage.clear();
        const deadlines: DeadlineOverrides = {};
        for (const kind of CASE_KINDS) {
          for (const priority of CASE_PRIORITIES) {
            const input = inputs.get(`${kind}.${priority}`)!;
            if (input.value === '') continue;
            const seconds = Number(input.value);
            if (
              !Number.isInteger(seconds) ||
              seconds < DEADLINE_SECONDS_MIN ||
              seconds > DEADLINE_SECONDS_MAX
            ) {
              formMessage.error(
                t('admin:policies.secondsInvalid', {
                  min: DEADLINE_SECONDS_MIN,
                  max: DEADLINE_SECONDS_MAX,
                }),
              );
              input.focus();
              return;
            }
            deadlines[kind] = { ...deadlines[kind], [priority]: seconds };
          }
        }
        const atDeadline = action.value as DeadlineAction;
        save.disabled = true;
        try {
          const saved = await ctx.api.setHospitalPolicy(policy.hospitalId, {
            deadlines,
            atDeadline,
            overflowHospitalId: atDeadline === 'overflow' ? overflow.value || null : null,
          });
          if (disposed) return;
          replaceContent(body, policyForm(saved));
          const done = t('admin:policies.saved', {
            hospital: facilityLine(facilities, saved.hospitalId),
          });
          message.done(done);
          ctx.announce(done);
        } catch (failure) {
          save.disabled = false;
          formMessage.error(describeError(failure));
        }
      })();
    });
    return form;
  }

  hospitalSelect.addEventListener('change', () => void show(hospitalSelect.value));

  async function load(): Promise<void> {
    try {
      const loaded = await ctx.api.facilities();
      if (disposed) return;
      facilities = loaded;
      const counties = facilities.filter((facility) => facility.kind === 'county');
      replaceContent(
        hospitalSelect,
        counties.map((county) =>
          h('option', { value: county.id }, facilityLine(facilities, county.id)),
        ),
      );
      if (counties[0]) void show(counties[0].id);
      else replaceContent(body, h('p', { class: 'muted' }, t('admin:policies.noCounties')));
    } catch (failure) {
      if (!disposed) message.error(t('admin:loadFailed', { reason: describeError(failure) }));
    }
  }
  void load();

  const element = h(
    'section',
    { class: 'view admin-view', 'data-admin-page': 'policies' },
    h('div', { class: 'view-head' }, h('h1', { tabindex: -1 }, t('admin:policies.title'))),
    h('p', { class: 'hint' }, t('admin:policies.intro')),
    message.element,
    panel(
      'policy-title',
      t('admin:policies.panelTitle'),
      h(
        'div',
        { class: 'admin-form' },
        field('policy-hospital', t('admin:policies.hospital'), hospitalSelect),
      ),
      body,
    ),
  );
  return {
    element,
    dispose() {
      disposed = true;
    },
  };
}
