import { EventEmitter } from 'node:events';
import { connect, ErrorWithReasonCode, type MqttClient } from 'mqtt';
import {
  deviceTopic,
  parseDeviceTopic,
  TWELVE_LEADS,
  type DeviceDiagnosis,
  type DeviceError,
  type DeviceStatus,
  type DownlinkChannel,
  type StoredAck,
  type StreamClose,
} from '#contracts';
import { backoffDelay, type BackoffRange } from './backoff.js';
import { parseDownlink } from './downlink.js';
import {
  BoxStoppedError,
  ConnectionRefusedError,
  DownlinkProtocolError,
  RelayReportedError,
  SimulatorConfigError,
  SubscriptionRefusedError,
} from './errors.js';
import {
  buildStreamOpen,
  LiveStreamClock,
  SyntheticEcgSource,
  type StreamOptions,
} from './live-stream.js';
import { InMemoryOutboxStore, type OutboxStore } from './outbox.js';
import { PendingRecording, type Outbound } from './pending-recording.js';
import {
  buildRecording,
  DEFAULT_CHUNK_SAMPLES,
  maxChunkSamples,
  type RecordingRequest,
} from './recording-builder.js';

export const FIRMWARE = 'sim-1.0';
export const DEFAULT_ACK_TIMEOUT_MS = 5_000;
const KEEPALIVE_SECONDS = 30;
const DOWNLINK: readonly DownlinkChannel[] = ['ack', 'error', 'diagnosis'];
/** Consecutive ack timeouts double the wait up to this factor, so a mute relay is not flooded. */
const MAX_ACK_TIMEOUT_FACTOR = 8;
/** How long stop() lets in-flight publishes drain before it drops the connection. */
const STOP_DRAIN_MS = 2_000;

export interface SimulatedBoxOptions {
  brokerUrl: string;
  /** For mqtts:// — e.g. the CA that signed the relay's certificate. */
  tls?: { ca?: Buffer | string; rejectUnauthorized?: boolean };
  deviceId: string;
  secret: string;
  /** Samples per lead in one chunk; default 250 (0.5 s at 500 Hz). */
  chunkSamples?: number;
  /** Resend what is not acknowledged when the relay has been silent this long; default 5 s. */
  ackTimeoutMs?: number;
  /** Where pending recordings are kept; default in memory. */
  store?: OutboxStore;
  /** Reconnect backoff; default 1 s .. 30 s. */
  reconnect?: BackoffRange;
  /** Backoff before resending after a retryable relay error; default 500 ms .. 10 s. */
  retry?: BackoffRange;
}

export type RecordOptions = RecordingRequest;

export interface RecordResult {
  recordingId: string;
  caseId: string | null;
  sha256: string;
}

export interface StoredEvent {
  recordingId: string;
  caseId: string | null;
  /** From the first rec/close on the air to the relay's complete StoredAck. */
  ackLatencyMs: number;
}

export interface ReturnedEvent {
  recordingId: string;
  reason: string;
}

export interface FailedEvent {
  recordingId: string;
  error: Error;
}

export interface ResumedEvent {
  recordingId: string;
  /** Chunks the relay had acknowledged before the box (process) stopped. */
  storedThrough: number;
  chunkCount: number;
}

export interface StreamOpenedEvent {
  streamId: string;
  /** True when this is the stream/open sent again after a reconnect. */
  reopened: boolean;
}

/** One stream/frame handed to the MQTT client (QoS 0: nobody confirms that it arrived). */
export interface StreamedEvent {
  streamId: string;
  sequence: number;
  firstSample: number;
  sampleCount: number;
}

export interface StreamHandle {
  readonly streamId: string;
  /**
   * Stops sending frames and publishes stream/close (QoS 1). Resolves once the broker has
   * acknowledged the close, which may wait for a reconnect, or once the box is stopped.
   */
  stop(): Promise<void>;
}

export interface DisconnectedEvent {
  /** The transport error that ended the link or the last attempt, if there was one. */
  error?: Error;
  reconnectInMs: number;
}

