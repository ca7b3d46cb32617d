import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type Client } from 'aedes';
import {
  deviceTopic,
  FRAME_HEADER_BYTES,
  FRAME_OFFSETS,
  parseDeviceTopic,
  type DeviceDiagnosis,
  type DeviceError,
  type DownlinkChannel,
  type RecordingClose,
  type RecordingOpen,
  type StoredAck,
  type StreamClose,
  type StreamOpen,
  type UplinkChannel,
} from '#contracts';

/**
 * One publish a box made, decoded, with the QoS it was published at and when the broker
 * got it (Date.now()). Test support only; not used by the simulator.
 */
export type Uplink = { deviceId: string; client: Client; qos: number; receivedAt: number } & (
  | { channel: 'rec/open'; open: RecordingOpen }
  | { channel: 'rec/chunk'; recordingId: string; sequence: number; samples: Buffer }
  | { channel: 'rec/close'; close: RecordingClose }
  | { channel: 'stream/open'; open: StreamOpen }
  /** The whole frame as sent; decode it with decodeChunkFrame from #ecg. */
  | { channel: 'stream/frame'; payload: Buffer }
  | { channel: 'stream/close'; close: StreamClose }
  | { channel: 'status'; status: unknown; retain: boolean }
);

/**
 * An in-process Aedes broker on an ephemeral port where the test plays the relay: it sees
 * every uplink publish (after the broker accepted it) and answers on a box's downlink topics.
 */
export class FakeRelay {
  readonly uplinks: Uplink[] = [];
  /** Subscribe and publish events in arrival order, to check what a box does first. */
  readonly timeline: string[] = [];
  private handler: (uplink: Uplink) => void = () => undefined;

  private constructor(
    readonly broker: Aedes,
    private readonly server: Server,
  ) {}

  /**
   * `secrets` maps device id to secret; the broker refuses anyone else. Tests use port 0;
   * a fixed port is only for restarting a relay by hand while the CLI runs.
   */
  static async start(secrets: Readonly<Record<string, string>>, port = 0): Promise<FakeRelay> {
    const broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const secret = secrets[client.id];
        done(
          null,
          secret !== undefined && username === client.id && password?.toString() === secret,
        );
      },
    });
    const server = createServer(broker.handle);
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    const relay = new FakeRelay(broker, server);
    broker.on('subscribe', (subscriptions) => {
      for (const s of subscriptions) relay.timeline.push(`subscribe ${s.topic} qos${s.qos}`);
    });
    broker.on('publish', (packet, client) => {
      if (!client) return; // the relay's own downlink publishes
      const parsed = parseDeviceTopic(packet.topic);
      if (!parsed) return;
      const payload =
        typeof packet.payload === 'string'
          ? Buffer.from(packet.payload)
          : Buffer.from(packet.payload);
      relay.timeline.push(`publish ${parsed.channel}`);
      const uplink = decode(
        { deviceId: parsed.deviceId, client, qos: packet.qos, receivedAt: Date.now() },
        parsed.channel as UplinkChannel,
        payload,
        packet.retain,
      );
      relay.uplinks.push(uplink);
      relay.handler(uplink);
    });
    return relay;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Plays the relay's side: called for every publish a box makes, in order. */
  onUplink(handler: (uplink: Uplink) => void): void {
    this.handler = handler;
  }

  send(
    deviceId: string,
    channel: DownlinkChannel,
    body: StoredAck | DeviceError | DeviceDiagnosis,
    retain = false,
  ): void {
    this.broker.publish(
      {
        cmd: 'publish',
        topic: deviceTopic(deviceId, channel),
        payload: Buffer.from(JSON.stringify(body)),
        qos: 1,
        retain,
        dup: false,
      },
      (error) => {
        if (error) throw error;
      },
    );
  }

  of<C extends Uplink['channel']>(channel: C): Extract<Uplink, { channel: C }>[] {
    return this.uplinks.filter((u): u is Extract<Uplink, { channel: C }> => u.channel === channel);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function decode(
  base: { deviceId: string; client: Client; qos: number; receivedAt: number },
  channel: UplinkChannel,
  payload: Buffer,
  retain: boolean,
): Uplink {
  const json = () => JSON.parse(payload.toString('utf8')) as unknown;
  switch (channel) {
    case 'rec/open':
      return { ...base, channel, open: json() as RecordingOpen };
    case 'rec/close':
      return { ...base, channel, close: json() as RecordingClose };
    case 'stream/open':
      return { ...base, channel, open: json() as StreamOpen };
    case 'stream/frame':
      return { ...base, channel, payload };
    case 'stream/close':
      return { ...base, channel, close: json() as StreamClose };
    case 'status':
      return { ...base, channel, status: json(), retain };
    case 'rec/chunk': {
      const count = payload.readUInt16LE(FRAME_OFFSETS.sampleCount);
      const leads = payload.readUInt8(FRAME_OFFSETS.leadCount);
      const hex = payload.toString(
        'hex',
        FRAME_OFFSETS.recordingId,
        FRAME_OFFSETS.recordingId + 16,
      );
      return {
        ...base,
        channel,
        recordingId: [
          hex.slice(0, 8),
          hex.slice(8, 12),
          hex.slice(12, 16),
          hex.slice(16, 20),
          hex.slice(20),
        ].join('-'),
        sequence: payload.readUInt32LE(FRAME_OFFSETS.sequence),
        samples: payload.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + 2 * count * leads),
      };
    }
  }
}

