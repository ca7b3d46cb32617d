import enAccessLog from './locales/en/accessLog.json' with { type: 'json' };
import enCommon from './locales/en/common.json' with { type: 'json' };
import enGrantRevoke from './locales/en/grantRevoke.json' with { type: 'json' };
import zhAccessLog from './locales/zh-CN/accessLog.json' with { type: 'json' };
import zhCommon from './locales/zh-CN/common.json' with { type: 'json' };
import zhGrantRevoke from './locales/zh-CN/grantRevoke.json' with { type: 'json' };

/**
 * Every namespace in both languages. One JSON file per namespace and language, so a page's
 * words live beside each other and translators can use the usual tools; the key tests
 * (i18n.test.ts) hold the two languages to the same keys.
 */
export const RESOURCES = {
  'zh-CN': {
    common: zhCommon,
    accessLog: zhAccessLog,
    grantRevoke: zhGrantRevoke,
  },
  en: {
    common: enCommon,
    accessLog: enAccessLog,
    grantRevoke: enGrantRevoke,
  },
} as const;
