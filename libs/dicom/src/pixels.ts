import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import {
  DEFLATED_EXPLICIT_LITTLE_ENDIAN,
  EXPLICIT_BIG_ENDIAN,
  isNativeSyntax,
  parseInstance,
} from './inspect.js';
import { encapsulatedLayout } from './structure-scan.js';
import type { InspectedImage, InspectedInstance } from './types.js';

const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

export class DicomFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DicomFrameError';
  }
}

/** The bytes Pixel Data offsets refer to: the file, or for a deflated syntax the file inflated. */
function readableBytes(bytes: Uint8Array, instance: InspectedInstance): Uint8Array {
  if (instance.transferSyntaxUid !== DEFLATED_EXPLICIT_LITTLE_ENDIAN) return bytes;
  const parsed = parseInstance(bytes);
  if ('code' in parsed) throw new DicomFrameError(parsed.reason);
  return parsed.bytes;
}

function nativeFrame(
  data: Uint8Array,
  image: InspectedImage,
  transferSyntaxUid: string,
  frameNumber: number,
) {
  const samples = image.photometricInterpretation === 'YBR_FULL_422' ? 2 : image.samplesPerPixel;
  const bitsPerFrame = image.rows * image.columns * samples * image.bitsAllocated;
  if (image.bitsAllocated === 1) {
    // Single-bit frames need not start on a byte boundary (PS3.5 §8.1.1).
    const out = new Uint8Array(Math.ceil(bitsPerFrame / 8));
    const first = (frameNumber - 1) * bitsPerFrame;
    for (let i = 0; i < bitsPerFrame; i++) {
      const bit = first + i;
      if ((data[bit >> 3]! >> (bit & 7)) & 1) out[i >> 3]! |= 1 << (i & 7);
    }
    return out;
  }
  const size = bitsPerFrame / 8;
  const frame = data.subarray((frameNumber - 1) * size, frameNumber * size);
  if (transferSyntaxUid !== EXPLICIT_BIG_ENDIAN || image.bitsAllocated === 8) return frame;
  // Frames are served little endian (PS3.18 §8.7.3.3.2 native frames use Explicit VR Little Endian).
  const swapped = new Uint8Array(frame);
  const width = image.bitsAllocated / 8;
  for (let p = 0; p + width <= swapped.length; p += width) swapped.subarray(p, p + width).reverse();
  return swapped;
}

const FRAME_START_MARKERS = [
  [0xff, 0xd8], // JPEG SOI (baseline, extended, lossless, JPEG-LS)
  [0xff, 0x4f], // JPEG 2000 / HTJ2K SOC
];

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

function encapsulatedFrame(
  data: Uint8Array,
  instance: InspectedInstance,
  frameNumber: number,
): Uint8Array {
  const frames = instance.image!.numberOfFrames;
  const layout = encapsulatedLayout(data, instance.pixelData!.offset, true);
  if ('code' in layout) throw new DicomFrameError(layout.reason);
  const fragments = layout.fragments.map((f) => data.subarray(f.offset, f.offset + f.length));
  if (frames === 1) return join(fragments);
  // Offsets in the Basic Offset Table count from the first fragment's item tag (PS3.5 §A.4).
  const firstItem = layout.fragments[0]!.offset - 8;
  const itemOffsets = layout.fragments.map((f) => f.offset - 8 - firstItem);
  let starts: number[] | null = null;
  const bot = layout.basicOffsetTable;
  if (bot.length >= 4 * frames) {
    const view = new DataView(data.buffer, data.byteOffset + bot.offset, bot.length);
    starts = [];
    for (let i = 0; i < frames; i++) {
      const index = itemOffsets.indexOf(view.getUint32(i * 4, true));
      if (index < 0) throw new DicomFrameError('the Basic Offset Table points between fragments');
      starts.push(index);
    }
  } else if (fragments.length === frames) {
    starts = fragments.map((_, i) => i);
  } else {
    const marked = fragments.flatMap((fragment, i) =>
      FRAME_START_MARKERS.some(([a, b]) => fragment[0] === a && fragment[1] === b) ? [i] : [],
    );
    if (marked.length === frames && marked[0] === 0) starts = marked;
  }
  if (!starts) throw new DicomFrameError('the fragments of each frame cannot be told apart');
  const start = starts[frameNumber - 1]!;
  const end = starts[frameNumber] ?? fragments.length;
  return join(fragments.slice(start, end));
}

