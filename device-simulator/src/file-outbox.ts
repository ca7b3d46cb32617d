import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  RecordingCloseSchema,
  RecordingOpenSchema,
  type RecordingClose,
  type RecordingOpen,
} from '#contracts';
import type { OutboxEntry, OutboxStore } from './outbox.js';

/**
 * File layout, version 1 (integers little-endian):
 *
 *   0      8   magic "TRSIMOB" + 0x01
 *   8      4   header length H (u32)
 *   12     H   header, UTF-8 JSON { serial, open, close, storedThrough, frameLengths }
 *   12+H   …   the frames still held, sequences storedThrough+1 .. chunkCount-1, back to back
 *   end-32 32  sha256 of every preceding byte
 *
 * `frameLengths` lists the byte length of each held frame in sequence order. The trailing
 * sha256 catches a file damaged on the flash; the write protocol (temporary file, fsync,
 * rename, fsync of the directory) already rules out a torn file after a crash.
 */
const MAGIC = Buffer.from('TRSIMOB\u0001', 'latin1');
const HASH_BYTES = 32;
const RECORDING_FILE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.rec$/;
const TEMPORARY_FILE = /\.tmp$/;

interface FileHeader {
  serial: number;
  open: RecordingOpen;
  close: RecordingClose;
  storedThrough: number;
  frameLengths: number[];
}

/** A recording file that could not be read; it is moved aside as `<name>.corrupt`. */
export class CorruptOutboxFileError extends Error {
  override readonly name = 'CorruptOutboxFileError';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`outbox file ${file}: ${reason}; moved aside as ${file}.corrupt`);
  }
}

export interface FileOutboxStoreOptions {
  /** Told about each unreadable file found while loading (the store keeps going without it). */
  onCorrupt?: (error: CorruptOutboxFileError) => void;
}

/** What the store holds of one recording: the file's content, kept in memory too. */
interface Held {
  readonly open: RecordingOpen;
  readonly close: RecordingClose;
  readonly frames: (Buffer | null)[];
  storedThrough: number;
  readonly serial: number;
  /** Every write and the unlink of this recording's file run one after the other. */
  tail: Promise<void>;
  /** A write queued behind `tail` that has not started: later changes ride along with it. */
  queuedWrite: Promise<void> | undefined;
  removed: boolean;
}

/**
 * The box's flash: an OutboxStore in one directory per box, one file per pending recording.
 * Every change is written to a temporary file, fsynced and renamed over the old file, and
 * the directory is fsynced, so whenever the process dies the file holds either the old or
 * the new state, never a mix. A new store on the same directory (the box restarted) lists
 * what the old one had not removed. Acknowledged chunks are dropped from the file on the
 * next write; a burst of acknowledgements for one recording is coalesced into one write.
 *
 * One process per directory: two stores on the same directory would overwrite each
 * other's files (as two boxes with one device id would fight over the broker session).
 */
export class FileOutboxStore implements OutboxStore {
  private readonly held = new Map<string, Held>();
  /** Writes and unlinks not finished yet, including those of recordings already removed. */
  private readonly inFlight = new Set<Promise<void>>();
  private loaded: Promise<void> | undefined;
  private nextSerial = 0;
  private temporaryCounter = 0;

  constructor(
    readonly directory: string,
    private readonly options: FileOutboxStoreOptions = {},
  ) {}

  /** The directory of one box under a common buffer directory (`--buffer-dir`). */
  static directoryFor(bufferDir: string, deviceId: string): string {
    // Device ids are one topic level (no '/'), but '.' and '..' must not name a directory.
    return join(bufferDir, encodeURIComponent(deviceId).replaceAll('.', '%2E'));
  }

