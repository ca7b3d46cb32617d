import type { Phrase } from '#contracts';
import { describeError } from '../api.js';
import { h, replaceContent } from '../dom.js';
import { insertPhrase } from '../format.js';
import { currentLocale, t } from '../i18n/i18n.js';
import type { ConsoleContext } from './context.js';

/**
 * The hospital's reusable phrases beside the conclusion: a click puts one where the caret
 * is; readers add and remove them for everyone at their hospital.
 */
export function phrasePicker(ctx: ConsoleContext, target: HTMLTextAreaElement): HTMLElement {
  let phrases: Phrase[] = [];
  const list = h('ul', { class: 'phrases', 'aria-label': t('case:phrases.listLabel') });
  const status = h('p', { class: 'hint', role: 'status' }, t('case:phrases.loading'));
  const input = h('input', {
    id: 'new-phrase',
    type: 'text',
    maxlength: 500,
    autocomplete: 'off',
    placeholder: t('case:phrases.new'),
  });
  const add = h(
    'button',
    { type: 'button', class: 'button small secondary' },
    t('case:phrases.save'),
  );

  function render(): void {
    status.textContent = phrases.length === 0 ? t('case:phrases.none') : '';
    replaceContent(
      list,
      phrases.map((phrase) =>
        h(
          'li',
          { class: 'phrase' },
          h(
            'button',
            {
              type: 'button',
              class: 'phrase-insert',
              title: t('case:phrases.insert'),
              'data-focus-key': `phrase-${phrase.id}`,
              onclick: () => insert(phrase.text),
            },
            phrase.text,
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'phrase-remove',
              'aria-label': t('case:phrases.remove', { text: phrase.text }),
              onclick: () => void remove(phrase),
            },
            '×',
          ),
        ),
      ),
    );
  }

  function insert(text: string): void {
    const next = insertPhrase(target.value, target.selectionStart, target.selectionEnd, text);
    target.value = next.value;
    target.focus();
    target.setSelectionRange(next.caret, next.caret);
    // The draft is kept on input.
    target.dispatchEvent(new Event('input'));
  }

  async function remove(phrase: Phrase): Promise<void> {
    try {
      await ctx.api.removePhrase(phrase.id);
      phrases = phrases.filter((known) => known.id !== phrase.id);
      render();
    } catch (failure) {
      status.textContent = t('case:phrases.notRemoved', { reason: describeError(failure) });
    }
  }

  async function save(): Promise<void> {
    const text = input.value.trim();
    if (!text) return;
    add.disabled = true;
    try {
      const saved = await ctx.api.addPhrase(text);
      phrases = [...phrases.filter((known) => known.id !== saved.id), saved].sort((a, b) =>
        a.text.localeCompare(b.text, currentLocale()),
      );
      input.value = '';
      render();
    } catch (failure) {
      status.textContent = t('case:phrases.notSaved', { reason: describeError(failure) });
    } finally {
      add.disabled = false;
    }
  }
  add.addEventListener('click', () => void save());
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      void save();
    }
  });

  ctx.api.phrases().then(
    (loaded) => {
      phrases = loaded;
      render();
    },
    (failure: unknown) =>
      (status.textContent = t('case:phrases.notLoaded', { reason: describeError(failure) })),
  );

  return h(
    'div',
    { class: 'phrase-picker' },
    h('p', { class: 'label' }, t('case:phrases.title')),
    list,
    status,
    h(
      'div',
      { class: 'phrase-add' },
      h('label', { for: 'new-phrase', class: 'visually-hidden' }, t('case:phrases.new')),
      input,
      add,
    ),
  );
}