/**
 * One frame's pixel data, 1-based. Native: that frame's bytes (little endian, single-bit frames
 * realigned to a byte); encapsulated: that frame's fragments joined, still compressed as stored.
 * Throws RangeError for a frame number outside 1..Number of Frames, DicomFrameError when the
 * frame cannot be found.
 */
export function frameOf(
  bytes: Uint8Array,
  instance: InspectedInstance,
  frameNumber: number,
): Uint8Array {
  const { image, pixelData } = instance;
  if (!image || !pixelData) throw new DicomFrameError('the instance has no pixel data');
  if (!Number.isInteger(frameNumber) || frameNumber < 1 || frameNumber > image.numberOfFrames) {
    throw new RangeError(`frame ${frameNumber} is not within 1..${image.numberOfFrames}`);
  }
  const data = readableBytes(bytes, instance);
  if (pixelData.encapsulated) return encapsulatedFrame(data, instance, frameNumber);
  return nativeFrame(
    data.subarray(pixelData.offset, pixelData.offset + pixelData.length),
    image,
    instance.transferSyntaxUid,
    frameNumber,
  );
}

interface Decoded {
  width: number;
  height: number;
  channels: 1 | 3;
  /** Grey: stored values before rescale; colour: RGB 0..255 interleaved. */
  values: Float64Array;
}

function decodeNative(frame: Uint8Array, image: InspectedImage, planar: number): Decoded | null {
  const { rows, columns, bitsAllocated, bitsStored, pixelRepresentation } = image;
  const count = rows * columns;
  const photometric = image.photometricInterpretation;
  if (image.samplesPerPixel === 3) {
    if (bitsAllocated !== 8 || (photometric !== 'RGB' && photometric !== 'YBR_FULL')) return null;
    const values = new Float64Array(count * 3);
    for (let i = 0; i < count; i++) {
      for (let s = 0; s < 3; s++) {
        values[i * 3 + s] = planar === 1 ? frame[s * count + i]! : frame[i * 3 + s]!;
      }
      if (photometric === 'YBR_FULL') {
        // PS3.3 C.7.6.3.1.2, YBR_FULL to RGB.
        const [y, cb, cr] = [values[i * 3]!, values[i * 3 + 1]! - 128, values[i * 3 + 2]! - 128];
        values[i * 3] = y + 1.402 * cr;
        values[i * 3 + 1] = y - 0.344136 * cb - 0.714136 * cr;
        values[i * 3 + 2] = y + 1.772 * cb;
      }
    }
    return { width: columns, height: rows, channels: 3, values };
  }
  if (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') return null;
  const values = new Float64Array(count);
  if (bitsAllocated === 1) {
    for (let i = 0; i < count; i++) values[i] = (frame[i >> 3]! >> (i & 7)) & 1;
    return { width: columns, height: rows, channels: 1, values };
  }
  // frameOf returns little-endian frames, and typed arrays read in the host order: little endian
  // on every platform the relay runs on (x64, arm64). Copy when the offset does not suit them.
  const bytesPerSample = bitsAllocated / 8;
  const aligned =
    frame.byteOffset % bytesPerSample === 0
      ? frame
      : new Uint8Array(frame.subarray(0, count * bytesPerSample));
  const raw =
    bitsAllocated === 8
      ? aligned
      : bitsAllocated === 16
        ? new Uint16Array(aligned.buffer, aligned.byteOffset, count)
        : new Uint32Array(aligned.buffer, aligned.byteOffset, count);
  const stored = Math.min(bitsStored, bitsAllocated);
  // Bits above Bits Stored may hold overlays (retired) or noise: mask them, then sign-extend.
  const shift = 32 - stored;
  const signed = pixelRepresentation === 1;
  for (let i = 0; i < count; i++) {
    const v = raw[i]! << shift;
    values[i] = signed ? v >> shift : v >>> shift;
  }
  return { width: columns, height: rows, channels: 1, values };
}

function decodeJpegBaseline(frame: Uint8Array, image: InspectedImage): Decoded | null {
  const colour = image.samplesPerPixel === 3;
  const decoded = jpeg.decode(frame, {
    useTArray: true,
    formatAsRGBA: false,
    // DICOM says what the colour space is; JFIF/Adobe markers are often missing.
    colorTransform: colour ? image.photometricInterpretation.startsWith('YBR') : false,
    maxResolutionInMP: 100,
    maxMemoryUsageInMB: 512,
  });
  const channels = colour ? 3 : 1;
  const count = decoded.width * decoded.height;
  if (decoded.data.length < count * channels) return null;
  const values = new Float64Array(count * channels);
  // jpeg-js gives 3 channels for colour, and 3 equal channels for grey unless asked otherwise.
  const stride = decoded.data.length / count;
  for (let i = 0; i < count; i++) {
    for (let s = 0; s < channels; s++) values[i * channels + s] = decoded.data[i * stride + s]!;
  }
  return { width: decoded.width, height: decoded.height, channels, values };
}

/** Grey values to 0..255 through the window (PS3.3 C.11.2.1.2, linear), or min..max. */
function toGrey(decoded: Decoded, image: InspectedImage): Uint8Array {
  const { values } = decoded;
  const slope = image.rescaleSlope;
  const intercept = image.rescaleIntercept;
  let low: number;
  let high: number;
  if (image.windowCenter !== null && image.windowWidth !== null && image.windowWidth > 1) {
    low = image.windowCenter - 0.5 - (image.windowWidth - 1) / 2;
    high = image.windowCenter - 0.5 + (image.windowWidth - 1) / 2;
  } else {
    low = Infinity;
    high = -Infinity;
    for (const v of values) {
      const m = v * slope + intercept;
      if (m < low) low = m;
      if (m > high) high = m;
    }
  }
  const span = high - low || 1;
  const invert = image.photometricInterpretation === 'MONOCHROME1';
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const t = Math.min(1, Math.max(0, (values[i]! * slope + intercept - low) / span));
    out[i] = Math.round((invert ? 1 - t : t) * 255);
  }
  return out;
}

