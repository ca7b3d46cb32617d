import { decode as decodePng } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { frameOf, inspectInstance, renderThumbnail, type InspectedInstance } from '#dicom';
import {
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
  jpegBaselineFrame,
  makeInstance,
} from '#dicom/testing';

function inspect(bytes: Uint8Array): InspectedInstance {
  const inspection = inspectInstance(bytes);
  if (!inspection.ok) throw new Error(`${inspection.refusal.code}: ${inspection.refusal.reason}`);
  return inspection.instance;
}

/** Frame k of an 8-bit grey volume: every pixel says which frame it is in. */
function framesOf(rows: number, columns: number, frames: number): Uint8Array {
  const data = new Uint8Array(rows * columns * frames);
  for (let f = 0; f < frames; f++)
    data.fill(10 * (f + 1), f * rows * columns, (f + 1) * rows * columns);
  return data;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function distinctValues(png: Uint8Array): number {
  const image = decodePng(png);
  return new Set(image.data).size;
}

describe('frameOf', () => {
  it.each(['explicit', 'implicit', DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN])(
    'slices native frames, 1-based (%s)',
    (transferSyntax) => {
      const bytes = makeInstance({
        sopClass: 'SC',
        rows: 4,
        columns: 6,
        frames: 3,
        bitsAllocated: 8,
        pixelData: framesOf(4, 6, 3),
        transferSyntax,
      });
      const instance = inspect(bytes);
      for (const n of [1, 2, 3]) {
        const frame = frameOf(bytes, instance, n);
        expect(frame.length).toBe(24);
        expect(new Set(frame)).toEqual(new Set([10 * n]));
      }
    },
  );

  it('refuses frame numbers outside 1..Number of Frames', () => {
    const bytes = makeInstance({ frames: 2 });
    const instance = inspect(bytes);
    expect(() => frameOf(bytes, instance, 0)).toThrow(RangeError);
    expect(() => frameOf(bytes, instance, 3)).toThrow(RangeError);
    expect(() => frameOf(bytes, instance, 1.5)).toThrow(RangeError);
  });

  it('returns each encapsulated frame as stored', () => {
    const frames = [
      jpegBaselineFrame(16, 8, 1),
      jpegBaselineFrame(16, 8, 2),
      jpegBaselineFrame(16, 8, 3),
    ];
    const bytes = makeInstance({
      sopClass: 'SC',
      rows: 8,
      columns: 16,
      frames: 3,
      photometricInterpretation: 'RGB',
      transferSyntax: '1.2.840.10008.1.2.4.50',
      pixelData: frames,
      attributes: { PhotometricInterpretation: 'YBR_FULL_422' },
    });
    const instance = inspect(bytes);
    for (const [i, frame] of frames.entries()) {
      const got = frameOf(bytes, instance, i + 1);
      // A fragment is padded to even length (PS3.5 §A.4).
      expect(got.subarray(0, frame.length)).toEqual(frame);
      expect(got.length - frame.length).toBeLessThanOrEqual(1);
    }
  });
});

describe('renderThumbnail', () => {
  it('renders a grey CT slice as a PNG no larger than asked, with varied pixels', () => {
    const bytes = makeInstance({ sopClass: 'CT', rows: 100, columns: 200 });
    const png = renderThumbnail(bytes, inspect(bytes), 64);
    expect(png).not.toBeNull();
    expect([...png!.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    const image = decodePng(png!);
    expect([image.width, image.height, image.channels]).toEqual([64, 32, 1]);
    expect(distinctValues(png!)).toBeGreaterThan(10);
  });

  it('windows with the instance window, else its min..max', () => {
    // Values 0..4095 (12 bits); CT rescale −1024: a narrow window saturates most pixels.
    const bytes = makeInstance({ sopClass: 'CT', rows: 32, columns: 32 });
    const fullRange = decodePng(renderThumbnail(bytes, inspect(bytes), 32)!).data;
    const narrowBytes = makeInstance({
      sopClass: 'CT',
      rows: 32,
      columns: 32,
      windowCenter: 0,
      windowWidth: 10,
    });
    const narrow = decodePng(renderThumbnail(narrowBytes, inspect(narrowBytes), 32)!).data;
    const saturated = (data: ArrayLike<number>) =>
      Array.from(data).filter((v) => v === 0 || v === 255).length;
    expect(saturated(narrow)).toBeGreaterThan(saturated(fullRange) + 500);
  });

  it('inverts MONOCHROME1', () => {
    const make = (photometricInterpretation: 'MONOCHROME1' | 'MONOCHROME2') =>
      makeInstance({ sopClass: 'CR', rows: 16, columns: 16, photometricInterpretation });
    const [one, two] = [make('MONOCHROME1'), make('MONOCHROME2')].map(
      (bytes) => decodePng(renderThumbnail(bytes, inspect(bytes), 16)!).data,
    );
    for (let i = 0; i < 256; i++) expect(one![i]! + two![i]!).toBe(255);
  });

  it('renders native RGB', () => {
    const bytes = makeInstance({
      sopClass: 'SC',
      rows: 20,
      columns: 30,
      photometricInterpretation: 'RGB',
    });
    const png = renderThumbnail(bytes, inspect(bytes), 128)!;
    const image = decodePng(png);
    expect([image.width, image.height, image.channels]).toEqual([30, 20, 3]);
    expect(distinctValues(png)).toBeGreaterThan(10);
  });

  it('decodes JPEG Baseline', () => {
    const bytes = makeInstance({
      sopClass: 'SC',
      rows: 8,
      columns: 16,
      photometricInterpretation: 'RGB',
      transferSyntax: '1.2.840.10008.1.2.4.50',
      pixelData: [jpegBaselineFrame(16, 8, 1)],
      attributes: { PhotometricInterpretation: 'YBR_FULL_422' },
    });
    const png = renderThumbnail(bytes, inspect(bytes), 64)!;
    expect(decodePng(png).channels).toBe(3);
    expect(distinctValues(png)).toBeGreaterThan(10);
  });

  it('answers null for syntaxes it cannot decode and for non-images', () => {
    const rle = makeInstance({
      sopClass: 'CT',
      rows: 2,
      columns: 2,
      transferSyntax: '1.2.840.10008.1.2.5',
      // An RLE header: two segments (16-bit grey), then the segments.
      pixelData: [Uint8Array.from({ length: 80 }, (_, i) => (i === 0 ? 2 : 0))],
    });
    expect(renderThumbnail(rle, inspect(rle), 64)).toBeNull();
    const ecg = makeInstance({ sopClass: 'ECG12' });
    expect(renderThumbnail(ecg, inspect(ecg), 64)).toBeNull();
  });
});
