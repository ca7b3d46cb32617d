import type { Redis } from 'ioredis';

/** The Redis client health probes use (its own, so a busy ingest client does not skew it). */
export class HealthRedis {
  constructor(readonly client: Redis) {}
}