export type SimulatedBoxEvents = {
  /** Subscribed and announced online; pending recordings have been re-sent. */
  connected: [];
  disconnected: [DisconnectedEvent];
  /** A recording an earlier run left in the outbox store; emitted by start(), before sending. */
  resumed: [ResumedEvent];
  stored: [StoredEvent];
  /** Every StoredAck the relay sends, as received (fault tests time acknowledgements by it). */
  acked: [StoredAck];
  /** Every error the relay reports on a recording, retryable or not, before the box acts on it. */
  refused: [DeviceError];
  diagnosis: [DeviceDiagnosis];
  /** A stored recording the relay's analysis could not read: the clinic should record again. */
  returned: [ReturnedEvent];
  failed: [FailedEvent];
  /** The broker acknowledged stream/open: first after startStream(), then after reconnects. */
  streamOpened: [StreamOpenedEvent];
  /** Every stream/frame published; frames due while offline are not sent and not emitted. */
  streamed: [StreamedEvent];
  /** The broker acknowledged a stream/close. */
  streamClosed: [{ streamId: string }];
  error: [Error];
};

interface Waiter {
  resolve(result: RecordResult): void;
  reject(error: Error): void;
}

/** The live stream a box is sending, with its frame timer. */
interface ActiveStream {
  readonly clock: LiveStreamClock;
  timer?: NodeJS.Timeout;
  /** How many times the broker acknowledged stream/open. */
  opens: number;
  /** The link on which the broker acknowledged stream/open: frames go out on that one only. */
  openOn?: MqttClient;
}

/** A stream/close the broker has not acknowledged yet. */
interface PendingStreamClose {
  readonly close: StreamClose;
  readonly done: Promise<void>;
  resolve(): void;
}

/** A pending recording plus the timers the box runs for it. */
interface Slot {
  readonly recording: PendingRecording;
  readonly queuedAt: number;
  waiter?: Waiter;
  ackTimer?: NodeJS.Timeout;
  consecutiveTimeouts: number;
  retryTimer?: NodeJS.Timeout;
  retryItems: Outbound[];
  retryAttempt: number;
}

/**
 * One simulated ECG box: records synthetic ECGs and delivers them to the relay over MQTT
 * with the same rules as the firmware. A recording stays in the outbox until the relay's
 * StoredAck says complete; PUBACKs only mean the broker got the packet.
 */
export class SimulatedBox extends EventEmitter<SimulatedBoxEvents> {
  readonly deviceId: string;
  private readonly brokerUrl: string;
  private readonly tls: SimulatedBoxOptions['tls'];
  private readonly secret: string;
  private readonly chunkSamples: number;
  private readonly ackTimeoutMs: number;
  private readonly store: OutboxStore;
  private readonly reconnectRange: BackoffRange;
  private readonly retryRange: BackoffRange;
  private readonly slots = new Map<string, Slot>();
  private readonly seenDiagnoses = new Set<string>();
  private readonly seenReturns = new Set<string>();
  private stream: ActiveStream | undefined;
  private readonly streamCloses = new Map<string, PendingStreamClose>();
  private streamedFramesValue = 0;
  private client: MqttClient | undefined;
  private linkReady = false;
  private started = false;
  private stopped = false;
  private reconnectAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastLinkError: Error | undefined;

  constructor(options: SimulatedBoxOptions) {
    super();
    this.brokerUrl = options.brokerUrl;
    this.tls = options.tls;
    this.deviceId = options.deviceId;
    this.secret = options.secret;
    this.chunkSamples = options.chunkSamples ?? DEFAULT_CHUNK_SAMPLES;
    this.ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.store = options.store ?? new InMemoryOutboxStore();
    this.reconnectRange = options.reconnect ?? { minMs: 1_000, maxMs: 30_000 };
    this.retryRange = options.retry ?? { minMs: 500, maxMs: 10_000 };
    if (parseDeviceTopic(deviceTopic(this.deviceId, 'ack'))?.deviceId !== this.deviceId) {
      throw new SimulatorConfigError(
        `device id ${JSON.stringify(this.deviceId)} cannot be a topic level`,
      );
    }
    const maxChunk = maxChunkSamples(TWELVE_LEADS.length);
    if (
      !Number.isInteger(this.chunkSamples) ||
      this.chunkSamples < 1 ||
      this.chunkSamples > maxChunk
    ) {
      throw new SimulatorConfigError(`chunkSamples must be an integer in 1..${maxChunk}`);
    }
    if (!(this.ackTimeoutMs > 0)) throw new SimulatorConfigError('ackTimeoutMs must be positive');
  }

