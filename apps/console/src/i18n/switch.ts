import { h } from '../dom.js';
import { currentLocale, t, useLocale, type Locale } from './i18n.js';

/**
 * The one-click language switch: names the other language in that language ("English" on a
 * Chinese page, "中文" on an English one), remembers the choice, then lets the page redraw.
 */
export function languageSwitch(onSwitched: () => void, userId?: string): HTMLButtonElement {
  const other: Locale = currentLocale() === 'zh-CN' ? 'en' : 'zh-CN';
  return h(
    'button',
    {
      type: 'button',
      class: 'button ghost language-switch',
      lang: other,
      'data-testid': 'language-switch',
      'aria-label': t('common:language.switchToLabel'),
      onclick: () => {
        useLocale(other, userId);
        onSwitched();
      },
    },
    t('common:language.switchTo'),
  );
}
