import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileBlobStore } from './blob-store.js';

describe('FileBlobStore', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'telerelay-blobs-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('keys blobs by their sha256 and returns the same bytes', async () => {
    const store = new FileBlobStore(root);
    const bytes = Buffer.from('twelve leads of ECG');
    const key = await store.put(bytes);
    expect(key).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(await store.get(key)).toEqual(bytes);
    expect(await store.has(key)).toBe(true);
  });

  it('stores identical content once and leaves no temporary files', async () => {
    const store = new FileBlobStore(root);
    const first = await store.put(Buffer.from('same'));
    const second = await store.put(Buffer.from('same'));
    expect(second).toBe(first);
    const leaf = join(root, first.slice(0, 2), first.slice(2, 4));
    expect(await readdir(leaf)).toEqual([first]);
  });

  it('stores the same content written concurrently without a collision', async () => {
    const store = new FileBlobStore(root);
    const bytes = Buffer.alloc(64 * 1024, 3);
    const keys = await Promise.all(Array.from({ length: 8 }, () => store.put(bytes)));
    expect(new Set(keys).size).toBe(1);
    const leaf = join(root, keys[0]!.slice(0, 2), keys[0]!.slice(2, 4));
    expect(await readdir(leaf)).toEqual([keys[0]]);
  });

  it('refuses keys that could escape the store', async () => {
    const store = new FileBlobStore(root);
    await expect(store.get('../../etc/passwd')).rejects.toBeInstanceOf(RangeError);
  });

  it('keeps a staged scratch file under its sha256, consuming it; a second copy of the same bytes leaves one blob', async () => {
    const store = new FileBlobStore(root);
    const bytes = Buffer.from('a DICOM instance, in short');
    const key = createHash('sha256').update(bytes).digest('hex');
    const first = await store.scratchPath();
    await writeFile(first, bytes);
    await store.stage(first).keep(key);
    expect(await store.get(key)).toEqual(bytes);
    await expect(access(first)).rejects.toThrow();
    const second = await store.scratchPath();
    await writeFile(second, bytes);
    await store.stage(second).keep(key);
    await expect(access(second)).rejects.toThrow();
    expect(await readdir(join(root, key.slice(0, 2), key.slice(2, 4)))).toEqual([key]);
    expect(await text(store.stream(key, { start: 2, end: 6 }))).toBe('DICOM');
  });

  it('discards a staged file without storing anything', async () => {
    const store = new FileBlobStore(root);
    const bytes = Buffer.from('refused after inspection');
    const path = await store.scratchPath();
    await writeFile(path, bytes);
    await store.stage(path).discard();
    await expect(access(path)).rejects.toThrow();
    expect(await store.has(createHash('sha256').update(bytes).digest('hex'))).toBe(false);
    expect(await readdir(root)).toEqual(['scratch']);
  });

  it('fails to keep a staged file that is gone, leaving no blob', async () => {
    const store = new FileBlobStore(root);
    const path = await store.scratchPath();
    const key = createHash('sha256').update('never written').digest('hex');
    await expect(store.stage(path).keep(key)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store.has(key)).toBe(false);
  });

  it('takes a file from another file system (/dev/shm) by copying it beside its place', async () => {
    const store = new FileBlobStore(root);
    const bytes = Buffer.from('written by a listener into its own temp dir');
    const key = createHash('sha256').update(bytes).digest('hex');
    const shm = await mkdtemp('/dev/shm/telerelay-blobs-');
    const elsewhere = join(shm, 'instance.dcm');
    await writeFile(elsewhere, bytes);
    await store.stage(elsewhere).keep(key);
    expect(await store.get(key)).toEqual(bytes);
    await expect(access(elsewhere)).rejects.toThrow();
    const leaf = join(root, key.slice(0, 2), key.slice(2, 4));
    expect(await readdir(leaf)).toEqual([key]);
    await rm(shm, { recursive: true, force: true });
  });

  it('keeps bytes staged from memory under their sha256, leaving no scratch file', async () => {
    const store = new FileBlobStore(root);
    const bytes = Buffer.from('an instance received into memory');
    const key = createHash('sha256').update(bytes).digest('hex');
    await store.stageBytes(bytes).keep(key);
    expect(await store.get(key)).toEqual(bytes);
    expect(await readdir(join(root, 'scratch'))).toEqual([]);
  });

  it('discards bytes staged from memory without storing them', async () => {
    const store = new FileBlobStore(root);
    const bytes = Buffer.from('refused after inspection, from memory');
    await store.stageBytes(bytes).discard();
    expect(await store.has(createHash('sha256').update(bytes).digest('hex'))).toBe(false);
    expect(await readdir(join(root, 'scratch'))).toEqual([]);
  });

  it('keeps the same bytes staged twice from memory as one blob', async () => {
    const store = new FileBlobStore(root);
    const bytes = Buffer.from('the same slice sent by two clinics');
    const key = createHash('sha256').update(bytes).digest('hex');
    await store.stageBytes(bytes).keep(key);
    await store.stageBytes(bytes).keep(key);
    expect(await store.get(key)).toEqual(bytes);
    expect(await readdir(join(root, key.slice(0, 2), key.slice(2, 4)))).toEqual([key]);
    expect(await readdir(join(root, 'scratch'))).toEqual([]);
  });

  it('replaces a torn file a crash left under the key when the bytes come again', async () => {
    const store = new FileBlobStore(root);
    const bytes = Buffer.from('a whole instance, after a crash tore its first copy');
    const key = createHash('sha256').update(bytes).digest('hex');
    const leaf = join(root, key.slice(0, 2), key.slice(2, 4));
    await mkdir(leaf, { recursive: true });
    await writeFile(join(leaf, key), bytes.subarray(0, 7));
    await store.stageBytes(bytes).keep(key);
    expect(await store.get(key)).toEqual(bytes);
    expect(await readdir(join(root, 'scratch'))).toEqual([]);
  });
});
