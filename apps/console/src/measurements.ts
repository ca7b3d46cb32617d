import type { CaseAnalysis, MEASUREMENT_KEYS, MeasurementReview } from '#contracts';

export type MeasurementKey = (typeof MEASUREMENT_KEYS)[number];
export type MeasurementValues = CaseAnalysis['measurements'];

/** Label, unit and the range a typed value must fall in (wide: it catches typos, not disease). */
export const MEASUREMENTS: readonly {
  key: MeasurementKey;
  label: string;
  unit: string;
  min: number;
  max: number;
}[] = [
  { key: 'heartRateBpm', label: 'Heart rate', unit: '/min', min: 10, max: 350 },
  { key: 'prMs', label: 'PR', unit: 'ms', min: 40, max: 1000 },
  { key: 'qrsMs', label: 'QRS', unit: 'ms', min: 20, max: 400 },
  { key: 'qtMs', label: 'QT', unit: 'ms', min: 100, max: 1000 },
  { key: 'qtcMs', label: 'QTc', unit: 'ms', min: 100, max: 1000 },
  { key: 'axisDegrees', label: 'Axis', unit: '°', min: -180, max: 180 },
];

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
      return { invalid: key, message: `${label} must be a number from ${min} to ${max} ${unit}.` };
    }
    corrections[key] = value;
  }
  return { review: { confirmed, corrections } };
}
