import type { Redis } from 'ioredis';

/** How long a recording stays open, and how many one box may hold. */
export interface OpenLimits {
  maxOpenPerBox: number;
  openTtlSeconds: number;
}

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
 * Recordings in flight on Redis (AOF, fsync always by default): each recording's
 * metadata, its chunk frames by sequence, each box's open recordings, and the note a
 * stored recording leaves. It speaks recordings, boxes and chunks; what they mean, and
 * when to refresh or drop them, is `RecordingStaging`'s (ingest).
 *
 * Metadata and notes are kept as JSON and handed back parsed, unchecked.
 */
export class RedisRecordingStagingStore {
  /**
   * With fsync always, Redis reads about 16 KB per connection per fsync'd loop: one
   * connection tops out near 10,000 chunks a second here, eight near 37,000. Each
   * recording sticks to one connection, chosen from its id.
   */
  constructor(
    private readonly connections: readonly Redis[],
    private readonly prefix = 'telerelay:rec',
    private readonly now: () => number = Date.now,
  ) {
    if (connections.length === 0) throw new Error('recording staging needs a Redis connection');
  }

  /**
   * Stores the metadata unless the recording is already open; returns what is staged
   * (parsed), or null when the box already has `limits.maxOpenPerBox` recordings open.
   */
  async open(
    recordingId: string,
    deviceId: string,
    metadata: object,
    limits: OpenLimits,
  ): Promise<unknown> {
    const staged = (await this.redisFor(recordingId).eval(
      OPEN_SCRIPT,
      2,
      this.metaKey(recordingId),
      this.boxKey(deviceId),
      JSON.stringify(metadata),
      limits.openTtlSeconds,
      limits.maxOpenPerBox,
      this.now(),
      recordingId,
    )) as string | null;
    return staged === null ? null : (JSON.parse(staged) as unknown);
  }

  /** How many recordings the box has open, expired ones not counted. */
  async openCount(deviceId: string): Promise<number> {
    return this.redisFor(deviceId).zcount(this.boxKey(deviceId), `(${this.now()}`, '+inf');
  }

  async metadata(recordingId: string): Promise<unknown> {
    const raw = await this.redisFor(recordingId).get(this.metaKey(recordingId));
    return raw === null ? null : (JSON.parse(raw) as unknown);
  }

  /** Writes the frame, replacing any held under that sequence; resolves once Redis has it. */
  async putChunk(recordingId: string, sequence: number, frame: Buffer): Promise<void> {
    await this.redisFor(recordingId).hset(this.chunksKey(recordingId), String(sequence), frame);
  }

  /**
   * Writes the frame and pushes the recording's expiry (metadata, chunks, its place among
   * the box's open recordings) out to `ttlSeconds` from now, in one transaction.
   */
  async putChunkAndRefresh(
    recordingId: string,
    deviceId: string,
    sequence: number,
    frame: Buffer,
    ttlSeconds: number,
  ): Promise<void> {
    const key = this.chunksKey(recordingId);
    await exec(
      this.redisFor(recordingId)
        .multi()
        .hset(key, String(sequence), frame)
        .expire(key, ttlSeconds)
        .expire(this.metaKey(recordingId), ttlSeconds)
        // XX: a recording opened before the cap existed is not counted now either.
        .zadd(this.boxKey(deviceId), 'XX', this.now() + ttlSeconds * 1000, recordingId)
        .expire(this.boxKey(deviceId), ttlSeconds),
    );
  }

  /** The held frames by sequence. */
  async chunks(recordingId: string): Promise<Map<number, Buffer>> {
    const raw = await this.redisFor(recordingId).hgetallBuffer(this.chunksKey(recordingId));
    return new Map(Object.entries(raw).map(([sequence, frame]) => [Number(sequence), frame]));
  }

  async discardChunks(recordingId: string): Promise<void> {
    await this.redisFor(recordingId).del(this.chunksKey(recordingId));
  }

  /** Drops the recording's metadata and chunks and frees its box's place. */
  async abandon(recordingId: string, deviceId: string): Promise<void> {
    await exec(
      this.redisFor(recordingId)
        .multi()
        .del(this.metaKey(recordingId), this.chunksKey(recordingId))
        .zrem(this.boxKey(deviceId), recordingId),
    );
  }

  /** As `abandon`, and in the same transaction leaves `note` for `ttlSeconds`. */
  async replaceWithNote(
    recordingId: string,
    deviceId: string,
    note: object,
    ttlSeconds: number,
  ): Promise<void> {
    await exec(
      this.redisFor(recordingId)
        .multi()
        .del(this.metaKey(recordingId), this.chunksKey(recordingId))
        .zrem(this.boxKey(deviceId), recordingId)
        .set(this.storedKey(recordingId), JSON.stringify(note), 'EX', ttlSeconds),
    );
  }

  /** The note left by `replaceWithNote` (parsed), or null once it expired. */
  async note(recordingId: string): Promise<unknown> {
    const raw = await this.redisFor(recordingId).get(this.storedKey(recordingId));
    return raw === null ? null : (JSON.parse(raw) as unknown);
  }

  private redisFor(recordingId: string): Redis {
    let hash = 0;
    for (let index = 0; index < recordingId.length; index += 1) {
      hash = (hash * 31 + recordingId.charCodeAt(index)) | 0;
    }
    return this.connections[Math.abs(hash) % this.connections.length]!;
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
