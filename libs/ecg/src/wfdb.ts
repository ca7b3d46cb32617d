/**
 * Reader for PhysioNet WFDB records: header files (.hea), signal files in formats 212 and 16,
 * and MIT-format annotation files (.atr). Everything here is pure (bytes and strings in,
 * values out); `readWfdbRecord` in wfdb-node.ts adds file-system access.
 *
 * References: WFDB Programmer's Guide (Moody, PhysioNet), header(5), signal(5) and
 * annot(5) man pages of the WFDB Software Package; the annotation code table is the one in
 * <wfdb/ecgcodes.h> with the mnemonics of ecgmap.h/annot.c.
 */
import { toCommonScale, type CommonScale } from './common-scale.js';

export type WfdbErrorCode =
  | 'WFDB_HEADER_INVALID'
  | 'WFDB_MULTISEGMENT_UNSUPPORTED'
  | 'WFDB_FORMAT_UNSUPPORTED'
  | 'WFDB_SIGNAL_MISSING'
  | 'WFDB_SIGNAL_TRUNCATED'
  | 'WFDB_ANNOTATION_INVALID';

export class WfdbError extends Error {
  readonly code: WfdbErrorCode;

  constructor(code: WfdbErrorCode, message: string) {
    super(message);
    this.name = 'WfdbError';
    this.code = code;
  }
}

export interface WfdbSignalSpec {
  fileName: string;
  /** Storage format number (212, 16, …); only 212 and 16 can be decoded here. */
  format: number;
  /** Samples per frame; 1 for ordinary records. */
  samplesPerFrame: number;
  skew: number;
  /** Byte offset of the first sample in the signal file. */
  byteOffset: number;
  /** ADC units per physical unit (200 if the header gives 0 or nothing, per header(5)). */
  gain: number;
  /** ADC value that corresponds to 0 physical units (defaults to adcZero). */
  baseline: number;
  /** Physical units, 'mV' unless stated. */
  units: string;
  adcResolution: number;
  adcZero: number;
  initialValue: number | undefined;
  checksum: number | undefined;
  blockSize: number;
  description: string;
}

export interface WfdbHeader {
  recordName: string;
  signalCount: number;
  /** Samples per second per signal (250 if the header omits it, per header(5)). */
  samplingFrequency: number;
  /** Samples per signal, if the header states it. */
  samplesPerSignal: number | undefined;
  baseTime: string | undefined;
  baseDate: string | undefined;
  signals: WfdbSignalSpec[];
  /** Text of the `#` lines after the signal lines (age, sex, medication, notes). */
  comments: string[];
}

export interface WfdbSignals {
  samplesPerSignal: number;
  /** One array per signal, raw ADC units (subtract `baseline`, divide by `gain` for mV). */
  signals: Int16Array[];
  /** Per signal: true if the header's 16-bit checksum matches, undefined if none was given. */
  checksumOk: (boolean | undefined)[];
}

export interface WfdbAnnotation {
  /** Sample index (time) of the annotation. */
  sample: number;
  /** Annotation code (ecgcodes.h), 1..49. */
  code: number;
  /** Mnemonic (e.g. 'N', 'V', '/', '+'); '?' + code for codes with no standard mnemonic. */
  symbol: string;
  subtype: number;
  channel: number;
  num: number;
  /** Auxiliary text, e.g. the rhythm '(AFIB' of a '+' annotation. */
  aux: string | undefined;
}

const DEFAULT_SAMPLING_FREQUENCY = 250;
const DEFAULT_GAIN = 200;

/** Formats this reader decodes; the WFDB package knows many more (8, 80, 310, 311, 24, …). */
export const SUPPORTED_WFDB_FORMATS = [212, 16] as const;

function parseNumber(text: string, what: string, line: string): number {
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) {
    throw new WfdbError(
      'WFDB_HEADER_INVALID',
      `bad ${what} ${JSON.stringify(text)} in ${JSON.stringify(line)}`,
    );
  }
  return value;
}

