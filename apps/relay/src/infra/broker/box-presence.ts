import type { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import type { RedisConnections } from '../redis/redis-connections.js';

const HOLDERS = 'telerelay:presence';
const ALIVE = 'telerelay:presence:alive:';
const DISCONNECT_CHANNEL = 'telerelay:presence:disconnect';
/** An instance that has not said it is alive for this long is taken for gone. */
const ALIVE_TTL_MS = 15_000;
const ALIVE_EVERY_MS = 5_000;

/** Deletes the box's entry only if it still names this instance (a later connect elsewhere wins). */
const RELEASE = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0`;

/**
 * Which instance of a cluster holds each box's connection (docs/scaling.md, "Across
 * instances"). Aedes's shared sessions say where a box's messages go, not whether it is
 * connected, so an administrator on one instance would see a box connected to another as
 * offline and could not disconnect it. Each instance writes the boxes it holds into one Redis
 * hash and renews a key of its own while it runs; an instance that dies stops renewing, and
 * its boxes read as offline until they connect again elsewhere, which overwrites their entry.
 * A disconnect for a box held elsewhere is published to every instance; its holder closes it.
 */
export class BoxPresence {
  private readonly aliveKey: string;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly instanceId: string,
    private readonly store: Redis,
    private readonly subscriber: Redis,
    private readonly log: Logger,
  ) {
    this.aliveKey = `${ALIVE}${instanceId}`;
    this.timer = setInterval(() => void this.sayAlive(), ALIVE_EVERY_MS);
    this.timer.unref();
  }

  /** `closeHere` is called with a box this instance holds when another instance asks. */
  static async start(
    instanceId: string,
    redis: RedisConnections,
    log: Logger,
    closeHere: (deviceId: string) => void,
  ): Promise<BoxPresence> {
    // Commands wait while Redis is away and run when it is back, so the hash catches up.
    const presence = new BoxPresence(
      instanceId,
      redis.waiting('box-presence'),
      redis.subscriber('box-presence-sub'),
      log,
    );
    presence.subscriber.on('message', (channel: string, deviceId: string) => {
      if (channel === DISCONNECT_CHANNEL) closeHere(deviceId);
    });
    await presence.subscriber.subscribe(DISCONNECT_CHANNEL);
    await presence.sayAlive();
    return presence;
  }

  connected(deviceId: string): void {
    this.store.hset(HOLDERS, deviceId, this.instanceId).catch((error: unknown) => {
      this.log.warn({ err: error, deviceId }, 'box presence not recorded');
    });
  }

  disconnected(deviceId: string): void {
    this.store.eval(RELEASE, 1, HOLDERS, deviceId, this.instanceId).catch((error: unknown) => {
      this.log.warn({ err: error, deviceId }, 'box presence not cleared');
    });
  }

  /** The boxes among `deviceIds` that an instance still alive holds. */
  async onlineAmong(deviceIds: readonly string[]): Promise<Set<string>> {
    if (deviceIds.length === 0) return new Set();
    const holders = await this.store.hmget(HOLDERS, ...deviceIds);
    const instances = [...new Set(holders.filter((holder): holder is string => holder !== null))];
    if (instances.length === 0) return new Set();
    const alive = await this.store.mget(...instances.map((instance) => `${ALIVE}${instance}`));
    const living = new Set(instances.filter((_, index) => alive[index] !== null));
    return new Set(deviceIds.filter((_, index) => living.has(holders[index] ?? '')));
  }

  /** Asks the instance holding the box to close it; false when no living instance holds it. */
  async disconnectElsewhere(deviceId: string): Promise<boolean> {
    if (!(await this.onlineAmong([deviceId])).has(deviceId)) return false;
    await this.store.publish(DISCONNECT_CHANNEL, deviceId);
    return true;
  }

  /** Stops saying this instance is alive: its boxes read as offline at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.store.del(this.aliveKey).catch(() => undefined);
    await this.subscriber.unsubscribe(DISCONNECT_CHANNEL).catch(() => undefined);
  }

  private async sayAlive(): Promise<void> {
    if (this.closed) return;
    try {
      await this.store.set(this.aliveKey, '1', 'PX', ALIVE_TTL_MS);
    } catch (error) {
      this.log.warn({ err: error }, 'instance presence not renewed');
    }
  }
}
