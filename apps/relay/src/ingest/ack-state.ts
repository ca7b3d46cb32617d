import { RECORDING_LIMITS, type StoredAck } from '#contracts';

/**
 * The sequences of one recording the relay holds durably, kept so that each chunk's
 * acknowledgement costs O(1) however long the recording: a contiguous watermark plus the
 * few sequences that arrived ahead of a gap.
 */
export class HeldSequences {
  private through = -1;
  private highest = -1;
  private readonly ahead = new Set<number>();

  constructor(held: Iterable<number> = []) {
    for (const sequence of held) this.add(sequence);
  }

  add(sequence: number): void {
    if (sequence <= this.through || this.ahead.has(sequence)) return;
    this.ahead.add(sequence);
    if (sequence > this.highest) this.highest = sequence;
    while (this.ahead.delete(this.through + 1)) this.through += 1;
  }

  /**
   * The cumulative acknowledgement: everything up to `storedThrough` is durable; `missing`
   * lists gaps below the highest sequence held (or below `expected` when the box has said
   * how many chunks there are).
   */
  ack(recordingId: string, expected?: number): StoredAck {
    const end = expected ?? this.highest + 1;
    const missing: number[] = [];
    for (
      let sequence = this.through + 1;
      sequence < end && missing.length < RECORDING_LIMITS.maxMissingListed;
      sequence += 1
    ) {
      if (!this.ahead.has(sequence)) missing.push(sequence);
    }
    return { recordingId, storedThrough: this.through, missing, complete: false };
  }
}

export function storedAck(
  recordingId: string,
  held: Iterable<number>,
  expected?: number,
): StoredAck {
  return new HeldSequences(held).ack(recordingId, expected);
}
