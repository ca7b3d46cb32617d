/**
 * One load-generator process of the ingest benchmark (forked by ingest.ts). It plays a
 * slice of the boxes: connects them like the firmware does (docs/protocol.md §Transport),
 * then streams recordings in real time (one chunk per box every chunkSamples/sampleRate
 * seconds, rec/open before, rec/close after each recording) and times every chunk from
 * its publish to its acknowledgement. It runs on its own process so the broker's CPU is
 * measured apart from the load's.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import { deviceTopic, TWELVE_LEADS, type DeviceError, type StoredAck } from '#contracts';
import { encodeChunkFrame, frameSamplePayload, synthesizeEcg } from '#ecg';
import type {
  BenchDevice,
  ConnectReport,
  FromWorker,
  RunReport,
  ToWorker,
  WorkerConfig,
} from './load-protocol.js';
import { benchBoxClient } from './bench-box.js';

const TICK_MS = 5;
/** Bounds on the protocol's reactions, so a misbehaving broker cannot loop us. */
const MAX_REOPENS = 10;
const MAX_CLOSES = 6;
const REOPEN_DELAY_MS = 100;
const RECLOSE_DELAY_MS = 250;

/** A Float64Array that grows; the latency lists reach ~10^6 values at 1,000 boxes. */
class Samples {
  private values = new Float64Array(4096);
  private length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const next = new Float64Array(this.values.length * 2);
      next.set(this.values);
      this.values = next;
    }
    this.values[this.length++] = value;
  }

  toArray(): Float64Array {
    return this.values.slice(0, this.length);
  }
}

interface Recording {
  id: string;
  open: Buffer;
  /** Chunks this recording will have (the first recording of a box is shorter). */
  planned: number;
  /** Where in the synthetic signal this recording starts (samples per lead). */
  signalOffset: number;
  sent: number;
  sendTimes: Float64Array;
  inWindow: Uint8Array;
  acked: Uint8Array;
  /** Every sequence <= this is acknowledged (stored mode keeps it cumulative). */
  ackedThrough: number;
  hash: Hash;
  closed: boolean;
  closeBody: Buffer | null;
  closeSentAt: number;
  closes: number;
  complete: boolean;
  reopens: number;
  pendingResend: Set<number>;
  reopenTimer: NodeJS.Timeout | undefined;
  recloseTimer: NodeJS.Timeout | undefined;
}

interface Box {
  device: BenchDevice;
  client: MqttClient | undefined;
  topics: { open: string; chunk: string; close: string };
  /** When the box starts its first recording, and when its next chunk is due (ms). */
  startAt: number;
  nextChunkAt: number;
  current: Recording | undefined;
  recordings: Map<string, Recording>;
  firstRecording: boolean;
  closedByUs: boolean;
}

let config: WorkerConfig;
let boxes: Box[] = [];
let ecgSamples: Int16Array;
let ecgSamplesPerLead = 0;
/** Seconds of synthetic ECG; recordings start at different places in it. */
const SIGNAL_SECONDS = 60;
const leadCount = TWELVE_LEADS.length;

// Measurement state (one run per worker process).
let windowStart = Number.POSITIVE_INFINITY;
let windowEnd = Number.POSITIVE_INFINITY;
let sent = 0;
let sentInWindow = 0;
let acked = 0;
let ackedDuringWindow = 0;
const latencies = new Samples();
const pubackLatencies = new Samples();
const completeLatencies = new Samples();
let recordingsClosed = 0;
let recordingsCompleted = 0;
const errors: Record<string, number> = {};
let resentChunks = 0;
let reopens = 0;
let reCloses = 0;
let disconnects = 0;
/** Why boxes lost their connection: the last client error before each close, by message. */
const disconnectReasons: Record<string, number> = {};
let maxScheduleLagMs = 0;

function send(message: FromWorker): void {
  process.send?.(message);
}

function chunkIntervalMs(): number {
  return (config.chunkSamples / config.sampleRateHz) * 1000;
}

