import { FACILITY_KINDS, type Facility, type FacilityKind } from '#contracts';
import { describeError } from '../../api.js';
import { h, replaceContent } from '../../dom.js';
import { t } from '../../i18n/i18n.js';
import type { ConsoleContext, View } from '../context.js';
import {
  adminErrorText,
  choice,
  facilityLine,
  field,
  FormMessage,
  kindLabel,
  panel,
} from './shared.js';

/** Each kind's parent kind: clinic → county → tertiary (the relay's rule, hierarchy.ts). */
const PARENT_KIND: Record<FacilityKind, FacilityKind | null> = {
  clinic: 'county',
  county: 'tertiary',
  tertiary: null,
};

/**
 * The referral hierarchy as a tree (三甲医院 → 县级医院 → 乡镇卫生院): add a facility, rename
 * one, move it under another parent, and set a clinic's DICOM AE titles. A move the relay
 * refuses (open cases would be stranded) is explained in plain words.
 */
export function adminFacilitiesView(ctx: ConsoleContext): View {
  let facilities: Facility[] = [];
  let selectedId: string | null = null;
  let disposed = false;

  const listMessage = new FormMessage();
  const tree = h('ul', { class: 'facility-tree', 'data-testid': 'facility-tree' });
  const editor = h('div', { class: 'facility-editor' });

  /** The facilities a facility of `kind` may sit under. */
  function parentOptions(kind: FacilityKind) {
    const wanted = PARENT_KIND[kind];
    return wanted === null
      ? [{ value: '', label: t('admin:facilities.noParent') }]
      : facilities
          .filter((facility) => facility.kind === wanted)
          .map((facility) => ({
            value: facility.id,
            label: facility.disabled
              ? t('admin:facilities.disabledOption', {
                  line: facilityLine(facilities, facility.id),
                })
              : facilityLine(facilities, facility.id),
          }));
  }

  // ---- the tree ------------------------------------------------------------------------
  function renderTree(): void {
    const byParent = new Map<string | null, Facility[]>();
    const known = new Set(facilities.map((facility) => facility.id));
    for (const facility of facilities) {
      // A facility whose parent is missing is shown at the top, so it is not lost.
      const parent =
        facility.parentId !== null && known.has(facility.parentId) ? facility.parentId : null;
      byParent.set(parent, [...(byParent.get(parent) ?? []), facility]);
    }
    const branch = (parentId: string | null): HTMLElement[] =>
      (byParent.get(parentId) ?? [])
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((facility) => {
          const children = branch(facility.id);
          const button = h(
            'button',
            {
              type: 'button',
              'aria-pressed': String(facility.id === selectedId),
              'data-focus-key': `facility-${facility.id}`,
            },
            facility.name,
            h(
              'span',
              { class: 'kind' },
              t('admin:facilities.kindAndId', { kind: kindLabel(facility.kind), id: facility.id }),
            ),
            facility.disabled
              ? h('span', { class: 'tag tag-disabled' }, t('admin:facilities.disabledTag'))
              : null,
          );
          button.addEventListener('click', () => select(facility.id));
          return h(
            'li',
            {
              'data-facility-id': facility.id,
              'data-kind': facility.kind,
              'data-disabled': String(facility.disabled),
            },
            button,
            children.length > 0 ? h('ul', {}, children) : null,
          );
        });
    replaceContent(tree, branch(null));
  }

  function select(id: string): void {
    selectedId = id;
    renderTree();
    renderEditor();
  }

  // ---- the selected facility: rename, move, AE titles ----------------------------------
  function renderEditor(): void {
    const facility = facilities.find((candidate) => candidate.id === selectedId);
    if (!facility) {
      replaceContent(editor, h('p', { class: 'muted' }, t('admin:facilities.pick')));
      return;
    }
    const nameInput = h('input', {
      type: 'text',
      name: 'name',
      maxlength: 200,
      value: facility.name,
    });
    const parentSelect = choice('parent', parentOptions(facility.kind), facility.parentId ?? '');
    const message = new FormMessage();
    const save = h(
      'button',
      { type: 'submit', class: 'button primary' },
      t('admin:facilities.save'),
    );
    const form = h(
      'form',
      { class: 'admin-form', 'data-testid': 'facility-edit-form', novalidate: true },
      field('facility-edit-name', t('admin:facilities.name'), nameInput),
      facility.kind === 'tertiary'
        ? null
        : field(
            'facility-edit-parent',
            t('admin:facilities.parent'),
            parentSelect,
            t('admin:facilities.moveHint'),
          ),
      message.element,
      save,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void (async () => {
        message.clear();
        const name = nameInput.value.trim();
        const parentId = facility.kind === 'tertiary' ? null : parentSelect.value || null;
        const changes = {
          ...(name !== facility.name ? { name } : {}),
          ...(parentId !== facility.parentId ? { parentId } : {}),
        };
        if (Object.keys(changes).length === 0) {
          message.done(t('admin:facilities.nothingChanged'));
          return;
        }
        save.disabled = true;
        try {
          const updated = await ctx.api.updateFacility(facility.id, changes);
          if (disposed) return;
          facilities = facilities.map((candidate) =>
            candidate.id === updated.id ? updated : candidate,
          );
          renderTree();
          renderEditor();
          ctx.announce(t('admin:facilities.saved', { name: updated.name }));
        } catch (failure) {
          save.disabled = false;
          message.error(
            adminErrorText(failure, { kind: 'facilityMove', id: facility.id, parentId }),
          );
        }
      })();
    });
    replaceContent(
      editor,
      panel(
        'facility-edit-title',
        t('admin:facilities.editTitle', { name: facility.name }),
        h(
          'p',
          { class: 'hint' },
          t('admin:facilities.kindAndId', { kind: kindLabel(facility.kind), id: facility.id }),
        ),
        form,
      ),
      statePanel(facility),
      facility.kind === 'clinic' ? aeTitlesPanel(facility) : null,
    );
  }

  /** In use or disabled, and the button that changes it; a refusal says why in plain words. */
  function statePanel(facility: Facility): HTMLElement {
    const message = new FormMessage();
    const toggle = h(
      'button',
      {
        type: 'button',
        class: facility.disabled ? 'button' : 'button danger',
        'data-action': facility.disabled ? 'enable' : 'disable',
      },
      facility.disabled ? t('admin:facilities.enable') : t('admin:facilities.disable'),
    );
    toggle.addEventListener('click', () => {
      void (async () => {
        const disabled = !facility.disabled;
        const name = facilityLine(facilities, facility.id);
        if (disabled && !window.confirm(t('admin:facilities.confirmDisable', { name }))) return;
        message.clear();
        toggle.disabled = true;
        try {
          const updated = await ctx.api.updateFacility(facility.id, { disabled });
          if (disposed) return;
          facilities = facilities.map((candidate) =>
            candidate.id === updated.id ? updated : candidate,
          );
          renderTree();
          renderEditor();
          ctx.announce(
            disabled
              ? t('admin:facilities.disabledDone', { name })
              : t('admin:facilities.enabledDone', { name }),
          );
        } catch (failure) {
          toggle.disabled = false;
          message.error(
            adminErrorText(
              failure,
              disabled
                ? { kind: 'facilityDisable', id: facility.id, facilities }
                : { kind: 'facilityEnable', id: facility.id },
            ),
          );
        }
      })();
    });
    return panel(
      'facility-state-title',
      t('admin:facilities.status'),
      h(
        'p',
        { 'data-testid': 'facility-state', 'data-disabled': String(facility.disabled) },
        h(
          'span',
          { class: `box-state ${facility.disabled ? 'box-disabled' : 'box-online'}` },
          facility.disabled
            ? t('admin:facilities.disabledState')
            : t('admin:facilities.enabledState'),
        ),
      ),
      h('p', { class: 'hint' }, t('admin:facilities.disableHint')),
      message.element,
      toggle,
    );
  }

  function aeTitlesPanel(clinic: Facility): HTMLElement {
    const input = h('input', {
      type: 'text',
      name: 'aeTitles',
      spellcheck: 'false',
      autocomplete: 'off',
    });
    const message = new FormMessage();
    const save = h('button', { type: 'submit', class: 'button' }, t('admin:facilities.aeSave'));
    const form = h(
      'form',
      { class: 'admin-form', 'data-testid': 'ae-titles-form', novalidate: true },
      field(
        'facility-ae-titles',
        t('admin:facilities.aeTitles'),
        input,
        t('admin:facilities.aeHint'),
      ),
      message.element,
      save,
    );
    ctx.api.aeTitles(clinic.id).then(
      (current) => {
        if (!disposed) input.value = current.aeTitles.join(' ');
      },
      (failure: unknown) =>
        message.error(t('admin:loadFailed', { reason: describeError(failure) })),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void (async () => {
        message.clear();
        const titles = input.value.split(/[\s,，、]+/).filter((title) => title !== '');
        save.disabled = true;
        try {
          const saved = await ctx.api.setAeTitles(clinic.id, titles);
          if (disposed) return;
          input.value = saved.aeTitles.join(' ');
          message.done(t('admin:facilities.aeSaved', { count: saved.aeTitles.length }));
        } catch (failure) {
          message.error(adminErrorText(failure, { kind: 'aeTitles' }));
        } finally {
          save.disabled = false;
        }
      })();
    });
    return panel('facility-ae-title', t('admin:facilities.aeTitle'), form);
  }

  // ---- add a facility ------------------------------------------------------------------
  const idInput = h('input', {
    type: 'text',
    name: 'id',
    maxlength: 64,
    spellcheck: 'false',
    autocomplete: 'off',
    pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}',
  });
  const nameInput = h('input', { type: 'text', name: 'name', maxlength: 200 });
  const kindSelect = choice(
    'kind',
    FACILITY_KINDS.map((kind) => ({ value: kind, label: kindLabel(kind) })),
    'clinic',
  );
  const parentSelect = h('select', { name: 'parent' });
  const fillParents = () =>
    replaceContent(
      parentSelect,
      parentOptions(kindSelect.value as FacilityKind).map((option) =>
        h('option', { value: option.value }, option.label),
      ),
    );
  kindSelect.addEventListener('change', fillParents);
  const createMessage = new FormMessage();
  const create = h(
    'button',
    { type: 'submit', class: 'button primary' },
    t('admin:facilities.create'),
  );
  const createForm = h(
    'form',
    { class: 'admin-form', 'data-testid': 'facility-create-form', novalidate: true },
    field('facility-id', t('admin:facilities.id'), idInput, t('admin:facilities.idHint')),
    field('facility-name', t('admin:facilities.name'), nameInput),
    field('facility-kind', t('admin:facilities.kind'), kindSelect),
    field('facility-parent', t('admin:facilities.parent'), parentSelect),
    createMessage.element,
    create,
  );
  createForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      createMessage.clear();
      const id = idInput.value.trim();
      const name = nameInput.value.trim();
      if (!id || !idInput.checkValidity() || !name) {
        createMessage.error(t('admin:facilities.createInvalid'));
        return;
      }
      create.disabled = true;
      try {
        const created = await ctx.api.createFacility({
          id,
          name,
          kind: kindSelect.value as FacilityKind,
          parentId: parentSelect.value || null,
        });
        if (disposed) return;
        facilities = [...facilities, created];
        idInput.value = '';
        nameInput.value = '';
        fillParents();
        select(created.id);
        createMessage.done(t('admin:facilities.created', { name: created.name }));
      } catch (failure) {
        createMessage.error(adminErrorText(failure, { kind: 'facilityCreate', id }));
      } finally {
        create.disabled = false;
      }
    })();
  });

  async function load(): Promise<void> {
    try {
      const loaded = await ctx.api.facilities();
      if (disposed) return;
      facilities = loaded;
      fillParents();
      renderTree();
      renderEditor();
    } catch (failure) {
      if (!disposed) listMessage.error(t('admin:loadFailed', { reason: describeError(failure) }));
    }
  }
  replaceContent(tree, h('li', { class: 'muted' }, t('admin:loading')));
  renderEditor();
  void load();

  const element = h(
    'section',
    { class: 'view admin-view', 'data-admin-page': 'facilities' },
    h('div', { class: 'view-head' }, h('h1', { tabindex: -1 }, t('admin:facilities.title'))),
    h('p', { class: 'hint' }, t('admin:facilities.intro')),
    listMessage.element,
    h(
      'div',
      { class: 'admin-columns' },
      panel('facility-tree-title', t('admin:facilities.treeTitle'), tree),
      editor,
    ),
    panel('facility-create-title', t('admin:facilities.createTitle'), createForm),
  );
  return {
    element,
    dispose() {
      disposed = true;
    },
  };
}
