import type dicomParser from 'dicom-parser';
import { textDecoding, type TextDecoding } from './charset.js';
import type { DicomJsonAttribute, DicomJsonPersonName } from './types.js';
import { vrOfTag } from './vr-dictionary.js';

/**
 * A dicom-parser data set as PS3.18 §F.2 DICOM JSON. Bulk data (Pixel Data, Waveform Data,
 * the encapsulated document, overlay and curve data, and any other binary value longer than
 * INLINE_BINARY_LIMIT) is left out: the relay serves it through its own WADO-RS URLs.
 */

/** Binary values up to this many bytes are kept inline (InlineBinary, base64). */
export const INLINE_BINARY_LIMIT = 256;

const BULK_TAGS = new Set([
  'x7fe00010', // Pixel Data
  'x7fe00008', // Float Pixel Data
  'x7fe00009', // Double Float Pixel Data
  'x7fe00001', // Extended Offset Table
  'x7fe00002', // Extended Offset Table Lengths
  'x54001010', // Waveform Data
  'x00420011', // Encapsulated Document
  'x56000020', // Spectroscopy Data
]);
const TEXT_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UC', 'UT', 'PN']);
const SINGLE_VALUED_STRING_VRS = new Set(['LT', 'ST', 'UT', 'UR']);
const STRING_VRS = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DT',
  'LO',
  'LT',
  'SH',
  'ST',
  'TM',
  'UC',
  'UI',
  'UR',
  'UT',
]);
/** Longest value each string VR allows (PS3.5 Table 6.2-1); characters for text VRs, bytes otherwise. */
const MAX_LENGTH: Record<string, number> = {
  AE: 16,
  AS: 4,
  CS: 16,
  DA: 8,
  DS: 16,
  DT: 26,
  IS: 12,
  LO: 64,
  PN: 64,
  SH: 16,
  TM: 16,
  UI: 64,
};
const MAX_WARNINGS = 20;

function warn(context: JsonContext, message: string): void {
  if (context.warnings.length < MAX_WARNINGS) context.warnings.push(message);
}

const BINARY_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const NUMBER_SIZES: Record<string, number> = {
  US: 2,
  SS: 2,
  UL: 4,
  SL: 4,
  FL: 4,
  FD: 8,
  SV: 8,
  UV: 8,
  AT: 4,
};

export interface JsonContext {
  littleEndian: boolean;
  explicit: boolean;
  text: TextDecoding;
  warnings: string[];
}

type JsonValue = NonNullable<DicomJsonAttribute['Value']>[number] | null;

function isBulk(tag: string): boolean {
  if (BULK_TAGS.has(tag)) return true;
  // Overlay Data (60xx,3000) and retired Curve Data (50xx,3000).
  return /^x(60|50)[0-9a-f]{2}3000$/.test(tag);
}

function trimString(text: string, vr: string): string {
  // Leading spaces are significant in LT/ST/UT; UI is padded with NUL (PS3.5 §6.2).
  const noNul = text.replace(/\0+$/, '');
  if (vr === 'LT' || vr === 'ST' || vr === 'UT') return noNul.replace(/ +$/, '');
  return noNul.trim();
}

function readNumber(view: DataView, p: number, vr: string, le: boolean): number | string | null {
  switch (vr) {
    case 'US':
      return view.getUint16(p, le);
    case 'SS':
      return view.getInt16(p, le);
    case 'UL':
      return view.getUint32(p, le);
    case 'SL':
      return view.getInt32(p, le);
    case 'FL': {
      const v = view.getFloat32(p, le);
      return Number.isFinite(v) ? v : null;
    }
    case 'FD': {
      const v = view.getFloat64(p, le);
      return Number.isFinite(v) ? v : null;
    }
    case 'SV':
    case 'UV': {
      const v = vr === 'SV' ? view.getBigInt64(p, le) : view.getBigUint64(p, le);
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
    }
    case 'AT': {
      const group = view.getUint16(p, le);
      const element = view.getUint16(p + 2, le);
      return `${group.toString(16).padStart(4, '0')}${element.toString(16).padStart(4, '0')}`.toUpperCase();
    }
    default:
      return null;
  }
}

