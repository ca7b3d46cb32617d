/**
 * One load-generator process of the fleet benchmark (forked by fleet.ts). It plays a slice
 * of the region's boxes, each from its own loopback address: connects them as the firmware
 * does (docs/protocol.md §Transport), cuts every link at once and brings them all back (the
 * reconnect storm), and in the morning burst sends whole 10-second 12-lead recordings built
 * by the device simulator's recording builder (open, 20 chunks of 0.5 s, close), timing each
 * from its publish to the relay's stored and complete acknowledgements.
 */
import { randomInt } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { deviceTopic, type DeviceError, type StoredAck } from '#contracts';
import { buildRecording } from '../../device-simulator/src/recording-builder.js';
import type { OutboxEntry } from '../../device-simulator/src/outbox.js';
import { PendingRecording, type Outbound } from '../../device-simulator/src/pending-recording.js';
import { benchBoxClient } from './bench-box.js';

export interface FleetDevice {
  id: string;
  secret: string;
  /** Position in the whole fleet: picks the box's loopback address. */
  index: number;
}

export interface FleetWorkerConfig {
  brokerUrl: string;
  /** 'relay': downlink acks are read; 'plain': a broker that only PUBACKs. */
  broker: 'relay' | 'plain';
  devices: FleetDevice[];
  connectTimeoutMs: number;
}

export type FleetCommand =
  /** First message: the slice is too large for argv (128 KiB per argument on Linux). */
  | { type: 'setup'; config: FleetWorkerConfig }
  | { type: 'connect'; count: number; concurrency: number }
  | { type: 'storm'; deadlineMs: number }
  | {
      type: 'burst';
      /** Recordings per minute from this process. */
      perMinute: number;
      /** When this process sends its first recording (epoch ms). */
      firstAtEpochMs: number;
      seconds: number;
      drainMs: number;
    }
  /** How far a burst has got, asked while it runs (bench:soak prints it every sample). */
  | { type: 'progress' }
  | { type: 'disconnect' };

export interface ConnectResult {
  type: 'connected';
  connected: number;
  /** Attempts that failed (timeouts, closed sockets) and CONNACK refusals, by reason. */
  failures: Record<string, number>;
  ms: number;
  /** CONNECT sent → subscribed, per box that came up (ms). */
  upMs: number[];
}

export interface RecordingTimes {
  recordingId: string;
  caseId: string | null;
  /** Epoch milliseconds (performance.timeOrigin + performance.now()), comparable across processes. */
  openAt: number;
  lastChunkAt: number;
  /** The ack covering the last chunk (storedThrough ≥ last, or complete). */
  storedAt: number | null;
  completeAt: number | null;
}

export interface BurstResult {
  type: 'burst-done';
  recordings: RecordingTimes[];
  errors: Record<string, number>;
  disconnects: number;
  resentChunks: { missing: number; error: number; timeout: number };
}

export interface BurstProgress {
  type: 'progress';
  /** Recordings begun, acknowledged complete, and still being sent, so far in this burst. */
  started: number;
  complete: number;
  sending: number;
  disconnects: number;
}

export type FleetReply =
  | { type: 'ready' }
  | { type: 'set-up' }
  | ConnectResult
  | BurstResult
  | BurstProgress
  | { type: 'disconnected' }
  | { type: 'failed'; message: string };

const MAX_TIMEOUTS = 5;

interface Box {
  device: FleetDevice;
  client: MqttClient | undefined;
  up: boolean;
}

interface Pending {
  box: Box;
  entry: OutboxEntry;
  state: PendingRecording;
  times: RecordingTimes;
  lastSequence: number;
  timeouts: number;
  timer: NodeJS.Timeout | undefined;
}

let config: FleetWorkerConfig;
let boxes: Box[] = [];
let nextToConnect = 0;
const pending = new Map<string, Pending>();
/**
 * Recordings no longer sending (complete or given up): only their times are kept, not their
 * samples, so a burst of an hour (bench:soak) does not grow the load process by the recordings.
 */
const finished: RecordingTimes[] = [];
const errors: Record<string, number> = {};
let disconnects = 0;
/** Chunks sent again, by what asked for it. */
const resent = { missing: 0, error: 0, timeout: 0 };
let stormInProgress = false;

const epochNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function send(message: FleetReply): void {
  process.send?.(message);
}

/** 127.10.0.1, 127.10.0.2, …: Linux routes all of 127/8 to lo, so each box has its own address. */
export function boxAddress(index: number): string {
  return `127.${10 + Math.floor(index / 62_500)}.${Math.floor(index / 250) % 250}.${1 + (index % 250)}`;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return code === undefined ? error.message : `${error.message} (code ${String(code)})`;
  }
  return String(error);
}

