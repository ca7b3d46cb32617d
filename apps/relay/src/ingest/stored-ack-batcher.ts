import type { StoredAck } from '#contracts';

/**
 * Sends a box's "stored" acknowledgements at most once per recording per turn of the event
 * loop. Acks are cumulative (docs/protocol.md), so when several chunks of one recording
 * become durable together, as they do under load when Redis answers a pipeline of writes
 * at once, the newest ack says everything the others say and sending each would only cost
 * the relay CPU and the box airtime. When the relay is idle nothing waits longer: a lone
 * chunk's ack leaves at the end of the turn in which it was stored.
 */
export class StoredAckBatcher {
  private readonly waiting = new Map<string, { deviceId: string; ack: StoredAck }>();

  constructor(private readonly send: (deviceId: string, ack: StoredAck) => void) {}

  add(deviceId: string, ack: StoredAck): void {
    const key = `${deviceId}/${ack.recordingId}`;
    if (ack.complete) {
      // Says more than any chunk ack of the recording, which would now only confuse.
      this.waiting.delete(key);
      this.send(deviceId, ack);
      return;
    }
    const earlier = this.waiting.get(key);
    if (earlier) {
      // Replies can settle slightly out of order; the one that holds more wins.
      if (ack.storedThrough >= earlier.ack.storedThrough) earlier.ack = ack;
      return;
    }
    if (this.waiting.size === 0) setImmediate(() => this.flush());
    this.waiting.set(key, { deviceId, ack });
  }

  private flush(): void {
    const batch = [...this.waiting.values()];
    this.waiting.clear();
    for (const { deviceId, ack } of batch) this.send(deviceId, ack);
  }
}
