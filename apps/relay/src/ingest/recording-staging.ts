import type { Redis } from 'ioredis';
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
 * Opens a recording unless its box already has `cap` open: one script, so parallel opens
 * of one box cannot both take the last place. The box's open recordings are a sorted set
 * scored by when each expires, so abandoned ones leave the count when their chunks do.
 * Returns the staged metadata (an existing recording's, whoever opened it), or nil when
 * the box is at its cap.
 *
 * KEYS: meta, box's open set. ARGV: metadata JSON, ttl seconds, cap, now (ms), recording id.
 */
const OPEN_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return false end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('ZADD', KEYS[2], tonumber(ARGV[4]) + tonumber(ARGV[2]) * 1000, ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return ARGV[1]
`;

/**
 * Durable staging of recordings in flight, in Redis (AOF, fsync always by default), so a
 * chunk can be acknowledged as soon as Redis has it and assembly survives a relay crash.
 * Chunks are kept as the frames the box sent (CRC included); a chunk sent again replaces
 * the one held, so a box can correct a chunk until the recording is assembled.
 */
export class RecordingStaging {
  /**
   * With fsync always, Redis reads about 16 KB per connection per fsync'd loop: one
   * connection tops out near 10,000 chunks a second here, eight near 37,000. Each
   * recording sticks to one connection, chosen from its id.
   */
  constructor(
    private readonly connections: readonly Redis[],
    readonly limits: StagingLimits = DEFAULT_STAGING_LIMITS,
    private readonly prefix = 'telerelay:rec',
    private readonly now: () => number = Date.now,
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

  /**
   * Stores the metadata unless the recording is already open; returns what is staged, or
   * null when the box already has `maxOpenPerBox` recordings open.
   */
  async open(recording: StagedRecording): Promise<StagedRecording | null> {
    const { recordingId, deviceId } = recording;
    const staged = (await this.redisFor(recordingId).eval(
      OPEN_SCRIPT,
      2,
      this.metaKey(recordingId),
      this.boxKey(deviceId),
      JSON.stringify(recording),
      this.limits.openTtlSeconds,
      this.limits.maxOpenPerBox,
      this.now(),
      recordingId,
    )) as string | null;
    return staged === null ? null : (JSON.parse(staged) as StagedRecording);
  }

  /** How many recordings the box has open, expired ones not counted. */
  async openCount(deviceId: string): Promise<number> {
    return this.redisFor(deviceId).zcount(this.boxKey(deviceId), `(${this.now()}`, '+inf');
  }

  async meta(recordingId: string): Promise<StagedRecording | null> {
    const raw = await this.redisFor(recordingId).get(this.metaKey(recordingId));
    return raw === null ? null : (JSON.parse(raw) as StagedRecording);
  }

  /**
   * Writes the frame, replacing any held under that sequence; resolves once Redis has it
   * (AOF, fsync always). `refreshExpiry` pushes the recording's expiry out again; the
   * caller asks for it now and then rather than on every chunk, which would double the AOF.
   */
  async putChunk(
    recording: Pick<StagedRecording, 'recordingId' | 'deviceId'>,
    sequence: number,
    frame: Buffer,
    refreshExpiry: boolean,
  ): Promise<void> {
    const { recordingId, deviceId } = recording;
    const key = this.chunksKey(recordingId);
    if (!refreshExpiry) {
      await this.redisFor(recordingId).hset(key, String(sequence), frame);
      return;
    }
    const ttl = this.limits.openTtlSeconds;
    await exec(
      this.redisFor(recordingId)
        .multi()
        .hset(key, String(sequence), frame)
        .expire(key, ttl)
        .expire(this.metaKey(recordingId), ttl)
        // XX: a recording opened before the cap existed is not counted now either.
        .zadd(this.boxKey(deviceId), 'XX', this.now() + ttl * 1000, recordingId)
        .expire(this.boxKey(deviceId), ttl),
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
    const raw = await this.redisFor(recordingId).hgetallBuffer(this.chunksKey(recordingId));
    return new Map(Object.entries(raw).map(([sequence, frame]) => [Number(sequence), frame]));
  }

  /** Forgets every chunk held, keeping the recording open: the box starts again from 0. */
  async discardChunks(recordingId: string): Promise<void> {
    await this.redisFor(recordingId).del(this.chunksKey(recordingId));
  }

  /** Drops a recording that will never be stored, freeing its box's place. */
  async abandon(recording: Pick<StagedRecording, 'recordingId' | 'deviceId'>): Promise<void> {
    const { recordingId, deviceId } = recording;
    await exec(
      this.redisFor(recordingId)
        .multi()
        .del(this.metaKey(recordingId), this.chunksKey(recordingId))
        .zrem(this.boxKey(deviceId), recordingId),
    );
  }

  /**
   * Drops the staged chunks of a recording that is now stored and frees its box's place,
   * leaving a note of its case, so a box that missed the final ack and opens the recording
   * again is answered from Redis.
   */
  async markStored(recordingId: string, stored: StoredRecordingNote): Promise<void> {
    await exec(
      this.redisFor(recordingId)
        .multi()
        .del(this.metaKey(recordingId), this.chunksKey(recordingId))
        .zrem(this.boxKey(stored.deviceId), recordingId)
        .set(this.storedKey(recordingId), JSON.stringify(stored), 'EX', STORED_NOTE_TTL_SECONDS),
    );
  }

  /**
   * The note left by `markStored`, if the recording was stored within the note's life.
   * Notes written before they named the box are not trusted: the database knows the box.
   */
  async stored(recordingId: string): Promise<StoredRecordingNote | null> {
    const raw = await this.redisFor(recordingId).get(this.storedKey(recordingId));
    if (raw === null) return null;
    const note = JSON.parse(raw) as Partial<StoredRecordingNote>;
    return note.deviceId === undefined || note.sha256 === undefined
      ? null
      : (note as StoredRecordingNote);
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

  private boxKey(deviceId: string): string {
    return `${this.prefix}:box:${deviceId}:open`;
  }
}

async function exec(transaction: ReturnType<Redis['multi']>): Promise<void> {
  const results = await transaction.exec();
  const failed = results?.find(([error]) => error !== null);
  if (!results || failed) throw failed?.[0] ?? new Error('redis transaction aborted');
}
