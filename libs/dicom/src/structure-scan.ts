/**
 * A flat, iterative walk over the element structure of a DICOM file, run before dicom-parser.
 * dicom-parser parses sequences recursively, so a sequence nested thousands deep overflows the
 * stack; this walk keeps its own stack, so it bounds nesting depth and element count (and finds
 * lengths that run past the end) without recursion. It follows dicom-parser's own reading of the
 * encoding (which VRs have 32-bit lengths, how implicit VR sequences are recognised, UN with an
 * undefined length read as an implicit VR sequence) so that what it admits, dicom-parser parses
 * within the same depth.
 */

import type { DicomRefusalCode } from './types.js';

export interface ScanLimits {
  maxDepth: number;
  maxElements: number;
}

export interface ScanFailure {
  code: Extract<DicomRefusalCode, 'TRUNCATED' | 'TOO_DEEP' | 'TOO_LARGE' | 'UNREADABLE'>;
  reason: string;
}

export interface EncapsulatedLayout {
  /** Offset of the Basic Offset Table's value and its length. */
  basicOffsetTable: { offset: number; length: number };
  /** Value offset and length of every fragment after the Basic Offset Table. */
  fragments: { offset: number; length: number }[];
}

export interface ScanResult {
  elementCount: number;
  deepestNesting: number;
  /** Top-level Pixel Data: where its value starts (native) or its items (encapsulated). */
  pixelData:
    | { encapsulated: false; offset: number; length: number }
    | ({ encapsulated: true; offset: number; length: number } & EncapsulatedLayout)
    | null;
}

export interface BodyEncoding {
  explicit: boolean;
  littleEndian: boolean;
}

const UNDEFINED_LENGTH = 0xffffffff;
const ITEM = 0xe000;
const ITEM_DELIMITER = 0xe00d;
const SEQUENCE_DELIMITER = 0xe0dd;
const ITEM_GROUP = 0xfffe;
/** dicom-parser's list of VRs with a 32-bit length (readDicomElementExplicit). */
const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OL', 'OW', 'SQ', 'OF', 'UC', 'UR', 'UT', 'UN']);

interface Frame {
  kind: 'sequence' | 'item';
  /** Absolute end for a defined length; undefined for an undefined length (ends at a delimiter). */
  end: number | undefined;
  explicit: boolean;
}

class Fail extends Error {
  constructor(readonly failure: ScanFailure) {
    super(failure.reason);
  }
}

/**
 * Walks the data set from `start` to the end of `bytes` (PS3.5 §7.1 data elements, §7.5 nesting).
 * Returns a failure instead of throwing.
 */
export function scanStructure(
  bytes: Uint8Array,
  start: number,
  encoding: BodyEncoding,
  limits: ScanLimits,
): ScanResult | ScanFailure {
  try {
    return walk(bytes, start, encoding, limits);
  } catch (error) {
    if (error instanceof Fail) return error.failure;
    throw error;
  }
}

