import type { CaseAnalysis, DeviceMeasurementValues } from '#contracts';
import { h } from './dom.js';
import { t } from './i18n/i18n.js';
import { formatMeasurement } from './measurements.js';

type DeviceKey = Exclude<keyof DeviceMeasurementValues, 'statements' | 'rrMs'>;
type RelayKey = keyof CaseAnalysis['measurements'];

/**
 * The rows compared, in the order an ECG report lists them: the relay's own measurement
 * (null where it measures none, e.g. the P and T axes) beside what the electrocardiograph
 * wrote into the file. The relay's axis is the QRS axis.
 */
const ROWS: readonly { device: DeviceKey; relay: RelayKey | null; label: string; unit: string }[] =
  [
    {
      device: 'heartRateBpm',
      relay: 'heartRateBpm',
      label: 'case:measure.heartRate',
      unit: 'case:measure.perMinute',
    },
    { device: 'prMs', relay: 'prMs', label: 'case:measure.pr', unit: 'case:measure.ms' },
    { device: 'qrsMs', relay: 'qrsMs', label: 'case:measure.qrs', unit: 'case:measure.ms' },
    { device: 'qtMs', relay: 'qtMs', label: 'case:measure.qt', unit: 'case:measure.ms' },
    { device: 'qtcMs', relay: 'qtcMs', label: 'case:measure.qtc', unit: 'case:measure.ms' },
    { device: 'pAxisDeg', relay: null, label: 'case:device.pAxis', unit: 'case:measure.degrees' },
    {
      device: 'qrsAxisDeg',
      relay: 'axisDegrees',
      label: 'case:device.qrsAxis',
      unit: 'case:measure.degrees',
    },
    { device: 'tAxisDeg', relay: null, label: 'case:device.tAxis', unit: 'case:measure.degrees' },
  ];

function cell(value: number | null | undefined, unit: string): string {
  const text = formatMeasurement(value);
  return text ? `${text} ${unit}` : '—';
}

/**
 * The relay's measurements and the device's side by side (设备测量 / Device), with the
 * device's interpretation statements under them as the file gives them: the cart's own
 * words, in the cart's language, never translated or altered.
 */
export function measurementComparison(
  relay: CaseAnalysis['measurements'] | null,
  device: DeviceMeasurementValues,
): HTMLElement {
  const rows = ROWS.filter(
    (row) => device[row.device] !== undefined || (row.relay && relay?.[row.relay] != null),
  );
  const statements = device.statements ?? [];
  return h(
    'div',
    { class: 'device-measurements', 'data-testid': 'device-measurements' },
    h(
      'table',
      { class: 'measurement-comparison' },
      h('caption', {}, t('case:device.caption')),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, t('case:device.measurement')),
          h('th', { scope: 'col', 'data-column': 'relay' }, t('case:device.relay')),
          h('th', { scope: 'col', 'data-column': 'device' }, t('case:device.device')),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((row) => {
          const unit = t(row.unit);
          return h(
            'tr',
            { 'data-measure': row.device },
            h('th', { scope: 'row' }, t(row.label)),
            h('td', { 'data-column': 'relay' }, cell(row.relay ? relay?.[row.relay] : null, unit)),
            h('td', { 'data-column': 'device' }, cell(device[row.device], unit)),
          );
        }),
      ),
    ),
    statements.length > 0
      ? h(
          'div',
          { class: 'device-statements' },
          h('h3', {}, t('case:device.statements')),
          h(
            'ul',
            { 'data-testid': 'device-statements' },
            statements.map((statement) => h('li', {}, statement)),
          ),
        )
      : null,
  );
}