/** header(5): `name[/nseg] nsig [fs[/counterfreq[(base)]] [nsamp [time [date]]]]`. */
function parseRecordLine(line: string): Omit<WfdbHeader, 'signals' | 'comments'> {
  const fields = line.trim().split(/\s+/);
  const [nameField, nsigField, fsField, nsampField, baseTime, baseDate] = fields;
  if (!nameField || nsigField === undefined) {
    throw new WfdbError(
      'WFDB_HEADER_INVALID',
      `record line needs a name and a signal count: ${JSON.stringify(line)}`,
    );
  }
  if (nameField.includes('/')) {
    throw new WfdbError(
      'WFDB_MULTISEGMENT_UNSUPPORTED',
      `multi-segment record ${nameField} is not supported; read its segments one by one`,
    );
  }
  const signalCount = parseNumber(nsigField, 'signal count', line);
  if (!Number.isInteger(signalCount) || signalCount < 0) {
    throw new WfdbError('WFDB_HEADER_INVALID', `bad signal count in ${JSON.stringify(line)}`);
  }
  let samplingFrequency = DEFAULT_SAMPLING_FREQUENCY;
  if (fsField !== undefined) {
    // The counter frequency and base counter value after '/' do not affect sample timing.
    samplingFrequency = parseNumber(fsField.split('/')[0]!, 'sampling frequency', line);
    if (samplingFrequency <= 0) samplingFrequency = DEFAULT_SAMPLING_FREQUENCY;
  }
  let samplesPerSignal: number | undefined;
  if (nsampField !== undefined) {
    samplesPerSignal = parseNumber(nsampField, 'sample count', line);
    // 0 means "unknown": the length comes from the signal file.
    if (samplesPerSignal <= 0) samplesPerSignal = undefined;
  }
  return {
    recordName: nameField,
    signalCount,
    samplingFrequency,
    samplesPerSignal,
    baseTime,
    baseDate,
  };
}

/**
 * header(5): `file format[xspf][:skew][+offset] [gain[(baseline)][/units] [adcres [adczero
 * [initval [checksum [blocksize [description]]]]]]]`; the description is the rest of the line.
 */
function parseSignalLine(line: string): WfdbSignalSpec {
  const tokens = line.trim().split(/\s+/);
  const [fileName, formatField, gainField, resField, zeroField, initField, sumField, blockField] =
    tokens;
  if (!fileName || !formatField) {
    throw new WfdbError(
      'WFDB_HEADER_INVALID',
      `signal line needs a file name and a format: ${JSON.stringify(line)}`,
    );
  }
  const formatMatch = /^(\d+)(?:x(\d+))?(?::(\d+))?(?:\+(\d+))?$/.exec(formatField);
  if (!formatMatch) {
    throw new WfdbError('WFDB_HEADER_INVALID', `bad format field ${JSON.stringify(formatField)}`);
  }
  const format = Number(formatMatch[1]);
  const samplesPerFrame = formatMatch[2] ? Number(formatMatch[2]) : 1;
  const skew = formatMatch[3] ? Number(formatMatch[3]) : 0;
  const byteOffset = formatMatch[4] ? Number(formatMatch[4]) : 0;

  let gain = DEFAULT_GAIN;
  let baseline: number | undefined;
  let units = 'mV';
  if (gainField !== undefined) {
    const gainMatch = /^([-+]?[\d.]+(?:[eE][-+]?\d+)?)(?:\(([-+]?\d+)\))?(?:\/(\S+))?$/.exec(
      gainField,
    );
    if (!gainMatch) {
      throw new WfdbError('WFDB_HEADER_INVALID', `bad gain field ${JSON.stringify(gainField)}`);
    }
    const parsed = Number(gainMatch[1]);
    // header(5): a gain of 0 means "uncalibrated"; WFDB then uses the default 200.
    gain = parsed === 0 ? DEFAULT_GAIN : parsed;
    if (gainMatch[2] !== undefined) baseline = Number(gainMatch[2]);
    if (gainMatch[3] !== undefined) units = gainMatch[3];
  }
  const adcResolution =
    resField !== undefined
      ? parseNumber(resField, 'ADC resolution', line)
      : format === 212
        ? 12
        : 16;
  const adcZero = zeroField !== undefined ? parseNumber(zeroField, 'ADC zero', line) : 0;
  const initialValue =
    initField !== undefined ? parseNumber(initField, 'initial value', line) : undefined;
  const checksum = sumField !== undefined ? parseNumber(sumField, 'checksum', line) : undefined;
  const blockSize = blockField !== undefined ? parseNumber(blockField, 'block size', line) : 0;
  // The description is free text and may contain spaces: take everything after 8 tokens.
  const description = tokens.length > 8 ? line.trim().split(/\s+/).slice(8).join(' ') : '';
  return {
    fileName,
    format,
    samplesPerFrame,
    skew,
    byteOffset,
    gain,
    baseline: baseline ?? adcZero,
    units,
    adcResolution,
    adcZero,
    initialValue,
    checksum,
    blockSize,
    description,
  };
}