function walk(
  bytes: Uint8Array,
  start: number,
  encoding: BodyEncoding,
  limits: ScanLimits,
): ScanResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = encoding.littleEndian;
  const u16 = (p: number) => view.getUint16(p, le);
  const u32 = (p: number) => view.getUint32(p, le);
  const need = (p: number, n: number, what: string) => {
    if (p + n > bytes.length) {
      throw new Fail({ code: 'TRUNCATED', reason: `the file ends inside ${what}` });
    }
  };

  const stack: Frame[] = [];
  let sequenceDepth = 0;
  let deepest = 0;
  let count = 0;
  let pixelData: ScanResult['pixelData'] = null;
  let pos = start;

  const counted = () => {
    if (++count > limits.maxElements) {
      throw new Fail({
        code: 'TOO_LARGE',
        reason: `the file holds more than ${limits.maxElements} data elements`,
      });
    }
  };
  const containerEnd = () => {
    for (let i = stack.length - 1; i >= 0; i--) {
      const end = stack[i]!.end;
      if (end !== undefined) return end;
    }
    return bytes.length;
  };
  const openSequence = (end: number | undefined, explicit: boolean) => {
    sequenceDepth++;
    if (sequenceDepth > limits.maxDepth) {
      throw new Fail({
        code: 'TOO_DEEP',
        reason: `sequences are nested more than ${limits.maxDepth} levels deep`,
      });
    }
    deepest = Math.max(deepest, sequenceDepth);
    stack.push({ kind: 'sequence', end, explicit });
  };

  for (;;) {
    const top = stack.at(-1);
    // Close containers with a defined length that end here.
    if (top?.end !== undefined && pos >= top.end) {
      if (pos > top.end) {
        throw new Fail({
          code: 'UNREADABLE',
          reason: 'an element runs past the end of its sequence',
        });
      }
      stack.pop();
      if (top.kind === 'sequence') sequenceDepth--;
      continue;
    }
    if (!top && pos >= bytes.length) break;
    if (pos >= bytes.length) {
      throw new Fail({ code: 'TRUNCATED', reason: 'the file ends inside a sequence' });
    }
    need(pos, 8, 'a data element header');
    const group = u16(pos);
    const element = u16(pos + 2);
    counted();

    if (group === ITEM_GROUP) {
      const length = u32(pos + 4);
      if (element === ITEM && top?.kind === 'sequence') {
        pos += 8;
        const end = length === UNDEFINED_LENGTH ? undefined : pos + length;
        if (end !== undefined && end > containerEnd()) {
          throw new Fail({
            code: end > bytes.length ? 'TRUNCATED' : 'UNREADABLE',
            reason: 'a sequence item is longer than the bytes that hold it',
          });
        }
        stack.push({ kind: 'item', end, explicit: top.explicit });
        continue;
      }
      if (element === ITEM_DELIMITER && top?.kind === 'item' && top.end === undefined) {
        stack.pop();
        pos += 8;
        continue;
      }
      if (element === SEQUENCE_DELIMITER && top?.kind === 'sequence' && top.end === undefined) {
        stack.pop();
        sequenceDepth--;
        pos += 8;
        continue;
      }
      throw new Fail({
        code: 'UNREADABLE',
        reason: 'a sequence item or delimiter is out of place',
      });
    }

    const explicit = top ? top.explicit : encoding.explicit;
    let vr: string | undefined;
    let length: number;
    let valueStart: number;
    if (explicit) {
      vr = String.fromCharCode(bytes[pos + 4]!, bytes[pos + 5]!);
      if (LONG_LENGTH_VRS.has(vr)) {
        need(pos, 12, 'a data element header');
        length = u32(pos + 8);
        valueStart = pos + 12;
      } else {
        length = u16(pos + 6);
        valueStart = pos + 8;
      }
    } else {
      length = u32(pos + 4);
      valueStart = pos + 8;
    }
    const undefinedLength = length === UNDEFINED_LENGTH;
    const isPixelData = group === 0x7fe0 && element === 0x0010;
    const isPrivate = (group & 1) === 1;

    let sequence: boolean;
    if (explicit) {
      sequence = vr === 'SQ' || (undefinedLength && vr === 'UN');
    } else {
      // dicom-parser's test without a dictionary: an item or a sequence delimiter comes next.
      const next =
        valueStart + 4 <= bytes.length
          ? u16(valueStart) === ITEM_GROUP &&
            (u16(valueStart + 2) === ITEM || u16(valueStart + 2) === SEQUENCE_DELIMITER)
          : false;
      sequence = next && (!isPrivate || undefinedLength);
    }

    if (explicit && undefinedLength && isPixelData && !sequence) {
      const layout = walkFragments(bytes, valueStart, u16, u32, counted);
      if (!top) {
        pixelData = {
          encapsulated: true,
          offset: valueStart,
          length: layout.end - valueStart,
          basicOffsetTable: layout.basicOffsetTable,
          fragments: layout.fragments,
        };
      }
      pos = layout.end;
      continue;
    }
    if (sequence) {
      // Items inside UN with an undefined length are implicit VR (PS3.5 §6.2.2), as dicom-parser reads them.
      const innerExplicit = explicit && vr === 'SQ';
      const end = undefinedLength ? undefined : valueStart + length;
      if (end !== undefined && end > containerEnd()) {
        throw new Fail({
          code: end > bytes.length ? 'TRUNCATED' : 'UNREADABLE',
          reason: 'a sequence is longer than the bytes that hold it',
        });
      }
      openSequence(end, innerExplicit);
      pos = valueStart;
      continue;
    }
    if (undefinedLength) {
      throw new Fail({
        code: 'UNREADABLE',
        reason: 'an element that is not a sequence has an undefined length',
      });
    }
    const end = valueStart + length;
    if (end > containerEnd()) {
      throw new Fail({
        code: end > bytes.length ? 'TRUNCATED' : 'UNREADABLE',
        reason:
          end > bytes.length
            ? `${isPixelData ? 'Pixel Data' : 'a data element'} is longer than the bytes that follow it`
            : 'a data element runs past the end of its sequence item',
      });
    }
    if (isPixelData && !top) pixelData = { encapsulated: false, offset: valueStart, length };
    pos = end;
  }
  return { elementCount: count, deepestNesting: deepest, pixelData };
}

