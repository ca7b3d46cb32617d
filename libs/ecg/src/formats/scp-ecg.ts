import { CommonScaleError, toCommonScale, type CalibratedLead } from '../common-scale.js';
import {
  EcgFileError,
  type DeviceMeasurements,
  type EcgFileErrorCode,
  type EcgFileRecording,
} from './types.js';

/*
 * SCP-ECG reader: EN 1064:2005+A1:2007 / ISO 11073-91064:2009 ("Standard communications
 * protocol for computer-assisted electrocardiography"). Clause numbers below are those of
 * EN 1064:2005 §5 (record and section layout). All integers are little-endian (§5.2.1).
 *
 * What is read and what is refused is written down in docs/ecg-formats.md.
 */

const FORMAT = 'scp-ecg';

function fail(code: EcgFileErrorCode, message: string): never {
  throw new EcgFileError(code, FORMAT, message);
}

/**
 * CRC-CCITT as SCP-ECG uses it (§5.3.1 / Annex: polynomial x^16 + x^12 + x^5 + 1, initial
 * value 0xFFFF, no reflection, no final XOR; the "CCITT-FALSE" variant).
 */
export function crcCcitt(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]! << 8;
    for (let b = 0; b < 8; b++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** A bounded window on the record; every read is checked against its end. */
class Window {
  constructor(
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
    /** Names the window in error messages ("section 3"). */
    readonly label: string,
  ) {}

  private need(pos: number, size: number): void {
    if (pos < this.start || pos + size > this.end) {
      fail('ECG_FILE_INVALID', `${this.label} ends before the field at byte ${pos - this.start}`);
    }
  }

  u8(pos: number): number {
    this.need(pos, 1);
    return this.bytes[pos]!;
  }

  u16(pos: number): number {
    this.need(pos, 2);
    return this.bytes[pos]! | (this.bytes[pos + 1]! << 8);
  }

  i16(pos: number): number {
    const v = this.u16(pos);
    return v >= 0x8000 ? v - 0x10000 : v;
  }

  u32(pos: number): number {
    this.need(pos, 4);
    return (
      this.bytes[pos]! +
      this.bytes[pos + 1]! * 0x100 +
      this.bytes[pos + 2]! * 0x10000 +
      this.bytes[pos + 3]! * 0x1000000
    );
  }

  has(pos: number, size: number): boolean {
    return pos >= this.start && pos + size <= this.end;
  }
}

/** Section header (§5.2.7): CRC, id, length (header included), versions, 6 reserved bytes. */
const SECTION_HEADER = 16;

interface SectionRef {
  id: number;
  /** The section's data after its 16-byte header. */
  data: Window;
  /** False when its CRC does not match (only sections that do not carry signal). */
  crcOk: boolean;
}

/** Lead identification codes of §5.6.3 Table 10 (EN 1064:2005), index = code. */
const LEAD_NAMES: readonly string[] = [
  'unspecified',
  'I',
  'II',
  'V1',
  'V2',
  'V3',
  'V4',
  'V5',
  'V6',
  'V7',
  'V2R',
  'V3R',
  'V4R',
  'V5R',
  'V6R',
  'V7R',
  'X',
  'Y',
  'Z',
  'CC5',
  'CM5',
  'LA',
  'RA',
  'LL',
  'fI',
  'fE',
  'fC',
  'fA',
  'fM',
  'fF',
  'fH',
  'dI',
  'dII',
  'dV1',
  'dV2',
  'dV3',
  'dV4',
  'dV5',
  'dV6',
  'dV7',
  'dV2R',
  'dV3R',
  'dV4R',
  'dV5R',
  'dV6R',
  'dV7R',
  'dX',
  'dY',
  'dZ',
  'dCC5',
  'dCM5',
  'dLA',
  'dRA',
  'dLL',
  'dfI',
  'dfE',
  'dfC',
  'dfA',
  'dfM',
  'dfF',
  'dfH',
  'III',
  'aVR',
  'aVL',
  'aVF',
  '-aVR',
  'V8',
  'V9',
  'V8R',
  'V9R',
  'D',
  'A',
  'J',
  'Defib',
  'Extern',
  'A1',
  'A2',
  'A3',
  'A4',
  'dV8',
  'dV9',
  'dV8R',
  'dV9R',
  'dD',
  'dA',
  'dJ',
  'Chest',
  'V',
  'VR',
  'VL',
  'VF',
];

export function scpLeadName(code: number): string {
  return code > 0 && code < LEAD_NAMES.length ? LEAD_NAMES[code]! : `SCP lead ${code}`;
}

/** Sections whose content becomes samples: a CRC failure there refuses the file. */
const SIGNAL_SECTIONS = new Set([0, 2, 3, 4, 5, 6]);

/** The most samples (all leads together) the relay decodes from one file. */
const MAX_TOTAL_SAMPLES = 1 << 25;

function readSections(bytes: Uint8Array, warnings: string[]): Map<number, SectionRef> {
  // §5.3: bytes 0–1 CRC of the record, 2–5 record length, then section 0 at byte 6.
  if (bytes.length < 6 + SECTION_HEADER) {
    fail(
      'ECG_FILE_TRUNCATED',
      `an SCP-ECG record needs at least 22 bytes; this file has ${bytes.length}`,
    );
  }
  const file = new Window(bytes, 0, bytes.length, 'the record');
  const recordLength = file.u32(2);
  if (recordLength < 6 + SECTION_HEADER)
    fail('ECG_FILE_INVALID', `record length ${recordLength} is too small`);
  if (recordLength > bytes.length) {
    fail(
      'ECG_FILE_TRUNCATED',
      `the record says ${recordLength} bytes but the file has ${bytes.length}`,
    );
  }
  if (recordLength < bytes.length) {
    warnings.push(
      `${bytes.length - recordLength} bytes after the end of the SCP-ECG record were ignored`,
    );
  }
  const record = new Window(bytes, 0, recordLength, 'the record');
  const recordCrcOk = record.u16(0) === crcCcitt(bytes, 2, recordLength);

  const open = (
    id: number,
    offset: number,
    length: number,
    expectedId: number | null,
  ): SectionRef => {
    const label = `section ${id}`;
    if (length < SECTION_HEADER)
      fail('ECG_FILE_INVALID', `${label} is ${length} bytes, shorter than its header`);
    if (offset + length > recordLength) {
      fail(
        recordLength === bytes.length ? 'ECG_FILE_TRUNCATED' : 'ECG_FILE_INVALID',
        `${label} runs past the end of the record`,
      );
    }
    const header = new Window(bytes, offset, offset + length, label);
    const headerId = header.u16(offset + 2);
    if (expectedId !== null && headerId !== expectedId) {
      fail(
        'ECG_FILE_INVALID',
        `section 0 points to section ${expectedId} but finds section ${headerId}`,
      );
    }
    const headerLength = header.u32(offset + 4);
    if (headerLength !== length) {
      fail(
        'ECG_FILE_INVALID',
        `${label} says it is ${headerLength} bytes; section 0 says ${length}`,
      );
    }
    // §5.2.7.1: the CRC covers the section from its id (byte 2) to its last byte.
    const crcOk = header.u16(offset) === crcCcitt(bytes, offset + 2, offset + length);
    if (!crcOk) {
      if (SIGNAL_SECTIONS.has(id)) {
        fail('ECG_FILE_INVALID', `${label} fails its CRC check: the file is damaged`);
      }
      warnings.push(`${label} fails its CRC check; its contents were not used`);
    }
    return { id, data: new Window(bytes, offset + SECTION_HEADER, offset + length, label), crcOk };
  };

  // §5.4: section 0 lists every section as (id u16, length u32, index u32, index 1-based).
  const section0 = open(0, 6, record.u32(10), 0);
  const reserved = String.fromCharCode(...bytes.subarray(16, 22));
  if (reserved !== 'SCPECG') warnings.push('section 0 header lacks the "SCPECG" mark');
  const sections = new Map<number, SectionRef>([[0, section0]]);
  const p = section0.data;
  for (let pos = p.start; pos + 10 <= p.end; pos += 10) {
    const id = p.u16(pos);
    const length = p.u32(pos + 2);
    const index = p.u32(pos + 6);
    if (id === 0 || length === 0) continue;
    if (index < 1) fail('ECG_FILE_INVALID', `section 0 gives section ${id} an index of 0`);
    if (sections.has(id)) fail('ECG_FILE_INVALID', `section 0 lists section ${id} twice`);
    sections.set(id, open(id, index - 1, length, id));
  }
  if (!recordCrcOk) {
    warnings.push('the record CRC does not match although every signal section checks; read on');
  }
  return sections;
}

// ---------------------------------------------------------------------------------------
// Section 1 (§5.5): tagged fields. Only acquisition date (tag 25), time (26) and time zone
// (34) are read; patient identity tags (0–3, 5, …) are skipped unread by design.

function readStartedAt(section: SectionRef | undefined, warnings: string[]): string | null {
  if (!section?.crcOk) return null;
  const w = section.data;
  let date: [number, number, number] | null = null;
  let time: [number, number, number] | null = null;
  let zoneMinutes: number | null = null;
  for (let pos = w.start; pos < w.end;) {
    const tag = w.u8(pos);
    if (tag === 255) break; // §5.5.2: tag 255 terminates the list
    const length = w.u16(pos + 1);
    const value = pos + 3;
    if (!w.has(value, length))
      fail('ECG_FILE_INVALID', `section 1 tag ${tag} runs past the section`);
    if (tag === 25 && length >= 4) date = [w.u16(value), w.u8(value + 2), w.u8(value + 3)];
    if (tag === 26 && length >= 3) time = [w.u8(value), w.u8(value + 1), w.u8(value + 2)];
    // §5.5.3 tag 34: signed offset from UTC in minutes; 0x7FFF means "not used".
    if (tag === 34 && length >= 2) {
      const offset = w.i16(value);
      if (offset !== 0x7fff && Math.abs(offset) <= 14 * 60) zoneMinutes = offset;
    }
    pos = value + length;
  }
  if (!date || !time) return null;
  const [year, month, day] = date;
  const [hour, minute, second] = time;
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    year < 1900
  ) {
    warnings.push('section 1 acquisition date or time is out of range; left out');
    return null;
  }
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  if (zoneMinutes === null) {
    return `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}`;
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second) - zoneMinutes * 60_000;
  return new Date(utc).toISOString().replace('.000Z', 'Z');
}

