import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import { characterSetProblem, textDecoding } from './charset.js';
import { checkFirstFrame } from './codestream.js';
import { isValidDate, isValidTime, SORTED_DATES_AND_TIMES, withoutPad } from './date-time.js';
import { datasetToJson, rawString } from './dicom-json.js';
import { scanStructure, type ScanResult } from './structure-scan.js';
import type {
  DicomJsonAttribute,
  DicomRefusal,
  DicomRefusalCode,
  InspectedImage,
  InspectedInstance,
  InspectLimits,
  Inspection,
} from './types.js';
import { checkWaveform } from './waveform-groups.js';

/** The storage SOP classes the relay takes (docs/dicom-conformance.md). */
export const ACCEPTED_SOP_CLASSES: Readonly<Record<string, string>> = {
  '1.2.840.10008.5.1.4.1.1.1': 'Computed Radiography Image Storage',
  '1.2.840.10008.5.1.4.1.1.1.1': 'Digital X-Ray Image Storage - For Presentation',
  '1.2.840.10008.5.1.4.1.1.1.1.1': 'Digital X-Ray Image Storage - For Processing',
  '1.2.840.10008.5.1.4.1.1.2': 'CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.2.1': 'Enhanced CT Image Storage',
  '1.2.840.10008.5.1.4.1.1.4': 'MR Image Storage',
  '1.2.840.10008.5.1.4.1.1.4.1': 'Enhanced MR Image Storage',
  '1.2.840.10008.5.1.4.1.1.7': 'Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.1': 'Multi-frame Single Bit Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.2': 'Multi-frame Grayscale Byte Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.3': 'Multi-frame Grayscale Word Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.7.4': 'Multi-frame True Color Secondary Capture Image Storage',
  '1.2.840.10008.5.1.4.1.1.104.1': 'Encapsulated PDF Storage',
  '1.2.840.10008.5.1.4.1.1.9.1.1': '12-lead ECG Waveform Storage',
  '1.2.840.10008.5.1.4.1.1.9.1.2': 'General ECG Waveform Storage',
};

export const ECG_SOP_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.9.1.1',
  '1.2.840.10008.5.1.4.1.1.9.1.2',
]);
export const PDF_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.104.1';

export const IMPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const EXPLICIT_BIG_ENDIAN = '1.2.840.10008.1.2.2';
export const DEFLATED_EXPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';

/**
 * The transfer syntaxes the relay takes: those cornerstone3D's dicom-image-loader decodes in
 * the browser (its decodeImageFrame), so every accepted image can be viewed.
 */
export const ACCEPTED_TRANSFER_SYNTAXES: Readonly<Record<string, string>> = {
  [IMPLICIT_LITTLE_ENDIAN]: 'Implicit VR Little Endian',
  [EXPLICIT_LITTLE_ENDIAN]: 'Explicit VR Little Endian',
  [EXPLICIT_BIG_ENDIAN]: 'Explicit VR Big Endian (retired)',
  [DEFLATED_EXPLICIT_LITTLE_ENDIAN]: 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless, Non-Hierarchical (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (SV1)',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Lossy (Near-Lossless)',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'High-Throughput JPEG 2000 (Lossless Only)',
  '1.2.840.10008.1.2.4.202': 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)',
  '1.2.840.10008.1.2.4.203': 'High-Throughput JPEG 2000',
};

const NATIVE_SYNTAXES = new Set([
  IMPLICIT_LITTLE_ENDIAN,
  EXPLICIT_LITTLE_ENDIAN,
  EXPLICIT_BIG_ENDIAN,
  DEFLATED_EXPLICIT_LITTLE_ENDIAN,
]);

export function isNativeSyntax(transferSyntaxUid: string): boolean {
  return NATIVE_SYNTAXES.has(transferSyntaxUid);
}

export const DEFAULT_LIMITS: Required<InspectLimits> = {
  maxBytes: 512 * 1024 * 1024,
  maxDepth: 32,
  maxElements: 200_000,
};