/** CONNECT, SUBSCRIBE to the downlink, status online: resolves when the box is usable. */
function connectBox(box: Box): Promise<number> {
  const { id, secret } = box.device;
  const started = performance.now();
  return new Promise<number>((resolve, reject) => {
    const client = benchBoxClient({
      brokerUrl: config.brokerUrl,
      deviceId: id,
      secret,
      localAddress: boxAddress(box.device.index),
      connectTimeoutMs: config.connectTimeoutMs,
    });
    box.client = client;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      client.end(true);
      if (box.client === client) box.client = undefined;
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed before the box was up')));
    client.once('connect', () => {
      client.removeAllListeners('error');
      client.removeAllListeners('close');
      client.on('error', () => undefined);
      client.on('close', () => {
        if (box.client !== client) return;
        box.up = false;
        if (!stormInProgress) disconnects += 1;
      });
      client.on('message', (topic, payload) => onDownlink(box, topic, payload));
      client
        .subscribeAsync(
          (['ack', 'error', 'diagnosis'] as const).map((channel) => deviceTopic(id, channel)),
          { qos: 1 },
        )
        .then((granted) => {
          const refused = granted.find((grant) => grant.qos === 128);
          if (refused) throw new Error(`subscription refused: ${refused.topic}`);
          client.publish(
            deviceTopic(id, 'status'),
            JSON.stringify({ online: true, firmware: 'fleet-bench-1.0' }),
            { qos: 1, retain: true },
            () => undefined,
          );
          settled = true;
          box.up = true;
          resolve(performance.now() - started);
        })
        .catch(fail);
    });
  });
}

