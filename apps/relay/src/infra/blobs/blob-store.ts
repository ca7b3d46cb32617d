import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

/** Content-addressed storage for sample files and DICOM instances. */
export abstract class BlobStore {
  /** Stores the bytes durably and returns their sha256 (hex), which is also their key. */
  abstract put(bytes: Uint8Array): Promise<string>;
  abstract get(key: string): Promise<Buffer>;
  abstract has(key: string): Promise<boolean>;
  /**
   * A fresh path on the store's own file system for an upload being written, so that
   * `putFile` can move it into place by a rename instead of a copy.
   */
  abstract scratchPath(): Promise<string>;
  /**
   * Takes a file already written (its sha256 computed by the caller while reading it) into
   * the store: fsynced, renamed into place, the file at `path` consumed either way.
   */
  abstract putFile(path: string, sha256: string): Promise<void>;
  /** The blob (or bytes `start`..`end` inclusive of it) as a stream, never whole in memory. */
  abstract stream(key: string, range?: { start: number; end: number }): Readable;
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
    await this.syncDirectory(dirname(path));
    return key;
  }

  private async syncDirectory(path: string): Promise<void> {
    const directory = await open(path, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  async scratchPath(): Promise<string> {
    const scratch = join(this.root, 'scratch');
    await mkdir(scratch, { recursive: true });
    return join(scratch, `${randomUUID()}.part`);
  }

  async putFile(path: string, sha256: string): Promise<void> {
    const target = this.pathOf(sha256);
    if (await this.has(sha256)) {
      await rm(path, { force: true });
      return;
    }
    await mkdir(dirname(target), { recursive: true });
    const file = await open(path, 'r+');
    try {
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(path, target);
    } catch (error) {
      // A file on another file system (a caller's own temp dir): copied beside its place,
      // fsynced, then renamed, since rename cannot cross file systems.
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      const temporary = `${target}.${randomUUID()}.tmp`;
      await copyFile(path, temporary);
      const copy = await open(temporary, 'r+');
      try {
        await copy.sync();
      } finally {
        await copy.close();
      }
      await rename(temporary, target);
      await rm(path, { force: true });
    }
    await this.syncDirectory(dirname(target));
  }

  stream(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(key), range);
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
