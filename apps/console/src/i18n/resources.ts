import enAccessLog from './locales/en/accessLog.json' with { type: 'json' };
import enAdmin from './locales/en/admin.json' with { type: 'json' };
import enBoxes from './locales/en/boxes.json' with { type: 'json' };
import enCase from './locales/en/case.json' with { type: 'json' };
import enCommon from './locales/en/common.json' with { type: 'json' };
import enEcg from './locales/en/ecg.json' with { type: 'json' };
import enEcgUpload from './locales/en/ecgUpload.json' with { type: 'json' };
import enEcgFlags from './locales/en/ecgFlags.json' with { type: 'json' };
import enErrors from './locales/en/errors.json' with { type: 'json' };
import enFormat from './locales/en/format.json' with { type: 'json' };
import enGrantRevoke from './locales/en/grantRevoke.json' with { type: 'json' };
import enImaging from './locales/en/imaging.json' with { type: 'json' };
import enLogin from './locales/en/login.json' with { type: 'json' };
import enOrders from './locales/en/orders.json' with { type: 'json' };
import enRecords from './locales/en/records.json' with { type: 'json' };
import enReport from './locales/en/report.json' with { type: 'json' };
import enShell from './locales/en/shell.json' with { type: 'json' };
import enShortcuts from './locales/en/shortcuts.json' with { type: 'json' };
import enSupervision from './locales/en/supervision.json' with { type: 'json' };
import enUpload from './locales/en/upload.json' with { type: 'json' };
import enWorklist from './locales/en/worklist.json' with { type: 'json' };
import zhAccessLog from './locales/zh-CN/accessLog.json' with { type: 'json' };
import zhAdmin from './locales/zh-CN/admin.json' with { type: 'json' };
import zhBoxes from './locales/zh-CN/boxes.json' with { type: 'json' };
import zhCase from './locales/zh-CN/case.json' with { type: 'json' };
import zhCommon from './locales/zh-CN/common.json' with { type: 'json' };
import zhEcg from './locales/zh-CN/ecg.json' with { type: 'json' };
import zhEcgUpload from './locales/zh-CN/ecgUpload.json' with { type: 'json' };
import zhEcgFlags from './locales/zh-CN/ecgFlags.json' with { type: 'json' };
import zhErrors from './locales/zh-CN/errors.json' with { type: 'json' };
import zhFormat from './locales/zh-CN/format.json' with { type: 'json' };
import zhGrantRevoke from './locales/zh-CN/grantRevoke.json' with { type: 'json' };
import zhImaging from './locales/zh-CN/imaging.json' with { type: 'json' };
import zhLogin from './locales/zh-CN/login.json' with { type: 'json' };
import zhOrders from './locales/zh-CN/orders.json' with { type: 'json' };
import zhRecords from './locales/zh-CN/records.json' with { type: 'json' };
import zhReport from './locales/zh-CN/report.json' with { type: 'json' };
import zhShell from './locales/zh-CN/shell.json' with { type: 'json' };
import zhShortcuts from './locales/zh-CN/shortcuts.json' with { type: 'json' };
import zhSupervision from './locales/zh-CN/supervision.json' with { type: 'json' };
import zhUpload from './locales/zh-CN/upload.json' with { type: 'json' };
import zhWorklist from './locales/zh-CN/worklist.json' with { type: 'json' };

/**
 * Every namespace in both languages. One JSON file per namespace and language, so a page's
 * words live beside each other and translators can use the usual tools; the key tests
 * (i18n.test.ts) hold the two languages to the same keys.
 */
export const RESOURCES = {
  'zh-CN': {
    accessLog: zhAccessLog,
    admin: zhAdmin,
    boxes: zhBoxes,
    case: zhCase,
    common: zhCommon,
    ecg: zhEcg,
    ecgFlags: zhEcgFlags,
    ecgUpload: zhEcgUpload,
    errors: zhErrors,
    format: zhFormat,
    grantRevoke: zhGrantRevoke,
    imaging: zhImaging,
    login: zhLogin,
    orders: zhOrders,
    records: zhRecords,
    report: zhReport,
    shell: zhShell,
    shortcuts: zhShortcuts,
    supervision: zhSupervision,
    upload: zhUpload,
    worklist: zhWorklist,
  },
  en: {
    accessLog: enAccessLog,
    admin: enAdmin,
    boxes: enBoxes,
    case: enCase,
    common: enCommon,
    ecg: enEcg,
    ecgFlags: enEcgFlags,
    ecgUpload: enEcgUpload,
    errors: enErrors,
    format: enFormat,
    grantRevoke: enGrantRevoke,
    imaging: enImaging,
    login: enLogin,
    orders: enOrders,
    records: enRecords,
    report: enReport,
    shell: enShell,
    shortcuts: enShortcuts,
    supervision: enSupervision,
    upload: enUpload,
    worklist: enWorklist,
  },
} as const;
