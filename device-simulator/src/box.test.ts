import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { deviceTopic, type DeviceDiagnosis, type DeviceError } from '#contracts';
import { SimulatedBox, type StoredEvent } from './box.js';
import { RecordingRejectedError } from './errors.js';
import { FakeRelay, HeldRecording } from './testing/fake-relay.js';

const DEVICE_ID = 'box-test-0001';
const SECRET = 'correct horse battery staple';

function trackSettled<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  const tracked = promise.finally(() => {
    settled = true;
  });
  return { promise: tracked, settled: () => settled };
}

describe('SimulatedBox against an Aedes broker', () => {
  let relay: FakeRelay | undefined;
  let box: SimulatedBox | undefined;
  let boxErrors: Error[] = [];

  afterEach(async () => {
    await box?.stop();
    await relay?.close();
    box = undefined;
    relay = undefined;
    // Every message the fake relay sends is well-formed: the box must not complain.
    expect(boxErrors).toEqual([]);
    boxErrors = [];
  });

  function startBox(url: string, ackTimeoutMs = 500): SimulatedBox {
    const created = new SimulatedBox({
      brokerUrl: url,
      deviceId: DEVICE_ID,
      secret: SECRET,
      ackTimeoutMs,
      reconnect: { minMs: 10, maxMs: 50 },
      retry: { minMs: 10, maxMs: 50 },
    });
    created.on('error', (error) => boxErrors.push(error));
    return created;
  }

  it('waits for the relay, not the PUBACK, and resends what the relay reports missing', async () => {
    relay = await FakeRelay.start({ [DEVICE_ID]: SECRET });
    const fake = relay;
    box = startBox(relay.url);
    const connected = once(box, 'connected');
    await box.start();
    await connected;

    let held: HeldRecording | undefined;
    let chunk2Drops = 0;
    let closes = 0;
    let settledAtSecondClose: boolean | undefined;
    let chunksSentAfterMissing: number[] | undefined;
    const storedEvent = once(box, 'stored') as Promise<[StoredEvent]>;
    const recording = trackSettled(box.record({ durationSeconds: 3, seed: 7 }));

    fake.onUplink((uplink) => {
      switch (uplink.channel) {
        case 'status':
        case 'stream/open':
        case 'stream/frame':
        case 'stream/close':
          return;
        case 'rec/open':
          held ??= new HeldRecording(uplink.open.recordingId);
          return;
        case 'rec/chunk':
          chunksSentAfterMissing?.push(uplink.sequence);
          // The relay loses chunk 2 on the first burst and on the timeout resend.
          if (uplink.sequence === 2 && chunk2Drops < 2) {
            chunk2Drops++;
            return;
          }
          held?.hold(uplink.sequence, uplink.samples);
          return;
        case 'rec/close': {
          closes++;
          const { chunkCount, sha256 } = uplink.close;
          if (!held) throw new Error('close before open');
          if (closes === 1) return; // silence: the box must not take the PUBACK for "stored"
          if (closes === 2) {
            settledAtSecondClose = recording.settled();
            chunksSentAfterMissing = [];
            fake.send(DEVICE_ID, 'ack', held.ack(false, chunkCount));
            return;
          }
          expect(held.sha256(chunkCount)).toBe(sha256);
          fake.send(DEVICE_ID, 'ack', held.ack(true, chunkCount, 'case-42'));
          return;
        }
        default:
          return;
      }
    });

    const result = await recording.promise;
    expect(settledAtSecondClose).toBe(false);
    expect(closes).toBe(3);
    // After "missing [2]" exactly chunk 2 went out again, then the close.
    expect(chunksSentAfterMissing).toEqual([2]);
    expect(held?.missing(6)).toEqual([]);
    expect(result).toEqual({
      recordingId: held?.recordingId,
      caseId: 'case-42',
      sha256: held?.sha256(6),
    });
    const [stored] = await storedEvent;
    expect(stored.recordingId).toBe(result.recordingId);
    expect(stored.caseId).toBe('case-42');
    expect(stored.ackLatencyMs).toBeGreaterThanOrEqual(450);
    expect(box.pendingCount).toBe(0);

    // Protocol framing: subscribed (QoS 1) before announcing itself, announced before recording.
    const firstStatus = relay.timeline.indexOf('publish status');
    for (const channel of ['ack', 'error', 'diagnosis'] as const) {
      const index = relay.timeline.indexOf(`subscribe ${deviceTopic(DEVICE_ID, channel)} qos1`);
      expect(index).toBeGreaterThanOrEqual(0);
      expect(index).toBeLessThan(firstStatus);
    }
    expect(firstStatus).toBeLessThan(relay.timeline.indexOf('publish rec/open'));
    const [status] = relay.of('status');
    expect(status).toMatchObject({ status: { online: true, firmware: 'sim-1.0' }, retain: true });
    expect(status?.client.clean).toBe(false);
  });

  it('tells the operator once about a returned recording, even when the notice comes again', async () => {
    relay = await FakeRelay.start({ [DEVICE_ID]: SECRET });
    const notice: DeviceError = {
      code: 'UNREADABLE_RECORDING',
      message: 'Record again: lead off',
      retryable: false,
      recordingId: '0b7e8f52-3c1d-4a9e-8f00-5d2c1b3a4e6f',
    };
    const other: DeviceError = { ...notice, recordingId: '1c8f9063-4d2e-4b0f-9011-6e3d2c4b5f70' };
    box = startBox(relay.url);
    const returned: { recordingId: string }[] = [];
    box.on('returned', (event) => returned.push(event));
    const connected = once(box, 'connected');
    await box.start();
    await connected;
    // Delivered in order on one connection: once `other` is out, both copies were handled.
    const last = new Promise<void>((resolve) =>
      box!.on('returned', (event) => {
        if (event.recordingId === other.recordingId) resolve();
      }),
    );
    relay.send(DEVICE_ID, 'error', notice);
    relay.send(DEVICE_ID, 'error', notice);
    relay.send(DEVICE_ID, 'error', other);
    await last;
    expect(returned.map((event) => event.recordingId)).toEqual([
      notice.recordingId,
      other.recordingId,
    ]);
  });

  it('emits a diagnosis once, even when it is delivered again (retained, re-sent or duplicated)', async () => {
    relay = await FakeRelay.start({ [DEVICE_ID]: SECRET });
    const diagnosis: DeviceDiagnosis = {
      caseId: 'case-9',
      recordingId: '0b7e8f52-3c1d-4a9e-8f00-5d2c1b3a4e6f',
      conclusion: 'Sinus rhythm, normal ECG.',
      signedBy: 'Dr. N. Dlamini',
      signedAt: '2025-03-01T10:00:00.000Z',
    };
    // Retained before the box ever connects: it must still get it.
    relay.send(DEVICE_ID, 'diagnosis', diagnosis, true);
    box = startBox(relay.url);
    const received: DeviceDiagnosis[] = [];
    box.on('diagnosis', (d) => received.push(d));
    const first = once(box, 'diagnosis');
    await box.start();
    await first;
    const later = { ...diagnosis, caseId: 'case-10' };
    const second = once(box, 'diagnosis');
    relay.send(DEVICE_ID, 'diagnosis', diagnosis);
    relay.send(DEVICE_ID, 'diagnosis', later);
    await second;
    expect(received).toEqual([diagnosis, later]);
  });

  it('re-opens and resends after the link drops, and the broker publishes its last will', async () => {
    relay = await FakeRelay.start({ [DEVICE_ID]: SECRET });
    const fake = relay;
    box = startBox(relay.url, 5_000);
    let connections = 0;
    box.on('connected', () => connections++);
    const connected = once(box, 'connected');
    await box.start();
    await connected;

    let held: HeldRecording | undefined;
    let dropped = false;
    fake.onUplink((uplink) => {
      if (uplink.channel === 'rec/open') {
        held ??= new HeldRecording(uplink.open.recordingId);
      } else if (uplink.channel === 'rec/chunk' && held) {
        if (!dropped && uplink.sequence === 3) {
          // The relay's link goes away mid-recording; chunk 3 and what follows are lost.
          dropped = true;
          uplink.client.close();
          return;
        }
        held.hold(uplink.sequence, uplink.samples);
        fake.send(DEVICE_ID, 'ack', held.progressAck());
      } else if (uplink.channel === 'rec/close' && held) {
        const { chunkCount, sha256 } = uplink.close;
        if (held.missing(chunkCount).length === 0 && held.sha256(chunkCount) === sha256) {
          fake.send(DEVICE_ID, 'ack', held.ack(true, chunkCount, 'case-7'));
        }
      }
    });

    const result = await box.record({ durationSeconds: 3, seed: 3 });
    expect(result.caseId).toBe('case-7');
    expect(connections).toBe(2);
    expect(relay.of('rec/open')).toHaveLength(2);
    expect(held?.missing(6)).toEqual([]);
    // Whatever the box resent after reconnecting, it finished with chunk 5 and the close.
    // After reconnecting: open again first, then the lost chunk 3, then the close. (Acks the
    // broker queued for the old session may make it resend chunk 3 once more; that is fine.)
    const afterDrop = relay.uplinks.slice(
      relay.uplinks.findLastIndex((u) => u.channel === 'rec/open'),
    );
    const lostChunk = afterDrop.findIndex((u) => u.channel === 'rec/chunk' && u.sequence === 3);
    const reclose = afterDrop.findIndex((u) => u.channel === 'rec/close');
    expect(afterDrop[0]?.client.closed).toBe(false);
    expect(lostChunk).toBeGreaterThan(0);
    expect(reclose).toBeGreaterThan(lostChunk);
    expect(relay.of('status').map((s) => s.status)).toContainEqual({ online: false });
  });

  it('gives up a recording the relay rejects for good and reports it as failed', async () => {
    relay = await FakeRelay.start({ [DEVICE_ID]: SECRET });
    const fake = relay;
    box = startBox(relay.url);
    fake.onUplink((uplink) => {
      if (uplink.channel === 'rec/close') {
        fake.send(DEVICE_ID, 'error', {
          code: 'CHECKSUM_MISMATCH',
          message: 'sha256 does not match the stored chunks',
          retryable: false,
          recordingId: uplink.close.recordingId,
        });
      }
    });
    const failed = once(box, 'failed');
    await box.start();
    const outcome = box.record({ durationSeconds: 1 });
    await expect(outcome).rejects.toBeInstanceOf(RecordingRejectedError);
    await expect(outcome).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    const [event] = (await failed) as [{ recordingId: string; error: Error }];
    expect(event.error).toBeInstanceOf(RecordingRejectedError);
    expect(box.pendingCount).toBe(0);
    expect(relay.of('rec/close')).toHaveLength(1);
  });

  it('sends the whole recording again when the relay cannot verify its close', async () => {
    relay = await FakeRelay.start({ [DEVICE_ID]: SECRET });
    const fake = relay;
    box = startBox(relay.url, 5_000);
    let held: HeldRecording | undefined;
    let mismatches = 0;
    fake.onUplink((uplink) => {
      if (uplink.channel === 'rec/open') held ??= new HeldRecording(uplink.open.recordingId);
      if (uplink.channel === 'rec/chunk' && held) {
        held.hold(uplink.sequence, uplink.samples);
        fake.send(DEVICE_ID, 'ack', held.progressAck());
      }
      if (uplink.channel === 'rec/close' && held) {
        const { chunkCount } = uplink.close;
        if (mismatches === 0 && held.missing(chunkCount).length === 0) {
          // As the relay does: drop every chunk held and say the close may be retried.
          mismatches++;
          held.chunks.clear();
          fake.send(DEVICE_ID, 'error', {
            code: 'CHECKSUM_MISMATCH',
            message: 'resend every chunk, then close again',
            retryable: true,
            recordingId: held.recordingId,
          });
          return;
        }
        if (held.missing(chunkCount).length === 0) {
          fake.send(DEVICE_ID, 'ack', held.ack(true, chunkCount, 'case-1'));
        }
      }
    });
    await box.start();
    const result = await box.record({ durationSeconds: 1 });
    expect(result.caseId).toBe('case-1');
    const chunkCount = relay.of('rec/close')[0]!.close.chunkCount;
    for (let sequence = 0; sequence < chunkCount; sequence++) {
      expect(relay.of('rec/chunk').filter((c) => c.sequence === sequence)).toHaveLength(2);
    }
    expect(relay.of('rec/open')[0]!.open.samplesPerChunk).toBe(250);
  });

  it('retries after a retryable error and completes', async () => {
    relay = await FakeRelay.start({ [DEVICE_ID]: SECRET });
    const fake = relay;
    box = startBox(relay.url, 5_000);
    let held: HeldRecording | undefined;
    let refusedChunk1 = false;
    let closes = 0;
    fake.onUplink((uplink) => {
      if (uplink.channel === 'rec/open') held ??= new HeldRecording(uplink.open.recordingId);
      if (uplink.channel === 'rec/chunk' && held) {
        if (uplink.sequence === 1 && !refusedChunk1) {
          refusedChunk1 = true;
          fake.send(DEVICE_ID, 'error', {
            code: 'TEMPORARILY_UNAVAILABLE',
            message: 'storage busy',
            retryable: true,
            recordingId: held.recordingId,
            sequence: 1,
          });
          return;
        }
        held.hold(uplink.sequence, uplink.samples);
      }
      if (uplink.channel === 'rec/close' && held) {
        closes++;
        const { chunkCount } = uplink.close;
        // Answer only a close that follows a complete set, like a relay that waits for gaps.
        if (held.missing(chunkCount).length === 0)
          fake.send(DEVICE_ID, 'ack', held.ack(true, chunkCount));
      }
    });
    await box.start();
    const started = Date.now();
    const result = await box.record({ durationSeconds: 1 });
    expect(result.caseId).toBeNull();
    // Chunk 1 went out twice, refused once and retried after the short backoff, followed by
    // a second close; the 5 s ack timeout never had to fire.
    expect(relay.of('rec/chunk').filter((c) => c.sequence === 1)).toHaveLength(2);
    expect(closes).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
