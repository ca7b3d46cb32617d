import mqtt, { type MqttClient } from 'mqtt';
import {
  deviceTopic,
  RECORDING_LIMITS,
  type DeviceError,
  type DownlinkChannel,
  type StoredAck,
  type UplinkChannel,
} from '#contracts';
import type { DemoDevice } from './relay-process.js';

export type Reply =
  | { channel: 'ack'; body: StoredAck; index: number }
  | { channel: 'error'; body: DeviceError; index: number };

interface Waiter {
  from: number;
  matches: (reply: Reply) => boolean;
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A box driven by hand: a bare mqtt.js client with the device's credentials, for tests
 * that need exact control over what goes on the air and when (crash timing, duplicates,
 * reordering, refusals). Every `ack` and `error` the relay sends is kept in `replies`, in
 * arrival order, and can be awaited.
 */
export class RawBox {
  readonly replies: Reply[] = [];
  private readonly waiters = new Set<Waiter>();

  private constructor(
    readonly client: MqttClient,
    readonly deviceId: string,
  ) {
    client.on('message', (topic, payload) => {
      const channel = topic.slice(topic.lastIndexOf('/') + 1);
      if (channel !== 'ack' && channel !== 'error') return;
      const body = JSON.parse(payload.toString('utf8')) as StoredAck & DeviceError;
      const reply = { channel, body, index: this.replies.length } as Reply;
      this.replies.push(reply);
      for (const waiter of this.waiters) {
        if (reply.index >= waiter.from && waiter.matches(reply)) {
          this.waiters.delete(waiter);
          clearTimeout(waiter.timer);
          waiter.resolve(reply);
        }
      }
    });
  }

  /** Connects as the device (clean = false, like a box) and subscribes to `ack` and `error`. */
  static async connect(url: string, device: DemoDevice): Promise<RawBox> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 4,
      clientId: device.deviceId,
      username: device.deviceId,
      password: device.secret,
      clean: false,
      reconnectPeriod: 0,
    });
    const box = new RawBox(client, device.deviceId);
    const downlink: DownlinkChannel[] = ['ack', 'error'];
    await client.subscribeAsync(
      downlink.map((channel) => deviceTopic(device.deviceId, channel)),
      { qos: 1 },
    );
    return box;
  }

  /** Publishes with QoS 1 and resolves on the broker's PUBACK (which says nothing about storage). */
  async publish(channel: UplinkChannel, payload: Buffer | string): Promise<void> {
    await this.client.publishAsync(deviceTopic(this.deviceId, channel), payload, { qos: 1 });
  }

  /** Publishes without waiting for anything, as a box does with a burst. */
  send(channel: UplinkChannel, payload: Buffer | string): void {
    this.client.publish(deviceTopic(this.deviceId, channel), payload, { qos: 1 }, () => undefined);
  }

  /** The first reply at index >= `from` that matches, already received or still to come. */
  next(matches: (reply: Reply) => boolean, from = 0, timeoutMs = 20_000): Promise<Reply> {
    const found = this.replies.find((reply) => reply.index >= from && matches(reply));
    if (found) return Promise.resolve(found);
    return new Promise<Reply>((resolve, reject) => {
      const waiter: Waiter = {
        from,
        matches,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`${this.deviceId}: no matching reply within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** The next `ack` for the recording that satisfies `matches`. */
  async ack(
    recordingId: string,
    matches: (ack: StoredAck) => boolean = () => true,
    from = 0,
  ): Promise<StoredAck> {
    const reply = await this.next(
      (r) => r.channel === 'ack' && r.body.recordingId === recordingId && matches(r.body),
      from,
    );
    return reply.body as StoredAck;
  }

  /**
   * Waits for the ack saying the relay holds exactly `sequences` of the recording, and
   * returns every reply from `from` up to and including it. Acks are cumulative and the
   * relay folds those of one recording stored in the same turn into one, so a burst of
   * chunks may get anything from one ack to one per chunk; this ack is the last of them.
   */
  async acknowledging(
    recordingId: string,
    sequences: Iterable<number>,
    from = 0,
  ): Promise<Reply[]> {
    const held = new Set(sequences);
    let through = -1;
    while (held.has(through + 1)) through += 1;
    const missing: number[] = [];
    for (let s = through + 1; s < Math.max(...held); s++) if (!held.has(s)) missing.push(s);
    const expected = missing.slice(0, RECORDING_LIMITS.maxMissingListed).join(',');
    const reply = await this.next(
      (r) =>
        r.channel === 'ack' &&
        r.body.recordingId === recordingId &&
        r.body.storedThrough === through &&
        r.body.missing.join(',') === expected,
      from,
    );
    return this.replies.slice(from, reply.index + 1);
  }

  /** Resolves once `count` replies at index >= `from` have arrived. */
  async replyCount(count: number, from = 0): Promise<Reply[]> {
    if (count <= 0) return [];
    await this.next((reply) => reply.index >= from + count - 1, from);
    return this.replies.slice(from, from + count);
  }

  /** Drops the connection without an MQTT DISCONNECT (the box lost power). */
  async kill(): Promise<void> {
    await this.client.endAsync(true);
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`${this.deviceId}: connection ended`));
    }
    this.waiters.clear();
  }
}