function personName(text: string): DicomJsonPersonName | null {
  if (text === '') return null;
  const [alphabetic, ideographic, phonetic] = text.split('=').map((g) => g.replace(/[\s^]+$/, ''));
  const name: DicomJsonPersonName = {};
  if (alphabetic) name.Alphabetic = alphabetic;
  if (ideographic) name.Ideographic = ideographic;
  if (phonetic) name.Phonetic = phonetic;
  return Object.keys(name).length ? name : null;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function attribute(
  dataSet: dicomParser.DataSet,
  element: dicomParser.Element,
  context: JsonContext,
): DicomJsonAttribute | null {
  const { tag } = element;
  const vr = element.vr && /^[A-Z]{2}$/.test(element.vr) ? element.vr : vrOfTag(tag);
  if (element.items) {
    return {
      vr: 'SQ',
      Value: element.items.map((item) =>
        item.dataSet ? datasetToJson(item.dataSet, context) : {},
      ),
    };
  }
  if (vr === 'SQ') return { vr: 'SQ' };
  const bytes = dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
  if (BINARY_VRS.has(vr)) {
    if (isBulk(tag) || bytes.length > INLINE_BINARY_LIMIT || element.hadUndefinedLength)
      return null;
    return bytes.length ? { vr, InlineBinary: toBase64(bytes) } : { vr };
  }
  if (isBulk(tag)) return null;
  if (bytes.length === 0) return { vr };
  const size = NUMBER_SIZES[vr];
  if (size) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values: JsonValue[] = [];
    for (let p = 0; p + size <= bytes.length; p += size) {
      values.push(readNumber(view, p, vr, context.littleEndian));
    }
    return { vr, Value: values as DicomJsonAttribute['Value'] };
  }
  const text = TEXT_VRS.has(vr)
    ? context.text.decode(bytes)
    : new TextDecoder('latin1').decode(bytes);
  const parts = SINGLE_VALUED_STRING_VRS.has(vr) ? [text] : text.split('\\');
  const max = MAX_LENGTH[vr];
  if (max !== undefined && parts.some((part) => part.replace(/[\0 ]+$/, '').length > max)) {
    warn(
      context,
      `(${tag.slice(1, 5)},${tag.slice(5)}) has a value longer than ${vr} allows (${max})`,
    );
  }
  if (vr === 'PN') {
    return {
      vr,
      Value: parts.map((p) => personName(trimString(p, vr))) as DicomJsonAttribute['Value'],
    };
  }
  if (vr === 'DS' || vr === 'IS') {
    const values = parts.map((p) => {
      const t = p.replace(/\0+$/, '').trim();
      if (t === '') return null;
      const n = Number(t);
      if (!Number.isFinite(n) || (vr === 'IS' && !Number.isInteger(n))) {
        context.warnings.push(
          `(${tag.slice(1, 5)},${tag.slice(5)}) holds "${t.slice(0, 16)}", not a ${vr} number`,
        );
        return null;
      }
      return n;
    });
    return { vr, Value: values as DicomJsonAttribute['Value'] };
  }
  if (STRING_VRS.has(vr)) {
    const values = parts.map((p) => {
      const t = trimString(p, vr);
      return t === '' ? null : t;
    });
    return { vr, Value: values as DicomJsonAttribute['Value'] };
  }
  return null;
}

/** An element's value as ASCII text, all values (dicom-parser's string() returns only the first). */
export function rawString(dataSet: dicomParser.DataSet, element: dicomParser.Element): string {
  return new TextDecoder('latin1').decode(
    dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length),
  );
}

/** The data set (without File Meta Information and group lengths) as DICOM JSON. */
export function datasetToJson(
  dataSet: dicomParser.DataSet,
  context: JsonContext,
): Record<string, DicomJsonAttribute> {
  const out: Record<string, DicomJsonAttribute> = {};
  const tags = Object.keys(dataSet.elements).sort();
  // Character set applies to the data set and its items unless an item names its own.
  const ownCharset = dataSet.elements['x00080005'];
  const itemContext =
    ownCharset && ownCharset.length > 0
      ? { ...context, text: textDecoding(rawString(dataSet, ownCharset)) }
      : context;
  for (const tag of tags) {
    // dicom-parser keeps an item's delimiter among its elements; it is encoding, not data.
    if (tag.startsWith('x0002') || tag.startsWith('xfffe') || tag.endsWith('0000')) continue;
    const element = dataSet.elements[tag]!;
    const value = attribute(dataSet, element, itemContext);
    if (value) out[tag.slice(1).toUpperCase()] = value;
  }
  return out;
}
