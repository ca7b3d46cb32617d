import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CommonScaleError, toCommonScale, type CalibratedLead } from '../common-scale.js';
import {
  EcgFileError,
  type DeviceMeasurements,
  type EcgFileErrorCode,
  type EcgFileRecording,
} from './types.js';

/*
 * HL7 v3 annotated ECG reader (HL7 Version 3 Standard: Regulated Studies – Annotated ECG,
 * release 1, 2004; message type PORT_MT020001; codes from ISO/IEEE 11073-10101 "MDC").
 * Structure read:
 *   AnnotatedECG/component/series[code=RHYTHM]/component/sequenceSet/component/sequence
 *     - code TIME_ABSOLUTE | TIME_RELATIVE, value GLIST_TS | GLIST_PQ (head, increment)
 *     - code MDC_ECG_LEAD_*, value SLIST_PQ | SLIST_INT (origin, scale, digits):
 *       physical value = origin + scale × digit (aECG implementation guide §5.3.3)
 *   …/series/subjectOf/annotationSet (and the derived representative-beat series'
 *   annotation sets) → the device's own measurements and statements.
 * Representative beats (derivation/derivedSeries) never become the recording.
 */

const FORMAT = 'hl7-aecg';

/** The largest aECG document the relay parses (a 10-minute 12-lead rhythm strip is ~25 MB). */
const MAX_BYTES = 64 * 1024 * 1024;

function fail(code: EcgFileErrorCode, message: string): never {
  throw new EcgFileError(code, FORMAT, message);
}

type XmlNode = Record<string, unknown>;

// Entities are not expanded (no DOCTYPE expansion, no billion-laughs), namespace prefixes
// are dropped (HL7 files use both default and "hl7:" prefixes), every element is a list.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  alwaysCreateTextNode: true,
  isArray: (_name, _path, _isLeaf, isAttribute) => !isAttribute,
});

const children = (node: XmlNode | undefined, name: string): XmlNode[] => {
  const v = node?.[name];
  return Array.isArray(v) ? (v as XmlNode[]) : [];
};
const child = (node: XmlNode | undefined, name: string): XmlNode | undefined =>
  children(node, name)[0];
const attr = (node: XmlNode | undefined, name: string): string | undefined => {
  const v = node?.[`@${name}`];
  return typeof v === 'string' ? v : undefined;
};
const text = (node: XmlNode | undefined): string => {
  const v = node?.['#text'];
  return typeof v === 'string' ? v : '';
};
const codeOf = (node: XmlNode | undefined) => attr(child(node, 'code'), 'code');

/** Micro-units per unit for the physical quantities aECG uses (UCUM). */
const VOLTS: Record<string, number> = { nV: 1e-3, uV: 1, µV: 1, mV: 1e3, V: 1e6 };
const SECONDS: Record<string, number> = { s: 1, ms: 1e-3, us: 1e-6 };

function quantity(
  node: XmlNode | undefined,
  what: string,
): { value: number; unit: string | undefined } {
  const raw = attr(node, 'value');
  const value = raw === undefined ? NaN : Number(raw);
  if (!Number.isFinite(value)) fail('ECG_FILE_INVALID', `${what} has no usable value`);
  return { value, unit: attr(node, 'unit') };
}

/** HL7 TS (YYYYMMDDHHMMSS[.S][±ZZZZ]) → ISO 8601; UTC when a zone is given. */
export function hl7TimeToIso(ts: string | undefined): string | null {
  const m = ts
    ? /^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$/.exec(ts)
    : null;
  if (!m) return null;
  const [y, mo, d, h = '00', mi = '00', s = '00'] = m.slice(1, 7) as string[];
  const zone = m[7];
  const nums = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  if (
    nums[1] < 1 ||
    nums[1] > 12 ||
    nums[2] < 1 ||
    nums[2] > 31 ||
    nums[3] > 23 ||
    nums[4] > 59 ||
    nums[5] > 59
  ) {
    return null;
  }
  const local = `${y}-${mo}-${d}T${h}:${mi}:${s}`;
  if (!zone) return local;
  const sign = zone.startsWith('-') ? -1 : 1;
  const offset = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  const utc = Date.UTC(nums[0], nums[1] - 1, nums[2], nums[3], nums[4], nums[5]) - offset * 60_000;
  return new Date(utc).toISOString().replace('.000Z', 'Z');
}

/** MDC_ECG_LEAD_AVR → aVR; MDC_ECG_LEAD_I → I; unknown suffixes are kept as written. */
function leadName(code: string): string {
  const suffix = code.slice('MDC_ECG_LEAD_'.length);
  const augmented: Record<string, string> = { AVR: 'aVR', AVL: 'aVL', AVF: 'aVF' };
  return augmented[suffix] ?? suffix;
}

function parseDigits(digits: string, lead: string): Float64Array {
  const parts = digits.trim().split(/\s+/);
  if (parts.length === 1 && parts[0] === '')
    fail('ECG_FILE_INVALID', `lead ${lead} has no samples`);
  const out = new Float64Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const v = Number(parts[i]);
    if (!Number.isFinite(v))
      fail('ECG_FILE_INVALID', `lead ${lead}: sample ${i + 1} is not a number`);
    out[i] = v;
  }
  return out;
}