export function parseWfdbHeader(text: string): WfdbHeader {
  const lines = text.split(/\r?\n/);
  const comments: string[] = [];
  let record: Omit<WfdbHeader, 'signals' | 'comments'> | undefined;
  const signals: WfdbSignalSpec[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      // Comments before the record line are ignored; after it they carry patient info.
      if (record) comments.push(line.slice(1).trim());
      continue;
    }
    if (!record) {
      record = parseRecordLine(line);
      continue;
    }
    if (signals.length < record.signalCount) {
      signals.push(parseSignalLine(line));
      continue;
    }
    // Anything else (e.g. segment lines of a layout header) is not part of a plain record.
    throw new WfdbError(
      'WFDB_HEADER_INVALID',
      `unexpected line after the signal lines: ${JSON.stringify(line)}`,
    );
  }
  if (!record) throw new WfdbError('WFDB_HEADER_INVALID', 'header has no record line');
  if (signals.length !== record.signalCount) {
    throw new WfdbError(
      'WFDB_HEADER_INVALID',
      `header announces ${record.signalCount} signals but describes ${signals.length}`,
    );
  }
  return { ...record, signals, comments };
}

/** Format 212: pairs of 12-bit two's-complement samples packed into 3 bytes (signal(5)). */
function decode212(bytes: Uint8Array, start: number, count: number, out: Int16Array): number {
  const available = Math.floor(((bytes.length - start) * 2) / 3);
  const n = Math.min(count, available);
  let p = start;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const b0 = bytes[p]!;
    const b1 = bytes[p + 1]!;
    const b2 = bytes[p + 2]!;
    p += 3;
    out[i] = ((((b1 & 0x0f) << 8) | b0) << 20) >> 20;
    out[i + 1] = ((((b1 & 0xf0) << 4) | b2) << 20) >> 20;
  }
  if (i < n) out[i] = ((((bytes[p + 1]! & 0x0f) << 8) | bytes[p]!) << 20) >> 20;
  return n;
}

/** Format 16: 16-bit two's-complement, least significant byte first. */
function decode16(bytes: Uint8Array, start: number, count: number, out: Int16Array): number {
  const n = Math.min(count, Math.floor((bytes.length - start) / 2));
  for (let i = 0, p = start; i < n; i++, p += 2) {
    out[i] = (((bytes[p + 1]! << 8) | bytes[p]!) << 16) >> 16;
  }
  return n;
}

/**
 * Decodes the signals of a (single-segment) record. `files` maps each signal file name in
 * the header to its bytes. Signals that share a file are interleaved frame by frame, in
 * header order (signal(5)).
 */
