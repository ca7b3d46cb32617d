import { createAdapter } from '@socket.io/redis-adapter';
import type { RedisConnections } from '../redis/redis-connections.js';

/** What Socket.IO's `server.adapter()` takes: how rooms reach sockets on other instances. */
export type SocketAdapter = ReturnType<typeof createAdapter>;

/**
 * Socket.IO's Redis adapter (pub/sub), for instances that share one region: an event sent
 * to a room on one instance reaches the room's sockets on every instance, so a case listed
 * by a box on instance A appears on a reader's worklist held open on instance B. Chosen over
 * the streams adapter (0.x): the relay does not turn on Socket.IO's connection-state
 * recovery, the one thing only streams give, and pub/sub keeps nothing in Redis.
 */
export function redisSocketAdapter(redis: RedisConnections): SocketAdapter {
  return createAdapter(redis.waiting('socket.io-pub'), redis.subscriber('socket.io-sub'));
}