/** What the fake relay holds of one recording, and the StoredAck it answers with. */
export class HeldRecording {
  readonly chunks = new Map<number, Buffer>();
  /** How many rec/close the relay has seen for this recording. */
  closes = 0;
  constructor(readonly recordingId: string) {}

  hold(sequence: number, samples: Buffer): void {
    this.chunks.set(sequence, Buffer.from(samples));
  }

  storedThrough(): number {
    let s = -1;
    while (this.chunks.has(s + 1)) s++;
    return s;
  }

  missing(chunkCount: number): number[] {
    return Array.from({ length: chunkCount }, (_, s) => s).filter((s) => !this.chunks.has(s));
  }

  /** sha256 over the held sample payloads in sequence order, as the relay verifies it. */
  sha256(chunkCount: number): string {
    const hash = createHash('sha256');
    for (let s = 0; s < chunkCount; s++) hash.update(this.chunks.get(s) ?? Buffer.alloc(0));
    return hash.digest('hex');
  }

  /** What a relay acks while chunks stream in: gaps only below the highest chunk seen. */
  progressAck(): StoredAck {
    const highest = Math.max(-1, ...this.chunks.keys());
    return {
      recordingId: this.recordingId,
      storedThrough: this.storedThrough(),
      missing: this.missing(highest),
      complete: false,
    };
  }

  ack(complete: boolean, chunkCount: number, caseId?: string): StoredAck {
    return {
      recordingId: this.recordingId,
      storedThrough: this.storedThrough(),
      missing: complete ? [] : this.missing(chunkCount),
      complete,
      ...(caseId && { caseId }),
    };
  }
}

export interface HonestRelayOptions {
  /** Closes of one recording to leave unanswered before answering (e.g. 1: swallow the first). */
  ignoreCloses?: number;
}

/**
 * The simplest correct relay: holds every chunk and answers each close with complete when
 * nothing is missing and the sha256 matches, otherwise with the missing list.
 */
export function actAsHonestRelay(
  relay: FakeRelay,
  options: HonestRelayOptions = {},
): Map<string, HeldRecording> {
  const held = new Map<string, HeldRecording>();
  let cases = 0;
  relay.onUplink((uplink) => {
    switch (uplink.channel) {
      case 'status':
      case 'stream/open':
      case 'stream/frame':
      case 'stream/close':
        return;
      case 'rec/open':
        if (!held.has(uplink.open.recordingId)) {
          held.set(uplink.open.recordingId, new HeldRecording(uplink.open.recordingId));
        }
        return;
      case 'rec/chunk':
        held.get(uplink.recordingId)?.hold(uplink.sequence, uplink.samples);
        return;
      case 'rec/close': {
        const { recordingId, chunkCount, sha256 } = uplink.close;
        const recording = held.get(recordingId);
        if (!recording) return;
        recording.closes += 1;
        if (recording.closes <= (options.ignoreCloses ?? 0)) return;
        const complete =
          recording.missing(chunkCount).length === 0 && recording.sha256(chunkCount) === sha256;
        relay.send(
          uplink.deviceId,
          'ack',
          recording.ack(complete, chunkCount, complete ? `case-${++cases}` : undefined),
        );
        return;
      }
      default:
        return;
    }
  });
  return held;
}