  /** True while subscribed and able to publish. */
  get connected(): boolean {
    return this.linkReady;
  }

  /** Recordings the relay has not yet stored completely. */
  get pendingCount(): number {
    return this.slots.size;
  }

  /** stream/frame messages published so far, over all streams. */
  get streamedFrames(): number {
    return this.streamedFramesValue;
  }

  /** The id of the live stream being sent, or null. */
  get activeStreamId(): string | null {
    return this.stream?.clock.streamId ?? null;
  }

  /**
   * Resumes what the outbox still holds, then connects. Resolves once the first connection
   * attempt is under way, not when it succeeds: a box must work with the relay down.
   */
  async start(): Promise<void> {
    if (this.stopped) throw new BoxStoppedError();
    if (this.started) return;
    this.started = true;
    for (const entry of await this.store.list()) {
      if (this.slots.has(entry.open.recordingId)) continue;
      const slot = this.addSlot(new PendingRecording(entry, this.recordingOptions()));
      this.emit('resumed', {
        recordingId: slot.recording.recordingId,
        storedThrough: slot.recording.storedThrough,
        chunkCount: slot.recording.chunkCount,
      });
    }
    this.connectOnce();
  }

  /**
   * Records one ECG and delivers it. Resolves when the relay acknowledges the whole
   * recording as stored, rejects with RecordingRejectedError if the relay refuses it for
   * good, or with BoxStoppedError if stop() comes first. Works offline: the recording
   * waits in the outbox until the link is back.
   */
  async record(options: RecordOptions = {}): Promise<RecordResult> {
    if (this.stopped) throw new BoxStoppedError();
    const { entry } = buildRecording(options, this.chunkSamples);
    // Write-ahead: in the outbox before anything is on the air.
    await this.store.add(entry);
    if (this.stopped) throw new BoxStoppedError(entry.open.recordingId);
    const slot = this.addSlot(new PendingRecording(entry, this.recordingOptions()));
    const result = new Promise<RecordResult>((resolve, reject) => {
      slot.waiter = { resolve, reject };
    });
    this.send(slot, slot.recording.syncPlan());
    return result;
  }

  /**
   * Starts a live monitoring stream: stream/open (QoS 1), then every 40 ms a stream/frame
   * (QoS 0) with the samples of that slot of a continuous synthetic ECG, paced by the
   * wall clock. Frames go out only on a link where the broker has acknowledged the
   * stream/open, so the broker never handles a frame before its stream's open. Works
   * offline: frames that fall due while the link is down (or the open is unacknowledged)
   * are dropped, never backfilled, and stream/open goes out again, unchanged, on every
   * reconnect. A box sends one stream at a time, like the relay keeps one per box.
   */
  startStream(options: StreamOptions = {}): StreamHandle {
    if (this.stopped) throw new BoxStoppedError();
    if (this.stream) {
      throw new SimulatorConfigError(
        `${this.deviceId} is already streaming ${this.stream.clock.streamId}`,
      );
    }
    const now = Date.now();
    const open = buildStreamOpen(options, new Date(now));
    const source = new SyntheticEcgSource(
      open.leads,
      open.sampleRateHz,
      options.finding,
      options.seed,
    );
    const active: ActiveStream = { clock: new LiveStreamClock(open, source, now), opens: 0 };
    this.stream = active;
    this.publishStreamOpen(active);
    this.scheduleStreamTick(active);
    return { streamId: open.streamId, stop: () => this.stopStream(active) };
  }

