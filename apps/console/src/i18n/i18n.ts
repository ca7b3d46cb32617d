import { createInstance, type TOptions } from 'i18next';
import { RESOURCES } from './resources.js';

/**
 * The console's languages. Simplified Chinese is the default: the clinics and hospitals that
 * use Telerelay work in Chongqing. English is one click away (the switch in the top bar and on
 * the sign-in page).
 */
export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'zh-CN';

const DEVICE_KEY = 'telerelay.locale';
const userKey = (userId: string) => `telerelay.locale.user.${userId}`;

const i18n = createInstance();
void i18n.init({
  resources: RESOURCES,
  lng: DEFAULT_LOCALE,
  fallbackLng: false,
  supportedLngs: [...LOCALES],
  ns: Object.keys(RESOURCES[DEFAULT_LOCALE]),
  defaultNS: 'common',
  nsSeparator: ':',
  keySeparator: '.',
  // Text is always set as text (dom.ts), never parsed as HTML: nothing to escape here.
  interpolation: { escapeValue: false },
  initAsync: false,
  returnNull: false,
});

/**
 * The translation of `key` ("namespace:path.to.key") in the current language. A missing key
 * shows as the key itself, and the key tests fail on it.
 */
export function t(key: string, options: TOptions = {}): string {
  return i18n.t(key, options) as string;
}

/** Whether `key` has a text in the current language (for texts chosen by a code the relay sends). */
export function hasTranslation(key: string): boolean {
  return i18n.exists(key);
}

export function currentLocale(): Locale {
  return isLocale(i18n.language) ? i18n.language : DEFAULT_LOCALE;
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/**
 * Switches the language and remembers the choice on this browser: for the signed-in user (so
 * colleagues sharing a clinic's computer each keep their own) and as the sign-in page's
 * language. Callers re-render; nothing here touches the page except `<html lang>`.
 */
export function useLocale(locale: Locale, userId?: string): void {
  void i18n.changeLanguage(locale);
  document.documentElement.lang = locale;
  remember(DEVICE_KEY, locale);
  if (userId) remember(userKey(userId), locale);
}

/**
 * The language to start in. Signed in: the user's own choice, else Chinese — a colleague who
 * switched to English on the clinic's shared computer does not switch it for everyone. The
 * sign-in page: this browser's last choice, else Chinese.
 */
export function preferredLocale(userId?: string): Locale {
  const stored = recall(userId ? userKey(userId) : DEVICE_KEY);
  return isLocale(stored) ? stored : DEFAULT_LOCALE;
}

function remember(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Storage refused (private mode, quota): the choice holds for this page only.
  }
}

function recall(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}
