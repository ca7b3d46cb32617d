import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RelayConfig } from '../config/config.js';
import { FileBlobStore, type BlobStore } from './blobs/blob-store.js';
import { MqttBroker } from './broker/mqtt-broker.js';
import { Database } from './database/database.js';
import type { Logger } from './logging/logger.js';
import { PrometheusMetrics } from './metrics/prometheus-metrics.js';
import { JobQueues } from './queue/job-queues.js';
import { EmbeddedRedis } from './redis/embedded-redis.js';
import { RedisConnections } from './redis/redis-connections.js';
import { warnOnRedisDurability } from './redis/redis-durability.js';
import { redisSocketAdapter, type SocketAdapter } from './sockets/socket-adapter.js';

/**
 * Every outside part the relay runs on, started in dependency order and closed in reverse.
 * Defaults are embedded (PGlite, a private redis-server, files); configuration swaps in
 * PostgreSQL and a shared Redis without touching domain code, and CLUSTER=true moves the
 * broker's sessions and Socket.IO's rooms into that Redis (docs/scaling.md).
 */
export class Infrastructure {
  private constructor(
    readonly config: RelayConfig,
    readonly log: Logger,
    readonly database: Database,
    readonly redis: RedisConnections,
    readonly queues: JobQueues,
    readonly blobs: BlobStore,
    readonly broker: MqttBroker,
    readonly authSecret: string,
    readonly metrics: PrometheusMetrics,
    /** How Socket.IO reaches sockets on other instances; undefined on a lone instance. */
    readonly socketAdapter: SocketAdapter | undefined,
    private readonly embeddedRedis: EmbeddedRedis | undefined,
  ) {}

  static async start(config: RelayConfig, log: Logger): Promise<Infrastructure> {
    await mkdir(config.dataDir, { recursive: true });
    // Made now, not at the first blob: intake measures free space on it before anything is stored.
    await mkdir(config.blobDir, { recursive: true });
    const database = await Database.open({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
    });
    log.info({ driver: database.driver }, 'database ready');
    let embeddedRedis: EmbeddedRedis | undefined;
    try {
      embeddedRedis = config.redis.url
        ? undefined
        : await EmbeddedRedis.start({ bin: config.redis.serverBin, dataDir: config.dataDir, log });
    } catch (error) {
      await database.close();
      throw error;
    }
    const redisUrl = config.redis.url ?? embeddedRedis?.url;
    if (!redisUrl) throw new Error('no Redis URL');
    log.info({ embedded: embeddedRedis !== undefined }, 'redis ready');
    const redis = new RedisConnections(redisUrl);
    await warnOnRedisDurability(redis.command('settings'), log);
    const metrics = new PrometheusMetrics(log);
    const queues = new JobQueues(redis, log, metrics, undefined, config.roles.worker);
    const blobs = new FileBlobStore(config.blobDir);
    // Every instance has a broker, listening or not: a publish to a box from an instance
    // without the broker role crosses to the one holding the box's connection.
    const broker = await MqttBroker.create(log, {
      shared: config.cluster ? redis : undefined,
    });
    metrics.gauge('telerelay_boxes_connected', () => broker.connectedDevices);
    const authSecret =
      config.auth.secret ?? (await persistentSecret(join(config.dataDir, 'auth-secret')));
    return new Infrastructure(
      config,
      log,
      database,
      redis,
      queues,
      blobs,
      broker,
      authSecret,
      metrics,
      config.cluster ? redisSocketAdapter(redis) : undefined,
      embeddedRedis,
    );
  }

  async close(): Promise<void> {
    await this.broker.close();
    await this.queues.close();
    await this.redis.closeAll();
    await this.database.close();
    await this.embeddedRedis?.stop();
  }
}

/** A signing key generated once per data directory, so tokens survive a restart. */
async function persistentSecret(path: string): Promise<string> {
  try {
    const existing = (await readFile(path, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch {
    // first start: fall through and create it
  }
  const secret = randomBytes(48).toString('base64url');
  await writeFile(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
