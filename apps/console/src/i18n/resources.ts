import enBoxes from './locales/en/boxes.json' with { type: 'json' };
import enCommon from './locales/en/common.json' with { type: 'json' };
import enImaging from './locales/en/imaging.json' with { type: 'json' };
import enOrders from './locales/en/orders.json' with { type: 'json' };
import enRecords from './locales/en/records.json' with { type: 'json' };
import enUpload from './locales/en/upload.json' with { type: 'json' };
import zhBoxes from './locales/zh-CN/boxes.json' with { type: 'json' };
import zhCommon from './locales/zh-CN/common.json' with { type: 'json' };
import zhImaging from './locales/zh-CN/imaging.json' with { type: 'json' };
import zhOrders from './locales/zh-CN/orders.json' with { type: 'json' };
import zhRecords from './locales/zh-CN/records.json' with { type: 'json' };
import zhUpload from './locales/zh-CN/upload.json' with { type: 'json' };

/**
 * Every namespace in both languages. One JSON file per namespace and language, so a page's
 * words live beside each other and translators can use the usual tools; the key tests
 * (i18n.test.ts) hold the two languages to the same keys.
 */
export const RESOURCES = {
  'zh-CN': {
    common: zhCommon,
    upload: zhUpload,
    imaging: zhImaging,
    orders: zhOrders,
    records: zhRecords,
    boxes: zhBoxes,
  },
  en: {
    common: enCommon,
    upload: enUpload,
    imaging: enImaging,
    orders: enOrders,
    records: enRecords,
    boxes: enBoxes,
  },
} as const;
