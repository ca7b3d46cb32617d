import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceError, RecordingOpen, StoredAck } from '#contracts';
import { decodeChunkFrame, encodeChunkFrame, frameSamplePayload } from '#ecg';
import {
  buildRecording,
  type BuiltRecording,
} from '../../device-simulator/src/recording-builder.js';
import { ConsoleClient } from '../support/clients.js';
import { readBlob } from '../support/crash.js';
import { RawBox, type Reply } from '../support/raw-box.js';
import { RelayProcess, type DemoDevice } from '../support/relay-process.js';

const MAX_OPEN_PER_BOX = 3;

/** The samples exactly as the box sent them: every frame's payload, in sequence order. */
function sampleBytes(built: BuiltRecording): Buffer {
  return Buffer.concat(built.entry.frames.map((frame) => frameSamplePayload(frame!)));
}

/** A frame of the recording with its header changed, re-encoded so its CRC is valid. */
function reframed(
  frame: Buffer,
  change: { sequence?: number; firstSample?: number; samples?: Int16Array },
): Buffer {
  const decoded = decodeChunkFrame(frame);
  return encodeChunkFrame({
    recordingId: decoded.recordingId,
    sequence: change.sequence ?? decoded.sequence,
    firstSample: change.firstSample ?? decoded.firstSample,
    sampleCount: decoded.sampleCount,
    leadCount: decoded.leadCount,
    samples: change.samples ?? decoded.samples,
  });
}

const about = (recordingId: string) => (reply: Reply) => reply.body.recordingId === recordingId;

