import { ROLES, type AdminUser, type Facility, type Role } from '#contracts';
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
  panel,
  roleLabel,
  adminTable,
} from './shared.js';

const MIN_PASSWORD = 8;

/**
 * The accounts: create one at a facility, disable or enable it, set a new password (a
 * reset), change its role. Disabling, a new password and a new role end the user's sessions.
 */
export function adminUsersView(ctx: ConsoleContext): View {
  let users: AdminUser[] | null = null;
  let facilities: Facility[] = [];
  let disposed = false;
  const listMessage = new FormMessage();
  const rows = h('tbody');

  const roleOptions = () => ROLES.map((role) => ({ value: role, label: roleLabel(role) }));

  function render(): void {
    if (!users) {
      replaceContent(
        rows,
        h('tr', {}, h('td', { colspan: 6, class: 'empty' }, t('admin:loading'))),
      );
      return;
    }
    replaceContent(
      rows,
      users.map((user) => {
        const toggle = h(
          'button',
          {
            type: 'button',
            class: user.disabled ? 'button small' : 'button small danger',
            'data-action': user.disabled ? 'enable' : 'disable',
            'data-focus-key': `user-toggle-${user.id}`,
          },
          user.disabled ? t('admin:users.enable') : t('admin:users.disable'),
        );
        toggle.addEventListener('click', () => {
          if (
            !user.disabled &&
            !window.confirm(t('admin:users.confirmDisable', { name: user.displayName }))
          )
            return;
          void change(
            user,
            { disabled: !user.disabled },
            user.disabled
              ? t('admin:users.enabledDone', { name: user.displayName })
              : t('admin:users.disabledDone', { name: user.displayName }),
          );
        });
        const role = choice('role', roleOptions(), user.role);
        role.setAttribute('aria-label', t('admin:users.roleOf', { name: user.displayName }));
        role.addEventListener('change', () => {
          const next = role.value as Role;
          if (
            !window.confirm(
              t('admin:users.confirmRole', { name: user.displayName, role: roleLabel(next) }),
            )
          ) {
            role.value = user.role;
            return;
          }
          void change(
            user,
            { role: next },
            t('admin:users.roleDone', { name: user.displayName, role: roleLabel(next) }),
          );
        });
        const reset = h(
          'button',
          { type: 'button', class: 'button small', 'data-action': 'reset-password' },
          t('admin:users.resetPassword'),
        );
        reset.addEventListener('click', () =>
          askNewPassword(user, (password) =>
            change(user, { password }, t('admin:users.passwordDone', { name: user.displayName })),
          ),
        );
        return h(
          'tr',
          {
            'data-user-id': user.id,
            'data-username': user.username,
            'data-disabled': String(user.disabled),
          },
          h('td', {}, h('strong', {}, user.username)),
          h('td', {}, user.displayName),
          h('td', {}, role),
          h('td', {}, facilityLine(facilities, user.facilityId)),
          h(
            'td',
            {},
            user.disabled ? t('admin:users.stateDisabled') : t('admin:users.stateActive'),
          ),
          h('td', { class: 'action' }, reset, ' ', toggle),
        );
      }),
    );
  }

  async function change(
    user: AdminUser,
    changes: { disabled?: boolean; role?: Role; password?: string },
    done: string,
  ): Promise<void> {
    listMessage.clear();
    try {
      const updated = await ctx.api.updateUser(user.id, changes);
      if (disposed) return;
      users = (users ?? []).map((candidate) => (candidate.id === updated.id ? updated : candidate));
      render();
      listMessage.done(done);
      ctx.announce(done);
    } catch (failure) {
      listMessage.error(describeError(failure));
      render();
    }
  }

  // ---- create --------------------------------------------------------------------------
  const username = h('input', {
    type: 'text',
    name: 'username',
    maxlength: 64,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const displayName = h('input', { type: 'text', name: 'displayName', maxlength: 200 });
  const roleSelect = choice('role', roleOptions(), 'clinic_staff');
  const facilitySelect = h('select', { name: 'facility' });
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'new-password',
    maxlength: 256,
  });
  const createMessage = new FormMessage();
  const create = h('button', { type: 'submit', class: 'button primary' }, t('admin:users.create'));
  const form = h(
    'form',
    { class: 'admin-form', 'data-testid': 'user-create-form', novalidate: true },
    field('user-username', t('admin:users.username'), username, t('admin:users.usernameHint')),
    field('user-display-name', t('admin:users.displayName'), displayName),
    field('user-role', t('admin:users.role'), roleSelect),
    field(
      'user-facility',
      t('admin:users.facility'),
      facilitySelect,
      t('admin:users.facilityHint'),
    ),
    field(
      'user-password',
      t('admin:users.password'),
      password,
      t('admin:users.passwordHint', { min: MIN_PASSWORD }),
    ),
    createMessage.element,
    create,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void (async () => {
      createMessage.clear();
      const name = username.value.trim();
      if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name) || !displayName.value.trim()) {
        createMessage.error(t('admin:users.createInvalid'));
        return;
      }
      if (password.value.length < MIN_PASSWORD) {
        createMessage.error(t('admin:users.passwordTooShort', { min: MIN_PASSWORD }));
        return;
      }
      create.disabled = true;
      try {
        const created = await ctx.api.createUser({
          username: name,
          displayName: displayName.value.trim(),
          role: roleSelect.value as Role,
          facilityId: facilitySelect.value,
          password: password.value,
        });
        if (disposed) return;
        users = [...(users ?? []), created].sort((a, b) => a.username.localeCompare(b.username));
        render();
        username.value = '';
        displayName.value = '';
        password.value = '';
        createMessage.done(t('admin:users.created', { name: created.displayName }));
      } catch (failure) {
        createMessage.error(adminErrorText(failure, { kind: 'userCreate', username: name }));
      } finally {
        create.disabled = false;
      }
    })();
  });

  async function load(): Promise<void> {
    try {
      const [loadedUsers, loadedFacilities] = await Promise.all([
        ctx.api.users(),
        ctx.api.facilities(),
      ]);
      if (disposed) return;
      users = loadedUsers;
      facilities = loadedFacilities;
      replaceContent(
        facilitySelect,
        // Nobody is added to a disabled facility (the relay refuses it too).
        facilities
          .filter((facility) => !facility.disabled)
          .map((facility) =>
            h('option', { value: facility.id }, facilityLine(facilities, facility.id)),
          ),
      );
      render();
    } catch (failure) {
      if (!disposed) listMessage.error(t('admin:loadFailed', { reason: describeError(failure) }));
    }
  }
  render();
  void load();

  const element = h(
    'section',
    { class: 'view admin-view', 'data-admin-page': 'users' },
    h('div', { class: 'view-head' }, h('h1', { tabindex: -1 }, t('admin:users.title'))),
    h('p', { class: 'hint' }, t('admin:users.intro')),
    panel('user-create-title', t('admin:users.createTitle'), form),
    listMessage.element,
    adminTable(
      'users-table',
      t('admin:users.caption'),
      [
        t('admin:users.username'),
        t('admin:users.displayName'),
        t('admin:users.role'),
        t('admin:users.facility'),
        t('admin:users.state'),
        null,
      ],
      rows,
    ),
  );
  return {
    element,
    dispose() {
      disposed = true;
    },
  };
}

