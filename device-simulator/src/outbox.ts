import type { RecordingClose, RecordingOpen } from '#contracts';

/**
 * Everything a box must keep about one recording until the relay says it is stored:
 * the open and close messages and every chunk frame not yet covered by `storedThrough`.
 */
export interface OutboxEntry {
  readonly open: RecordingOpen;
  readonly close: RecordingClose;
  /** Encoded chunk frames by sequence; `null` once the relay holds that chunk durably. */
  readonly frames: readonly (Buffer | null)[];
  /** Highest sequence such that the relay holds 0..storedThrough; -1 for none. */
  readonly storedThrough: number;
}

/**
 * Where a box keeps recordings the relay has not stored yet. Every method is async so a
 * later change can back it with a file on the box's flash without touching the box logic:
 * `add` must be durable before the first byte goes on the air, `acknowledge` may free
 * chunk space, `remove` happens only once the relay says the recording is complete (or
 * rejected it for good).
 */
export interface OutboxStore {
  add(entry: OutboxEntry): Promise<void>;
  acknowledge(recordingId: string, storedThrough: number): Promise<void>;
  remove(recordingId: string): Promise<void>;
  /** Every recording still pending, oldest first (a box resumes them on start). */
  list(): Promise<OutboxEntry[]>;
  /** Resolves once every change made so far is durable; the box awaits it when it stops. */
  idle?(): Promise<void>;
}

/** The simulator's store: survives reconnects and relay restarts, not a process restart. */
export class InMemoryOutboxStore implements OutboxStore {
  private readonly entries = new Map<
    string,
    { open: RecordingOpen; close: RecordingClose; frames: (Buffer | null)[]; storedThrough: number }
  >();

  async add(entry: OutboxEntry): Promise<void> {
    this.entries.set(entry.open.recordingId, {
      open: entry.open,
      close: entry.close,
      frames: [...entry.frames],
      storedThrough: entry.storedThrough,
    });
  }

  async acknowledge(recordingId: string, storedThrough: number): Promise<void> {
    const entry = this.entries.get(recordingId);
    if (!entry || storedThrough <= entry.storedThrough) return;
    const last = Math.min(storedThrough, entry.frames.length - 1);
    for (let sequence = entry.storedThrough + 1; sequence <= last; sequence++) {
      entry.frames[sequence] = null;
    }
    entry.storedThrough = last;
  }

  async remove(recordingId: string): Promise<void> {
    this.entries.delete(recordingId);
  }

  async list(): Promise<OutboxEntry[]> {
    return [...this.entries.values()].map((entry) => ({ ...entry, frames: [...entry.frames] }));
  }

  /** Bytes of chunk frames still held; lets tests see that acknowledged chunks are freed. */
  get heldFrameBytes(): number {
    let bytes = 0;
    for (const entry of this.entries.values()) {
      for (const frame of entry.frames) bytes += frame?.length ?? 0;
    }
    return bytes;
  }
}