/** The PS3.4 / PS3.18 status each refusal answers with (docs/dicom-conformance.md). */
export const FAILURE_REASONS: Readonly<Record<DicomRefusalCode, number>> = {
  NOT_DICOM: 0xc000, // Error: cannot understand
  TRUNCATED: 0xc000,
  UNREADABLE: 0xc000,
  MISSING_ATTRIBUTE: 0xa900, // Error: data set does not match SOP class
  INVALID_VALUE: 0xa900,
  PIXEL_DATA_MISMATCH: 0xa900,
  SOP_CLASS_NOT_ACCEPTED: 0x0122, // Refused: SOP class not supported
  TRANSFER_SYNTAX_NOT_ACCEPTED: 0xc122, // PS3.18: referenced transfer syntax not supported
  TOO_LARGE: 0xa700, // Refused: out of resources
  TOO_DEEP: 0xa700,
};

class Refused extends Error {
  constructor(
    readonly code: DicomRefusalCode,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const refuse = (code: DicomRefusalCode, reason: string): never => {
  throw new Refused(code, reason);
};

/** PS3.5 §9.1: digits and dots, components without leading zeros, at most 64 characters. */
const UID_SYNTAX = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
const UID_CHARACTERS = /^[0-9]+(\.[0-9]+)*$/;

interface FileMeta {
  transferSyntaxUid: string | null;
  mediaSopClassUid: string | null;
  mediaSopInstanceUid: string | null;
  /** Where the data set starts. */
  end: number;
}

/** File Meta Information (PS3.10 §7.1): group 0002, always Explicit VR Little Endian. */
function readFileMeta(bytes: Uint8Array): FileMeta {
  if (bytes.length < 132 || String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM') {
    refuse(
      'NOT_DICOM',
      'the file has no DICM prefix at byte 128, so it is not a DICOM Part 10 file',
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const meta: FileMeta = {
    transferSyntaxUid: null,
    mediaSopClassUid: null,
    mediaSopInstanceUid: null,
    end: 132,
  };
  let pos = 132;
  while (pos + 8 <= bytes.length && view.getUint16(pos, true) === 0x0002) {
    const element = view.getUint16(pos + 2, true);
    const vr = String.fromCharCode(bytes[pos + 4]!, bytes[pos + 5]!);
    let length: number;
    let start: number;
    if (['OB', 'OD', 'OL', 'OW', 'SQ', 'OF', 'UC', 'UR', 'UT', 'UN'].includes(vr)) {
      if (pos + 12 > bytes.length)
        refuse('TRUNCATED', 'the file ends inside its File Meta Information');
      length = view.getUint32(pos + 8, true);
      start = pos + 12;
    } else {
      length = view.getUint16(pos + 6, true);
      start = pos + 8;
    }
    if (vr === 'SQ' || length === 0xffffffff) {
      refuse('UNREADABLE', 'the File Meta Information holds a sequence or an undefined length');
    }
    if (start + length > bytes.length) {
      refuse('TRUNCATED', 'the file ends inside its File Meta Information');
    }
    const text = () =>
      new TextDecoder('latin1')
        .decode(bytes.subarray(start, start + length))
        .replace(/[\0 ]+$/, '')
        .trim();
    if (element === 0x0010) meta.transferSyntaxUid = text() || null;
    if (element === 0x0002) meta.mediaSopClassUid = text() || null;
    if (element === 0x0003) meta.mediaSopInstanceUid = text() || null;
    pos = start + length;
  }
  meta.end = pos;
  return meta;
}

export interface ParsedInstance {
  /** The bytes dicom-parser read: the file, or for a deflated syntax the file inflated. */
  bytes: Uint8Array;
  dataSet: dicomParser.DataSet;
  scan: ScanResult;
  transferSyntaxUid: string;
  meta: FileMeta;
  littleEndian: boolean;
  explicit: boolean;
}

function parserMessage(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error instanceof Error) return error.message;
  const inner = (error as { exception?: unknown } | null)?.exception;
  return inner === undefined ? String(error) : parserMessage(inner);
}

/**
 * Reads a file within the limits: header, transfer syntax, an iterative structure scan (depth,
 * element count, lengths), then dicom-parser. Throws Refused, nothing else.
 */
function parseBounded(bytes: Uint8Array, limits: Required<InspectLimits>): ParsedInstance {
  if (bytes.length > limits.maxBytes) {
    refuse('TOO_LARGE', `the file is larger than the ${limits.maxBytes} bytes accepted`);
  }
  const meta = readFileMeta(bytes);
  const transferSyntaxUid =
    meta.transferSyntaxUid ??
    refuse('MISSING_ATTRIBUTE', 'the File Meta Information has no Transfer Syntax UID (0002,0010)');
  if (!(transferSyntaxUid in ACCEPTED_TRANSFER_SYNTAXES)) {
    refuse(
      'TRANSFER_SYNTAX_NOT_ACCEPTED',
      `transfer syntax ${transferSyntaxUid.slice(0, 64)} is not one the relay accepts`,
    );
  }
  let readable = bytes;
  if (transferSyntaxUid === DEFLATED_EXPLICIT_LITTLE_ENDIAN) {
    let inflated: Uint8Array;
    try {
      inflated = inflateRawSync(bytes.subarray(meta.end), {
        maxOutputLength: Math.max(1, limits.maxBytes - meta.end),
      });
    } catch (error) {
      const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
      return refuse(
        tooLarge ? 'TOO_LARGE' : 'UNREADABLE',
        tooLarge
          ? `the deflated data set inflates to more than the ${limits.maxBytes} bytes accepted`
          : 'the deflated data set cannot be inflated',
      );
    }
    readable = new Uint8Array(meta.end + inflated.length);
    readable.set(bytes.subarray(0, meta.end));
    readable.set(inflated, meta.end);
  }
  const explicit = transferSyntaxUid !== IMPLICIT_LITTLE_ENDIAN;
  const littleEndian = transferSyntaxUid !== EXPLICIT_BIG_ENDIAN;
  const scan = scanStructure(readable, meta.end, { explicit, littleEndian }, limits);
  if ('code' in scan) return refuse(scan.code, scan.reason);

  // A class named in the File Meta Information is refused before dicom-parser reads the body.
  if (meta.mediaSopClassUid && !(meta.mediaSopClassUid in ACCEPTED_SOP_CLASSES)) {
    refuse(
      'SOP_CLASS_NOT_ACCEPTED',
      `SOP class ${meta.mediaSopClassUid.slice(0, 64)} (from the File Meta Information) is not one the relay accepts`,
    );
  }
  let dataSet: dicomParser.DataSet;
  try {
    const full = readable;
    dataSet = dicomParser.parseDicom(readable, {
      TransferSyntaxUID: transferSyntaxUid,
      ...(readable !== bytes ? { inflater: () => full } : {}),
    });
  } catch (error) {
    const message = parserMessage(error);
    const truncated = /overr|end of buffer|past the end|eof|truncat/i.test(message);
    return refuse(
      truncated ? 'TRUNCATED' : 'UNREADABLE',
      truncated ? 'the file ends before its data set does' : 'the data set cannot be parsed',
    );
  }
  return { bytes: readable, dataSet, scan, transferSyntaxUid, meta, littleEndian, explicit };
}

/** Parses within limits, or returns the refusal; for the other functions of this library. */
export function parseInstance(
  bytes: Uint8Array,
  limits: InspectLimits = {},
): ParsedInstance | DicomRefusal {
  try {
    return parseBounded(bytes, { ...DEFAULT_LIMITS, ...limits });
  } catch (error) {
    if (error instanceof Refused) {
      return {
        code: error.code,
        reason: error.reason,
        failureReason: FAILURE_REASONS[error.code],
        ...metaIds(bytes),
      };
    }
    return {
      code: 'UNREADABLE',
      reason: 'the file cannot be read as DICOM',
      failureReason: FAILURE_REASONS.UNREADABLE,
    };
  }
}

/** The identifiers File Meta Information names, for a refusal of a file that could not be parsed. */
function metaIds(bytes: Uint8Array): { sopClassUid?: string; sopInstanceUid?: string } {
  try {
    const meta = readFileMeta(bytes);
    const ok = (uid: string | null) =>
      uid && uid.length <= 64 && UID_CHARACTERS.test(uid) ? uid : null;
    const sopClassUid = ok(meta.mediaSopClassUid);
    const sopInstanceUid = ok(meta.mediaSopInstanceUid);
    return {
      ...(sopClassUid ? { sopClassUid } : {}),
      ...(sopInstanceUid ? { sopInstanceUid } : {}),
    };
  } catch {
    return {};
  }
}

/** The data set's own identifiers, when they are valid UIDs, for a refusal found after parsing. */
function datasetIds(
  parsed: ParsedInstance,
): { sopClassUid?: string; sopInstanceUid?: string } | null {
  try {
    const uid = (tag: string) => {
      const value = parsed.dataSet.string(tag)?.replace(/\0+$/, '').trim();
      return value && value.length <= 64 && UID_CHARACTERS.test(value) ? value : null;
    };
    const sopClassUid = uid('x00080016');
    const sopInstanceUid = uid('x00080018');
    if (!sopClassUid && !sopInstanceUid) return null;
    return {
      ...(sopClassUid ? { sopClassUid } : {}),
      ...(sopInstanceUid ? { sopInstanceUid } : {}),
    };
  } catch {
    return null;
  }
}

type Json = Record<string, DicomJsonAttribute>;

function first(json: Json, key: string): unknown {
  return json[key]?.Value?.[0] ?? null;
}
function text(json: Json, key: string): string | null {
  const v = first(json, key);
  return typeof v === 'string' ? v : null;
}
function num(json: Json, key: string): number | null {
  const v = first(json, key);
  return typeof v === 'number' ? v : null;
}
function personName(json: Json, key: string): string | null {
  const v = first(json, key) as {
    Alphabetic?: string;
    Ideographic?: string;
    Phonetic?: string;
  } | null;
  return v ? (v.Alphabetic ?? v.Ideographic ?? v.Phonetic ?? null) : null;
}

function requiredUid(json: Json, key: string, name: string): string {
  const raw = json[key]?.Value?.[0];
  if (typeof raw !== 'string' || raw === '') {
    return refuse('MISSING_ATTRIBUTE', `${name} (${key.slice(0, 4)},${key.slice(4)}) is missing`);
  }
  if (raw.length > 64 || !UID_CHARACTERS.test(raw)) {
    return refuse(
      'INVALID_VALUE',
      `${name} (${key.slice(0, 4)},${key.slice(4)}) is not a valid UID (PS3.5 §9.1: digits and dots, at most 64 characters)`,
    );
  }
  return raw;
}

/** Number of Frames (0028,0008) as written: IS, a whole number of at least 1 (PS3.3 C.7.6.6). */
function numberOfFrames(parsed: ParsedInstance): number {
  const element = parsed.dataSet.elements['x00280008'];
  if (!element || element.length === 0) return 1;
  const raw = rawString(parsed.dataSet, element).replace(/\0+$/, '').trim();
  if (!/^\+?[0-9]+$/.test(raw) || Number(raw) < 1) {
    return refuse(
      'PIXEL_DATA_MISMATCH',
      'Number of Frames (0028,0008) is not a whole number of at least 1',
    );
  }
  return Number(raw);
}

/**
 * Values the relay decodes names with, or sorts and queries studies by, must mean one thing:
 * a guessed character set can turn one patient's name into another's, and a date read wrongly
 * files a study on the wrong day or next to the wrong priors.
 */
function checkValuesRelayReliesOn(parsed: ParsedInstance): void {
  // An item may name its own character set (PS3.5 §7.5.3); it decodes that item's names.
  const pending: dicomParser.DataSet[] = [parsed.dataSet];
  for (let dataSet = pending.pop(); dataSet; dataSet = pending.pop()) {
    const charset = dataSet.elements['x00080005'];
    const charsetProblem = characterSetProblem(charset ? rawString(dataSet, charset) : undefined);
    if (charsetProblem) refuse('INVALID_VALUE', charsetProblem);
    for (const element of Object.values(dataSet.elements)) {
      for (const item of element.items ?? []) if (item.dataSet) pending.push(item.dataSet);
    }
  }
  for (const { tag, name, vr } of SORTED_DATES_AND_TIMES) {
    const element = parsed.dataSet.elements[tag];
    if (!element || element.length === 0) continue;
    const value = withoutPad(rawString(parsed.dataSet, element));
    if (value === '') continue;
    if (vr === 'DA' && !isValidDate(value)) {
      refuse(
        'INVALID_VALUE',
        `${name} is not a valid DA value (YYYYMMDD, a calendar date, PS3.5 Table 6.2-1); the relay sorts and queries studies by it`,
      );
    }
    if (vr === 'TM' && !isValidTime(value)) {
      refuse(
        'INVALID_VALUE',
        `${name} is not a valid TM value (HH[MM[SS[.FFFFFF]]], PS3.5 Table 6.2-1); the relay sorts and queries studies by it`,
      );
    }
  }
}

function checkImage(
  parsed: ParsedInstance,
  json: Json,
): {
  image: InspectedImage;
  pixelData: InspectedInstance['pixelData'];
} {
  const need = (key: string, name: string): number => {
    const v = num(json, key);
    return (
      v ?? refuse('MISSING_ATTRIBUTE', `${name} (${key.slice(0, 4)},${key.slice(4)}) is missing`)
    );
  };
  const rows = need('00280010', 'Rows');
  const columns = need('00280011', 'Columns');
  const bitsAllocated = need('00280100', 'Bits Allocated');
  const samplesPerPixel = need('00280002', 'Samples per Pixel');
  const photometricInterpretation =
    text(json, '00280004') ??
    refuse('MISSING_ATTRIBUTE', 'Photometric Interpretation (0028,0004) is missing');
  const frames = numberOfFrames(parsed);
  if (rows < 1 || columns < 1) refuse('PIXEL_DATA_MISMATCH', 'Rows or Columns is zero');
  if (![1, 8, 16, 32].includes(bitsAllocated)) {
    refuse('PIXEL_DATA_MISMATCH', `Bits Allocated ${bitsAllocated} is not 1, 8, 16 or 32`);
  }
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    refuse('PIXEL_DATA_MISMATCH', `Samples per Pixel ${samplesPerPixel} is not 1 or 3`);
  }
  const pixels =
    parsed.scan.pixelData ?? refuse('MISSING_ATTRIBUTE', 'Pixel Data (7FE0,0010) is missing');
  const native = isNativeSyntax(parsed.transferSyntaxUid);
  if (native && pixels.encapsulated) {
    refuse(
      'PIXEL_DATA_MISMATCH',
      'Pixel Data is encapsulated, but the transfer syntax is a native one',
    );
  }
  if (!native && !pixels.encapsulated) {
    refuse(
      'PIXEL_DATA_MISMATCH',
      'the transfer syntax is a compressed one, but Pixel Data is not encapsulated',
    );
  }
  if (pixels.encapsulated === false) {
    // YBR_FULL_422 keeps two samples per pixel when native (PS3.3 C.7.6.3.1.2).
    const samples = photometricInterpretation === 'YBR_FULL_422' ? 2 : samplesPerPixel;
    const expected = Math.ceil((rows * columns * samples * frames * bitsAllocated) / 8);
    const padded = expected + (expected & 1);
    if (pixels.length !== expected && pixels.length !== padded) {
      refuse(
        'PIXEL_DATA_MISMATCH',
        `Pixel Data holds ${pixels.length} bytes, but Rows × Columns × Samples per Pixel × Bits Allocated × Number of Frames needs ${expected}`,
      );
    }
  } else {
    const bot = pixels.basicOffsetTable.length;
    if (pixels.fragments.length === 0)
      refuse('PIXEL_DATA_MISMATCH', 'the encapsulated Pixel Data has no fragments');
    if (bot % 4 !== 0)
      refuse('PIXEL_DATA_MISMATCH', 'the Basic Offset Table is not a whole number of offsets');
    if (bot > 0 && bot / 4 !== frames) {
      refuse(
        'PIXEL_DATA_MISMATCH',
        `the Basic Offset Table lists ${bot / 4} frames, but Number of Frames is ${frames}`,
      );
    }
    const extended = parsed.dataSet.elements['x7fe00001'];
    if (bot === 0 && extended && extended.length / 8 !== frames) {
      refuse(
        'PIXEL_DATA_MISMATCH',
        `the Extended Offset Table lists ${extended.length / 8} frames, but Number of Frames is ${frames}`,
      );
    }
    if (pixels.fragments.length < frames) {
      refuse(
        'PIXEL_DATA_MISMATCH',
        `the encapsulated Pixel Data has ${pixels.fragments.length} fragments for ${frames} frames`,
      );
    }
  }
  const windowCenter = num(json, '00281050');
  const windowWidth = num(json, '00281051');
  const image: InspectedImage = {
    rows,
    columns,
    samplesPerPixel,
    bitsAllocated,
    bitsStored: num(json, '00280101') ?? bitsAllocated,
    pixelRepresentation: num(json, '00280103') ?? 0,
    photometricInterpretation,
    numberOfFrames: frames,
    windowCenter,
    windowWidth: windowWidth !== null && windowWidth > 0 ? windowWidth : null,
    rescaleSlope: num(json, '00281053') ?? 1,
    rescaleIntercept: num(json, '00281052') ?? 0,
  };
  if (pixels.encapsulated) {
    const first = pixels.fragments[0]!;
    const problem = checkFirstFrame(
      parsed.transferSyntaxUid,
      parsed.bytes.subarray(first.offset, first.offset + first.length),
      image,
    );
    if (problem) refuse('PIXEL_DATA_MISMATCH', problem);
  }
  return {
    image,
    pixelData: { offset: pixels.offset, length: pixels.length, encapsulated: pixels.encapsulated },
  };
}

function describeInstance(parsed: ParsedInstance): InspectedInstance {
  const warnings = [...parsed.dataSet.warnings];
  const charsetElement = parsed.dataSet.elements['x00080005'];
  const decoding = textDecoding(
    charsetElement ? rawString(parsed.dataSet, charsetElement) : undefined,
  );
  if (decoding.warning) warnings.push(decoding.warning);
  const json = datasetToJson(parsed.dataSet, {
    littleEndian: parsed.littleEndian,
    explicit: parsed.explicit,
    text: decoding,
    warnings,
  });
  const sopClassUid = requiredUid(json, '00080016', 'SOP Class UID');
  const sopInstanceUid = requiredUid(json, '00080018', 'SOP Instance UID');
  if (!(sopClassUid in ACCEPTED_SOP_CLASSES)) {
    refuse('SOP_CLASS_NOT_ACCEPTED', `SOP class ${sopClassUid} is not one the relay accepts`);
  }
  const studyInstanceUid = requiredUid(json, '0020000D', 'Study Instance UID');
  const seriesInstanceUid = requiredUid(json, '0020000E', 'Series Instance UID');
  checkValuesRelayReliesOn(parsed);
  for (const [name, uid] of [
    ['SOP Class UID', sopClassUid],
    ['SOP Instance UID', sopInstanceUid],
    ['Study Instance UID', studyInstanceUid],
    ['Series Instance UID', seriesInstanceUid],
  ] as const) {
    if (!UID_SYNTAX.test(uid))
      warnings.push(`${name} has a component with a leading zero (PS3.5 §9.1)`);
  }
  if (parsed.meta.mediaSopClassUid && parsed.meta.mediaSopClassUid !== sopClassUid) {
    warnings.push('Media Storage SOP Class UID (0002,0002) differs from SOP Class UID');
  }
  if (parsed.meta.mediaSopInstanceUid && parsed.meta.mediaSopInstanceUid !== sopInstanceUid) {
    warnings.push('Media Storage SOP Instance UID (0002,0003) differs from SOP Instance UID');
  }

  const isEcgWaveform = ECG_SOP_CLASSES.has(sopClassUid);
  let image: InspectedInstance['image'] = null;
  let pixelData: InspectedInstance['pixelData'] = null;
  if (isEcgWaveform) {
    const problem = checkWaveform(parsed);
    if (problem) refuse(problem.code, problem.reason);
  } else if (sopClassUid === PDF_SOP_CLASS) {
    if (!parsed.dataSet.elements['x00420011']?.length) {
      refuse('MISSING_ATTRIBUTE', 'Encapsulated Document (0042,0011) is missing');
    }
    if (text(json, '00420012') !== 'application/pdf') {
      refuse(
        'MISSING_ATTRIBUTE',
        'MIME Type of Encapsulated Document (0042,0012) is not application/pdf',
      );
    }
  } else {
    ({ image, pixelData } = checkImage(parsed, json));
  }

  return {
    sopClassUid,
    sopInstanceUid,
    studyInstanceUid,
    seriesInstanceUid,
    transferSyntaxUid: parsed.transferSyntaxUid,
    modality: text(json, '00080060'),
    patient: {
      id: text(json, '00100020'),
      name: personName(json, '00100010'),
      sex: text(json, '00100040'),
      birthDate: text(json, '00100030'),
    },
    study: {
      date: text(json, '00080020'),
      time: text(json, '00080030'),
      description: text(json, '00081030'),
      accessionNumber: text(json, '00080050'),
    },
    series: {
      number: num(json, '00200011'),
      description: text(json, '0008103E'),
      bodyPart: text(json, '00180015'),
    },
    instanceNumber: num(json, '00200013'),
    image,
    pixelData,
    isEcgWaveform,
    json,
    warnings,
  };
}

/**
 * Checks one DICOM Part 10 file against what the relay accepts (docs/dicom-conformance.md) and
 * describes it. Never throws: every failure, including an unexpected one, is a refusal with a
 * plain reason (no patient data) and the PS3.4 status to answer with.
 */
export function inspectInstance(bytes: Uint8Array, limits: InspectLimits = {}): Inspection {
  const parsed = parseInstance(bytes, limits);
  if ('code' in parsed) {
    return { ok: false, refusal: parsed };
  }
  try {
    return { ok: true, instance: describeInstance(parsed) };
  } catch (error) {
    const ids = datasetIds(parsed) ?? metaIds(bytes);
    if (error instanceof Refused) {
      return {
        ok: false,
        refusal: {
          code: error.code,
          reason: error.reason,
          failureReason: FAILURE_REASONS[error.code],
          ...ids,
        },
      };
    }
    return {
      ok: false,
      refusal: {
        code: 'UNREADABLE',
        reason: 'the data set cannot be read',
        failureReason: FAILURE_REASONS.UNREADABLE,
        ...ids,
      },
    };
  }
}