describe('ingest integrity against the relay process', () => {
  let relay: RelayProcess;
  let devices: DemoDevice[];
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start({ RECORDING_MAX_OPEN_PER_BOX: String(MAX_OPEN_PER_BOX) });
    devices = await relay.demoDevices();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  afterAll(async () => {
    await relay?.dispose();
  });

  async function rawBox(device: DemoDevice): Promise<RawBox> {
    const raw = await RawBox.connect(relay.mqttUrl, device);
    cleanups.push(() => raw.kill());
    return raw;
  }

  /**
   * Sends the chunks as a burst and closes once the relay holds them all (a close that
   * overtakes its chunks is answered with `missing`, which is not what these tests are about).
   */
  async function sendAndClose(
    box: RawBox,
    built: BuiltRecording,
    from: number,
  ): Promise<StoredAck> {
    const { open, frames, close } = built.entry;
    for (const frame of frames) box.send('rec/chunk', frame!);
    await box.acknowledging(open.recordingId, frames.keys(), from);
    const closedAt = box.replies.length;
    await box.publish('rec/close', JSON.stringify(close));
    // A close is answered with the complete ack or an error (a close that found gaps, with an
    // ack listing them, does not happen here: the relay held every chunk).
    const answer = await box.next(
      (reply) =>
        about(open.recordingId)(reply) && (reply.channel === 'error' || reply.body.complete),
      closedAt,
    );
    expect(answer.channel).toBe('ack');
    return answer.body as StoredAck;
  }

  /** Open, every chunk, close; resolves with the relay's complete ack. */
  async function store(box: RawBox, built: BuiltRecording): Promise<StoredAck> {
    const from = box.replies.length;
    await box.publish('rec/open', JSON.stringify(built.entry.open));
    return sendAndClose(box, built, from);
  }

  it('tells only the box that stored a recording that it is complete, never another clinic’s box', async () => {
    const owner = devices[0]!;
    const intruder = devices.find((device) => device.clinicId !== owner.clinicId)!;
    const [a, b] = [await rawBox(owner), await rawBox(intruder)];
    const built = buildRecording({ durationSeconds: 1, seed: 301 });
    const { recordingId } = built.entry.open;
    const stored = await store(a, built);
    expect(stored.caseId).toMatch(/^[0-9a-f-]{36}$/);

    // The same id from another box: cloned firmware, a weak random source, or a probe.
    await b.publish('rec/open', JSON.stringify(built.entry.open));
    const refusedOpen = await b.next(about(recordingId));
    const anyClose = { ...built.entry.close, chunkCount: 1, sha256: '0'.repeat(64) };
    await b.publish('rec/close', JSON.stringify(anyClose));
    const refusedClose = await b.next(about(recordingId), refusedOpen.index + 1);
    for (const refused of [refusedOpen, refusedClose]) {
      expect(refused.channel).toBe('error');
      expect(refused.body).toEqual({
        code: 'INVALID_MESSAGE',
        message: 'recording id already in use',
        retryable: false,
        recordingId,
      });
    }
    expect(b.replies.some((reply) => reply.channel === 'ack')).toBe(false);
    expect(JSON.stringify(b.replies)).not.toContain(stored.caseId);

    // Its own box, closing again as after a lost ack, still gets its case.
    const from = a.replies.length;
    await a.publish('rec/close', JSON.stringify(built.entry.close));
    expect((await a.ack(recordingId, (ack) => ack.complete, from)).caseId).toBe(stored.caseId);
  });

  it('refuses a misplaced chunk before acknowledging it, so the right one still completes the recording', async () => {
    const box = await rawBox(devices[2]!);
    const built = buildRecording({ durationSeconds: 2, seed: 302 });
    const { frames } = built.entry;
    // A box from before samplesPerChunk: the relay checks against the chunks it holds.
    const open: RecordingOpen = { ...built.entry.open };
    delete open.samplesPerChunk;
    const { recordingId } = open;
    await box.publish('rec/open', JSON.stringify(open));
    await box.publish('rec/chunk', frames[0]!);
    await box.acknowledging(recordingId, [0]);

    const from = box.replies.length;
    await box.publish('rec/chunk', reframed(frames[0]!, { sequence: 1, firstSample: 0 }));
    const refused = await box.next(about(recordingId), from);
    expect(refused.channel).toBe('error');
    expect(refused.body).toMatchObject({
      code: 'FRAME_MISMATCH',
      retryable: false,
      sequence: 1,
    } satisfies Partial<DeviceError>);
    expect(box.replies.slice(from).some((r) => r.channel === 'ack')).toBe(false);

    const done = await sendAndClose(box, built, from);
    expect(done.caseId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await readBlob(relay.dataDir, built.sha256)).equals(sampleBytes(built))).toBe(true);
  });

  it('lets a chunk 0 sent again replace a first copy with other samples', async () => {
    const box = await rawBox(devices[3]!);
    const built = buildRecording({ durationSeconds: 2, seed: 303 });
    const { open, frames } = built.entry;
    const wrong = reframed(frames[0]!, {
      samples: decodeChunkFrame(frames[0]!).samples.map((value) => value + 1),
    });
    await box.publish('rec/open', JSON.stringify(open));
    await box.publish('rec/chunk', wrong);
    await box.acknowledging(open.recordingId, [0]);
    const done = await sendAndClose(box, built, box.replies.length);
    expect(done.caseId).toMatch(/^[0-9a-f-]{36}$/);
    expect(box.replies.some((reply) => reply.channel === 'error')).toBe(false);
    expect((await readBlob(relay.dataDir, built.sha256)).equals(sampleBytes(built))).toBe(true);
  });

  it('caps the recordings one box has open, says so in /health, and frees a place once one is stored', async () => {
    const box = await rawBox(devices[4]!);
    const first = buildRecording({ durationSeconds: 1, seed: 304 });
    const opens = [
      first.entry.open,
      ...Array.from({ length: 9 }, () => ({ ...first.entry.open, recordingId: randomUUID() })),
    ];
    await box.publish('rec/open', JSON.stringify(first.entry.open));
    await box.ack(first.entry.open.recordingId);
    for (const open of opens.slice(1)) box.send('rec/open', JSON.stringify(open));
    const replies = await box.replyCount(opens.length);
    const refused = replies.filter((reply) => reply.channel === 'error');
    expect(replies.filter((reply) => reply.channel === 'ack')).toHaveLength(MAX_OPEN_PER_BOX);
    expect(refused).toHaveLength(opens.length - MAX_OPEN_PER_BOX);
    for (const reply of refused) {
      expect(reply.body).toMatchObject({ code: 'LIMIT_EXCEEDED', retryable: true });
    }

    // The counters are for operators: /health/details, as an admin (public /health is up/down).
    const admin = await ConsoleClient.login(relay.httpUrl, 'admin');
    const health = (
      await admin.get<{ ingest: { limits: unknown; rejected: Record<string, number> } }>(
        '/health/details',
      )
    ).body;
    expect(health.ingest.limits).toEqual({
      maxOpenPerBox: MAX_OPEN_PER_BOX,
      openTtlSeconds: 6 * 3600,
    });
    expect(health.ingest.rejected['LIMIT_EXCEEDED']).toBeGreaterThanOrEqual(refused.length);

    await store(box, first);
    const from = box.replies.length;
    const next = { ...first.entry.open, recordingId: randomUUID() };
    await box.publish('rec/open', JSON.stringify(next));
    expect(await box.ack(next.recordingId, () => true, from)).toMatchObject({
      storedThrough: -1,
      complete: false,
    });
  });
});
