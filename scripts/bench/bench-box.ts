import { createConnection } from 'node:net';
import { MqttClient } from 'mqtt';
import { deviceTopic } from '#contracts';

/** How long a bench box may stay silent: the boxes' own keep-alive (device-simulator). */
export const KEEPALIVE_SECONDS = 30;

/**
 * A bench box's MQTT client, as a box in the field connects: from its own address, a
 * persistent session, its Last Will saying it went offline, no automatic reconnect (each
 * benchmark decides when a box comes back).
 */
export function benchBoxClient(options: {
  brokerUrl: string;
  deviceId: string;
  secret: string;
  localAddress: string;
  connectTimeoutMs: number;
}): MqttClient {
  const broker = new URL(options.brokerUrl);
  const id = options.deviceId;
  return new MqttClient(
    () =>
      createConnection({
        host: broker.hostname,
        port: Number(broker.port),
        localAddress: options.localAddress,
      }),
    {
      protocolVersion: 4,
      clientId: id,
      username: id,
      password: options.secret,
      clean: false,
      keepalive: KEEPALIVE_SECONDS,
      reconnectPeriod: 0,
      resubscribe: false,
      connectTimeout: options.connectTimeoutMs,
      will: {
        topic: deviceTopic(id, 'status'),
        payload: Buffer.from(JSON.stringify({ online: false })),
        qos: 1,
        retain: true,
      },
    },
  );
}