export function decodeWfdbSignals(
  header: WfdbHeader,
  files: Record<string, Uint8Array> | ((fileName: string) => Uint8Array),
): WfdbSignals {
  const getFile =
    typeof files === 'function'
      ? files
      : (name: string) => {
          const bytes = files[name];
          if (!bytes)
            throw new WfdbError('WFDB_SIGNAL_MISSING', `signal file ${name} was not supplied`);
          return bytes;
        };
  // Group signals by file, keeping header order within each file.
  const groups = new Map<string, number[]>();
  header.signals.forEach((spec, index) => {
    if (!(SUPPORTED_WFDB_FORMATS as readonly number[]).includes(spec.format)) {
      throw new WfdbError(
        'WFDB_FORMAT_UNSUPPORTED',
        `signal ${index} (${spec.description || spec.fileName}) uses WFDB format ${spec.format}; only formats ${SUPPORTED_WFDB_FORMATS.join(' and ')} are supported`,
      );
    }
    if (spec.samplesPerFrame !== 1 || spec.skew !== 0) {
      throw new WfdbError(
        'WFDB_FORMAT_UNSUPPORTED',
        `signal ${index} uses ${spec.samplesPerFrame} samples per frame and skew ${spec.skew}; only 1 and 0 are supported`,
      );
    }
    const group = groups.get(spec.fileName) ?? [];
    group.push(index);
    groups.set(spec.fileName, group);
  });

  const signals: Int16Array[] = new Array<Int16Array>(header.signalCount);
  let samplesPerSignal = header.samplesPerSignal;
  for (const [fileName, members] of groups) {
    const first = header.signals[members[0]!]!;
    if (
      members.some(
        (m) =>
          header.signals[m]!.format !== first.format ||
          header.signals[m]!.byteOffset !== first.byteOffset,
      )
    ) {
      throw new WfdbError(
        'WFDB_FORMAT_UNSUPPORTED',
        `signals in ${fileName} mix formats or byte offsets`,
      );
    }
    const bytes = getFile(fileName);
    const width = members.length;
    const available =
      first.format === 212
        ? Math.floor(((bytes.length - first.byteOffset) * 2) / 3)
        : Math.floor((bytes.length - first.byteOffset) / 2);
    const framesInFile = Math.floor(Math.max(0, available) / width);
    const frames = samplesPerSignal ?? framesInFile;
    if (frames > framesInFile) {
      throw new WfdbError(
        'WFDB_SIGNAL_TRUNCATED',
        `${fileName} holds ${framesInFile} samples per signal but the header announces ${frames}`,
      );
    }
    samplesPerSignal ??= frames;
    const interleaved = new Int16Array(frames * width);
    const decode = first.format === 212 ? decode212 : decode16;
    decode(bytes, first.byteOffset, interleaved.length, interleaved);
    members.forEach((signalIndex, column) => {
      const signal = new Int16Array(frames);
      for (let i = 0, p = column; i < frames; i++, p += width) signal[i] = interleaved[p]!;
      signals[signalIndex] = signal;
    });
  }

  const checksumOk = header.signals.map((spec, index) => {
    if (spec.checksum === undefined) return undefined;
    const signal = signals[index]!;
    let sum = 0;
    for (let i = 0; i < signal.length; i++) sum = (sum + signal[i]!) | 0;
    // header(5): the checksum is the 16-bit two's-complement sum of all samples.
    return (sum << 16) >> 16 === (spec.checksum << 16) >> 16;
  });
  return { samplesPerSignal: samplesPerSignal ?? 0, signals, checksumOk };
}

/**
 * Annotation codes and mnemonics, from <wfdb/ecgcodes.h> and the WFDB annstr() table.
 * Codes 15 and 17 are unassigned; 42–49 are user-definable.
 */
export const WFDB_ANNOTATION_SYMBOLS: Readonly<Record<number, string>> = {
  0: '',
  1: 'N',
  2: 'L',
  3: 'R',
  4: 'a',
  5: 'V',
  6: 'F',
  7: 'J',
  8: 'A',
  9: 'S',
  10: 'E',
  11: 'j',
  12: '/',
  13: 'Q',
  14: '~',
  16: '|',
  18: 's',
  19: 'T',
  20: '*',
  21: 'D',
  22: '"',
  23: '=',
  24: 'p',
  25: 'B',
  26: '^',
  27: 't',
  28: '+',
  29: 'u',
  30: '?',
  31: '!',
  32: '[',
  33: ']',
  34: 'e',
  35: 'n',
  36: '@',
  37: 'x',
  38: 'f',
  39: '(',
  40: ')',
  41: 'r',
};

/**
 * Codes that label a QRS complex (WFDB isqrs(): the beat labels of ecgcodes.h): N L R a V
 * F J A S E j / Q B ? e n f r. These are the reference beats of ANSI/AAMI EC57.
 */
export const WFDB_BEAT_CODES: ReadonlySet<number> = new Set([
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 25, 30, 34, 35, 38, 41,
]);

export function isBeatAnnotation(code: number): boolean {
  return WFDB_BEAT_CODES.has(code);
}

// MIT annotation format (annot(5)): 16-bit little-endian words, code in the top 6 bits,
// time difference or argument in the low 10 bits.
const SKIP = 59;
const NUM = 60;
const SUB = 61;
const CHN = 62;
const AUX = 63;
const MAX_ANNOTATION_CODE = 49;