async function connectSome(count: number, concurrency: number): Promise<ConnectResult> {
  const started = performance.now();
  const upMs: number[] = [];
  const failures: Record<string, number> = {};
  const end = Math.min(boxes.length, nextToConnect + count);
  const lane = async () => {
    while (nextToConnect < end) {
      const box = boxes[nextToConnect++]!;
      try {
        upMs.push(await connectBox(box));
      } catch (error) {
        const reason = reasonOf(error);
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return {
    type: 'connected',
    connected: upMs.length,
    failures,
    ms: performance.now() - started,
    upMs,
  };
}

/**
 * A network cut: every link of this process dropped at once without DISCONNECT (so the
 * broker publishes each box's Last Will), then every box reconnects at once, retrying after
 * 1–2 s as firmware backs off, until it is up or the deadline passes.
 */
async function storm(deadlineMs: number): Promise<ConnectResult> {
  stormInProgress = true;
  const live = boxes.filter((box) => box.client);
  for (const box of live) {
    const client = box.client!;
    box.client = undefined;
    box.up = false;
    client.stream.destroy();
    client.end(true);
  }
  const started = performance.now();
  const upMs: number[] = [];
  const failures: Record<string, number> = {};
  await Promise.all(
    live.map(async (box) => {
      while (performance.now() - started < deadlineMs) {
        const attempt = performance.now();
        try {
          await connectBox(box);
          upMs.push(performance.now() - started);
          return;
        } catch (error) {
          const reason = reasonOf(error);
          failures[reason] = (failures[reason] ?? 0) + 1;
          const waited = performance.now() - attempt;
          await sleep(Math.max(0, 1_000 + randomInt(1_000) - waited));
        }
      }
    }),
  );
  stormInProgress = false;
  return {
    type: 'connected',
    connected: upMs.length,
    failures,
    ms: performance.now() - started,
    upMs,
  };
}

// ── the morning burst ─────────────────────────────────────────────────────────────────

/** As the simulator's box: resend what is not covered after this long without the complete ack. */
const ACK_TIMEOUT_MS = 5_000;

function publishItems(recording: Pending, items: readonly Outbound[]): void {
  const client = recording.box.client;
  if (!client?.connected) return;
  const id = recording.box.device.id;
  const { state } = recording;
  for (const item of state.stillNeeded(items)) {
    if (item.kind === 'open') {
      client.publish(deviceTopic(id, 'rec/open'), JSON.stringify(recording.entry.open), { qos: 1 });
    } else if (item.kind === 'chunk') {
      client.publish(deviceTopic(id, 'rec/chunk'), state.frame(item.sequence), { qos: 1 });
      if (item.sequence === recording.lastSequence && recording.times.lastChunkAt === 0) {
        recording.times.lastChunkAt = epochNow();
      }
    } else {
      client.publish(deviceTopic(id, 'rec/close'), JSON.stringify(recording.entry.close), {
        qos: 1,
      });
    }
    state.markSent(item, Date.now());
  }
}

function startRecording(box: Box): void {
  const { entry } = buildRecording({ durationSeconds: 10, seed: randomInt(2 ** 31) });
  const recordingId = entry.open.recordingId;
  const recording: Pending = {
    box,
    entry,
    state: new PendingRecording(entry),
    times: {
      recordingId,
      caseId: null,
      openAt: epochNow(),
      lastChunkAt: 0,
      storedAt: null,
      completeAt: null,
    },
    lastSequence: entry.frames.length - 1,
    timeouts: 0,
    timer: undefined,
  };
  pending.set(recordingId, recording);
  publishItems(recording, recording.state.syncPlan());
  armTimeout(recording);
}

function armTimeout(recording: Pending): void {
  clearTimeout(recording.timer);
  recording.timer = setTimeout(() => {
    if (recording.state.state !== 'sending' || recording.timeouts >= MAX_TIMEOUTS) return;
    recording.timeouts += 1;
    const plan = recording.state.timeoutPlan();
    resent.timeout += plan.filter((item) => item.kind === 'chunk').length;
    publishItems(recording, plan);
    armTimeout(recording);
  }, ACK_TIMEOUT_MS);
}

function onDownlink(box: Box, topic: string, payload: Buffer): void {
  if (config.broker !== 'relay') return;
  const at = epochNow();
  const channel = topic.slice(topic.lastIndexOf('/') + 1);
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    errors['(unparsable downlink)'] = (errors['(unparsable downlink)'] ?? 0) + 1;
    return;
  }
  if (channel === 'ack') onAck(body as StoredAck, at);
  else if (channel === 'error') onError(body as DeviceError);
}

function onAck(ack: StoredAck, at: number): void {
  const recording = pending.get(ack.recordingId);
  if (!recording) return;
  const { times } = recording;
  if (times.storedAt === null && (ack.complete || ack.storedThrough >= recording.lastSequence)) {
    times.storedAt = at;
  }
  const outcome = recording.state.applyAck(ack, Date.now());
  if (outcome.kind === 'complete') {
    clearTimeout(recording.timer);
    times.completeAt ??= at;
    times.caseId = outcome.caseId;
    finish(recording);
  } else if (outcome.kind === 'resend') {
    // After the close the relay lists what it lacks: the simulator's rules say what to resend.
    resent.missing += outcome.items.filter((item) => item.kind === 'chunk').length;
    publishItems(recording, outcome.items);
  }
}

function onError(error: DeviceError): void {
  errors[error.code] = (errors[error.code] ?? 0) + 1;
  if (error.recordingId === undefined) return;
  const recording = pending.get(error.recordingId);
  if (!recording) return;
  const outcome = recording.state.applyError(error);
  if (outcome.kind === 'retry') {
    resent.error += outcome.items.filter((item) => item.kind === 'chunk').length;
    publishItems(recording, outcome.items);
  } else if (outcome.kind === 'failed') {
    clearTimeout(recording.timer);
    errors[`failed: ${error.code}`] = (errors[`failed: ${error.code}`] ?? 0) + 1;
    finish(recording);
  }
}

function finish(recording: Pending): void {
  pending.delete(recording.times.recordingId);
  finished.push(recording.times);
}

async function burst(command: Extract<FleetCommand, { type: 'burst' }>): Promise<BurstResult> {
  const up = boxes.filter((box) => box.up);
  if (up.length === 0) throw new Error('no box of this process is connected');
  const intervalMs = 60_000 / command.perMinute;
  const total = Math.floor((command.seconds * 1000) / intervalMs);
  const first = performance.now() + (command.firstAtEpochMs - epochNow());
  // Boxes take turns in a shuffled order, so consecutive recordings come from far-apart boxes.
  const order = [...up];
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = randomInt(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (let n = 0; n < total; n += 1) {
    const due = first + n * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const box = order[n % order.length]!;
    if (box.up) startRecording(box);
    else {
      errors['(box offline when due)'] = (errors['(box offline when due)'] ?? 0) + 1;
    }
  }
  const drainStart = performance.now();
  while (
    [...pending.values()].some((r) => r.state.state === 'sending') &&
    performance.now() - drainStart < command.drainMs
  ) {
    await sleep(100);
  }
  const recordings = [
    ...finished.splice(0),
    ...[...pending.values()].map((r) => {
      clearTimeout(r.timer);
      return r.times;
    }),
  ];
  pending.clear();
  return {
    type: 'burst-done',
    recordings,
    errors: { ...errors },
    disconnects,
    resentChunks: resent,
  };
}

async function disconnectAll(): Promise<void> {
  stormInProgress = true;
  await Promise.all(
    boxes.map(async (box) => {
      const client = box.client;
      if (!client) return;
      box.client = undefined;
      await Promise.race([client.endAsync(false).catch(() => undefined), sleep(3_000)]);
      client.end(true);
    }),
  );
}

function reportFailure(error: unknown): void {
  send({
    type: 'failed',
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
}

process.on('disconnect', () => process.exit(1));
process.on('message', (message: FleetCommand) => {
  const handle = async (): Promise<FleetReply> => {
    switch (message.type) {
      case 'setup':
        config = message.config;
        boxes = config.devices.map((device) => ({ device, client: undefined, up: false }));
        return { type: 'set-up' };
      case 'connect':
        return connectSome(message.count, message.concurrency);
      case 'storm':
        return storm(message.deadlineMs);
      case 'burst':
        return burst(message);
      case 'progress':
        return {
          type: 'progress',
          started: finished.length + pending.size,
          complete: finished.filter((times) => times.completeAt !== null).length,
          sending: pending.size,
          disconnects,
        };
      case 'disconnect':
        await disconnectAll();
        return { type: 'disconnected' };
    }
  };
  handle().then(send, reportFailure);
});
send({ type: 'ready' });
