import { h } from './dom.js';
import { t } from './i18n/i18n.js';

/**
 * Keyboard shortcuts for a reader's busiest moves: claim the next case, sign the diagnosis.
 * A view marks the control a shortcut works with (`...shortcut('claim-next')` in its
 * attributes); the shortcut clicks or submits that control, so it does exactly what the mouse
 * would, and nothing where the control is absent, disabled or hidden. Single-key shortcuts
 * never fire while the user types in a field; signing (Ctrl+Enter, ⌘+Enter on a Mac) is made
 * to be pressed from the diagnosis being typed, and only from the sign form's own fields.
 */
export type ShortcutName = 'claim-next' | 'sign' | 'help';

interface Shortcut {
  /** The keys as printed on the keyboard, for the hint and the help dialog. */
  keys: string[];
  /** `aria-keyshortcuts` syntax (WAI-ARIA 1.2). */
  aria: string;
  matches(event: KeyboardEvent): boolean;
  describe(): string;
}

const plain = (event: KeyboardEvent) => !event.ctrlKey && !event.metaKey && !event.altKey;

const SHORTCUTS: Record<ShortcutName, Shortcut> = {
  'claim-next': {
    keys: ['N'],
    aria: 'N',
    matches: (event) => plain(event) && event.key.toLowerCase() === 'n',
    describe: () => t('shortcuts:claimNext'),
  },
  sign: {
    // i18n-exempt: key names as printed on the keyboard
    keys: ['Ctrl', 'Enter'],
    aria: 'Control+Enter Meta+Enter',
    matches: (event) => (event.ctrlKey || event.metaKey) && !event.altKey && event.key === 'Enter',
    describe: () => t('shortcuts:sign'),
  },
  help: {
    keys: ['?'],
    aria: 'Shift+?',
    matches: (event) => !event.ctrlKey && !event.metaKey && !event.altKey && event.key === '?',
    describe: () => t('shortcuts:help'),
  },
};

/**
 * Attributes that tie a control to its shortcut: the shortcut finds it by `data-shortcut`,
 * screen readers announce `aria-keyshortcuts`, and the stylesheet shows `data-key-hint` on it.
 */
export function shortcut(name: ShortcutName): Record<string, string> {
  const { keys, aria } = SHORTCUTS[name];
  return { 'data-shortcut': name, 'aria-keyshortcuts': aria, 'data-key-hint': keys.join('+') };
}

/** True while the user types: in a text field, a text area, a select or editable content. */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (!(target instanceof HTMLInputElement)) return false;
  return !['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color', 'file'].includes(
    target.type,
  );
}

/** The enabled, shown control of this shortcut on the page now, if there is one. */
function control(name: ShortcutName): HTMLButtonElement | null {
  const found = document.querySelector<HTMLButtonElement>(
    `#main [data-shortcut="${name}"]:not(:disabled)`,
  );
  return found && found.getClientRects().length > 0 ? found : null;
}

function onKeyDown(event: KeyboardEvent): void {
  if (event.defaultPrevented || event.repeat || event.isComposing) return;
  // Inside an open dialog only the dialog's own keys count (Escape closes it).
  if (document.querySelector('dialog[open]')) return;
  const target = event.target;
  if (SHORTCUTS.sign.matches(event)) {
    const submit = control('sign');
    const form = submit?.form;
    if (!submit || !form) return;
    if (typing(target) && !(target instanceof Node && form.contains(target))) return;
    event.preventDefault();
    // Before the field's own Enter handling (the findings field adds a finding on Enter).
    event.stopPropagation();
    form.requestSubmit(submit);
    return;
  }
  if (typing(target)) return;
  if (SHORTCUTS['claim-next'].matches(event)) {
    const button = control('claim-next');
    if (!button) return;
    event.preventDefault();
    button.click();
  } else if (SHORTCUTS.help.matches(event)) {
    event.preventDefault();
    showShortcutHelp();
  }
}

let installed = false;

/** Listens for the shortcuts on the whole page; once, whatever the number of sign-ins. */
export function installShortcuts(): void {
  if (installed) return;
  installed = true;
  // Capture phase: the sign shortcut must reach the form before a field acts on Enter.
  document.addEventListener('keydown', onKeyDown, { capture: true });
}

function keyCaps(keys: string[]): HTMLElement {
  return h(
    'span',
    { class: 'key-caps' },
    keys.flatMap((key, index) => [index > 0 ? '+' : null, h('kbd', {}, key)]),
  );
}

/** The list of shortcuts in a modal dialog (Escape or the button closes it; focus returns). */
export function showShortcutHelp(): void {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const close = h(
    'button',
    { type: 'button', class: 'button secondary', onclick: () => dialog.close() },
    t('shortcuts:close'),
  );
  const dialog = h(
    'dialog',
    { class: 'shortcut-help', 'aria-labelledby': 'shortcut-help-title' },
    h('h2', { id: 'shortcut-help-title' }, t('shortcuts:title')),
    h(
      'dl',
      {},
      (Object.keys(SHORTCUTS) as ShortcutName[]).map((name) =>
        h(
          'div',
          { 'data-shortcut-row': name },
          h('dt', {}, keyCaps(SHORTCUTS[name].keys)),
          h('dd', {}, SHORTCUTS[name].describe()),
        ),
      ),
    ),
    h('p', { class: 'hint' }, t('shortcuts:notWhileTyping')),
    h('p', { class: 'hint' }, t('shortcuts:enterInForm')),
    close,
  );
  dialog.addEventListener('close', () => {
    dialog.remove();
    opener?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

/** The top bar's button to the list of shortcuts, for those who do not know `?` yet. */
export function shortcutHelpButton(): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'button ghost shortcut-help-button',
      'data-testid': 'shortcut-help',
      'aria-keyshortcuts': SHORTCUTS.help.aria,
      'aria-haspopup': 'dialog',
      onclick: () => showShortcutHelp(),
    },
    t('shortcuts:button'),
    ' ',
    keyCaps(SHORTCUTS.help.keys),
  );
}