/** Parses an MIT-format annotation file (.atr and friends). */
export function parseWfdbAnnotations(bytes: Uint8Array): WfdbAnnotation[] {
  const annotations: WfdbAnnotation[] = [];
  let time = 0;
  let num = 0;
  let channel = 0;
  let p = 0;
  const word = (at: number) => bytes[at]! | (bytes[at + 1]! << 8);
  while (p + 1 < bytes.length) {
    const w = word(p);
    p += 2;
    const code = w >> 10;
    const argument = w & 0x3ff;
    if (code === 0 && argument === 0) break; // end of file
    const last = annotations.at(-1);
    switch (code) {
      case SKIP: {
        // A 32-bit interval follows as two 16-bit words, high word first ("PDP-11 long").
        if (p + 3 >= bytes.length) {
          throw new WfdbError('WFDB_ANNOTATION_INVALID', `SKIP at byte ${p - 2} is cut short`);
        }
        const interval = (word(p) << 16) | word(p + 2) | 0;
        p += 4;
        time += interval;
        break;
      }
      case NUM:
        // NUM sets the num field of the preceding annotation and of those that follow.
        num = (argument << 22) >> 22;
        if (last) last.num = num;
        break;
      case SUB:
        if (last) last.subtype = (argument << 22) >> 22;
        break;
      case CHN:
        channel = argument;
        if (last) last.channel = channel;
        break;
      case AUX: {
        const length = argument;
        if (p + length > bytes.length) {
          throw new WfdbError('WFDB_ANNOTATION_INVALID', `AUX at byte ${p - 2} runs past the end`);
        }
        let text = '';
        for (let i = 0; i < length; i++) {
          const c = bytes[p + i]!;
          if (c === 0) break; // aux strings are NUL-padded
          text += String.fromCharCode(c);
        }
        if (last) last.aux = text;
        // Aux bytes are padded to a whole number of words.
        p += length + (length & 1);
        break;
      }
      default: {
        if (code > MAX_ANNOTATION_CODE) {
          // Codes 50–58 are reserved; a reader must skip them rather than fail.
          time += argument;
          break;
        }
        time += argument;
        annotations.push({
          sample: time,
          code,
          symbol: WFDB_ANNOTATION_SYMBOLS[code] ?? `?${code}`,
          subtype: 0,
          channel,
          num,
          aux: undefined,
        });
      }
    }
  }
  return annotations;
}

export interface WfdbRecord {
  header: WfdbHeader;
  signals: WfdbSignals;
  /** Reference annotations, when an annotation file was found. */
  annotations: WfdbAnnotation[] | undefined;
}

/** Converts one signal from ADC units to physical units (usually millivolts). */
export function toPhysical(spec: WfdbSignalSpec, signal: Int16Array): Float64Array {
  const out = new Float64Array(signal.length);
  for (let i = 0; i < signal.length; i++) out[i] = (signal[i]! - spec.baseline) / spec.gain;
  return out;
}

/** Microvolts in one physical unit of a WFDB signal (header(5) units; 'mV' by default). */
export function wfdbMicrovoltsPerPhysicalUnit(units: string): number {
  if (/^(uv|µv|μv)$/i.test(units)) return 1;
  return units === 'V' ? 1e6 : 1000;
}

/**
 * The record as the interleaved recording analyzeEcg() and the relay use. Each signal keeps
 * its own gain and baseline (header(5): physical = (ADC − baseline) / gain); toCommonScale
 * writes them all on one scale, the finest signal's step, so a 12-lead record calibrated
 * lead by lead (LUDB: gains 430–1836 per mV in one record) loses no resolution. Records
 * whose signals share one gain (MIT-BIH, PTB-XL) keep their ADC values unchanged.
 */
export function wfdbToRecording(record: Pick<WfdbRecord, 'header' | 'signals'>): CommonScale {
  const { header, signals } = record;
  if (header.signals.length === 0)
    throw new WfdbError('WFDB_HEADER_INVALID', `record ${header.recordName} has no signals`);
  return toCommonScale(
    header.signals.map((spec, s) => ({
      name: spec.description || `signal ${s}`,
      values: signals.signals[s]!,
      // gain is ADC units per physical unit; one ADC unit in microvolts:
      microvoltsPerUnit: wfdbMicrovoltsPerPhysicalUnit(spec.units) / spec.gain,
      baselineUnits: spec.baseline,
    })),
    header.samplingFrequency,
  );
}