  async add(entry: OutboxEntry): Promise<void> {
    await this.load();
    const recordingId = entry.open.recordingId;
    if (!RECORDING_FILE.test(fileName(recordingId))) {
      throw new RangeError(`recording id ${JSON.stringify(recordingId)} cannot name a file`);
    }
    if (entry.frames.length !== entry.close.chunkCount) {
      throw new RangeError(
        `recording ${recordingId}: ${entry.frames.length} frames but close says ${entry.close.chunkCount}`,
      );
    }
    const previous = this.held.get(recordingId);
    if (previous) previous.removed = true;
    const storedThrough = Math.min(entry.storedThrough, entry.close.chunkCount - 1);
    const frames = entry.frames.map((frame, sequence) =>
      sequence <= storedThrough ? null : frame,
    );
    const firstMissing = frames.findIndex((frame, sequence) => sequence > storedThrough && !frame);
    if (firstMissing >= 0) {
      throw new RangeError(`recording ${recordingId}: chunk ${firstMissing} is not acknowledged`);
    }
    const held: Held = {
      open: entry.open,
      close: entry.close,
      frames,
      storedThrough,
      serial: this.nextSerial++,
      // Behind the old file's pending operations, so an old write cannot land after ours.
      tail: previous?.tail ?? Promise.resolve(),
      queuedWrite: undefined,
      removed: false,
    };
    this.held.set(recordingId, held);
    await this.persist(recordingId, held);
  }

  async acknowledge(recordingId: string, storedThrough: number): Promise<void> {
    await this.load();
    const held = this.held.get(recordingId);
    if (!held || storedThrough <= held.storedThrough) return;
    const last = Math.min(Math.trunc(storedThrough), held.frames.length - 1);
    if (last <= held.storedThrough) return;
    for (let sequence = held.storedThrough + 1; sequence <= last; sequence++) {
      held.frames[sequence] = null;
    }
    held.storedThrough = last;
    await this.persist(recordingId, held);
  }

  async remove(recordingId: string): Promise<void> {
    await this.load();
    const held = this.held.get(recordingId);
    if (!held) return;
    this.held.delete(recordingId);
    held.removed = true;
    const unlink = held.tail.then(async () => {
      await rm(join(this.directory, fileName(recordingId)), { force: true });
      await syncDirectory(this.directory);
    });
    held.tail = this.track(unlink);
    await unlink;
  }

  async list(): Promise<OutboxEntry[]> {
    await this.load();
    return [...this.held.values()]
      .sort((a, b) => a.serial - b.serial)
      .map((held) => ({
        open: held.open,
        close: held.close,
        frames: [...held.frames],
        storedThrough: held.storedThrough,
      }));
  }

