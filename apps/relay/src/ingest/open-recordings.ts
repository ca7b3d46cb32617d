import { HeldSequences } from './ack-state.js';
import type { ChunkSpan, RecordingStaging, StagedRecording } from './recording-staging.js';

/** How often a recording still receiving chunks pushes its staging expiry out. */
const EXPIRY_REFRESH_MS = 10 * 60_000;
/** A recording not heard from this long is dropped from memory; Redis still has it. */
const IDLE_MS = 10 * 60_000;

export class OpenRecording {
  private expiryRefreshedAt = Number.NEGATIVE_INFINITY;
  private readonly writes = new Set<Promise<void>>();
  lastUsedAt: number;

  readonly held: HeldSequences;

  /**
   * `layout` is where each chunk sits that is held or being written; it is updated before
   * the write so that two chunks checked at the same time see each other.
   */
  constructor(
    readonly staged: StagedRecording,
    readonly layout: Map<number, ChunkSpan>,
    now: number,
  ) {
    this.held = new HeldSequences(layout.keys());
    this.lastUsedAt = now;
  }

  /** True once per refresh period; the staging write that follows carries the expiry. */
  claimExpiryRefresh(now: number): boolean {
    if (now - this.expiryRefreshedAt < EXPIRY_REFRESH_MS) return false;
    this.expiryRefreshedAt = now;
    return true;
  }

  expiryRefreshFailed(): void {
    this.expiryRefreshedAt = Number.NEGATIVE_INFINITY;
  }

  /** Tracks a chunk write so a close can wait until every write under way has landed. */
  async write(pending: Promise<void>): Promise<void> {
    this.writes.add(pending);
    try {
      await pending;
    } finally {
      this.writes.delete(pending);
    }
  }

  async writesLanded(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }
}

/**
 * The recordings in flight, read from Redis once and then kept in memory, so a chunk costs
 * one Redis write however many chunks came before it. Memory only ever holds sequences
 * Redis confirmed, so an acknowledgement computed here never claims more than is durable;
 * after a restart, or if another relay stored chunks meanwhile, the box is at worst asked
 * to resend a chunk Redis already has, which changes nothing.
 */
export class OpenRecordings {
  private readonly entries = new Map<string, Promise<OpenRecording | null>>();
  private lastSweepAt: number;

  constructor(
    private readonly staging: RecordingStaging,
    /** The relay's clock, in ms (IngestService passes its Clock's). */
    private readonly now: () => number,
  ) {
    this.lastSweepAt = now();
  }

  /** The staged recording, or null when none is open under this id. */
  async get(recordingId: string): Promise<OpenRecording | null> {
    const now = this.now();
    this.sweepIdle(now);
    let entry = this.entries.get(recordingId);
    if (!entry) {
      entry = this.load(recordingId, now);
      this.entries.set(recordingId, entry);
      // Absent or failed loads are not remembered: the next message asks Redis again.
      void entry.then(
        (recording) => recording ?? this.forgetIf(recordingId, entry),
        () => this.forgetIf(recordingId, entry),
      );
    }
    const recording = await entry;
    if (recording) recording.lastUsedAt = now;
    return recording;
  }

  forget(recordingId: string): void {
    this.entries.delete(recordingId);
  }

  get size(): number {
    return this.entries.size;
  }

  private async load(recordingId: string, now: number): Promise<OpenRecording | null> {
    const staged = await this.staging.meta(recordingId);
    if (!staged) return null;
    return new OpenRecording(staged, await this.staging.layout(recordingId), now);
  }

  private forgetIf(recordingId: string, entry: Promise<OpenRecording | null> | undefined): void {
    if (this.entries.get(recordingId) === entry) this.entries.delete(recordingId);
  }

  private sweepIdle(now: number): void {
    if (now - this.lastSweepAt < 60_000) return;
    this.lastSweepAt = now;
    for (const [recordingId, entry] of this.entries) {
      void entry.then((recording) => {
        if (recording && now - recording.lastUsedAt > IDLE_MS) this.forgetIf(recordingId, entry);
      });
    }
  }
}
