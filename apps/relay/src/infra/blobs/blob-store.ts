import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  copyFile,
  link,
  mkdir,
  open,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
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
   * Starts taking in a file already written (at a `scratchPath`, or elsewhere): its fsync
   * begins at once, so it runs while the caller still reads and checks the file. The file
   * stays where it is until `keep` moves it into place or `discard` removes it; one of the
   * two must be called.
   */
  abstract stage(path: string): StagedFile;
  /**
   * The same for bytes received into memory: they are written to a scratch file at once,
   * while the caller inspects them; `keep` and `discard` as for `stage`, and `keep` resolves
   * only once the blob survives a crash. The caller must not change the bytes until one of
   * the two has resolved.
   */
  abstract stageBytes(bytes: Uint8Array): StagedFile;
  /** The blob (or bytes `start`..`end` inclusive of it) as a stream, never whole in memory. */
  abstract stream(key: string, range?: { start: number; end: number }): Readable;
}

/** A received file on its way into the store (`BlobStore.stage`). */
export interface StagedFile {
  /**
   * Moves the file into the store under its sha256 (computed by the caller while reading
   * it) once its own fsync is done, and fsyncs the directory: when this resolves the blob
   * survives a crash. The file at the staged path is consumed.
   */
  keep(sha256: string): Promise<void>;
  /** Removes the file (after its fsync has ended, so no work is left running behind it). */
  discard(): Promise<void>;
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

  /** Made once: a directory per upload would cost a system call each time. */
  private scratchDirectory: Promise<string> | undefined;

  async scratchPath(): Promise<string> {
    this.scratchDirectory ??= this.makeScratchDirectory();
    return join(await this.scratchDirectory, `${randomUUID()}.part`);
  }

  private async makeScratchDirectory(): Promise<string> {
    const scratch = join(this.root, 'scratch');
    try {
      await mkdir(scratch, { recursive: true });
    } catch (error) {
      this.scratchDirectory = undefined;
      throw error;
    }
    return scratch;
  }

  stage(path: string): StagedFile {
    const synced = syncFile(path);
    // Awaited by keep or discard; until then a failure must not count as unhandled.
    synced.catch(() => undefined);
    return {
      keep: async (sha256) => {
        await synced;
        await this.moveIntoPlace(path, sha256);
      },
      discard: async () => {
        await synced.catch(() => undefined);
        await rm(path, { force: true });
      },
    };
  }

  stageBytes(bytes: Uint8Array): StagedFile {
    const path = this.scratchPath();
    const written = path.then((at) => writeFile(at, bytes).then(() => at));
    written.catch(() => undefined);
    return {
      keep: async (sha256) => {
        await this.linkIntoPlace(await written, sha256);
      },
      discard: async () => {
        await written.catch(() => undefined);
        const at = await path.catch(() => undefined);
        if (at) await rm(at, { force: true });
      },
    };
  }

  /**
   * A written, not yet fsynced file into the store with one journal commit instead of two.
   * The file is hard-linked under its key first and fsynced after, then its directory: on a
   * journalling file system (ext4, XFS) the fsync of the file commits the new name with its
   * data, and the directory's fsync finds nothing left to commit. The other order (fsync,
   * rename, fsync the directory) costs two commits, and under concurrent uploads the disk's
   * commits were the relay's limit (docs/imaging.md, "Speed and durability"). Both fsyncs
   * still end before this resolves, so no row can name a blob a crash could lose.
   *
   * A crash between the link and its fsync can leave a torn file under the key that no row
   * names. So a key already taken (EEXIST: the same bytes stored before, or such a leftover)
   * is replaced the careful way: fsync, rename over it, fsync the directory.
   */
  private async linkIntoPlace(path: string, sha256: string): Promise<void> {
    const target = this.pathOf(sha256);
    try {
      await linkMakingDirectory(path, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      await syncFile(path);
      await this.moveIntoPlace(path, sha256);
      return;
    }
    // The scratch path's inode, which is the one just linked: a parallel store of the same
    // bytes may already have renamed its own file over the key.
    await syncFile(path);
    await this.syncDirectory(dirname(target));
    await rm(path, { force: true });
  }

  /**
   * Renames a fsynced file to its key and fsyncs the directory. A blob already there has
   * the same bytes (the key is their hash), so the rename may replace it. The directory is
   * made only when the rename finds it missing, not stat'ed before every store.
   */
  private async moveIntoPlace(path: string, sha256: string): Promise<void> {
    const target = this.pathOf(sha256);
    try {
      await renameMakingDirectory(path, target);
    } catch (error) {
      // A file on another file system (a caller's own temp dir): copied beside its place,
      // fsynced, then renamed, since rename cannot cross file systems.
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      const temporary = `${target}.${randomUUID()}.tmp`;
      await copyFile(path, temporary);
      await syncFile(temporary);
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

async function syncFile(path: string): Promise<void> {
  const file = await open(path, 'r+');
  try {
    await file.sync();
  } finally {
    await file.close();
  }
}

async function linkMakingDirectory(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dirname(to), { recursive: true });
    await link(from, to);
  }
}

async function renameMakingDirectory(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
  }
}
