import dicomParser from 'dicom-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DicomFrameError,
  DicomWaveformError,
  decodeEcgWaveform,
  frameOf,
  inspectInstance,
  renderThumbnail,
} from '#dicom';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  jpegBaselineFrame,
  makeInstance,
  withNestedSequence,
} from '#dicom/testing';

/** Valid files of each shape the parser meets: explicit, implicit, deflated, encapsulated, waveform, nested. */
const SEEDS: Uint8Array[] = [
  makeInstance({ sopClass: 'CT', rows: 8, columns: 8 }),
  makeInstance({ sopClass: 'MR', rows: 6, columns: 4, frames: 3, transferSyntax: 'implicit' }),
  makeInstance({
    sopClass: 'SC',
    rows: 4,
    columns: 4,
    photometricInterpretation: 'RGB',
    transferSyntax: DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  }),
  makeInstance({
    sopClass: 'SC',
    rows: 8,
    columns: 8,
    frames: 2,
    photometricInterpretation: 'RGB',
    transferSyntax: '1.2.840.10008.1.2.4.50',
    pixelData: [jpegBaselineFrame(8, 8, 1), jpegBaselineFrame(8, 8, 2)],
    attributes: { PhotometricInterpretation: 'YBR_FULL_422' },
  }),
  makeInstance({
    sopClass: 'ECG12',
    waveform: {
      leads: ['I', 'II', 'V1'],
      sampleRateHz: 500,
      samples: new Int16Array(3 * 50).map((_, i) => i),
    },
  }),
  withNestedSequence(makeInstance({ sopClass: 'CR', rows: 4, columns: 4 }), 6),
];

/** Offsets of every element's length field, to corrupt lengths where a parser trusts them most. */
function lengthFields(bytes: Uint8Array): number[] {
  const offsets: number[] = [];
  const visit = (dataSet: dicomParser.DataSet) => {
    for (const element of Object.values(dataSet.elements)) {
      const long =
        element.vr === undefined ||
        ['OB', 'OW', 'SQ', 'UN', 'UT', 'UC', 'UR', 'OF', 'OD', 'OL'].includes(element.vr);
      offsets.push(element.dataOffset - (long ? 4 : 2));
      for (const item of element.items ?? []) if (item.dataSet) visit(item.dataSet);
    }
  };
  try {
    visit(dicomParser.parseDicom(bytes));
  } catch {
    // Deflated bodies: their length fields are inside the compressed stream.
  }
  return offsets.filter((offset) => offset >= 132 && offset + 4 <= bytes.length);
}

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'length'; field: number; value: number; wide: boolean };

function apply(seed: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = new Uint8Array(seed);
  const fields = lengthFields(seed);
  for (const m of mutations) {
    const at = (p: number) => p % Math.max(1, bytes.length);
    switch (m.kind) {
      case 'flip':
        bytes[at(m.at)] = m.value;
        break;
      case 'truncate':
        bytes = bytes.subarray(0, at(m.at));
        break;
      case 'insert': {
        const p = at(m.at);
        const out = new Uint8Array(bytes.length + m.bytes.length);
        out.set(bytes.subarray(0, p));
        out.set(m.bytes, p);
        out.set(bytes.subarray(p), p + m.bytes.length);
        bytes = out;
        break;
      }
      case 'length': {
        if (fields.length === 0) break;
        const p = fields[m.field % fields.length]!;
        if (p + 4 > bytes.length) break;
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        if (m.wide) view.setUint32(p, m.value >>> 0, true);
        else view.setUint16(p, m.value & 0xffff, true);
        break;
      }
    }
  }
  return bytes;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('length' as const),
    field: fc.nat(),
    value: fc.oneof(
      fc.constant(0xffffffff),
      fc.constant(0),
      fc.nat(),
      fc.integer({ min: 1, max: 64 }),
    ),
    wide: fc.boolean(),
  }),
);

/** The only errors the other functions may throw, each a documented refusal of that call. */
const expectedError = (error: unknown) =>
  error instanceof RangeError ||
  error instanceof DicomFrameError ||
  error instanceof DicomWaveformError;

describe('mutations of valid files never throw or hang the parser (fast-check)', () => {
  it('inspectInstance answers every mutation, and what it accepts the other functions handle', () => {
    let slowest = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SEEDS.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seedIndex, mutations) => {
          const bytes = apply(SEEDS[seedIndex]!, mutations);
          const started = performance.now();
          const inspection = inspectInstance(bytes);
          slowest = Math.max(slowest, performance.now() - started);
          if (!inspection.ok) {
            expect(inspection.refusal.reason.length).toBeGreaterThan(0);
            expect(inspection.refusal.failureReason).toBeGreaterThan(0);
            return;
          }
          const { instance } = inspection;
          try {
            if (instance.image) frameOf(bytes, instance, 1);
            if (instance.isEcgWaveform) decodeEcgWaveform(bytes, instance);
          } catch (error) {
            if (!expectedError(error)) throw error;
          }
          // Returns a PNG or null; never throws.
          renderThumbnail(bytes, instance, 16);
        },
      ),
      { numRuns: 1500, seed: 20261207 },
    );
    // Files here are a few kB: anything near a second would mean a loop out of proportion.
    expect(slowest).toBeLessThan(1000);
  });

  it('also holds for fresh random seeds (bounded run)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SEEDS.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        (seedIndex, mutations) => {
          const inspection = inspectInstance(apply(SEEDS[seedIndex]!, mutations));
          expect(typeof inspection.ok).toBe('boolean');
        },
      ),
      { numRuns: 500 },
    );
  });
});