function chunksPerRecording(): number {
  return Math.round((config.recordingSeconds * config.sampleRateHz) / config.chunkSamples);
}

// ── connecting ──────────────────────────────────────────────────────────────────────

/**
 * Each box connects from its own loopback address (127.10.0.1, 127.10.0.2, …; Linux routes
 * all of 127/8 to lo), as boxes in the field do from their own addresses. From one shared
 * address the relay's per-address connect limit (120 a minute) would throttle the benchmark.
 */
export function sourceAddress(index: number): string {
  return `127.${10 + Math.floor(index / 250)}.0.${1 + (index % 250)}`;
}

function connectBox(box: Box): Promise<number> {
  const { id, secret } = box.device;
  const started = performance.now();
  return new Promise<number>((resolve, reject) => {
    const client = benchBoxClient({
      brokerUrl: config.brokerUrl,
      deviceId: id,
      secret,
      localAddress: sourceAddress(box.device.index),
      connectTimeoutMs: config.connectTimeoutMs,
    });
    box.client = client;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      client.end(true);
      box.client = undefined;
      reject(error);
    };
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed before CONNACK')));
    client.once('connect', () => {
      const connackMs = performance.now() - started;
      client.removeAllListeners('error');
      client.removeAllListeners('close');
      let lastError = 'closed by the broker';
      client.on('error', (error) => (lastError = error.message));
      client.on('close', () => {
        if (box.closedByUs) return;
        disconnects += 1;
        disconnectReasons[lastError] = (disconnectReasons[lastError] ?? 0) + 1;
      });
      client.on('message', (topic, payload) => onDownlink(box, topic, payload));
      // As the firmware does after CONNACK: downlink subscriptions, then status online.
      client
        .subscribeAsync(
          (['ack', 'error', 'diagnosis'] as const).map((channel) => deviceTopic(id, channel)),
          { qos: 1 },
        )
        .then((granted) => {
          const refused = granted.filter((grant) => grant.qos === 128);
          if (refused.length > 0) throw new Error(`subscription refused: ${refused[0]?.topic}`);
          return client.publishAsync(
            deviceTopic(id, 'status'),
            JSON.stringify({ online: true, firmware: 'bench-1.0' }),
            { qos: 1, retain: true },
          );
        })
        .then(
          () => {
            settled = true;
            resolve(connackMs);
          },
          (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
        );
    });
  });
}

/** Index of the next box not yet tried; connecting happens in stages (idle memory). */
let nextToConnect = 0;

async function connectSome(count: number): Promise<ConnectReport> {
  const started = performance.now();
  const connack: number[] = [];
  let failed = 0;
  let firstError: string | null = null;
  const end = Math.min(boxes.length, nextToConnect + count);
  const lane = async () => {
    while (nextToConnect < end) {
      const box = boxes[nextToConnect++]!;
      try {
        connack.push(await connectBox(box));
      } catch (error) {
        failed += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, config.connectConcurrency) }, lane));
  return {
    type: 'connected',
    connected: connack.length,
    failed,
    firstError,
    ms: performance.now() - started,
    connackMs: Float64Array.from(connack),
  };
}

// ── streaming ───────────────────────────────────────────────────────────────────────

/** Starts a recording at `startedAt` (ms): rec/open now, its first chunk one interval later. */
function openRecording(box: Box, startedAt: number): void {
  const perRecording = chunksPerRecording();
  // The first recordings are of different lengths (1..perRecording chunks), so closes are
  // spread evenly in time instead of arriving from every box at once.
  const planned = box.firstRecording
    ? 1 + Math.floor((box.device.index * perRecording) / config.totalDevices)
    : perRecording;
  box.firstRecording = false;
  const id = randomUUID();
  const recording: Recording = {
    id,
    open: Buffer.from(
      JSON.stringify({
        recordingId: id,
        examKind: 'resting-12-lead',
        leads: TWELVE_LEADS,
        sampleRateHz: config.sampleRateHz,
        microvoltsPerLsb: 2.5,
        startedAt: new Date().toISOString(),
      }),
    ),
    planned,
    signalOffset:
      Math.floor(Math.random() * (ecgSamplesPerLead / config.chunkSamples)) * config.chunkSamples,
    sent: 0,
    sendTimes: new Float64Array(planned),
    inWindow: new Uint8Array(planned),
    acked: new Uint8Array(planned),
    ackedThrough: -1,
    hash: createHash('sha256'),
    closed: false,
    closeBody: null,
    closeSentAt: 0,
    closes: 0,
    complete: false,
    reopens: 0,
    pendingResend: new Set(),
    reopenTimer: undefined,
    recloseTimer: undefined,
  };
  box.current = recording;
  box.recordings.set(id, recording);
  publishControl(box, box.topics.open, recording.open);
  // The first chunk is 40 ms of signal after the box starts recording.
  box.nextChunkAt = startedAt + chunkIntervalMs();
}