function readSequenceSet(
  set: XmlNode,
  warnings: string[],
): { leads: CalibratedLead[]; sampleRateHz: number; startedAt: string | null } {
  let sampleRateHz: number | null = null;
  let startedAt: string | null = null;
  const leads: CalibratedLead[] = [];
  for (const component of children(set, 'component')) {
    const sequence = child(component, 'sequence');
    const code = codeOf(sequence);
    const value = child(sequence, 'value');
    const type = attr(value, 'type');
    if (code === 'TIME_ABSOLUTE' || code === 'TIME_RELATIVE') {
      if (type !== 'GLIST_TS' && type !== 'GLIST_PQ') {
        fail(
          'ECG_FILE_UNSUPPORTED',
          `sample times given as ${type ?? 'an unknown type'}; only regular sampling (GLIST) is read`,
        );
      }
      const increment = quantity(child(value, 'increment'), 'the time increment');
      const perUnit = SECONDS[increment.unit ?? 's'];
      if (perUnit === undefined)
        fail('ECG_FILE_INVALID', `time increment unit "${increment.unit}" is not understood`);
      const seconds = increment.value * perUnit;
      if (!(seconds > 0) || seconds > 1)
        fail(
          'ECG_FILE_INVALID',
          `time increment ${increment.value} ${increment.unit ?? 's'} is not usable`,
        );
      sampleRateHz = 1 / seconds;
      // Round a rate read from a decimal increment (0.002 s → 500 Hz, not 499.99…).
      if (Math.abs(sampleRateHz - Math.round(sampleRateHz)) < 1e-6)
        sampleRateHz = Math.round(sampleRateHz);
      if (code === 'TIME_ABSOLUTE') startedAt = hl7TimeToIso(attr(child(value, 'head'), 'value'));
      continue;
    }
    if (!code?.startsWith('MDC_ECG_LEAD_')) {
      if (code) warnings.push(`sequence ${code} is not a lead; left out`);
      continue;
    }
    const name = leadName(code);
    if (type !== 'SLIST_PQ' && type !== 'SLIST_INT') {
      fail(
        'ECG_FILE_UNSUPPORTED',
        `lead ${name} is stored as ${type ?? 'an unknown type'}; only SLIST_PQ and SLIST_INT are read`,
      );
    }
    const scale = quantity(child(value, 'scale'), `lead ${name} scale`);
    const originNode = child(value, 'origin');
    const origin = originNode
      ? quantity(originNode, `lead ${name} origin`)
      : { value: 0, unit: scale.unit };
    let scaleUv: number;
    let originUv: number;
    if (type === 'SLIST_INT') {
      // SLIST_INT carries no unit; aECG writers use it for µV.
      warnings.push(`lead ${name} has no unit (SLIST_INT); microvolts assumed`);
      scaleUv = scale.value;
      originUv = origin.value;
    } else {
      const scaleFactor = VOLTS[scale.unit ?? ''];
      const originFactor = VOLTS[origin.unit ?? scale.unit ?? ''];
      if (scaleFactor === undefined || originFactor === undefined) {
        fail('ECG_FILE_INVALID', `lead ${name} is scaled in "${scale.unit}", not a voltage`);
      }
      scaleUv = scale.value * scaleFactor;
      originUv = origin.value * originFactor;
    }
    leads.push({
      name,
      values: parseDigits(text(child(value, 'digits')), name),
      microvoltsPerUnit: scaleUv,
      baselineMicrovolts: originUv,
    });
  }
  if (sampleRateHz === null)
    fail('ECG_FILE_INVALID', 'the sequence set has no time sequence, so no sample rate');
  if (leads.length === 0) fail('ECG_FILE_INVALID', 'the rhythm series has no leads');
  return { leads, sampleRateHz, startedAt };
}

/** Milliseconds from a PQ in s or ms. */
function toMs(q: { value: number; unit: string | undefined }): number | undefined {
  const perUnit = SECONDS[q.unit ?? 'ms'];
  return perUnit === undefined ? undefined : q.value * perUnit * 1000;
}

const MEASUREMENT_CODES: Record<string, keyof Omit<DeviceMeasurements, 'statements'>> = {
  MDC_ECG_HEART_RATE: 'heartRateBpm',
  MDC_ECG_TIME_PD_RR: 'rrMs',
  MDC_ECG_TIME_PD_PR: 'prMs',
  MDC_ECG_TIME_PD_QRS: 'qrsMs',
  MDC_ECG_TIME_PD_QT: 'qtMs',
  MDC_ECG_ANGLE_P_FRONT: 'pAxisDeg',
  MDC_ECG_ANGLE_QRS_FRONT: 'qrsAxisDeg',
  MDC_ECG_ANGLE_T_FRONT: 'tAxisDeg',
};

/**
 * Collects the device's global measurements: the first value for each code, walking
 * annotation sets in document order and skipping the per-beat annotations (MDC_ECG_BEAT),
 * which repeat the measurements beat by beat.
 */