/**
 * The items of encapsulated Pixel Data whose value starts at `start` (for frameOf), or a
 * failure when they are not well formed.
 */
export function encapsulatedLayout(
  bytes: Uint8Array,
  start: number,
  littleEndian: boolean,
): EncapsulatedLayout | ScanFailure {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const { basicOffsetTable, fragments } = walkFragments(
      bytes,
      start,
      (p) => view.getUint16(p, littleEndian),
      (p) => view.getUint32(p, littleEndian),
      () => undefined,
    );
    return { basicOffsetTable, fragments };
  } catch (error) {
    if (error instanceof Fail) return error.failure;
    throw error;
  }
}

/** Encapsulated Pixel Data (PS3.5 §A.4): a Basic Offset Table item, fragment items, a delimiter. */
function walkFragments(
  bytes: Uint8Array,
  start: number,
  u16: (p: number) => number,
  u32: (p: number) => number,
  counted: () => void,
): EncapsulatedLayout & { end: number } {
  let pos = start;
  const items: { offset: number; length: number }[] = [];
  for (;;) {
    if (pos + 8 > bytes.length) {
      throw new Fail({
        code: 'TRUNCATED',
        reason: 'the file ends inside the encapsulated Pixel Data (no sequence delimiter)',
      });
    }
    counted();
    const group = u16(pos);
    const element = u16(pos + 2);
    const length = u32(pos + 4);
    if (group === ITEM_GROUP && element === SEQUENCE_DELIMITER) {
      pos += 8;
      break;
    }
    if (group !== ITEM_GROUP || element !== ITEM || length === UNDEFINED_LENGTH) {
      throw new Fail({
        code: 'UNREADABLE',
        reason: 'the encapsulated Pixel Data holds something other than fragment items',
      });
    }
    if (pos + 8 + length > bytes.length) {
      throw new Fail({
        code: 'TRUNCATED',
        reason: 'a Pixel Data fragment is longer than the bytes that follow it',
      });
    }
    items.push({ offset: pos + 8, length });
    pos += 8 + length;
  }
  const [basicOffsetTable, ...fragments] = items;
  if (!basicOffsetTable) {
    throw new Fail({
      code: 'UNREADABLE',
      reason: 'the encapsulated Pixel Data has no Basic Offset Table item',
    });
  }
  return { basicOffsetTable, fragments, end: pos };
}
