import type dicomParser from 'dicom-parser';
import type { DeviceMeasurements } from '#ecg';

/**
 * PS3.3 C.10.10 Waveform Annotation Module: what the electrocardiograph measured and said
 * (Waveform Annotation Sequence (0040,B020)). A measurement is an item with a Concept Name
 * Code Sequence (0040,A043), a Numeric Value (0040,A30A) and Measurement Units Code Sequence
 * (0040,08EA); an interpretation statement is an item with an Unformatted Text Value
 * (0070,0006). Concept names come as SCP-ECG codes (EN 1064 Annex B, "5.13.5-7" PR interval,
 * the scheme most carts use, PS3.16 CID 3678 lists them) or as MDC codes; the meaning text
 * is read as well, so a cart with another coding is still understood when it names them
 * plainly. Fiducial points (onsets, offsets) are not measurements and are left out.
 */

const tag = {
  annotations: 'x0040b020',
  conceptName: 'x0040a043',
  numericValue: 'x0040a30a',
  units: 'x004008ea',
  text: 'x00700006',
  codeValue: 'x00080100',
  meaning: 'x00080104',
} as const;

type NumericKey = Exclude<keyof DeviceMeasurements, 'statements'>;

/** SCP-ECG concept codes of global measurements (EN 1064:2005 Annex B, as in PS3.16 CID 3678). */
const SCPECG_CODES: Record<string, NumericKey> = {
  '5.10.2.1-3': 'rrMs',
  '5.13.5-7': 'prMs',
  '5.13.5-9': 'qrsMs',
  '5.13.5-11': 'qtMs',
  '5.10.2.5-5': 'qtcMs',
  '5.10.3-11': 'pAxisDeg',
  '5.10.3-13': 'qrsAxisDeg',
  '5.10.3-15': 'tAxisDeg',
};

/** The concept's meaning, for codes not in the table. */
const MEANINGS: [RegExp, NumericKey][] = [
  [/^(ventricular |heart )?rate\b/i, 'heartRateBpm'],
  [/^rr\b/i, 'rrMs'],
  [/^pr\b/i, 'prMs'],
  [/^qrs (duration|interval)/i, 'qrsMs'],
  [/^qtc\b/i, 'qtcMs'],
  [/^qt\b/i, 'qtMs'],
  [/^p axis/i, 'pAxisDeg'],
  [/^qrs axis/i, 'qrsAxisDeg'],
  [/^t axis/i, 'tAxisDeg'],
];

/** UCUM units a measurement may come in, to the unit DeviceMeasurements keeps. */
const TO_MS: Record<string, number> = { ms: 1, s: 1000 };

function text(dataSet: dicomParser.DataSet, t: string): string | null {
  return dataSet.string(t)?.trim() || null;
}

function firstItem(dataSet: dicomParser.DataSet, t: string): dicomParser.DataSet | null {
  return dataSet.elements[t]?.items?.[0]?.dataSet ?? null;
}

function keyOf(concept: dicomParser.DataSet): NumericKey | null {
  const code = text(concept, tag.codeValue);
  if (code && SCPECG_CODES[code]) return SCPECG_CODES[code];
  const meaning = text(concept, tag.meaning) ?? '';
  return MEANINGS.find(([pattern]) => pattern.test(meaning))?.[1] ?? null;
}

/**
 * The device's global measurements and statements, or null when the file carries none.
 * A value in a unit it cannot convert is left out and said in `warnings`.
 */
export function readWaveformAnnotations(
  dataSet: dicomParser.DataSet,
  warnings: string[],
): DeviceMeasurements | null {
  const items = dataSet.elements[tag.annotations]?.items ?? [];
  const found: DeviceMeasurements = {};
  const statements: string[] = [];
  for (const item of items) {
    const d = item.dataSet;
    if (!d) continue;
    const statement = text(d, tag.text);
    const concept = firstItem(d, tag.conceptName);
    if (!concept) {
      if (statement) statements.push(statement);
      continue;
    }
    const key = keyOf(concept);
    const value = d.floatString(tag.numericValue);
    if (key === null || value === undefined || !Number.isFinite(value)) continue;
    // Only the first value of a concept: later ones are per-lead or per-beat repeats.
    if (found[key] !== undefined) continue;
    const unit = text(firstItem(d, tag.units) ?? d, tag.codeValue);
    if (key === 'heartRateBpm') {
      if (unit !== null && unit !== '/min' && unit !== '{beats}/min') {
        warnings.push(`device heart rate in ${unit} left out`);
        continue;
      }
      found[key] = value;
    } else if (key.endsWith('Deg')) {
      if (unit !== null && unit !== 'deg') {
        warnings.push(`device ${key} in ${unit} left out`);
        continue;
      }
      found[key] = value;
    } else {
      const scale = unit === null ? 1 : TO_MS[unit];
      if (scale === undefined) {
        warnings.push(`device ${key} in ${unit} left out`);
        continue;
      }
      found[key] = value * scale;
    }
  }
  // A cart that writes RR but not the rate: the rate it implies.
  if (found.heartRateBpm === undefined && found.rrMs && found.rrMs > 0) {
    found.heartRateBpm = Math.round(60_000 / found.rrMs);
  }
  if (statements.length > 0) found.statements = statements;
  return Object.keys(found).length > 0 ? found : null;
}