  /**
   * Disconnects (announcing offline) and rejects pending record() calls with
   * BoxStoppedError. Pending recordings stay in the outbox store for a later start(); what
   * the store was still writing is finished first.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    for (const slot of this.slots.values()) {
      this.clearTimers(slot);
      slot.waiter?.reject(new BoxStoppedError(slot.recording.recordingId));
    }
    this.slots.clear();
    const active = this.stream;
    if (active) this.endStream(active);
    const streamCloses = [...this.streamCloses.values()];
    this.streamCloses.clear();
    const client = this.client;
    this.client = undefined;
    const wasReady = this.linkReady;
    this.linkReady = false;
    // Acks and removals already applied are written before stop() resolves.
    const storeIdle = (this.store.idle?.() ?? Promise.resolve()).catch((error: unknown) => {
      this.emit('error', asError(error));
    });
    if (!client) {
      for (const pending of streamCloses) pending.resolve();
      await storeIdle;
      return;
    }
    if (wasReady) {
      // Streams end before the box announces it is going offline.
      const closes = streamCloses.map((pending) =>
        client
          .publishAsync(deviceTopic(this.deviceId, 'stream/close'), JSON.stringify(pending.close), {
            qos: 1,
            retain: false,
          })
          .then(() => this.emit('streamClosed', { streamId: pending.close.streamId })),
      );
      const offline: DeviceStatus = { online: false };
      const status = client.publishAsync(
        deviceTopic(this.deviceId, 'status'),
        JSON.stringify(offline),
        { qos: 1, retain: true },
      );
      await withTimeout(Promise.all([...closes, status]), STOP_DRAIN_MS).catch(() => undefined);
    }
    for (const pending of streamCloses) pending.resolve();
    // A DISCONNECT only means something on an established session. mqtt.js "ends" a client
    // that is still waiting for CONNACK without closing its socket, which then stays open
    // (and keeps the process alive) once the CONNACK arrives; and a second end() is a no-op
    // while the first drains. So: drain gracefully if the link was up, then always destroy.
    if (wasReady) await withTimeout(client.endAsync(false), STOP_DRAIN_MS).catch(() => undefined);
    client.stream.destroy();
    await client.endAsync(true).catch(() => undefined);
    await storeIdle;
  }

  /**
   * Cuts the link the way a failing network does: the socket goes away without an MQTT
   * DISCONNECT, so the broker publishes the last will, and the box reconnects with its
   * backoff and resends what the relay has not stored. False when there is no link to cut.
   */
  dropLink(): boolean {
    const client = this.client;
    if (!client || !this.linkReady || this.stopped) return false;
    client.stream.destroy();
    return true;
  }

  private recordingOptions() {
    // Half the ack timeout: long enough to swallow the relay's answer to our previous close.
    return { resendWindowMs: Math.min(1_000, this.ackTimeoutMs / 2) };
  }

  private addSlot(recording: PendingRecording): Slot {
    const slot: Slot = {
      recording,
      queuedAt: Date.now(),
      consecutiveTimeouts: 0,
      retryItems: [],
      retryAttempt: 0,
    };
    this.slots.set(recording.recordingId, slot);
    return slot;
  }

  // ── link ────────────────────────────────────────────────────────────────────────────