  /** Resolves once every write and unlink started so far is on disk (tests, shutdown). */
  async idle(): Promise<void> {
    await this.load();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** Bytes of chunk frames still held, as InMemoryOutboxStore reports them. */
  get heldFrameBytes(): number {
    let bytes = 0;
    for (const held of this.held.values()) {
      for (const frame of held.frames) bytes += frame?.length ?? 0;
    }
    return bytes;
  }

  private load(): Promise<void> {
    this.loaded ??= this.loadDirectory().catch((error: unknown) => {
      // Let the next call try again (the directory may become writable).
      this.loaded = undefined;
      throw error;
    });
    return this.loaded;
  }

  private async loadDirectory(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const names = await readdir(this.directory);
    const found: { recordingId: string; header: FileHeader; frames: Buffer[] }[] = [];
    for (const name of names) {
      // A temporary file is a write the process did not finish: the old file still stands.
      if (TEMPORARY_FILE.test(name)) {
        await rm(join(this.directory, name), { force: true });
        continue;
      }
      const match = RECORDING_FILE.exec(name);
      if (!match?.[1]) continue;
      const path = join(this.directory, name);
      try {
        const decoded = decodeFile(await readFile(path), match[1]);
        found.push({ recordingId: match[1], ...decoded });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        await rename(path, `${path}.corrupt`);
        this.options.onCorrupt?.(new CorruptOutboxFileError(path, reason));
      }
    }
    await syncDirectory(this.directory);
    found.sort((a, b) => a.header.serial - b.header.serial);
    for (const { recordingId, header, frames } of found) {
      const { open, close, storedThrough } = header;
      this.held.set(recordingId, {
        open,
        close,
        storedThrough,
        frames: Array.from({ length: close.chunkCount }, (_, sequence) =>
          sequence <= storedThrough ? null : (frames[sequence - storedThrough - 1] ?? null),
        ),
        serial: header.serial,
        tail: Promise.resolve(),
        queuedWrite: undefined,
        removed: false,
      });
      this.nextSerial = Math.max(this.nextSerial, header.serial + 1);
    }
  }

  /**
   * Queues a write of the recording's current state. A write that is queued but has not
   * started yet will pick up this change too, so acks arriving in a burst cost one write.
   */
  private persist(recordingId: string, held: Held): Promise<void> {
    if (held.queuedWrite) return held.queuedWrite;
    const write = held.tail.then(async () => {
      held.queuedWrite = undefined;
      if (held.removed) return;
      await this.writeAtomically(fileName(recordingId), encodeFile(held));
    });
    held.queuedWrite = write;
    held.tail = this.track(write);
    return write;
  }

  /** The operation as a never-failing promise, counted in `inFlight` until it settles. */
  private track(operation: Promise<void>): Promise<void> {
    const settled = operation.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
    return settled;
  }

  private async writeAtomically(name: string, bytes: Buffer): Promise<void> {
    const path = join(this.directory, name);
    const temporary = `${path}.${process.pid}.${this.temporaryCounter++}.tmp`;
    const file = await open(temporary, 'wx');
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await syncDirectory(this.directory);
  }
}

function fileName(recordingId: string): string {
  return `${recordingId}.rec`;
}

/** Makes a rename or unlink in the directory durable (a no-op where directories cannot be opened). */
async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch (error) {
    // Some platforms (Windows) refuse fsync on a directory; the rename itself still happened.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

function encodeFile(held: Held): Buffer {
  const frames = held.frames.slice(held.storedThrough + 1).map((frame, index) => {
    if (!frame) {
      throw new Error(`chunk ${held.storedThrough + 1 + index} is neither held nor acknowledged`);
    }
    return frame;
  });
  const header: FileHeader = {
    serial: held.serial,
    open: held.open,
    close: held.close,
    storedThrough: held.storedThrough,
    frameLengths: frames.map((frame) => frame.length),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(headerBytes.length);
  const body = Buffer.concat([MAGIC, length, headerBytes, ...frames]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

function decodeFile(bytes: Buffer, recordingId: string): { header: FileHeader; frames: Buffer[] } {
  const minimum = MAGIC.length + 4 + HASH_BYTES;
  if (bytes.length < minimum || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error('not an outbox file of version 1');
  }
  const body = bytes.subarray(0, bytes.length - HASH_BYTES);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(bytes.subarray(bytes.length - HASH_BYTES))) {
    throw new Error('sha256 does not match');
  }
  const headerLength = body.readUInt32LE(MAGIC.length);
  const headerEnd = MAGIC.length + 4 + headerLength;
  if (headerEnd > body.length) throw new Error('header runs past the end');
  const raw = JSON.parse(body.toString('utf8', MAGIC.length + 4, headerEnd)) as Partial<FileHeader>;
  const open = RecordingOpenSchema.parse(raw.open);
  const close = RecordingCloseSchema.parse(raw.close);
  const { serial, storedThrough, frameLengths } = raw;
  if (open.recordingId !== recordingId || close.recordingId !== recordingId) {
    throw new Error('recording id differs from the file name');
  }
  if (
    !Number.isSafeInteger(serial) ||
    !Number.isInteger(storedThrough) ||
    storedThrough === undefined ||
    storedThrough < -1 ||
    storedThrough >= close.chunkCount ||
    !Array.isArray(frameLengths) ||
    frameLengths.length !== close.chunkCount - storedThrough - 1 ||
    !frameLengths.every((length) => Number.isInteger(length) && length > 0)
  ) {
    throw new Error('header is inconsistent');
  }
  const frames: Buffer[] = [];
  let offset = headerEnd;
  for (const length of frameLengths) {
    if (offset + length > body.length) throw new Error('frames run past the end');
    frames.push(Buffer.from(body.subarray(offset, offset + length)));
    offset += length;
  }
  if (offset !== body.length) throw new Error('bytes after the last frame');
  return { header: { serial: serial!, open, close, storedThrough, frameLengths }, frames };
}
