import type { CaseAnalysis, MEASUREMENT_KEYS, MeasurementReview } from '#contracts';
import { formatNumber } from './format.js';
import { t } from './i18n/i18n.js';

export type MeasurementKey = (typeof MEASUREMENT_KEYS)[number];
export type MeasurementValues = CaseAnalysis['measurements'];

export interface Measurement {
  readonly key: MeasurementKey;
  readonly label: string;
  readonly unit: string;
  readonly min: number;
  readonly max: number;
}

/**
 * Label, unit and the range a typed value must fall in (wide: it catches typos, not disease).
 * Label and unit are getters, so they are read in the language of the moment.
 */
export const MEASUREMENTS: readonly Measurement[] = [
  measurement('heartRateBpm', 'case:measure.heartRate', 'case:measure.perMinute', 10, 350),
  measurement('prMs', 'case:measure.pr', 'case:measure.ms', 40, 1000),
  measurement('qrsMs', 'case:measure.qrs', 'case:measure.ms', 20, 400),
  measurement('qtMs', 'case:measure.qt', 'case:measure.ms', 100, 1000),
  measurement('qtcMs', 'case:measure.qtc', 'case:measure.ms', 100, 1000),
  measurement('axisDegrees', 'case:measure.axis', 'case:measure.degrees', -180, 180),
];

function measurement(
  key: MeasurementKey,
  labelKey: string,
  unitKey: string,
  min: number,
  max: number,
): Measurement {
  return {
    key,
    get label() {
      return t(labelKey);
    },
    get unit() {
      return t(unitKey);
    },
    min,
    max,
  };
}

export function formatMeasurement(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : String(Math.round(value));
}

/**
 * The reader's review from what the fields hold: only values that differ from the
 * suggestion (as shown, rounded) count as corrections; an empty field corrects nothing.
 */
export function measurementReview(
  suggested: MeasurementValues,
  entered: Partial<Record<MeasurementKey, string>>,
  confirmed: boolean,
): { review: MeasurementReview } | { invalid: MeasurementKey; message: string } {
  const corrections: MeasurementReview['corrections'] = {};
  for (const { key, label, unit, min, max } of MEASUREMENTS) {
    const text = entered[key]?.trim() ?? '';
    if (text === '' || text === formatMeasurement(suggested[key])) continue;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) {
      return {
        invalid: key,
        message: t('case:measure.outOfRange', {
          label,
          min: formatNumber(min),
          max: formatNumber(max),
          unit,
        }),
      };
    }
    corrections[key] = value;
  }
  return { review: { confirmed, corrections } };
}