/**
 * A modal dialog with a password field (never shown while typed, unlike `prompt()`); the
 * browser checks the length the API requires before `save` is called.
 */
function askNewPassword(user: AdminUser, save: (password: string) => Promise<void>): void {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const password = h('input', {
    type: 'password',
    name: 'new-password',
    autocomplete: 'new-password',
    required: true,
    minlength: String(MIN_PASSWORD),
    maxlength: '256',
  });
  const cancel = h(
    'button',
    { type: 'button', class: 'button secondary', onclick: () => dialog.close() },
    t('admin:users.passwordDialogCancel'),
  );
  const form = h(
    'form',
    { class: 'password-dialog-form', 'data-testid': 'password-dialog-form' },
    field(
      'new-password',
      t('admin:users.newPassword'),
      password,
      t('admin:users.passwordHint', { min: MIN_PASSWORD }),
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button' }, t('admin:users.passwordDialogSave')),
      ' ',
      cancel,
    ),
  );
  const dialog = h(
    'dialog',
    {
      class: 'password-dialog',
      'data-testid': 'password-dialog',
      'aria-labelledby': 'password-dialog-title',
    },
    h('h2', { id: 'password-dialog-title' }, t('admin:users.passwordDialogTitle')),
    h('p', {}, t('admin:users.newPasswordPrompt', { name: user.displayName, min: MIN_PASSWORD })),
    form,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = password.value;
    dialog.close();
    void save(value);
  });
  dialog.addEventListener('close', () => {
    password.value = '';
    dialog.remove();
    opener?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  password.focus();
}