// ---------------------------------------------------------------------------------------
// Section 2 (§5.6 / Annex C.2.7): Huffman tables.

interface HuffmanCode {
  prefixBits: number;
  /** The prefix as it arrives, first bit most significant. */
  prefix: number;
  extraBits: number;
  /** Table mode switch: 1 = a value, 0 = switch to table `baseValue`. */
  switchTable: boolean;
  baseValue: number;
}

type HuffmanTable = Map<number, HuffmanCode>[]; // index = prefix length

/** §C.2.7.4: the default table, used when section 2 says 19999. */
const DEFAULT_TABLE: readonly (readonly [number, number, number, number])[] = (() => {
  // [prefix bits, prefix as sent, extra bits, value]: 0 → "0", ±n → n ones, 0, sign bit.
  const codes: [number, number, number, number][] = [[1, 0, 0, 0]];
  for (let n = 1; n <= 8; n++) {
    const ones = ((1 << n) - 1) << 2; // n ones, then "0", then the sign bit
    codes.push([n + 2, ones, 0, n], [n + 2, ones | 1, 0, -n]);
  }
  codes.push([10, 0b1111111110, 8, 0], [10, 0b1111111111, 16, 0]);
  return codes;
})();

function tableFrom(codes: readonly HuffmanCode[]): HuffmanTable {
  const table: HuffmanTable = [];
  for (const code of codes) {
    const byLength = (table[code.prefixBits] ??= new Map());
    if (byLength.has(code.prefix))
      fail('ECG_FILE_INVALID', 'section 2 defines the same Huffman code twice');
    byLength.set(code.prefix, code);
  }
  return table;
}

