import type { Redis } from 'ioredis';

/** Health's view of Redis, on a client of its own so a busy ingest client does not skew it. */
export class RedisProbe {
  constructor(private readonly client: Redis) {}

  /** Resolves when Redis answers PING with PONG; rejects otherwise. */
  async ping(): Promise<void> {
    if ((await this.client.ping()) !== 'PONG') throw new Error('unexpected PING reply');
  }
}
