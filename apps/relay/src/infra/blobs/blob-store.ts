import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Content-addressed storage for sample files and DICOM instances. */
export abstract class BlobStore {
  /** Stores the bytes durably and returns their sha256 (hex), which is also their key. */
  abstract put(bytes: Uint8Array): Promise<string>;
  abstract get(key: string): Promise<Buffer>;
  abstract has(key: string): Promise<boolean>;
}

const KEY = /^[0-9a-f]{64}$/;

/**
 * Blobs as files under DATA_DIR/blobs/ab/cd/<sha256>. A blob is written to a temporary
 * name, fsynced, renamed into place and its directory fsynced, so after `put` resolves a
 * crash cannot leave a torn or missing file. An S3 store can implement the same class.
 */
export class FileBlobStore extends BlobStore {
  constructor(private readonly root: string) {
    super();
  }

  async put(bytes: Uint8Array): Promise<string> {
    const key = createHash('sha256').update(bytes).digest('hex');
    const path = this.pathOf(key);
    if (await this.has(key)) return key;
    await mkdir(dirname(path), { recursive: true });
    // Unique per call: two stores of the same content at the same moment must not collide.
    const temporary = `${path}.${randomUUID()}.tmp`;
    const file = await open(temporary, 'wx');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
    const directory = await open(dirname(path), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
    return key;
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.pathOf(key));
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch {
      return false;
    }
  }

  private pathOf(key: string): string {
    if (!KEY.test(key)) throw new RangeError('blob key must be a sha256 hex digest');
    return join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }
}
