import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedBox, type ResumedEvent, type StoredEvent } from './box.js';
import { FileOutboxStore, type CorruptOutboxFileError } from './file-outbox.js';
import type { OutboxEntry } from './outbox.js';
import { buildRecording } from './recording-builder.js';
import { actAsHonestRelay, FakeRelay, HeldRecording } from './testing/fake-relay.js';

const DEVICE_ID = 'box-file-0001';
const SECRET = 'flash survives power loss';

/** A real 12-lead recording of `seconds` in 250-sample chunks (2 chunks per second). */
function recording(seconds: number, seed: number): OutboxEntry {
  return buildRecording({ durationSeconds: seconds, seed }).entry;
}

describe('FileOutboxStore', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-outbox-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives a new store on the same directory exactly what the old one held', async () => {
    const first = recording(3, 1);
    const second = recording(2, 2);
    const store = new FileOutboxStore(dir);
    await store.add(first);
    await store.add(second);
    await store.acknowledge(first.open.recordingId, 2);
    // Acks never move back, and a late ack for an unknown recording is ignored.
    await store.acknowledge(first.open.recordingId, 1);
    await store.acknowledge('0b7e8f52-3c1d-4a9e-8f00-5d2c1b3a4e6f', 4);

    const reopened = await new FileOutboxStore(dir).list();
    expect(reopened.map((e) => e.open.recordingId)).toEqual([
      first.open.recordingId,
      second.open.recordingId,
    ]);
    const [again, other] = reopened;
    expect(again?.open).toEqual(first.open);
    expect(again?.close).toEqual(first.close);
    expect(again?.storedThrough).toBe(2);
    expect(again?.frames.slice(0, 3)).toEqual([null, null, null]);
    expect(again?.frames.slice(3)).toEqual(first.frames.slice(3));
    expect(other).toEqual(second);
  });

  it('frees acknowledged chunks on disk and deletes the file once removed', async () => {
    const entry = recording(4, 3);
    const store = new FileOutboxStore(dir);
    await store.add(entry);
    const [name] = await readdir(dir);
    expect(name).toBe(`${entry.open.recordingId}.rec`);
    const path = join(dir, name!);
    const fullSize = (await stat(path)).size;
    const frameBytes = entry.frames.reduce((sum, frame) => sum + (frame?.length ?? 0), 0);
    expect(fullSize).toBeGreaterThan(frameBytes);

    await store.acknowledge(entry.open.recordingId, 5);
    const frameSize = entry.frames[0]!.length;
    // Six frames fewer (the header shrinks a little too: it lists fewer frame lengths).
    const shrunk = fullSize - (await stat(path)).size;
    expect(shrunk).toBeGreaterThanOrEqual(6 * frameSize);
    expect(shrunk).toBeLessThan(6 * frameSize + 64);
    expect(store.heldFrameBytes).toBe(frameBytes - 6 * frameSize);

    await store.remove(entry.open.recordingId);
    expect(await readdir(dir)).toEqual([]);
    expect(await new FileOutboxStore(dir).list()).toEqual([]);
  });

  it('does not bring back a removed recording when acks were still being written', async () => {
    const entry = recording(5, 4);
    const store = new FileOutboxStore(dir);
    await store.add(entry);
    // As the box does it: acks without waiting, then the complete ack removes the recording.
    const writes = [0, 1, 2, 3, 4, 5, 6].map((s) => store.acknowledge(entry.open.recordingId, s));
    const removed = store.remove(entry.open.recordingId);
    await Promise.all([...writes, removed]);
    await store.idle();
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps the last complete state when the process died in the middle of a write', async () => {
    const entry = recording(2, 5);
    const store = new FileOutboxStore(dir);
    await store.add(entry);
    await store.acknowledge(entry.open.recordingId, 0);
    // What a kill between writing the temporary file and renaming it leaves behind.
    const leftover = join(dir, `${entry.open.recordingId}.rec.4242.7.tmp`);
    await writeFile(leftover, Buffer.from('half a file'));

    const [resumed] = await new FileOutboxStore(dir).list();
    expect(resumed?.storedThrough).toBe(0);
    expect(resumed?.frames.slice(1)).toEqual(entry.frames.slice(1));
    expect(await readdir(dir)).toEqual([`${entry.open.recordingId}.rec`]);
  });

  it('moves a damaged file aside, reports it and keeps the others', async () => {
    const good = recording(1, 6);
    const bad = recording(1, 7);
    const store = new FileOutboxStore(dir);
    await store.add(good);
    await store.add(bad);
    const badPath = join(dir, `${bad.open.recordingId}.rec`);
    const bytes = await readFile(badPath);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0x01;
    await writeFile(badPath, bytes);

    const reported: CorruptOutboxFileError[] = [];
    const reopened = new FileOutboxStore(dir, { onCorrupt: (error) => reported.push(error) });
    expect((await reopened.list()).map((e) => e.open.recordingId)).toEqual([good.open.recordingId]);
    expect(reported).toHaveLength(1);
    expect(reported[0]?.message).toContain('sha256 does not match');
    expect((await readdir(dir)).sort()).toEqual(
      [`${good.open.recordingId}.rec`, `${bad.open.recordingId}.rec.corrupt`].sort(),
    );
  });

  it('keeps the boxes apart, one directory per device id', () => {
    expect(FileOutboxStore.directoryFor('/buf', 'box-1')).toBe(join('/buf', 'box-1'));
    expect(FileOutboxStore.directoryFor('/buf', '..')).toBe(join('/buf', '%2E%2E'));
    expect(FileOutboxStore.directoryFor('/buf', 'a\\b')).toBe(join('/buf', 'a%5Cb'));
  });
});