/**
 * The box's client while its link is up. Once the broker has dropped it (or died), the box
 * keeps recording but nothing goes out: those chunks are never acknowledged, so they count
 * as lost, and mqtt.js is not made to queue and fail hundreds of thousands of packets.
 */
function linkOf(box: Box): MqttClient | undefined {
  return box.client?.connected ? box.client : undefined;
}

function publishControl(box: Box, topic: string, payload: Buffer): void {
  linkOf(box)?.publish(topic, payload, { qos: 1 }, () => undefined);
}

function encodeChunk(recording: Recording, sequence: number): Buffer {
  const firstSample = sequence * config.chunkSamples;
  // The signal wraps around; its length is a whole number of chunks, so no chunk straddles.
  const from = (recording.signalOffset + firstSample) % ecgSamplesPerLead;
  return encodeChunkFrame({
    recordingId: recording.id,
    sequence,
    firstSample,
    sampleCount: config.chunkSamples,
    leadCount,
    samples: ecgSamples.subarray(from * leadCount, (from + config.chunkSamples) * leadCount),
  });
}

/** Sends the next chunk of `recording`, due at `due` and sent at `now` (tick time, ms). */
function sendChunk(box: Box, recording: Recording, now: number, due: number): void {
  const sequence = recording.sent;
  const frame = encodeChunk(recording, sequence);
  recording.hash.update(frameSamplePayload(frame));
  recording.sent += 1;
  const measured = now >= windowStart && now < windowEnd;
  recording.inWindow[sequence] = measured ? 1 : 0;
  sent += 1;
  if (measured) sentInWindow += 1;
  const publishedAt = performance.now();
  recording.sendTimes[sequence] = publishedAt;
  linkOf(box)?.publish(box.topics.chunk, frame, { qos: 1 }, (error) => {
    if (error) return;
    const at = performance.now();
    if (config.ackMode === 'puback') acknowledge(recording, sequence, at);
    else if (recording.inWindow[sequence] === 1) pubackLatencies.push(at - publishedAt);
  });
  if (recording.sent === recording.planned) closeRecording(box, recording, due);
}

function closeRecording(box: Box, recording: Recording, due: number): void {
  const samplesPerLead = recording.sent * config.chunkSamples;
  recording.closeBody = Buffer.from(
    JSON.stringify({
      recordingId: recording.id,
      chunkCount: recording.sent,
      samplesPerLead,
      sha256: recording.hash.digest('hex'),
    }),
  );
  recording.closed = true;
  recording.closes = 1;
  recording.closeSentAt = performance.now();
  recordingsClosed += 1;
  publishControl(box, box.topics.close, recording.closeBody);
  // Recording is continuous: the next one starts as this one ends.
  openRecording(box, due);
}

function acknowledge(recording: Recording, sequence: number, at: number): void {
  if (sequence >= recording.sent || recording.acked[sequence] === 1) return;
  recording.acked[sequence] = 1;
  acked += 1;
  if (at >= windowStart && at < windowEnd) ackedDuringWindow += 1;
  if (recording.inWindow[sequence] === 1) latencies.push(at - recording.sendTimes[sequence]!);
}