  private connectOnce(): void {
    this.reconnectTimer = undefined;
    if (this.stopped) return;
    const status: DeviceStatus = { online: false };
    // A fresh client per attempt (mqtt.js reconnect disabled) so our backoff is the only
    // retry loop and no stale in-flight state from the old socket is replayed behind our back.
    const client = connect(this.brokerUrl, {
      protocolVersion: 4,
      clientId: this.deviceId,
      username: this.deviceId,
      password: this.secret,
      clean: false,
      keepalive: KEEPALIVE_SECONDS,
      reconnectPeriod: 0,
      resubscribe: false,
      connectTimeout: 10_000,
      ...this.tls,
      will: {
        topic: deviceTopic(this.deviceId, 'status'),
        payload: Buffer.from(JSON.stringify(status)),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    client.on('connect', () => void this.onConnect(client));
    client.on('message', (topic, payload) => {
      if (client === this.client) this.onMessage(topic, payload);
    });
    client.on('error', (error) => this.onClientError(client, error));
    client.on('close', () => this.onClose(client));
  }

  private async onConnect(client: MqttClient): Promise<void> {
    try {
      const granted = await client.subscribeAsync(
        DOWNLINK.map((channel) => deviceTopic(this.deviceId, channel)),
        { qos: 1 },
      );
      if (client !== this.client) return;
      const refused = granted.filter((g) => g.qos === 128);
      if (refused.length > 0) {
        this.emit('error', new SubscriptionRefusedError(refused.map((g) => g.topic)));
        client.end(true);
        return;
      }
      const online: DeviceStatus = { online: true, firmware: FIRMWARE };
      client.publish(deviceTopic(this.deviceId, 'status'), JSON.stringify(online), {
        qos: 1,
        retain: true,
      });
    } catch {
      // The link dropped while subscribing; onClose schedules the next attempt.
      return;
    }
    if (client !== this.client || this.stopped) return;
    this.linkReady = true;
    this.reconnectAttempt = 0;
    this.lastLinkError = undefined;
    for (const pending of this.streamCloses.values()) this.sendStreamClose(pending);
    if (this.stream) this.publishStreamOpen(this.stream);
    for (const slot of this.slots.values()) this.send(slot, slot.recording.syncPlan());
    this.emit('connected');
  }

  private onClientError(client: MqttClient, error: Error): void {
    if (client !== this.client) return;
    this.lastLinkError = error;
    if (error instanceof ErrorWithReasonCode && error.message.startsWith('Connection refused')) {
      this.emit('error', new ConnectionRefusedError(this.deviceId, error.code, error));
    }
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.linkReady = false;
    client.end(true);
    // Whatever was waiting is covered by the sync plan after reconnecting.
    for (const slot of this.slots.values()) this.clearTimers(slot);
    if (this.stopped) return;
    const reconnectInMs = backoffDelay(this.reconnectAttempt++, this.reconnectRange);
    this.reconnectTimer = setTimeout(() => this.connectOnce(), reconnectInMs);
    this.emit('disconnected', {
      ...(this.lastLinkError && { error: this.lastLinkError }),
      reconnectInMs,
    });
  }

  // ── uplink ──────────────────────────────────────────────────────────────────────────

  private send(slot: Slot, items: readonly Outbound[]): void {
    const client = this.client;
    if (!this.linkReady || !client || this.slots.get(slot.recording.recordingId) !== slot) return;
    const recording = slot.recording;
    const needed = recording.stillNeeded(items);
    if (needed.length === 0) return;
    for (const item of needed) {
      const { channel, payload } = this.encode(recording, item);
      // The PUBACK callback is deliberately ignored: only the relay's StoredAck counts, and a
      // publish lost with the link is re-sent by the sync plan after reconnecting.
      client.publish(deviceTopic(this.deviceId, channel), payload, { qos: 1, retain: false }, noop);
      recording.markSent(item, Date.now());
    }
    this.armAckTimer(slot);
  }

  private encode(
    recording: PendingRecording,
    item: Outbound,
  ): { channel: 'rec/open' | 'rec/chunk' | 'rec/close'; payload: Buffer | string } {
    switch (item.kind) {
      case 'open':
        return { channel: 'rec/open', payload: JSON.stringify(recording.open) };
      case 'chunk':
        return { channel: 'rec/chunk', payload: recording.frame(item.sequence) };
      case 'close':
        return { channel: 'rec/close', payload: JSON.stringify(recording.close) };
    }
  }

  private armAckTimer(slot: Slot): void {
    clearTimeout(slot.ackTimer);
    const factor = Math.min(MAX_ACK_TIMEOUT_FACTOR, 2 ** slot.consecutiveTimeouts);
    slot.ackTimer = setTimeout(() => {
      slot.ackTimer = undefined;
      slot.consecutiveTimeouts++;
      this.send(slot, slot.recording.timeoutPlan());
    }, this.ackTimeoutMs * factor);
  }

  private scheduleRetry(slot: Slot, items: readonly Outbound[]): void {
    slot.retryItems.push(...items);
    if (slot.retryTimer) return;
    const delay = backoffDelay(slot.retryAttempt++, this.retryRange);
    slot.retryTimer = setTimeout(() => {
      slot.retryTimer = undefined;
      const batch = inSendingOrder(slot.retryItems);
      slot.retryItems = [];
      this.send(slot, batch);
    }, delay);
  }

  private clearTimers(slot: Slot): void {
    clearTimeout(slot.ackTimer);
    clearTimeout(slot.retryTimer);
    slot.ackTimer = undefined;
    slot.retryTimer = undefined;
    slot.retryItems = [];
    slot.consecutiveTimeouts = 0;
  }

  // ── live stream ─────────────────────────────────────────────────────────────────────

  private publishStreamOpen(active: ActiveStream): void {
    const client = this.client;
    if (!this.linkReady || !client || this.stream !== active) return;
    const { open } = active.clock;
    // Aedes handles the packets of one socket read concurrently, so a QoS 0 frame right
    // behind the QoS 1 open could overtake it; after the PUBACK it cannot.
    client.publish(
      deviceTopic(this.deviceId, 'stream/open'),
      JSON.stringify(open),
      { qos: 1, retain: false },
      (error) => {
        if (error || client !== this.client || this.stream !== active) return;
        active.openOn = client;
        this.emit('streamOpened', { streamId: open.streamId, reopened: active.opens++ > 0 });
      },
    );
  }

  private scheduleStreamTick(active: ActiveStream): void {
    const delay = Math.max(0, active.clock.nextDueAtMs - Date.now());
    active.timer = setTimeout(() => this.streamTick(active), delay);
  }

  private streamTick(active: ActiveStream): void {
    active.timer = undefined;
    if (this.stream !== active) return;
    const { streamId } = active.clock;
    const topic = deviceTopic(this.deviceId, 'stream/frame');
    for (const frame of active.clock.due(Date.now())) {
      // Offline the frame is simply gone: a live view never gets old samples backfilled.
      const client = this.client;
      if (!this.linkReady || !client || active.openOn !== client) continue;
      client.publish(topic, frame.bytes, { qos: 0, retain: false });
      this.streamedFramesValue++;
      this.emit('streamed', {
        streamId,
        sequence: frame.sequence,
        firstSample: frame.firstSample,
        sampleCount: frame.sampleCount,
      });
    }
    this.scheduleStreamTick(active);
  }

  /** Stops the frames and queues the stream/close. */
  private endStream(active: ActiveStream): PendingStreamClose {
    clearTimeout(active.timer);
    active.timer = undefined;
    if (this.stream === active) this.stream = undefined;
    let resolve: () => void = noop;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    const pending: PendingStreamClose = {
      close: { streamId: active.clock.streamId },
      done,
      resolve,
    };
    this.streamCloses.set(pending.close.streamId, pending);
    return pending;
  }

  private stopStream(active: ActiveStream): Promise<void> {
    if (this.stream === active && !this.stopped) this.sendStreamClose(this.endStream(active));
    return this.streamCloses.get(active.clock.streamId)?.done ?? Promise.resolve();
  }

  /** Publishes a stream/close (QoS 1); it is forgotten once the broker acknowledges it. */
  private sendStreamClose(pending: PendingStreamClose): void {
    const client = this.client;
    if (!this.linkReady || !client) return;
    const { streamId } = pending.close;
    client.publish(
      deviceTopic(this.deviceId, 'stream/close'),
      JSON.stringify(pending.close),
      { qos: 1, retain: false },
      (error) => {
        // Unacknowledged: onConnect sends it again on the next link.
        if (error || this.streamCloses.get(streamId) !== pending) return;
        this.streamCloses.delete(streamId);
        pending.resolve();
        this.emit('streamClosed', { streamId });
      },
    );
  }

  // ── downlink ────────────────────────────────────────────────────────────────────────

  private onMessage(topic: string, payload: Buffer): void {
    const parsedTopic = parseDeviceTopic(topic);
    if (!parsedTopic || parsedTopic.deviceId !== this.deviceId) {
      this.emit('error', new DownlinkProtocolError(topic, 'not one of this box’s topics'));
      return;
    }
    const parsed = parseDownlink(parsedTopic.channel, payload);
    if (!parsed.ok) {
      this.emit('error', new DownlinkProtocolError(topic, parsed.reason));
      return;
    }
    const message = parsed.message;
    switch (message.channel) {
      case 'ack':
        return this.onAck(message.ack);
      case 'error':
        return this.onRelayError(message.error);
      case 'diagnosis':
        return this.onDiagnosis(message.diagnosis);
    }
  }

  private onAck(ack: StoredAck): void {
    this.emit('acked', ack);
    // Unknown ids are acks for recordings already settled (duplicates): nothing to do.
    const slot = this.slots.get(ack.recordingId);
    if (!slot) return;
    const outcome = slot.recording.applyAck(ack, Date.now());
    switch (outcome.kind) {
      case 'ignored':
        return;
      case 'complete':
        return this.settle(slot, { caseId: outcome.caseId });
      case 'progress':
      case 'resend':
        slot.consecutiveTimeouts = 0;
        if (outcome.released.length > 0) {
          slot.retryAttempt = 0;
          this.persistProgress(slot.recording);
        }
        if (outcome.kind === 'resend') this.send(slot, outcome.items);
        else if (slot.ackTimer) this.armAckTimer(slot);
    }
  }

  private onRelayError(error: DeviceError): void {
    this.emit('refused', error);
    if (error.code === 'UNREADABLE_RECORDING' && error.recordingId !== undefined) {
      // Comes after the recording was stored: the relay's analysis (or a reader) says to
      // record again. Re-sent until acknowledged, so it may come twice: tell the operator once.
      if (this.seenReturns.has(error.recordingId)) return;
      this.seenReturns.add(error.recordingId);
      this.emit('returned', { recordingId: error.recordingId, reason: error.message });
      return;
    }
    if (error.recordingId === undefined) {
      this.emit('error', new RelayReportedError(error.code, error.message, error.retryable));
      return;
    }
    const slot = this.slots.get(error.recordingId);
    if (!slot) return;
    const outcome = slot.recording.applyError(error);
    switch (outcome.kind) {
      case 'ignored':
        return;
      case 'retry':
        return this.scheduleRetry(slot, outcome.items);
      case 'failed':
        return this.settle(slot, { error: outcome.error });
    }
  }

  private onDiagnosis(diagnosis: DeviceDiagnosis): void {
    // The relay re-sends what this box has not acknowledged on every (re)subscribe, and QoS 1
    // may deliver twice; show each signature once (docs/protocol.md, "Diagnosis").
    const key = `${diagnosis.caseId}\u0000${diagnosis.signedAt}`;
    if (this.seenDiagnoses.has(key)) return;
    this.seenDiagnoses.add(key);
    this.emit('diagnosis', diagnosis);
  }

  private persistProgress(recording: PendingRecording): void {
    this.store
      .acknowledge(recording.recordingId, recording.storedThrough)
      .catch((error: unknown) => this.emit('error', asError(error)));
  }

  private settle(slot: Slot, outcome: { caseId: string | null } | { error: Error }): void {
    const recording = slot.recording;
    this.clearTimers(slot);
    this.slots.delete(recording.recordingId);
    this.store
      .remove(recording.recordingId)
      .catch((error: unknown) => this.emit('error', asError(error)));
    if ('error' in outcome) {
      this.emit('failed', { recordingId: recording.recordingId, error: outcome.error });
      slot.waiter?.reject(outcome.error);
      return;
    }
    const since = recording.closeFirstSentAt ?? slot.queuedAt;
    this.emit('stored', {
      recordingId: recording.recordingId,
      caseId: outcome.caseId,
      ackLatencyMs: Date.now() - since,
    });
    slot.waiter?.resolve({
      recordingId: recording.recordingId,
      caseId: outcome.caseId,
      sha256: recording.close.sha256,
    });
  }
}

const noop = (): void => undefined;

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Open first, chunks in sequence order, close last; duplicates dropped. */
function inSendingOrder(items: readonly Outbound[]): Outbound[] {
  const rank = (item: Outbound) =>
    item.kind === 'open' ? -1 : item.kind === 'close' ? Number.MAX_SAFE_INTEGER : item.sequence;
  const unique = new Map<number, Outbound>();
  for (const item of items) unique.set(rank(item), item);
  return [...unique.entries()].sort(([a], [b]) => a - b).map(([, item]) => item);
}

/** Resolves with the promise's value, or undefined if it takes longer than `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
