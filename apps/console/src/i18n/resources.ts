import enAdmin from './locales/en/admin.json' with { type: 'json' };
import enCommon from './locales/en/common.json' with { type: 'json' };
import zhAdmin from './locales/zh-CN/admin.json' with { type: 'json' };
import zhCommon from './locales/zh-CN/common.json' with { type: 'json' };

/**
 * Every namespace in both languages. One JSON file per namespace and language, so a page's
 * words live beside each other and translators can use the usual tools; the key tests
 * (i18n.test.ts) hold the two languages to the same keys.
 */
export const RESOURCES = {
  'zh-CN': { common: zhCommon, admin: zhAdmin },
  en: { common: enCommon, admin: enAdmin },
} as const;
