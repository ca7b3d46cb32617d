import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
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
});
