import redisPersistence from 'aedes-persistence-redis';
import MQEmitterRedis from 'mqemitter-redis';
import type { RedisConnections } from '../redis/redis-connections.js';

type EmitterConnection = NonNullable<MQEmitterRedis.MQEmitterOptions['subConn']>;

/**
 * Aedes's own Redis parts, for instances that share one region (docs/scaling.md):
 * - the emitter carries every publish to every instance, so a diagnosis published where the
 *   reader signed reaches the box on whichever instance holds its connection;
 * - the persistence keeps sessions, subscriptions, retained messages and each QoS 1 message
 *   owed to a box until its PUBACK, so a box that moves to another instance (its own dropped
 *   or killed) finds them there.
 * Their connections wait while Redis is away: a publish then gets no PUBACK, and the box
 * keeps the chunk and sends it again.
 */
export function sharedSessions(redis: RedisConnections): { mq: unknown; persistence: unknown } {
  return {
    // Typed against its own ioredis major; it uses only publish and (p)subscribe.
    mq: MQEmitterRedis({
      pubConn: redis.waiting('mqtt-emitter-pub') as unknown as EmitterConnection,
      subConn: redis.subscriber('mqtt-emitter-sub') as unknown as EmitterConnection,
    }),
    persistence: storingEachSubscribeOnce(
      // Under a prefix of its own: its keys ('clients', 'retained', …) name nothing else's.
      redisPersistence({ conn: redis.waiting('mqtt-sessions', 'telerelay:mqtt:') }),
    ),
  };
}

/**
 * Aedes 1.2 (lib/handlers/subscribe.js, storeSubscriptions) stores a SUBSCRIBE's whole list
 * once per topic in it, all at once. The Redis persistence then announces each copy on the
 * emitter and waits for its own announcement to come back, under a key made of the client
 * and the first topic: with three topics, three waits share one key, two are overwritten and
 * the SUBACK never comes (a box subscribes to ack, error and diagnosis in one packet). The
 * copies are identical, so the first store answers for all of them.
 */
function storingEachSubscribeOnce<
  P extends { addSubscriptions(client: unknown, subscriptions: object): Promise<unknown> },
>(persistence: P): P {
  const stored = new WeakMap<object, Promise<unknown>>();
  const addSubscriptions = persistence.addSubscriptions.bind(persistence);
  persistence.addSubscriptions = (client, subscriptions) => {
    let storing = stored.get(subscriptions);
    if (!storing) {
      storing = addSubscriptions(client, subscriptions);
      stored.set(subscriptions, storing);
    }
    return storing;
  };
  return persistence;
}
