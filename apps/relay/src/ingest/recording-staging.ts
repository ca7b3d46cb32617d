import type { RecordingOpen } from '#contracts';
import { readChunkFrameHeader } from '#ecg';

/** What the relay keeps about a recording between `rec/open` and `rec/close`. */
export interface StagedRecording extends RecordingOpen {
  deviceId: string;
  clinicId: string;
}

/**
 * Left behind when a recording is stored. The box and checksum say whose recording it is:
 * only that box, closing with that checksum, is told it is complete (and its case id).
 */
export interface StoredRecordingNote {
  caseId: string;
  chunkCount: number;
  deviceId: string;
  sha256: string;
}

/** Where a held chunk sits in its recording, in samples per lead. */
export interface ChunkSpan {
  firstSample: number;
  sampleCount: number;
}

export interface StagingLimits {
  /** Recordings one box may have open (opened, not yet stored) at once. */
  maxOpenPerBox: number;
  /** An open recording not written to for this long is dropped, chunks and all. */
  openTtlSeconds: number;
}

export const DEFAULT_STAGING_LIMITS: StagingLimits = {
  maxOpenPerBox: 8,
  openTtlSeconds: 6 * 3600,
};

/**
 * A stored note is a few dozen bytes per recording that really was stored, so it may
 * outlive an abandoned recording by far: a box that missed its final ack and comes back
 * after a week is still answered from Redis.
 */
const STORED_NOTE_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Where staged recordings are kept: Redis in the relay (`infra/redis/recording-staging.store.ts`,
 * durable with AOF, so a chunk can be acknowledged as soon as Redis has it and assembly
 * survives a relay crash). Opening is one atomic step: parallel opens of one box cannot
 * both take its last place. Metadata and notes come back parsed and unchecked.
 */
export interface RecordingStagingStore {
  open(
    recordingId: string,
    deviceId: string,
    metadata: object,
    limits: StagingLimits,
  ): Promise<unknown>;
  openCount(deviceId: string): Promise<number>;
  metadata(recordingId: string): Promise<unknown>;
  putChunk(recordingId: string, sequence: number, frame: Buffer): Promise<void>;
  putChunkAndRefresh(
    recordingId: string,
    deviceId: string,
    sequence: number,
    frame: Buffer,
    ttlSeconds: number,
  ): Promise<void>;
  chunks(recordingId: string): Promise<Map<number, Buffer>>;
  discardChunks(recordingId: string): Promise<void>;
  abandon(recordingId: string, deviceId: string): Promise<void>;
  replaceWithNote(
    recordingId: string,
    deviceId: string,
    note: object,
    ttlSeconds: number,
  ): Promise<void>;
  note(recordingId: string): Promise<unknown>;
}

/**
 * Durable staging of recordings in flight, so a chunk can be acknowledged as soon as the
 * store has it and assembly survives a relay crash.
 * Chunks are kept as the frames the box sent (CRC included); a chunk sent again replaces
 * the one held, so a box can correct a chunk until the recording is assembled.
 */
export class RecordingStaging {
  constructor(
    private readonly store: RecordingStagingStore,
    readonly limits: StagingLimits = DEFAULT_STAGING_LIMITS,
  ) {}

  /**
   * Stores the metadata unless the recording is already open; returns what is staged, or
   * null when the box already has `maxOpenPerBox` recordings open.
   */
  async open(recording: StagedRecording): Promise<StagedRecording | null> {
    const { recordingId, deviceId } = recording;
    return (await this.store.open(
      recordingId,
      deviceId,
      recording,
      this.limits,
    )) as StagedRecording | null;
  }

  /** How many recordings the box has open, expired ones not counted. */
  async openCount(deviceId: string): Promise<number> {
    return this.store.openCount(deviceId);
  }

  async meta(recordingId: string): Promise<StagedRecording | null> {
    return (await this.store.metadata(recordingId)) as StagedRecording | null;
  }

  /**
   * Writes the frame, replacing any held under that sequence; resolves once the store has
   * it. `refreshExpiry` pushes the recording's expiry out again; the caller asks for it now
   * and then rather than on every chunk, which would double the AOF.
   */
  async putChunk(
    recording: Pick<StagedRecording, 'recordingId' | 'deviceId'>,
    sequence: number,
    frame: Buffer,
    refreshExpiry: boolean,
  ): Promise<void> {
    const { recordingId, deviceId } = recording;
    if (!refreshExpiry) {
      await this.store.putChunk(recordingId, sequence, frame);
      return;
    }
    await this.store.putChunkAndRefresh(
      recordingId,
      deviceId,
      sequence,
      frame,
      this.limits.openTtlSeconds,
    );
  }

  /** Where each held chunk sits, read from the frames' headers. */
  async layout(recordingId: string): Promise<Map<number, ChunkSpan>> {
    const chunks = await this.chunks(recordingId);
    return new Map(
      [...chunks].map(([sequence, frame]) => {
        const { firstSample, sampleCount } = readChunkFrameHeader(frame);
        return [sequence, { firstSample, sampleCount }];
      }),
    );
  }

  async chunks(recordingId: string): Promise<Map<number, Buffer>> {
    return this.store.chunks(recordingId);
  }

  /** Forgets every chunk held, keeping the recording open: the box starts again from 0. */
  async discardChunks(recordingId: string): Promise<void> {
    await this.store.discardChunks(recordingId);
  }

  /** Drops a recording that will never be stored, freeing its box's place. */
  async abandon(recording: Pick<StagedRecording, 'recordingId' | 'deviceId'>): Promise<void> {
    await this.store.abandon(recording.recordingId, recording.deviceId);
  }

  /**
   * Drops the staged chunks of a recording that is now stored and frees its box's place,
   * leaving a note of its case, so a box that missed the final ack and opens the recording
   * again is answered from the store.
   */
  async markStored(recordingId: string, stored: StoredRecordingNote): Promise<void> {
    await this.store.replaceWithNote(recordingId, stored.deviceId, stored, STORED_NOTE_TTL_SECONDS);
  }

  /**
   * The note left by `markStored`, if the recording was stored within the note's life.
   * Notes written before they named the box are not trusted: the database knows the box.
   */
  async stored(recordingId: string): Promise<StoredRecordingNote | null> {
    const note = (await this.store.note(recordingId)) as Partial<StoredRecordingNote> | null;
    if (note === null) return null;
    return note.deviceId === undefined || note.sha256 === undefined
      ? null
      : (note as StoredRecordingNote);
  }
}
