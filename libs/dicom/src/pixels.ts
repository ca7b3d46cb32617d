import type { InspectedInstance } from './types.js';

/** Seam: native frames only until the full version lands. 1-based. */
export function frameOf(
  bytes: Uint8Array,
  instance: InspectedInstance,
  frameNumber: number,
): Uint8Array {
  const { image, pixelData } = instance;
  if (!image || !pixelData || pixelData.encapsulated) {
    throw new RangeError('this instance has no native pixel data');
  }
  const size = (image.rows * image.columns * image.samplesPerPixel * image.bitsAllocated) / 8;
  if (frameNumber < 1 || frameNumber > image.numberOfFrames) throw new RangeError('no such frame');
  const start = pixelData.offset + (frameNumber - 1) * size;
  return bytes.subarray(start, start + size);
}

/** Seam: returns null (cannot render) until the renderer lands. */
export function renderThumbnail(
  bytes: Uint8Array,
  instance: InspectedInstance,
  size: number,
): Uint8Array | null {
  void bytes;
  void instance;
  void size;
  return null;
}
