import enCase from './locales/en/case.json' with { type: 'json' };
import enCommon from './locales/en/common.json' with { type: 'json' };
import enEcg from './locales/en/ecg.json' with { type: 'json' };
import enErrors from './locales/en/errors.json' with { type: 'json' };
import enFormat from './locales/en/format.json' with { type: 'json' };
import enLogin from './locales/en/login.json' with { type: 'json' };
import enReport from './locales/en/report.json' with { type: 'json' };
import enShell from './locales/en/shell.json' with { type: 'json' };
import enWorklist from './locales/en/worklist.json' with { type: 'json' };
import zhCase from './locales/zh-CN/case.json' with { type: 'json' };
import zhCommon from './locales/zh-CN/common.json' with { type: 'json' };
import zhEcg from './locales/zh-CN/ecg.json' with { type: 'json' };
import zhErrors from './locales/zh-CN/errors.json' with { type: 'json' };
import zhFormat from './locales/zh-CN/format.json' with { type: 'json' };
import zhLogin from './locales/zh-CN/login.json' with { type: 'json' };
import zhReport from './locales/zh-CN/report.json' with { type: 'json' };
import zhShell from './locales/zh-CN/shell.json' with { type: 'json' };
import zhWorklist from './locales/zh-CN/worklist.json' with { type: 'json' };
import enShortcuts from './locales/en/shortcuts.json' with { type: 'json' };
import zhShortcuts from './locales/zh-CN/shortcuts.json' with { type: 'json' };

/**
 * Every namespace in both languages. One JSON file per namespace and language, so a page's
 * words live beside each other and translators can use the usual tools; the key tests
 * (i18n.test.ts) hold the two languages to the same keys.
 */
export const RESOURCES = {
  'zh-CN': {
    common: zhCommon,
    shell: zhShell,
    login: zhLogin,
    worklist: zhWorklist,
    case: zhCase,
    ecg: zhEcg,
    report: zhReport,
    errors: zhErrors,
    format: zhFormat,
    shortcuts: zhShortcuts,
  },
  en: {
    common: enCommon,
    shell: enShell,
    login: enLogin,
    worklist: enWorklist,
    case: enCase,
    ecg: enEcg,
    report: enReport,
    errors: enErrors,
    format: enFormat,
    shortcuts: enShortcuts,
  },
} as const;
