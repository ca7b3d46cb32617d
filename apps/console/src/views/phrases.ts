import type { Phrase } from '#contracts';
import { describeError } from '../api.js';
import { h, replaceContent } from '../dom.js';
import { insertPhrase } from '../format.js';
import type { ConsoleContext } from './context.js';

/**
 * The hospital's reusable phrases beside the conclusion: a click puts one where the caret
 * is; readers add and remove them for everyone at their hospital.
 */
export function phrasePicker(ctx: ConsoleContext, target: HTMLTextAreaElement): HTMLElement {
  let phrases: Phrase[] = [];
  const list = h('ul', { class: 'phrases', 'aria-label': 'Phrases of your hospital' });
  const status = h('p', { class: 'hint', role: 'status' }, 'Loading phrases…');
  const input = h('input', {
    id: 'new-phrase',
    type: 'text',
    maxlength: 500,
    autocomplete: 'off',
    placeholder: 'New phrase',
  });
  const add = h('button', { type: 'button', class: 'button small secondary' }, 'Save phrase');

  function render(): void {
    status.textContent = phrases.length === 0 ? 'No phrases yet.' : '';
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
              title: 'Insert into the conclusion',
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
              'aria-label': `Remove phrase: ${phrase.text}`,
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
      status.textContent = `Not removed: ${describeError(failure)}`;
    }
  }

  async function save(): Promise<void> {
    const text = input.value.trim();
    if (!text) return;
    add.disabled = true;
    try {
      const saved = await ctx.api.addPhrase(text);
      phrases = [...phrases.filter((known) => known.id !== saved.id), saved].sort((a, b) =>
        a.text.localeCompare(b.text),
      );
      input.value = '';
      render();
    } catch (failure) {
      status.textContent = `Not saved: ${describeError(failure)}`;
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
    (failure: unknown) => (status.textContent = `Phrases not loaded: ${describeError(failure)}`),
  );

  return h(
    'div',
    { class: 'phrase-picker' },
    h('p', { class: 'label' }, 'Phrases'),
    list,
    status,
    h(
      'div',
      { class: 'phrase-add' },
      h('label', { for: 'new-phrase', class: 'visually-hidden' }, 'New phrase'),
      input,
      add,
    ),
  );
}