/** Box-filter downscale so the longer side is at most `size`. */
function downscale(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  size: number,
): { data: Uint8Array; width: number; height: number } {
  const scale = Math.min(1, size / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  if (w === width && h === height) return { data: pixels, width, height };
  const out = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * height) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * width) / w));
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let sy = y0; sy < y1; sy++) {
          for (let sx = x0; sx < x1; sx++) sum += pixels[(sy * width + sx) * channels + c]!;
        }
        out[(y * w + x) * channels + c] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
  return { data: out, width: w, height: h };
}

/**
 * A PNG of the first frame, at most `size` pixels on its longer side, windowed with the
 * instance's own window (else its min..max). Native grey (MONOCHROME1/2), RGB and YBR_FULL,
 * and JPEG Baseline; null for what cannot be decoded here (other compressed syntaxes,
 * palette colour, YBR_FULL_422 native), so the caller can answer 406 or a placeholder.
 */
export function renderThumbnail(
  bytes: Uint8Array,
  instance: InspectedInstance,
  size: number,
): Uint8Array | null {
  const { image } = instance;
  if (!image || !instance.pixelData || !Number.isFinite(size) || size < 1) return null;
  let decoded: Decoded | null;
  try {
    const frame = frameOf(bytes, instance, 1);
    if (isNativeSyntax(instance.transferSyntaxUid)) {
      const planarValue = instance.json['00280006']?.Value?.[0];
      decoded = decodeNative(frame, image, typeof planarValue === 'number' ? planarValue : 0);
    } else if (instance.transferSyntaxUid === JPEG_BASELINE) {
      decoded = decodeJpegBaseline(frame, image);
    } else {
      decoded = null;
    }
  } catch {
    // A frame that cannot be decoded here is what null means; the instance itself was accepted.
    return null;
  }
  if (!decoded) return null;
  let pixels: Uint8Array;
  if (decoded.channels === 1) {
    pixels = toGrey(decoded, image);
  } else {
    pixels = new Uint8Array(decoded.values.length);
    for (let i = 0; i < pixels.length; i++)
      pixels[i] = Math.min(255, Math.max(0, Math.round(decoded.values[i]!)));
  }
  const small = downscale(
    pixels,
    decoded.width,
    decoded.height,
    decoded.channels,
    Math.floor(size),
  );
  return encodePng({
    width: small.width,
    height: small.height,
    data: small.data,
    channels: decoded.channels,
    depth: 8,
  });
}