describe('a box restarted on the same buffer directory', () => {
  let dir: string;
  let relay: FakeRelay | undefined;
  const boxes: SimulatedBox[] = [];
  let boxErrors: Error[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-outbox-box-'));
  });
  afterEach(async () => {
    await Promise.all(boxes.splice(0).map((box) => box.stop()));
    await relay?.close();
    relay = undefined;
    await rm(dir, { recursive: true, force: true });
    expect(boxErrors).toEqual([]);
    boxErrors = [];
  });

  function startBox(url: string, store: FileOutboxStore): SimulatedBox {
    const box = new SimulatedBox({
      brokerUrl: url,
      deviceId: DEVICE_ID,
      secret: SECRET,
      ackTimeoutMs: 10_000,
      store,
      reconnect: { minMs: 10, maxMs: 50 },
      retry: { minMs: 10, maxMs: 50 },
    });
    box.on('error', (error) => boxErrors.push(error));
    boxes.push(box);
    return box;
  }

  it('resumes an unacknowledged recording and resends only what the relay does not hold', async () => {
    relay = await FakeRelay.start({ [DEVICE_ID]: SECRET });
    const fake = relay;
    const held = new Map<string, HeldRecording>();
    // Phase 1: the relay stores chunks 0..3 of the 12 and acknowledges them, then the box dies
    // before anything else is acknowledged.
    let acceptUpTo = 3;
    let answerCloses = false;
    let caseNumber = 0;
    fake.onUplink((uplink) => {
      if (uplink.channel === 'rec/open') {
        const id = uplink.open.recordingId;
        if (!held.has(id)) held.set(id, new HeldRecording(id));
        fake.send(DEVICE_ID, 'ack', held.get(id)!.progressAck());
      } else if (uplink.channel === 'rec/chunk') {
        const recordingHeld = held.get(uplink.recordingId);
        if (!recordingHeld || uplink.sequence > acceptUpTo) return;
        recordingHeld.hold(uplink.sequence, uplink.samples);
        fake.send(DEVICE_ID, 'ack', recordingHeld.progressAck());
      } else if (uplink.channel === 'rec/close' && answerCloses) {
        const recordingHeld = held.get(uplink.close.recordingId)!;
        const { chunkCount, sha256 } = uplink.close;
        const complete =
          recordingHeld.missing(chunkCount).length === 0 &&
          recordingHeld.sha256(chunkCount) === sha256;
        fake.send(
          DEVICE_ID,
          'ack',
          recordingHeld.ack(complete, chunkCount, complete ? `case-${++caseNumber}` : undefined),
        );
      }
    });

    // The box's flash, noticing when the relay's ack for chunk 3 has been written to it.
    let ackedThrough3!: (recordingId: string) => void;
    const fourChunksOnFlash = new Promise<string>((resolve) => (ackedThrough3 = resolve));
    const firstStore = new (class extends FileOutboxStore {
      override async acknowledge(id: string, storedThrough: number): Promise<void> {
        await super.acknowledge(id, storedThrough);
        if (storedThrough >= 3) ackedThrough3(id);
      }
    })(dir);
    const first = startBox(fake.url, firstStore);
    await first.start();
    const pending = first.record({ durationSeconds: 6, seed: 21 });
    pending.catch(() => undefined); // rejected with BoxStoppedError below
    const recordingId = await fourChunksOnFlash;
    // The box dies: nothing after this point reaches its flash.
    await first.stop();
    await firstStore.idle();
    const onDisk = await new FileOutboxStore(dir).list();
    expect(onDisk).toHaveLength(1);
    expect(onDisk[0]?.storedThrough).toBe(3);
    expect(onDisk[0]?.frames.filter((frame) => frame !== null)).toHaveLength(8);

    // Phase 2: a new box process on the same directory, the relay now takes everything.
    acceptUpTo = Number.MAX_SAFE_INTEGER;
    answerCloses = true;
    const uplinksBefore = fake.uplinks.length;
    const secondStore = new FileOutboxStore(dir);
    const second = startBox(fake.url, secondStore);
    const resumed: ResumedEvent[] = [];
    second.on('resumed', (event) => resumed.push(event));
    const stored = once(second, 'stored') as Promise<[StoredEvent]>;
    await second.start();
    expect(resumed).toEqual([{ recordingId, storedThrough: 3, chunkCount: 12 }]);
    const [event] = await stored;
    expect(event).toMatchObject({ recordingId, caseId: 'case-1' });

    const afterRestart = fake.uplinks.slice(uplinksBefore);
    const resent = afterRestart.flatMap((u) => (u.channel === 'rec/chunk' ? [u.sequence] : []));
    expect(resent).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect(afterRestart.filter((u) => u.channel === 'rec/open')).toHaveLength(1);
    const original = onDisk[0]!;
    expect(held.get(recordingId)?.sha256(12)).toBe(original.close.sha256);
    expect(second.pendingCount).toBe(0);
    // Complete: the box deletes the recording from its flash.
    await secondStore.idle();
    expect(await readdir(dir)).toEqual([]);
  });

  it('keeps a recording made offline and delivers it from the next process', async () => {
    // No relay yet: the box records into its flash and keeps trying to connect.
    const closedPort = await FakeRelay.start({});
    const unreachable = closedPort.url;
    await closedPort.close();
    let written!: (recordingId: string) => void;
    const onFlash = new Promise<string>((resolve) => (written = resolve));
    const offlineStore = new (class extends FileOutboxStore {
      override async add(entry: OutboxEntry): Promise<void> {
        await super.add(entry);
        written(entry.open.recordingId);
      }
    })(dir);
    const offline = startBox(unreachable, offlineStore);
    await offline.start();
    offline.record({ durationSeconds: 2, seed: 5 }).catch(() => undefined);
    const recordingId = await onFlash;
    await offline.stop();

    relay = await FakeRelay.start({ [DEVICE_ID]: SECRET });
    const held = actAsHonestRelay(relay);
    const store = new FileOutboxStore(dir);
    const next = startBox(relay.url, store);
    const stored = once(next, 'stored') as Promise<[StoredEvent]>;
    await next.start();
    const [event] = await stored;
    expect(event.recordingId).toBe(recordingId);
    expect(relay.of('rec/chunk').map((c) => c.sequence)).toEqual([0, 1, 2, 3]);
    expect(held.get(recordingId)?.missing(4)).toEqual([]);
    await store.idle();
    expect(await readdir(dir)).toEqual([]);
  });
});
