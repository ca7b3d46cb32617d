import { Transform } from 'node:stream';

/**
 * Passes an uploaded file through until it grows past `maxBytes`, then reads the rest
 * without keeping it, so the answer (413) goes out on a connection still in order.
 */
export class SizeLimit extends Transform {
  private seen = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  get exceeded(): boolean {
    return this.seen > this.maxBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.seen += chunk.byteLength;
    if (!this.exceeded) this.push(chunk);
    callback();
  }
}
