import {
  deviceSecretBitsCeiling,
  MIN_DEVICE_SECRET_BITS,
  type DeviceSummary,
  type Facility,
  type RegisteredDevice,
} from '#contracts';
import { describeError } from '../../api.js';
import { h, replaceContent } from '../../dom.js';
import { formatDateTime } from '../../format.js';
import { t } from '../../i18n/i18n.js';
import type { ConsoleContext, View } from '../context.js';
import { adminErrorText, facilityLine, field, FormMessage, panel, adminTable } from './shared.js';

/** Online state has no push event for administrators, so the list is re-read while shown. */
const REFRESH_MS = 10_000;

/**
 * The boxes: register one at a clinic (its secret shown once), see which are online, when
 * each was last heard from, its firmware and newest recording, and disable or enable it.
 */
export function adminBoxesView(ctx: ConsoleContext): View {
  let devices: DeviceSummary[] | null = null;
  let facilities: Facility[] = [];
  let disposed = false;

  const listMessage = new FormMessage();
  const rows = h('tbody');
  const refresh = h(
    'button',
    { type: 'button', class: 'button secondary', 'data-testid': 'boxes-refresh' },
    t('admin:boxes.refresh'),
  );
  refresh.addEventListener('click', () => void load());

  // ---- register ------------------------------------------------------------------------
  const idInput = h('input', {
    type: 'text',
    name: 'id',
    required: true,
    maxlength: 64,
    autocomplete: 'off',
    spellcheck: 'false',
    pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}',
  });
  const clinicSelect = h('select', { name: 'clinic', required: true });
  const ownSecret = h('input', {
    type: 'text',
    name: 'secret',
    maxlength: 256,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const registerMessage = new FormMessage();
  const secretSlot = h('div', { class: 'secret-slot' });
  const submit = h(
    'button',
    { type: 'submit', class: 'button primary' },
    t('admin:boxes.register'),
  );
  const form = h(
    'form',
    { class: 'admin-form', 'data-testid': 'box-register-form', novalidate: true },
    field('box-id', t('admin:boxes.id'), idInput, t('admin:boxes.idHint')),
    field('box-clinic', t('admin:boxes.clinic'), clinicSelect),
    field('box-secret', t('admin:boxes.ownSecret'), ownSecret, t('admin:boxes.ownSecretHint')),
    registerMessage.element,
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void register();
  });

  async function register(): Promise<void> {
    registerMessage.clear();
    const id = idInput.value.trim();
    const facilityId = clinicSelect.value;
    const secret = ownSecret.value;
    if (!idInput.checkValidity() || !id) {
      registerMessage.error(t('admin:boxes.idInvalid'));
      idInput.focus();
      return;
    }
    if (secret && deviceSecretBitsCeiling(secret) < MIN_DEVICE_SECRET_BITS) {
      registerMessage.error(t('admin:boxes.secretTooShort'));
      ownSecret.focus();
      return;
    }
    submit.disabled = true;
    try {
      const registered = await ctx.api.registerDevice({
        id,
        facilityId,
        ...(secret ? { secret } : {}),
      });
      if (disposed) return;
      idInput.value = '';
      ownSecret.value = '';
      showRegistered(registered);
      void load();
    } catch (failure) {
      registerMessage.error(adminErrorText(failure, { kind: 'deviceCreate', id }));
    } finally {
      submit.disabled = false;
    }
  }

  /**
   * The secret the relay made, shown this once: it is never stored in the page (only in this
   * element, which goes when dismissed or when the page is left) and the relay keeps its hash.
   */
  function showRegistered(registered: RegisteredDevice): void {
    if (registered.secret === undefined) {
      replaceContent(secretSlot);
      registerMessage.done(t('admin:boxes.registeredOwnSecret', { id: registered.id }));
      return;
    }
    const secret = registered.secret;
    const copied = h('span', { class: 'copied', role: 'status' });
    const copy = h(
      'button',
      { type: 'button', class: 'button', 'data-testid': 'device-secret-copy' },
      t('admin:boxes.copySecret'),
    );
    copy.addEventListener('click', () => {
      navigator.clipboard.writeText(secret).then(
        () => (copied.textContent = t('admin:boxes.copied')),
        () => (copied.textContent = t('admin:boxes.copyFailed')),
      );
    });
    const dismiss = h(
      'button',
      { type: 'button', class: 'button secondary', 'data-testid': 'device-secret-dismiss' },
      t('admin:boxes.secretSaved'),
    );
    dismiss.addEventListener('click', () => {
      replaceContent(secretSlot);
      idInput.focus();
    });
    const card = h(
      'div',
      {
        class: 'secret-card',
        role: 'alert',
        'data-testid': 'device-secret-card',
        'data-device-id': registered.id,
      },
      h('p', { class: 'secret-title' }, t('admin:boxes.registered', { id: registered.id })),
      h('p', {}, t('admin:boxes.secretLabel')),
      h('code', { class: 'secret', 'data-testid': 'device-secret', tabindex: 0 }, secret),
      h('p', { class: 'secret-warning' }, t('admin:boxes.secretOnce')),
      h('div', { class: 'panel-actions' }, copy, dismiss, copied),
    );
    replaceContent(secretSlot, card);
    copy.focus();
  }

  // ---- the list ------------------------------------------------------------------------
  function stateOf(device: DeviceSummary): 'disabled' | 'online' | 'offline' {
    return device.disabled ? 'disabled' : device.online ? 'online' : 'offline';
  }

  function stateLabel(device: DeviceSummary): string {
    const labels = {
      disabled: t('admin:boxes.state.disabled'),
      online: t('admin:boxes.state.online'),
      offline: t('admin:boxes.state.offline'),
    };
    return labels[stateOf(device)];
  }

  function render(): void {
    if (!devices) {
      replaceContent(
        rows,
        h('tr', {}, h('td', { colspan: 7, class: 'empty' }, t('admin:loading'))),
      );
      return;
    }
    if (devices.length === 0) {
      replaceContent(
        rows,
        h('tr', {}, h('td', { colspan: 7, class: 'empty' }, t('admin:boxes.none'))),
      );
      return;
    }
    replaceContent(
      rows,
      devices.map((device) => {
        const toggle = h(
          'button',
          {
            type: 'button',
            class: device.disabled ? 'button' : 'button danger',
            'data-action': device.disabled ? 'enable' : 'disable',
            'data-focus-key': `device-${device.id}`,
          },
          device.disabled ? t('admin:boxes.enable') : t('admin:boxes.disable'),
        );
        toggle.addEventListener('click', () => void setDisabled(device, !device.disabled, toggle));
        return h(
          'tr',
          {
            'data-device-id': device.id,
            'data-state': stateOf(device),
            'data-online': String(device.online),
          },
          h('td', {}, h('strong', {}, device.id)),
          h('td', {}, facilityLine(facilities, device.clinicId)),
          h('td', {}, h('span', { class: `box-state box-${stateOf(device)}` }, stateLabel(device))),
          h(
            'td',
            { 'data-field': 'last-seen' },
            device.lastSeenAt ? formatDateTime(device.lastSeenAt) : t('admin:boxes.never'),
          ),
          h('td', { 'data-field': 'firmware' }, device.firmware ?? t('admin:boxes.unknown')),
          h(
            'td',
            { 'data-field': 'last-recording' },
            device.lastRecordingAt
              ? formatDateTime(device.lastRecordingAt)
              : t('admin:boxes.noRecording'),
          ),
          h('td', { class: 'action' }, toggle),
        );
      }),
    );
  }

  async function setDisabled(
    device: DeviceSummary,
    disabled: boolean,
    button: HTMLButtonElement,
  ): Promise<void> {
    if (disabled && !window.confirm(t('admin:boxes.confirmDisable', { id: device.id }))) return;
    button.disabled = true;
    listMessage.clear();
    try {
      const updated = await ctx.api.updateDevice(device.id, { disabled });
      if (disposed) return;
      devices = (devices ?? []).map((candidate) =>
        candidate.id === updated.id ? updated : candidate,
      );
      render();
      const done = disabled
        ? t('admin:boxes.disabledDone', { id: device.id })
        : t('admin:boxes.enabledDone', { id: device.id });
      listMessage.done(done);
      ctx.announce(done);
    } catch (failure) {
      button.disabled = false;
      listMessage.error(describeError(failure));
    }
  }

  function fillClinics(): void {
    const clinics = facilities.filter(
      (facility) => facility.kind === 'clinic' && !facility.disabled,
    );
    replaceContent(
      clinicSelect,
      clinics.map((clinic) =>
        h('option', { value: clinic.id }, facilityLine(facilities, clinic.id)),
      ),
    );
  }

  async function load(): Promise<void> {
    try {
      const [loadedDevices, loadedFacilities] = await Promise.all([
        ctx.api.devices(),
        ctx.api.facilities(),
      ]);
      if (disposed) return;
      const firstLoad = facilities.length === 0;
      devices = loadedDevices;
      facilities = loadedFacilities;
      if (firstLoad) fillClinics();
      render();
    } catch (failure) {
      if (disposed) return;
      listMessage.error(t('admin:loadFailed', { reason: describeError(failure) }));
    }
  }

  const timer = setInterval(() => void load(), REFRESH_MS);
  render();
  void load();

  const element = h(
    'section',
    { class: 'view admin-view', 'data-admin-page': 'boxes' },
    h('div', { class: 'view-head' }, h('h1', { tabindex: -1 }, t('admin:boxes.title')), refresh),
    h('p', { class: 'hint' }, t('admin:boxes.intro')),
    panel('box-register-title', t('admin:boxes.registerTitle'), form, secretSlot),
    listMessage.element,
    adminTable(
      'boxes-table',
      t('admin:boxes.caption'),
      [
        t('admin:boxes.id'),
        t('admin:boxes.clinic'),
        t('admin:boxes.stateHeading'),
        t('admin:boxes.lastSeen'),
        t('admin:boxes.firmware'),
        t('admin:boxes.lastRecording'),
        null,
      ],
      rows,
    ),
  );
  return {
    element,
    dispose() {
      disposed = true;
      clearInterval(timer);
    },
  };
}