function onDownlink(box: Box, topic: string, payload: Buffer): void {
  if (config.ackMode !== 'stored') return;
  const at = performance.now();
  const channel = topic.slice(topic.lastIndexOf('/') + 1);
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    errors['(unparsable downlink)'] = (errors['(unparsable downlink)'] ?? 0) + 1;
    return;
  }
  if (channel === 'ack') onStoredAck(box, body as StoredAck, at);
  else if (channel === 'error') onDeviceError(box, body as DeviceError);
}

function onStoredAck(box: Box, ack: StoredAck, at: number): void {
  const recording = box.recordings.get(ack.recordingId);
  if (!recording) return;
  const through = ack.complete
    ? recording.sent - 1
    : Math.min(ack.storedThrough, recording.sent - 1);
  for (let sequence = recording.ackedThrough + 1; sequence <= through; sequence += 1) {
    acknowledge(recording, sequence, at);
  }
  recording.ackedThrough = Math.max(recording.ackedThrough, through);
  if (ack.complete) {
    if (!recording.complete && recording.closed) {
      recording.complete = true;
      recordingsCompleted += 1;
      completeLatencies.push(at - recording.closeSentAt);
    }
    return;
  }
  // After a close the relay lists what it lacks; a box resends those and closes again.
  if (recording.closed && ack.missing.length > 0 && config.retries) {
    scheduleReclose(box, recording, ack.missing);
  }
}

function onDeviceError(box: Box, error: DeviceError): void {
  errors[error.code] = (errors[error.code] ?? 0) + 1;
  if (!config.retries || !error.retryable || error.recordingId === undefined) return;
  const recording = box.recordings.get(error.recordingId);
  if (!recording || recording.complete) return;
  if (error.sequence !== undefined) recording.pendingResend.add(error.sequence);
  if (error.code === 'UNKNOWN_RECORDING') scheduleReopen(box, recording);
  else if (error.code === 'CRC_MISMATCH' && error.sequence !== undefined) {
    resend(box, recording, error.sequence);
  }
}

function resend(box: Box, recording: Recording, sequence: number): void {
  if (sequence >= recording.sent || recording.acked[sequence] === 1) return;
  resentChunks += 1;
  const frame = encodeChunk(recording, sequence);
  linkOf(box)?.publish(box.topics.chunk, frame, { qos: 1 }, (error) => {
    if (!error && config.ackMode === 'puback') acknowledge(recording, sequence, performance.now());
  });
}

/** UNKNOWN_RECORDING: "publish rec/open again, then resend" (docs/protocol.md §Errors). */
function scheduleReopen(box: Box, recording: Recording): void {
  if (recording.reopenTimer || recording.reopens >= MAX_REOPENS) return;
  recording.reopenTimer = setTimeout(() => {
    recording.reopenTimer = undefined;
    recording.reopens += 1;
    reopens += 1;
    publishControl(box, box.topics.open, recording.open);
    for (const sequence of recording.pendingResend) resend(box, recording, sequence);
    recording.pendingResend.clear();
    if (recording.closed && !recording.complete) reclose(box, recording);
  }, REOPEN_DELAY_MS);
}

function scheduleReclose(box: Box, recording: Recording, missing: number[]): void {
  if (recording.recloseTimer || recording.closes >= MAX_CLOSES) return;
  for (const sequence of missing) recording.pendingResend.add(sequence);
  recording.recloseTimer = setTimeout(() => {
    recording.recloseTimer = undefined;
    for (const sequence of recording.pendingResend) resend(box, recording, sequence);
    recording.pendingResend.clear();
    reclose(box, recording);
  }, RECLOSE_DELAY_MS);
}

function reclose(box: Box, recording: Recording): void {
  if (!recording.closeBody || recording.closes >= MAX_CLOSES) return;
  recording.closes += 1;
  reCloses += 1;
  publishControl(box, box.topics.close, recording.closeBody);
}

