import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis clients for the relay. Two flavours, per BullMQ's production guide:
 * - `command` clients fail fast while Redis is away (no offline queue), so a box gets
 *   "try again" instead of an acknowledgement that waits on memory;
 * - `blocking` clients (BullMQ workers) retry forever and resume on their own.
 */
export class RedisConnections {
  private readonly clients = new Set<Redis>();

  constructor(readonly url: string) {}

  command(name: string): Redis {
    return this.track(
      new Redis(this.url, {
        ...common(name),
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        // Thousands of boxes each write a chunk at a time: one round trip carries many.
        enableAutoPipelining: true,
      }),
    );
  }

  /** For BullMQ Queue and Worker instances. */
  blocking(name: string): Redis {
    return this.track(new Redis(this.url, { ...common(name), maxRetriesPerRequest: null }));
  }

  /**
   * For parts that keep state of their own in Redis (the broker's shared sessions, Socket.IO's
   * adapter): commands wait while Redis is away and run when it is back, as `blocking` ones do.
   */
  waiting(name: string, keyPrefix?: string): Redis {
    return this.track(
      new Redis(this.url, { ...common(name), maxRetriesPerRequest: null, keyPrefix }),
    );
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.clients].map((client) => client.quit()));
    for (const client of this.clients) client.disconnect();
    this.clients.clear();
  }

  /**
   * For a connection that only (p)subscribes. No ready check: ioredis sends its INFO after
   * a subscribe issued while it connects, and Redis refuses INFO in subscriber mode
   * (redis/ioredis#2037), which ends the connection.
   */
  subscriber(name: string): Redis {
    return this.track(
      new Redis(this.url, { ...common(name), maxRetriesPerRequest: null, enableReadyCheck: false }),
    );
  }

  private track(client: Redis): Redis {
    // Connection errors are reported through health and retried; an unhandled 'error'
    // event would otherwise crash the process.
    client.on('error', () => undefined);
    this.clients.add(client);
    return client;
  }
}

function common(name: string): RedisOptions {
  return {
    connectionName: `telerelay:${name}`,
    retryStrategy: (attempt) => Math.min(200 * attempt, 2_000),
    lazyConnect: false,
  };
}
