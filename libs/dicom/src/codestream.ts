import type { InspectedImage } from './types.js';

/**
 * Checks the header of the first compressed frame against the Image Pixel module, without
 * decoding it: a JPEG/JPEG-LS frame header (ITU T.81 §B.2.2, T.87 §5.1), a JPEG 2000 SIZ marker
 * (ITU T.800 §A.5.1), an RLE header (PS3.5 §G.3.1). The Image Pixel module describes the
 * decompressed frames (PS3.5 §8.2); a frame whose own header disagrees is refused by the viewer's
 * decoder or shown wrongly (a CT read in the wrong sign is a clinical risk), so it is refused at
 * the door, where the clinic still has the study and can send it again.
 * Returns the disagreement as a sentence, or null.
 */

const JPEG_FAMILY = new Set([
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81',
]);
const J2K_FAMILY = new Set([
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
  '1.2.840.10008.1.2.4.201',
  '1.2.840.10008.1.2.4.202',
  '1.2.840.10008.1.2.4.203',
]);
const RLE = '1.2.840.10008.1.2.5';

function u16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}
function u32(b: Uint8Array, p: number): number {
  return u16(b, p) * 0x10000 + u16(b, p + 2);
}

function checkJpeg(frame: Uint8Array, image: InspectedImage): string | null {
  if (frame[0] !== 0xff || frame[1] !== 0xd8) {
    return 'the first frame does not start with a JPEG start-of-image marker';
  }
  let p = 2;
  while (p + 4 <= frame.length) {
    if (frame[p] !== 0xff) return 'the first frame has a malformed JPEG marker segment';
    const marker = frame[p + 1]!;
    if (marker === 0xff) {
      p++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2;
      continue;
    }
    const isFrameHeader =
      (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) ||
      marker === 0xf7; // JPEG-LS SOF55
    if (isFrameHeader) {
      if (p + 10 > frame.length) return null;
      const height = u16(frame, p + 5);
      const width = u16(frame, p + 7);
      const components = frame[p + 9]!;
      if (width !== image.columns || (height !== 0 && height !== image.rows)) {
        return `the JPEG frame is ${width}×${height}, but Columns × Rows is ${image.columns}×${image.rows}`;
      }
      if (components !== image.samplesPerPixel) {
        return `the JPEG frame has ${components} components, but Samples per Pixel is ${image.samplesPerPixel}`;
      }
      return null;
    }
    if (marker === 0xda || marker === 0xd9) return 'the first frame has no JPEG frame header';
    p += 2 + u16(frame, p + 2);
  }
  // The header runs on into a later fragment: nothing more to check without joining them.
  return null;
}

function checkJ2k(frame: Uint8Array, image: InspectedImage): string | null {
  if (u16(frame, 0) !== 0xff4f || u16(frame, 2) !== 0xff51) {
    return 'the first frame is not a JPEG 2000 codestream (no SOC and SIZ markers; a JP2 file header is not allowed, PS3.5 §A.4.4)';
  }
  if (frame.length < 4 + 38 + 3) return null;
  const width = u32(frame, 8) - u32(frame, 16);
  const height = u32(frame, 12) - u32(frame, 20);
  const components = u16(frame, 40);
  if (width !== image.columns || height !== image.rows) {
    return `the JPEG 2000 image is ${width}×${height}, but Columns × Rows is ${image.columns}×${image.rows}`;
  }
  if (components !== image.samplesPerPixel) {
    return `the JPEG 2000 image has ${components} components, but Samples per Pixel is ${image.samplesPerPixel}`;
  }
  const ssiz = frame[42]!;
  const signed = (ssiz & 0x80) !== 0;
  if (image.samplesPerPixel === 1 && signed !== (image.pixelRepresentation === 1)) {
    return `the JPEG 2000 samples are ${signed ? 'signed' : 'unsigned'}, but Pixel Representation says ${
      image.pixelRepresentation === 1 ? 'signed' : 'unsigned'
    }; decoders disagree on which to follow`;
  }
  return null;
}

function checkRle(frame: Uint8Array, image: InspectedImage): string | null {
  if (frame.length < 64) return 'the first frame is shorter than an RLE header';
  const segments = frame[0]! | (frame[1]! << 8) | (frame[2]! << 16) | (frame[3]! << 24);
  const expected = image.samplesPerPixel * Math.ceil(image.bitsAllocated / 8);
  if (segments !== expected) {
    return `the RLE header lists ${segments} segments, but Samples per Pixel × bytes per sample is ${expected}`;
  }
  return null;
}

export function checkFirstFrame(
  transferSyntaxUid: string,
  firstFragment: Uint8Array,
  image: InspectedImage,
): string | null {
  if (JPEG_FAMILY.has(transferSyntaxUid)) return checkJpeg(firstFragment, image);
  if (J2K_FAMILY.has(transferSyntaxUid)) return checkJ2k(firstFragment, image);
  if (transferSyntaxUid === RLE) return checkRle(firstFragment, image);
  return null;
}
