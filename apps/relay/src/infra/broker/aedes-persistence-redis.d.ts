// aedes-persistence-redis ships no type declarations; these cover what the relay touches.
declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';
  interface RedisPersistence {
    addSubscriptions(client: unknown, subscriptions: object): Promise<unknown>;
  }
  function persistence(options: { conn: Redis; maxSessionDelivery?: number }): RedisPersistence;
  export default persistence;
}