function readAnnotations(sets: XmlNode[]): DeviceMeasurements {
  const m: DeviceMeasurements = {};
  const statements: string[] = [];
  const visit = (annotation: XmlNode, depth: number) => {
    if (depth > 16) return;
    const code = codeOf(annotation) ?? '';
    if (code === 'MDC_ECG_BEAT') return;
    const value = child(annotation, 'value');
    const type = attr(value, 'type');
    const key = code.startsWith('MDC_ECG_TIME_PD_QTc') ? 'qtcMs' : MEASUREMENT_CODES[code];
    if (key && type === 'PQ' && m[key] === undefined) {
      const raw = Number(attr(value, 'value'));
      const unit = attr(value, 'unit');
      if (Number.isFinite(raw)) {
        const v = key.endsWith('Ms') ? toMs({ value: raw, unit }) : raw;
        if (v !== undefined) m[key] = v;
      }
    }
    if (code.startsWith('MDC_ECG_INTERPRETATION') || code === 'MDC_ECG_RHY') {
      const said = type === 'CE' ? attr(value, 'displayName') : text(value).trim();
      if (said) statements.push(said);
    }
    for (const component of children(annotation, 'component')) {
      for (const inner of children(component, 'annotation')) visit(inner, depth + 1);
    }
  };
  for (const set of sets) {
    for (const component of children(set, 'component')) {
      for (const annotation of children(component, 'annotation')) visit(annotation, 0);
    }
  }
  if (statements.length > 0) m.statements = statements;
  return m;
}

/**
 * Reads an HL7 v3 annotated ECG into the relay's common scale: the rhythm series'
 * leads, each with its own origin and scale, and the device's measurements.
 */
export function readHl7Aecg(bytes: Uint8Array): EcgFileRecording {
  if (bytes.length > MAX_BYTES)
    fail('ECG_FILE_UNSUPPORTED', `the file is larger than ${MAX_BYTES} bytes`);
  let xml: string;
  try {
    xml = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail('ECG_FILE_INVALID', 'the file is not UTF-8 text');
  }
  if (/<!ENTITY/i.test(xml))
    fail('ECG_FILE_INVALID', 'the document declares XML entities; refused');
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const closed = /<\/(?:[\w.-]+:)?AnnotatedECG\s*>\s*$/.test(xml);
    fail(
      closed ? 'ECG_FILE_INVALID' : 'ECG_FILE_TRUNCATED',
      `the XML is not well formed (line ${valid.err.line}: ${valid.err.msg})`,
    );
  }
  let doc: XmlNode;
  try {
    doc = parser.parse(xml) as XmlNode;
  } catch (error) {
    fail('ECG_FILE_INVALID', `the XML cannot be parsed (${(error as Error).message})`);
  }
  const root = child(doc, 'AnnotatedECG');
  if (!root) fail('ECG_FILE_UNRECOGNISED', 'the XML root is not AnnotatedECG');
  const warnings: string[] = [];

  const series = children(root, 'component').flatMap((c) => children(c, 'series'));
  const rhythm = series.filter((s) => codeOf(s) === 'RHYTHM');
  const chosen = rhythm[0] ?? series.find((s) => codeOf(s) !== 'REPRESENTATIVE_BEAT');
  if (!chosen) fail('ECG_FILE_INVALID', 'the document has no rhythm series');
  if (!rhythm[0]) warnings.push(`series coded ${codeOf(chosen) ?? '(none)'} read as the rhythm`);
  if (series.length > 1)
    warnings.push(`${series.length} series in the file; the first rhythm series was read`);
  const sets = children(chosen, 'component').flatMap((c) => children(c, 'sequenceSet'));
  if (sets.length === 0) fail('ECG_FILE_INVALID', 'the rhythm series has no sequence set');
  if (sets.length > 1)
    warnings.push(`${sets.length} sequence sets in the rhythm series; the first was read`);
  const { leads, sampleRateHz, startedAt } = readSequenceSet(sets[0]!, warnings);

  let scaled;
  try {
    scaled = toCommonScale(leads, sampleRateHz);
  } catch (error) {
    if (error instanceof CommonScaleError) fail('ECG_FILE_INVALID', error.message);
    throw error;
  }

  const derived = children(chosen, 'derivation').flatMap((d) => children(d, 'derivedSeries'));
  const annotationSets = [chosen, ...derived].flatMap((s) =>
    children(s, 'subjectOf').flatMap((o) => children(o, 'annotationSet')),
  );
  const measurements = readAnnotations(annotationSets);
  const effective = child(chosen, 'effectiveTime') ?? child(root, 'effectiveTime');
  const fallbackTime =
    attr(child(effective, 'low'), 'value') ?? attr(child(effective, 'center'), 'value');
  return {
    format: FORMAT,
    leads: scaled.leads,
    sampleRateHz: scaled.sampleRateHz,
    microvoltsPerLsb: scaled.microvoltsPerLsb,
    samples: scaled.samples,
    startedAt: startedAt ?? hl7TimeToIso(fallbackTime),
    deviceMeasurements: Object.keys(measurements).length > 0 ? measurements : null,
    warnings: [...warnings, ...scaled.warnings],
  };
}