async function run(message: Extract<ToWorker, { type: 'run' }>): Promise<RunReport> {
  const t0 = performance.now() + (message.startAtEpochMs - Date.now());
  windowStart = t0 + message.warmupMs;
  windowEnd = windowStart + message.windowMs;
  const interval = chunkIntervalMs();
  const live = boxes.filter((box) => box.client);
  for (const box of live) {
    // Phases spread evenly over one chunk interval across all boxes of the step.
    box.startAt = t0 + (box.device.index / config.totalDevices) * interval;
  }
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      for (const box of live) {
        if (!box.current) {
          if (now >= box.startAt && now < windowEnd) openRecording(box, box.startAt);
          continue;
        }
        // Bounded: at most the chunks due by now, and none after the window.
        while (box.nextChunkAt <= now && box.nextChunkAt < windowEnd) {
          maxScheduleLagMs = Math.max(maxScheduleLagMs, now - box.nextChunkAt);
          const due = box.nextChunkAt;
          sendChunk(box, box.current, now, due);
          box.nextChunkAt = due + interval;
        }
      }
      if (now >= windowEnd) resolve();
      else setTimeout(tick, TICK_MS);
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
  const drainStarted = performance.now();
  while (acked < sent && performance.now() - drainStarted < message.drainMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const drainMs = performance.now() - drainStarted;
  loopDelay.disable();
  for (const box of boxes) {
    for (const recording of box.recordings.values()) {
      clearTimeout(recording.reopenTimer);
      clearTimeout(recording.recloseTimer);
    }
  }
  return {
    type: 'result',
    sent,
    sentInWindow,
    ackedDuringWindow,
    acked,
    latencies: latencies.toArray(),
    pubackLatencies: pubackLatencies.toArray(),
    completeLatencies: completeLatencies.toArray(),
    recordingsClosed,
    recordingsCompleted,
    errors,
    resentChunks,
    reopens,
    reCloses,
    disconnects,
    disconnectReasons,
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
    maxScheduleLagMs,
    drainMs,
  };
}

async function disconnectAll(): Promise<void> {
  await Promise.all(
    boxes.map(async (box) => {
      const client = box.client;
      if (!client) return;
      box.closedByUs = true;
      await Promise.race([
        client.endAsync(false).catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 3_000)),
      ]);
      client.end(true);
    }),
  );
}

function setUp(workerConfig: WorkerConfig): void {
  config = workerConfig;
  // One minute of synthetic 12-lead ECG (libs/ecg). Each recording starts at its own
  // place in it, so recordings differ (as patients do) and so do their sha256 and blobs.
  const ecg = synthesizeEcg({
    durationSeconds: SIGNAL_SECONDS,
    sampleRateHz: config.sampleRateHz,
    seed: 7 + config.devices.length,
  });
  ecgSamplesPerLead = ecg.samplesPerLead - (ecg.samplesPerLead % config.chunkSamples);
  ecgSamples = ecg.samples;
  boxes = config.devices.map((device) => ({
    device,
    client: undefined,
    topics: {
      open: deviceTopic(device.id, 'rec/open'),
      chunk: deviceTopic(device.id, 'rec/chunk'),
      close: deviceTopic(device.id, 'rec/close'),
    },
    startAt: 0,
    nextChunkAt: 0,
    current: undefined,
    recordings: new Map(),
    firstRecording: true,
    closedByUs: false,
  }));
}

function reportFailure(error: unknown): void {
  send({
    type: 'failed',
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
}

// The configuration arrives as argv[2] (JSON); commands over IPC.
try {
  setUp(JSON.parse(process.argv[2] ?? '') as WorkerConfig);
} catch (error) {
  reportFailure(error);
  process.exit(1);
}
// The orchestrator went away: nothing to report to, stop at once.
process.on('disconnect', () => process.exit(1));
process.on('message', (message: ToWorker) => {
  const handle = async (): Promise<FromWorker> => {
    switch (message.type) {
      case 'connect':
        return connectSome(message.count);
      case 'run':
        return run(message);
      case 'disconnect':
        await disconnectAll();
        return { type: 'disconnected' };
    }
  };
  handle().then(send, reportFailure);
});
send({ type: 'ready' });
