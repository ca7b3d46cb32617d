import type { Redis } from 'ioredis';
import type { RecordingOpen } from '#contracts';

/** What the relay keeps about a recording between `rec/open` and `rec/close`. */
export interface StagedRecording extends RecordingOpen {
  deviceId: string;
  clinicId: string;
}

/** A recording the relay has not seen is kept a week before its partial chunks expire. */
const STAGING_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Durable staging of recordings in flight, in Redis (AOF, fsync always by default), so a
 * chunk can be acknowledged as soon as Redis has it and assembly survives a relay crash.
 * Chunks are kept as the frames the box sent (CRC included) and written at most once.
 */
export class RecordingStaging {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'telerelay:rec',
  ) {}

  /** Stores the metadata unless the recording is already open; returns what is staged. */
  async open(recording: StagedRecording): Promise<StagedRecording> {
    const key = this.metaKey(recording.recordingId);
    const created = await this.redis.set(
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
    const raw = await this.redis.get(this.metaKey(recordingId));
    return raw === null ? null : (JSON.parse(raw) as StagedRecording);
  }

  /** Writes the frame unless that sequence is already held; returns every sequence held. */
  async putChunk(recordingId: string, sequence: number, frame: Buffer): Promise<number[]> {
    const key = this.chunksKey(recordingId);
    const results = await this.redis
      .multi()
      .hsetnx(key, String(sequence), frame)
      .expire(key, STAGING_TTL_SECONDS)
      .expire(this.metaKey(recordingId), STAGING_TTL_SECONDS)
      .hkeys(key)
      .exec();
    const failed = results?.find(([error]) => error !== null);
    if (!results || failed) throw failed?.[0] ?? new Error('redis transaction aborted');
    return (results[3]?.[1] as string[]).map(Number);
  }

  async sequences(recordingId: string): Promise<number[]> {
    return (await this.redis.hkeys(this.chunksKey(recordingId))).map(Number);
  }

  async chunks(recordingId: string): Promise<Map<number, Buffer>> {
    const raw = await this.redis.hgetallBuffer(this.chunksKey(recordingId));
    return new Map(Object.entries(raw).map(([sequence, frame]) => [Number(sequence), frame]));
  }

  async discard(recordingId: string): Promise<void> {
    await this.redis.del(this.metaKey(recordingId), this.chunksKey(recordingId));
  }

  private metaKey(recordingId: string): string {
    return `${this.prefix}:${recordingId}:meta`;
  }

  private chunksKey(recordingId: string): string {
    return `${this.prefix}:${recordingId}:chunks`;
  }
}
