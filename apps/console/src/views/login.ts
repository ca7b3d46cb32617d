import type { LoginResponse } from '#contracts';
import { RelayApi, describeError } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n/i18n.js';
import { languageSwitch } from '../i18n/switch.js';

/** The sign-in form. `notice` explains why the user is here again (session ended, …). */
export function loginView(
  onSignedIn: (login: LoginResponse) => void,
  notice?: string,
  onLanguageSwitched?: () => void,
): HTMLElement {
  const error = h('p', { class: 'alert', role: 'alert', hidden: !notice }, notice ?? '');
  const username = h('input', {
    id: 'username',
    name: 'username',
    type: 'text',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
    maxlength: 64,
  });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    maxlength: 256,
  });
  const submit = h(
    'button',
    { type: 'submit', class: 'button primary wide', 'data-testid': 'sign-in' },
    t('login:signIn'),
  );
  const form = h(
    'form',
    { class: 'login-form', novalidate: true, 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, t('login:title')),
    h('p', { class: 'hint' }, t('login:hint')),
    h('label', { for: 'username' }, t('login:username')),
    username,
    h('label', { for: 'password' }, t('login:password')),
    password,
    error,
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn();
  });
  async function signIn(): Promise<void> {
    error.hidden = true;
    if (!username.value.trim() || !password.value) {
      error.textContent = t('login:missing');
      error.hidden = false;
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = t('login:signingIn');
    let login: LoginResponse;
    try {
      login = await RelayApi.login(username.value.trim(), password.value);
    } catch (failure) {
      error.textContent = describeError(failure, {
        UNAUTHENTICATED: t('login:wrongCredentials'),
        TOO_MANY_ATTEMPTS: t('login:tooManyAttempts'),
      });
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = t('login:signIn');
      password.select();
      password.focus();
      return;
    }
    onSignedIn(login);
  }
  queueMicrotask(() => (username.value ? password : username).focus());
  return h(
    'main',
    { class: 'login', id: 'main' },
    h(
      'div',
      { class: 'login-card' },
      onLanguageSwitched ? languageSwitch(onLanguageSwitched) : null,
      h('p', { class: 'brand' }, brandMark(), t('common:app.name')),
      form,
    ),
  );
}

/** A small inline ECG complex as the logo (no external resources). */
export function brandMark(): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 32 20');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'brand-mark');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', 'M1 12h8l2-3 2 3h2l2 7 3-18 3 11h2l2-2 2 2h3');
  svg.appendChild(path);
  return svg;
}