export const DEFAULT_HUFFMAN_CODES: readonly HuffmanCode[] = DEFAULT_TABLE.map(
  ([prefixBits, prefix, extraBits, baseValue]) => ({
    prefixBits,
    prefix,
    extraBits,
    switchTable: false,
    baseValue,
  }),
);

/** Returns the Huffman tables, or null when the data are not Huffman encoded. */
function readHuffmanTables(section: SectionRef | undefined): HuffmanTable[] | null {
  // §5.6.1: without section 2 the data are stored as plain 16-bit signed integers.
  if (!section) return null;
  const w = section.data;
  const count = w.u16(w.start);
  if (count === 19999) return [tableFrom(DEFAULT_HUFFMAN_CODES)];
  if (count === 0 || count > 256)
    fail('ECG_FILE_INVALID', `section 2 declares ${count} Huffman tables`);
  const tables: HuffmanTable[] = [];
  let pos = w.start + 2;
  for (let t = 0; t < count; t++) {
    const codeCount = w.u16(pos);
    pos += 2;
    if (codeCount === 0) fail('ECG_FILE_INVALID', `Huffman table ${t + 1} has no codes`);
    const codes: HuffmanCode[] = [];
    for (let c = 0; c < codeCount; c++, pos += 9) {
      // §5.6.2: prefix bits u8, total bits u8, mode switch u8, base value i16, base code u32
      // (the code's bits in reverse order: the first bit sent is the least significant).
      const prefixBits = w.u8(pos);
      const totalBits = w.u8(pos + 1);
      const mode = w.u8(pos + 2);
      const baseValue = w.i16(pos + 3);
      const baseCode = w.u32(pos + 5);
      if (
        prefixBits < 1 ||
        prefixBits > 24 ||
        totalBits < prefixBits ||
        totalBits - prefixBits > 16
      ) {
        fail('ECG_FILE_INVALID', `Huffman table ${t + 1} code ${c + 1} has unusable lengths`);
      }
      let prefix = 0;
      for (let b = 0; b < prefixBits; b++) prefix = (prefix << 1) | ((baseCode >>> b) & 1);
      codes.push({
        prefixBits,
        prefix,
        extraBits: totalBits - prefixBits,
        switchTable: mode === 0,
        baseValue,
      });
    }
    tables.push(tableFrom(codes));
  }
  for (const table of tables) {
    for (const byLength of table) {
      for (const code of byLength?.values() ?? []) {
        if (code.switchTable && (code.baseValue < 1 || code.baseValue > tables.length)) {
          fail(
            'ECG_FILE_INVALID',
            `a Huffman code switches to table ${code.baseValue}, which is not defined`,
          );
        }
      }
    }
  }
  return tables;
}

