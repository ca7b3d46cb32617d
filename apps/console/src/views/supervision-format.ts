import { currentLocale } from '../i18n/i18n.js';

/** A count as the language writes numbers. */
export function formatCount(value: number): string {
  return new Intl.NumberFormat(currentLocale()).format(value);
}

/** A duration in minutes, as the language writes it ("15 分钟", "15 min"); – for none. */
export function formatMinutes(seconds: number | null): string {
  if (seconds === null) return '–';
  return new Intl.NumberFormat(currentLocale(), {
    style: 'unit',
    unit: 'minute',
    unitDisplay: 'short',
    maximumFractionDigits: seconds < 600 ? 1 : 0,
  }).format(seconds / 60);
}
