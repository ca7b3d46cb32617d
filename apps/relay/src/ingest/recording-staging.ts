import type { Redis } from 'ioredis';
import type { RecordingOpen } from '#contracts';

/** What the relay keeps about a recording between `rec/open` and `rec/close`. */
export interface StagedRecording extends RecordingOpen {
  deviceId: string;
  clinicId: string;
}

export interface StoredRecordingNote {
  caseId: string;
  chunkCount: number;
}

/** A recording the relay has not seen is kept a week before its partial chunks expire. */
const STAGING_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Durable staging of recordings in flight, in Redis (AOF, fsync always by default), so a
 * chunk can be acknowledged as soon as Redis has it and assembly survives a relay crash.
 * Chunks are kept as the frames the box sent (CRC included) and written at most once.
 */
export class RecordingStaging {
  /**
   * With fsync always, Redis reads about 16 KB per connection per fsync'd loop: one
   * connection tops out near 10,000 chunks a second here, eight near 37,000. Each
   * recording sticks to one connection, chosen from its id.
   */
  constructor(
    private readonly connections: readonly Redis[],
    private readonly prefix = 'telerelay:rec',
  ) {
    if (connections.length === 0) throw new Error('recording staging needs a Redis connection');
  }

  private redisFor(recordingId: string): Redis {
    let hash = 0;
    for (let index = 0; index < recordingId.length; index += 1) {
      hash = (hash * 31 + recordingId.charCodeAt(index)) | 0;
    }
    return this.connections[Math.abs(hash) % this.connections.length]!;
  }

  /** Stores the metadata unless the recording is already open; returns what is staged. */
  async open(recording: StagedRecording): Promise<StagedRecording> {
    const key = this.metaKey(recording.recordingId);
    const created = await this.redisFor(recording.recordingId).set(
      key,
      JSON.stringify(recording),
      'EX',
      STAGING_TTL_SECONDS,
      'NX',
    );
    if (created === 'OK') return recording;
    return (await this.meta(recording.recordingId)) ?? recording;
  }

  async meta(recordingId: string): Promise<StagedRecording | null> {
    const raw = await this.redisFor(recordingId).get(this.metaKey(recordingId));
    return raw === null ? null : (JSON.parse(raw) as StagedRecording);
  }

  /**
   * Writes the frame unless that sequence is already held; resolves once Redis has it
   * (AOF, fsync always). `refreshExpiry` pushes both keys' expiry out again; the caller
   * asks for it now and then rather than on every chunk, which would double the AOF.
   */
  async putChunk(
    recordingId: string,
    sequence: number,
    frame: Buffer,
    refreshExpiry: boolean,
  ): Promise<void> {
    const key = this.chunksKey(recordingId);
    if (!refreshExpiry) {
      await this.redisFor(recordingId).hsetnx(key, String(sequence), frame);
      return;
    }
    const results = await this.redisFor(recordingId)
      .multi()
      .hsetnx(key, String(sequence), frame)
      .expire(key, STAGING_TTL_SECONDS)
      .expire(this.metaKey(recordingId), STAGING_TTL_SECONDS)
      .exec();
    const failed = results?.find(([error]) => error !== null);
    if (!results || failed) throw failed?.[0] ?? new Error('redis transaction aborted');
  }

  async sequences(recordingId: string): Promise<number[]> {
    return (await this.redisFor(recordingId).hkeys(this.chunksKey(recordingId))).map(Number);
  }

  async chunks(recordingId: string): Promise<Map<number, Buffer>> {
    const raw = await this.redisFor(recordingId).hgetallBuffer(this.chunksKey(recordingId));
    return new Map(Object.entries(raw).map(([sequence, frame]) => [Number(sequence), frame]));
  }

  /**
   * Drops the staged chunks of a recording that is now stored, leaving a note of its case
   * for as long as staging would have kept the chunks, so a box that missed the final ack
   * and opens the recording again is answered from Redis.
   */
  async markStored(recordingId: string, stored: StoredRecordingNote): Promise<void> {
    const results = await this.redisFor(recordingId)
      .multi()
      .del(this.metaKey(recordingId), this.chunksKey(recordingId))
      .set(this.storedKey(recordingId), JSON.stringify(stored), 'EX', STAGING_TTL_SECONDS)
      .exec();
    const failed = results?.find(([error]) => error !== null);
    if (!results || failed) throw failed?.[0] ?? new Error('redis transaction aborted');
  }

  /** The note left by `markStored`, if the recording was stored within the staging period. */
  async stored(recordingId: string): Promise<StoredRecordingNote | null> {
    const raw = await this.redisFor(recordingId).get(this.storedKey(recordingId));
    return raw === null ? null : (JSON.parse(raw) as StoredRecordingNote);
  }

  private storedKey(recordingId: string): string {
    return `${this.prefix}:${recordingId}:stored`;
  }

  private metaKey(recordingId: string): string {
    return `${this.prefix}:${recordingId}:meta`;
  }

  private chunksKey(recordingId: string): string {
    return `${this.prefix}:${recordingId}:chunks`;
  }
}