/**
 * Decodes `count` values from one lead's bytes (§5.7.2: each lead's data start on a byte
 * boundary in table 1; bits are taken most significant first).
 */
function huffmanDecode(
  w: Window,
  start: number,
  length: number,
  count: number,
  tables: readonly HuffmanTable[],
  lead: string,
): Float64Array {
  const out = new Float64Array(count);
  const totalBits = length * 8;
  let bit = 0;
  const next = (): number => {
    const byte = w.bytes[start + (bit >>> 3)]!;
    const v = (byte >> (7 - (bit & 7))) & 1;
    bit++;
    return v;
  };
  let table = tables[0]!;
  let n = 0;
  while (n < count) {
    let acc = 0;
    let len = 0;
    let code: HuffmanCode | undefined;
    while (!code) {
      if (bit >= totalBits) {
        fail('ECG_FILE_INVALID', `lead ${lead}: its data end after ${n} of ${count} samples`);
      }
      acc = (acc << 1) | next();
      len++;
      code = table[len]?.get(acc);
      if (!code && len >= table.length - 1) {
        fail('ECG_FILE_INVALID', `lead ${lead}: an undecodable Huffman code at sample ${n}`);
      }
    }
    if (code.switchTable) {
      table = tables[code.baseValue - 1]!;
      continue;
    }
    if (code.extraBits === 0) {
      out[n++] = code.baseValue;
      continue;
    }
    if (bit + code.extraBits > totalBits) {
      fail('ECG_FILE_INVALID', `lead ${lead}: its data end inside sample ${n}`);
    }
    // The extra bits carry the value itself as a two's complement number (§C.2.7.4).
    let v = 0;
    for (let b = 0; b < code.extraBits; b++) v = v * 2 + next();
    if (v >= 2 ** (code.extraBits - 1)) v -= 2 ** code.extraBits;
    out[n++] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Section 3 (§5.6.3): lead definitions.

interface LeadDefinition {
  name: string;
  first: number;
  last: number;
}

function readLeads(
  section: SectionRef | undefined,
  warnings: string[],
): { leads: LeadDefinition[]; subtraction: boolean } {
  if (!section) fail('ECG_FILE_INVALID', 'the file has no lead definitions (section 3)');
  const w = section.data;
  const count = w.u8(w.start);
  const flags = w.u8(w.start + 1);
  if (count === 0) fail('ECG_FILE_INVALID', 'section 3 defines no leads');
  const leads: LeadDefinition[] = [];
  for (let i = 0, pos = w.start + 2; i < count; i++, pos += 9) {
    // Starting and ending sample numbers are 1-based and inclusive. Some writers (the
    // "ECG Viewer" demo among them) count from 0 with an exclusive end; read them so.
    let first = w.u32(pos);
    const last = w.u32(pos + 4);
    const name = scpLeadName(w.u8(pos + 8));
    if (first === 0 && last > 0) {
      if (i === 0) warnings.push('section 3 numbers samples from 0; its end was read as exclusive');
      first = 1;
    }
    if (first < 1 || last < first)
      fail('ECG_FILE_INVALID', `lead ${name} has samples ${first}–${last}`);
    leads.push({ name, first, last });
  }
  // Flag bit 0: reference beat subtraction used in compression.
  return { leads, subtraction: (flags & 1) !== 0 };
}

// ---------------------------------------------------------------------------------------
// Sections 5 and 6 (§5.8, §5.9): reference beats and rhythm data.

interface RhythmHeader {
  /** Amplitude value multiplier: nanovolts per stored unit. */
  avmNanovolts: number;
  sampleIntervalUs: number;
  /** 0 original values, 1 first differences, 2 second differences. */
  encoding: number;
  bimodal: boolean;
  leadBytes: number[];
  dataStart: number;
}

function readRhythmHeader(section: SectionRef, leadCount: number): RhythmHeader {
  const w = section.data;
  const avmNanovolts = w.u16(w.start);
  const sampleIntervalUs = w.u16(w.start + 2);
  const encoding = w.u8(w.start + 4);
  const bimodal = w.u8(w.start + 5) !== 0;
  const leadBytes: number[] = [];
  for (let i = 0; i < leadCount; i++) leadBytes.push(w.u16(w.start + 6 + 2 * i));
  if (avmNanovolts === 0)
    fail('ECG_FILE_INVALID', 'section 6 gives an amplitude multiplier of 0 nV');
  if (sampleIntervalUs === 0) fail('ECG_FILE_INVALID', 'section 6 gives a sample interval of 0 µs');
  if (encoding > 2) fail('ECG_FILE_INVALID', `section 6 names difference encoding ${encoding}`);
  return {
    avmNanovolts,
    sampleIntervalUs,
    encoding,
    bimodal,
    leadBytes,
    dataStart: w.start + 6 + 2 * leadCount,
  };
}

/** §5.9.3: undo first or second difference encoding in place. */
function undoDifferences(values: Float64Array, encoding: number): void {
  if (encoding === 1) {
    for (let i = 1; i < values.length; i++) values[i] = values[i]! + values[i - 1]!;
  } else if (encoding === 2) {
    for (let i = 2; i < values.length; i++)
      values[i] = values[i]! + 2 * values[i - 1]! - values[i - 2]!;
  }
}

// ---------------------------------------------------------------------------------------
// Section 7 (§5.10): global measurements; section 8 (§5.11) and 11 (§5.14): statements.

/** §5.10.2: 29999 not computed, 29998 lead rejected, 19999 wave absent; axes 999 undefined. */
function interval(v: number): number | undefined {
  return v > 0 && v < 19999 ? v : undefined;
}

function axis(v: number): number | undefined {
  const signed = v >= 0x8000 ? v - 0x10000 : v;
  return signed >= -360 && signed <= 360 ? signed : undefined;
}

function readGlobalMeasurements(section: SectionRef | undefined): DeviceMeasurements {
  const m: DeviceMeasurements = {};
  if (!section?.crcOk) return m;
  const w = section.data;
  if (!w.has(w.start, 6)) return m;
  const beatTypes = w.u8(w.start);
  const spikes = w.u8(w.start + 1);
  const rr = interval(w.u16(w.start + 2));
  if (rr !== undefined) m.rrMs = rr;
  let pos = w.start + 6;
  // Measurements of reference beat type 0 (the dominant beat) come first, 16 bytes each.
  if (beatTypes >= 1 && w.has(pos, 16)) {
    const pOn = interval(w.u16(pos));
    const qrsOn = interval(w.u16(pos + 4));
    const qrsOff = interval(w.u16(pos + 6));
    const tOff = interval(w.u16(pos + 8));
    if (pOn !== undefined && qrsOn !== undefined && qrsOn > pOn) m.prMs = qrsOn - pOn;
    if (qrsOn !== undefined && qrsOff !== undefined && qrsOff > qrsOn) m.qrsMs = qrsOff - qrsOn;
    if (qrsOn !== undefined && tOff !== undefined && tOff > qrsOn) m.qtMs = tOff - qrsOn;
    const [p, qrs, t] = [axis(w.u16(pos + 10)), axis(w.u16(pos + 12)), axis(w.u16(pos + 14))];
    if (p !== undefined) m.pAxisDeg = p;
    if (qrs !== undefined) m.qrsAxisDeg = qrs;
    if (t !== undefined) m.tAxisDeg = t;
  }
  // Then the other beat types, pacemaker spikes (4 bytes, then 6 bytes of spike
  // information), QRS types (count u16 then 1 byte each), and finally ventricular rate,
  // atrial rate, QTc, formula (§5.10.5), when the writer included them.
  pos += 16 * beatTypes + 4 * spikes + 6 * spikes;
  if (w.has(pos, 2)) {
    pos += 2 + w.u16(pos);
    if (w.has(pos, 7)) {
      const rate = w.u16(pos);
      if (rate > 0 && rate < 400) m.heartRateBpm = rate;
      const qtc = interval(w.u16(pos + 4));
      if (qtc !== undefined) m.qtcMs = qtc;
    }
  }
  if (m.heartRateBpm === undefined && m.rrMs !== undefined)
    m.heartRateBpm = Math.round(60000 / m.rrMs);
  return m;
}

const latin1 = new TextDecoder('latin1');

function cleanText(bytes: Uint8Array): string[] {
  // Statements are NUL-terminated; other control characters (line breaks) become spaces.
  const printable = Array.from(latin1.decode(bytes), (c) =>
    c.charCodeAt(0) < 32 && c !== '\u0000' ? ' ' : c,
  );
  return printable
    .join('')
    .split('\u0000')
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);
}

function readStatements(section: SectionRef | undefined, universal: boolean): string[] {
  if (!section?.crcOk) return [];
  const w = section.data;
  // Confirmation u8, date (u16, u8, u8), time (3 × u8), then the number of statements.
  const count = w.u8(w.start + 8);
  const statements: string[] = [];
  let pos = w.start + 9;
  for (let i = 0; i < count && w.has(pos, 3); i++) {
    const length = w.u16(pos + 1);
    const text = pos + 3;
    if (!w.has(text, length)) fail('ECG_FILE_INVALID', `statement ${i + 1} runs past its section`);
    // Section 11 statements begin with a type byte: 1 acronyms, 2 full text, 3 logic.
    const from = universal ? text + 1 : text;
    if (!universal || (length > 0 && w.u8(text) !== 3)) {
      statements.push(cleanText(w.bytes.subarray(from, text + length)).join('; '));
    }
    pos = text + length;
  }
  return statements.filter(Boolean);
}

// ---------------------------------------------------------------------------------------

/**
 * Reads an SCP-ECG record (EN 1064:2005) into the relay's common scale. Rhythm data
 * (section 6) become the recording, with exactly the leads section 3 defines; none are
 * derived. Throws EcgFileError for anything it cannot read faithfully.
 */
export function readScpEcg(bytes: Uint8Array): EcgFileRecording {
  const warnings: string[] = [];
  const sections = readSections(bytes, warnings);
  const { leads, subtraction } = readLeads(sections.get(3), warnings);
  const rhythm = sections.get(6);
  if (!rhythm) {
    fail(
      sections.has(5) ? 'ECG_FILE_UNSUPPORTED' : 'ECG_FILE_INVALID',
      sections.has(5)
        ? 'the file holds only representative beats (section 5), no rhythm data'
        : 'the file holds no rhythm data (section 6)',
    );
  }
  if (subtraction) {
    // §5.7.1: the rhythm data are residuals after the reference beat of section 5 was
    // subtracted at each QRS of section 4; the relay does not rebuild them.
    fail(
      'ECG_FILE_UNSUPPORTED',
      'the ECG was compressed with reference beat subtraction, which the relay cannot reconstruct; export it without compression',
    );
  }
  const header = readRhythmHeader(rhythm, leads.length);
  if (header.bimodal) {
    fail(
      'ECG_FILE_UNSUPPORTED',
      'the ECG was stored with bimodal compression (decimated outside the QRS), which the relay cannot reconstruct faithfully',
    );
  }
  const first = leads[0]!.first;
  const last = leads[0]!.last;
  if (leads.some((l) => l.first !== first || l.last !== last)) {
    fail(
      'ECG_FILE_UNSUPPORTED',
      'the leads were not recorded over the same interval (a multi-channel sequential ECG); the relay reads simultaneous leads only',
    );
  }
  const count = last - first + 1;
  if (count * leads.length > MAX_TOTAL_SAMPLES) {
    fail(
      'ECG_FILE_UNSUPPORTED',
      `the file holds ${count} samples per lead, more than the relay reads`,
    );
  }
  const tables = readHuffmanTables(sections.get(2));
  const w = rhythm.data;
  const calibrated: CalibratedLead[] = [];
  let pos = header.dataStart;
  for (let i = 0; i < leads.length; i++) {
    const lead = leads[i]!;
    const length = header.leadBytes[i]!;
    if (!w.has(pos, length))
      fail('ECG_FILE_INVALID', `lead ${lead.name}: its data run past section 6`);
    let values: Float64Array;
    if (tables) {
      if (count > length * 8)
        fail('ECG_FILE_INVALID', `lead ${lead.name}: ${length} bytes cannot hold ${count} samples`);
      values = huffmanDecode(w, pos, length, count, tables, lead.name);
    } else {
      if (length < count * 2)
        fail('ECG_FILE_INVALID', `lead ${lead.name}: ${length} bytes cannot hold ${count} samples`);
      values = new Float64Array(count);
      for (let s = 0; s < count; s++) values[s] = w.i16(pos + 2 * s);
    }
    undoDifferences(values, header.encoding);
    calibrated.push({ name: lead.name, values, microvoltsPerUnit: header.avmNanovolts / 1000 });
    pos += length;
  }
  const sampleRateHz = 1e6 / header.sampleIntervalUs;
  let scaled;
  try {
    scaled = toCommonScale(calibrated, sampleRateHz);
  } catch (error) {
    if (error instanceof CommonScaleError) fail('ECG_FILE_INVALID', error.message);
    throw error;
  }
  const measurements = readGlobalMeasurements(sections.get(7));
  const statements = readStatements(sections.get(8), false);
  const statementList = statements.length > 0 ? statements : readStatements(sections.get(11), true);
  if (statementList.length > 0) measurements.statements = statementList;
  return {
    format: FORMAT,
    leads: scaled.leads,
    sampleRateHz: scaled.sampleRateHz,
    microvoltsPerLsb: scaled.microvoltsPerLsb,
    samples: scaled.samples,
    startedAt: readStartedAt(sections.get(1), warnings),
    deviceMeasurements: Object.keys(measurements).length > 0 ? measurements : null,
    warnings: [...warnings, ...scaled.warnings],
  };
}
