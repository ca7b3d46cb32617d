import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamOpenSchema } from '#contracts';
import { decodeChunkFrame, type ChunkFrame } from '#ecg';
import { SimulatedBox, type StreamOpenedEvent } from './box.js';
import { BoxStoppedError, SimulatorConfigError } from './errors.js';
import { STREAM_FRAME_MS, SyntheticEcgSource } from './live-stream.js';
import { FakeRelay, type Uplink } from './testing/fake-relay.js';

const DEVICE_ID = 'box-stream-0001';
const SECRET = 'stream secret';

type FrameUplink = Extract<Uplink, { channel: 'stream/frame' }>;

describe('SimulatedBox live stream against an Aedes broker', () => {
  let relay: FakeRelay | undefined;
  let box: SimulatedBox | undefined;
  let boxErrors: Error[] = [];

  afterEach(async () => {
    await box?.stop();
    await relay?.close();
    box = undefined;
    relay = undefined;
    expect(boxErrors).toEqual([]);
    boxErrors = [];
  });

  async function connectedBox(): Promise<{ relay: FakeRelay; box: SimulatedBox }> {
    relay = await FakeRelay.start({ [DEVICE_ID]: SECRET });
    box = new SimulatedBox({
      brokerUrl: relay.url,
      deviceId: DEVICE_ID,
      secret: SECRET,
      // The link stays down at least 150 ms after a drop: several 40 ms slots go by.
      reconnect: { minMs: 150, maxMs: 300 },
    });
    box.on('error', (error) => boxErrors.push(error));
    const connected = once(box, 'connected');
    await box.start();
    await connected;
    return { relay, box };
  }

  /** Resolves once the relay has received `count` more frames than it has now. */
  function framesArrive(relay: FakeRelay, count: number): Promise<void> {
    const target = relay.of('stream/frame').length + count;
    return new Promise((resolve) => {
      relay.onUplink(() => {
        if (relay.of('stream/frame').length >= target) resolve();
      });
    });
  }

  function decoded(frames: FrameUplink[]): ChunkFrame[] {
    return frames.map((uplink) => decodeChunkFrame(uplink.payload));
  }

  it('opens at QoS 1, sends paced 40 ms frames at QoS 0 and closes at QoS 1', async () => {
    const { relay, box } = await connectedBox();
    const opened = once(box, 'streamOpened') as Promise<[StreamOpenedEvent]>;
    const arrived = framesArrive(relay, 30);
    const stream = box.startStream({ leads: ['I', 'II', 'V5'], sampleRateHz: 250, seed: 5 });
    expect(box.activeStreamId).toBe(stream.streamId);
    expect((await opened)[0]).toEqual({ streamId: stream.streamId, reopened: false });
    await arrived;
    await stream.stop();
    const stoppedAt = Date.now();
    expect(box.activeStreamId).toBeNull();

    const opens = relay.of('stream/open');
    expect(opens).toHaveLength(1);
    const open = opens[0]!;
    expect(open.qos).toBe(1);
    expect(StreamOpenSchema.parse(open.open)).toEqual(open.open);
    expect(open.open).toMatchObject({
      streamId: stream.streamId,
      leads: ['I', 'II', 'V5'],
      sampleRateHz: 250,
      microvoltsPerLsb: 2.5,
    });

    const uplinks = relay.uplinks.filter((u) => u.channel.startsWith('stream/'));
    expect(uplinks[0]!.channel).toBe('stream/open');
    expect(uplinks.at(-1)!.channel).toBe('stream/close');
    const closes = relay.of('stream/close');
    expect(closes).toHaveLength(1);
    expect(closes[0]!.qos).toBe(1);
    expect(closes[0]!.close).toEqual({ streamId: stream.streamId });

    const uplinkFrames = relay.of('stream/frame');
    expect(uplinkFrames.every((u) => u.qos === 0)).toBe(true);
    expect(box.streamedFrames).toBe(uplinkFrames.length);
    const frames = decoded(uplinkFrames);
    expect(frames.length).toBeGreaterThanOrEqual(30);
    // Frames start once the broker has acknowledged the open, which on a busy machine may
    // take more than one 40 ms slot; from then on they are consecutive and each one starts
    // where the previous one ended.
    const firstSequence = frames[0]!.sequence;
    expect(open.receivedAt).toBeLessThanOrEqual(uplinkFrames[0]!.receivedAt);
    const reference = new SyntheticEcgSource(['I', 'II', 'V5'], 250, 'normal', 5);
    reference.read(firstSequence * 10);
    frames.forEach((frame, n) => {
      expect(frame).toMatchObject({
        recordingId: stream.streamId,
        sequence: firstSequence + n,
        firstSample: (firstSequence + n) * 10,
        sampleCount: 10,
        leadCount: 3,
      });
      expect([...frame.samples]).toEqual([...reference.read(10)]);
    });

    // Real-time pacing: no frame before its 40 ms slot is over, none far behind it, and
    // about one frame per 40 ms until the stop.
    const t0 = Date.parse(open.open.startedAt);
    for (const [n, uplink] of uplinkFrames.entries()) {
      const slotEnd = t0 + (frames[n]!.sequence + 1) * STREAM_FRAME_MS;
      expect(uplink.receivedAt).toBeGreaterThanOrEqual(slotEnd);
      expect(uplink.receivedAt).toBeLessThan(slotEnd + 1_000);
    }
    const lastSequence = frames.at(-1)!.sequence;
    expect(lastSequence).toBeLessThan(Math.floor((stoppedAt - t0) / STREAM_FRAME_MS));
    expect(lastSequence).toBeGreaterThanOrEqual(
      Math.floor((stoppedAt - t0 - 1_000) / STREAM_FRAME_MS),
    );

    // Stopped means stopped: no frame follows the close.
    const sent = box.streamedFrames;
    await new Promise((resolve) => setTimeout(resolve, 3 * STREAM_FRAME_MS));
    expect(box.streamedFrames).toBe(sent);
    expect(relay.uplinks.at(-1)!.channel).toBe('stream/close');
  });

  it('opens the same stream again after a lost link and goes on from the present', async () => {
    const { relay, box } = await connectedBox();
    let arrived = framesArrive(relay, 5);
    const stream = box.startStream({ leads: ['II'], sampleRateHz: 500, seed: 8 });
    await arrived;

    const reopened = new Promise<StreamOpenedEvent>((resolve) => {
      box.on('streamOpened', (event) => {
        if (event.reopened) resolve(event);
      });
    });
    const disconnected = once(box, 'disconnected');
    expect(box.dropLink()).toBe(true);
    await disconnected;
    expect(await reopened).toEqual({ streamId: stream.streamId, reopened: true });
    arrived = framesArrive(relay, 5);
    await arrived;
    await stream.stop();

    const opens = relay.of('stream/open');
    expect(opens).toHaveLength(2);
    // The very same open message, on the new connection.
    expect(opens[1]!.open).toEqual(opens[0]!.open);
    expect(opens[1]!.client).not.toBe(opens[0]!.client);
    expect(opens[1]!.qos).toBe(1);

    // Split by connection: the broker may still read the old socket's last bytes late.
    const uplinkFrames = relay.of('stream/frame');
    const frames = decoded(uplinkFrames);
    const before = decoded(uplinkFrames.filter((u) => u.client === opens[0]!.client));
    const after = decoded(uplinkFrames.filter((u) => u.client === opens[1]!.client));
    expect(before.length + after.length).toBe(frames.length);
    expect(before.length).toBeGreaterThanOrEqual(5);
    expect(after.length).toBeGreaterThanOrEqual(5);
    // The re-open precedes every frame of the new link.
    const reopenIndex = relay.uplinks.indexOf(opens[1]!);
    const firstAfter = relay.uplinks.findIndex(
      (u) => u.channel === 'stream/frame' && u.client === opens[1]!.client,
    );
    expect(reopenIndex).toBeLessThan(firstAfter);

    // One sample clock for the whole stream: firstSample is always 20 × sequence (500 Hz),
    // and sequences only go up, each one sent once.
    for (const frame of frames) {
      expect(frame.recordingId).toBe(stream.streamId);
      expect(frame.firstSample).toBe(frame.sequence * 20);
      expect(frame.sampleCount).toBe(20);
      expect(frame.leadCount).toBe(1);
    }
    const sequences = frames.map((f) => f.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(sequences.length);
    // No backfill: the slots of the ≥ 150 ms offline were skipped, not sent late.
    const gap = after[0]!.sequence - before.at(-1)!.sequence;
    expect(gap).toBeGreaterThanOrEqual(Math.floor(150 / STREAM_FRAME_MS));
    // Frames within each link are consecutive.
    for (const part of [before, after]) {
      part.slice(1).forEach((frame, i) => expect(frame.sequence).toBe(part[i]!.sequence + 1));
    }
    // And the samples are those of the stream's own time, not picked up where they stopped.
    const reference = new SyntheticEcgSource(['II'], 500, 'normal', 8);
    const expected = reference.read(after.at(-1)!.firstSample + 20);
    for (const frame of frames) {
      expect([...frame.samples]).toEqual([
        ...expected.subarray(frame.firstSample, frame.firstSample + 20),
      ]);
    }
  });

  it('delivers a close that could not go out after the next connect', async () => {
    const { relay, box } = await connectedBox();
    const arrived = framesArrive(relay, 3);
    const stream = box.startStream({ seed: 2 });
    await arrived;

    const disconnected = once(box, 'disconnected');
    box.dropLink();
    await disconnected;
    let settled = false;
    const stopped = stream.stop().then(() => {
      settled = true;
    });
    expect(settled).toBe(false);
    const connected = once(box, 'connected');
    await connected;
    await stopped;

    const closes = relay.of('stream/close');
    expect(closes.map((c) => c.close)).toEqual([{ streamId: stream.streamId }]);
    expect(closes[0]!.qos).toBe(1);
    // A stopped stream is not opened again on the new link.
    expect(relay.of('stream/open')).toHaveLength(1);
    expect(box.activeStreamId).toBeNull();
  });

  it('closes its stream before announcing offline when the box stops', async () => {
    const { relay, box: started } = await connectedBox();
    const arrived = framesArrive(relay, 2);
    const stream = started.startStream({ leads: ['V1'], seed: 1 });
    await arrived;
    await started.stop();
    await stream.stop(); // already closed by the box: resolves at once

    const closeAt = relay.timeline.lastIndexOf('publish stream/close');
    const offlineAt = relay.timeline.lastIndexOf('publish status');
    expect(closeAt).toBeGreaterThan(0);
    expect(closeAt).toBeLessThan(offlineAt);
    expect(relay.of('status').at(-1)!.status).toEqual({ online: false });
    expect(() => started.startStream()).toThrow(BoxStoppedError);
  });

  it('streams one stream at a time and refuses what the relay would refuse', async () => {
    const { box } = await connectedBox();
    expect(() => box.startStream({ leads: ['I', 'II', 'III', 'V1'] })).toThrow(
      SimulatorConfigError,
    );
    expect(() => box.startStream({ sampleRateHz: 1_000 })).toThrow(SimulatorConfigError);
    expect(box.activeStreamId).toBeNull();
    const stream = box.startStream();
    expect(() => box.startStream()).toThrow(SimulatorConfigError);
    await stream.stop();
    // Once stopped, a new stream may start, with a new id.
    const next = box.startStream();
    expect(next.streamId).not.toBe(stream.streamId);
    await next.stop();
  });
});
