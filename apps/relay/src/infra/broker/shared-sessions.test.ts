import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic } from '#contracts';
import { waitFor } from '../../../../../test/support/wait.js';
import { EmbeddedRedis } from '../redis/embedded-redis.js';
import { RedisConnections } from '../redis/redis-connections.js';
import { MqttBroker, type DeviceGate, type DeviceReceipt } from './mqtt-broker.js';

const gate: DeviceGate = {
  authenticate: ({ deviceId, clientId }) =>
    Promise.resolve(deviceId === clientId ? 'accepted' : 'refused'),
  unacceptableProtocol: () => undefined,
  oversize: () => undefined,
  refused: () => undefined,
};

const log = pino({ level: 'silent' });

/**
 * Two brokers on one real Redis, as two relay instances with CLUSTER=true run them
 * (docs/scaling.md): what one publishes reaches a box on the other, and a box's session,
 * with what it is owed, follows it from one to the other.
 */
describe('MqttBroker with shared sessions (two real Aedes on one real Redis)', () => {
  let dir: string;
  let redis: EmbeddedRedis;
  const connections: RedisConnections[] = [];
  const brokers: MqttBroker[] = [];
  const receipts: { broker: number; receipt: DeviceReceipt }[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'telerelay-shared-sessions-'));
    redis = await EmbeddedRedis.start({ bin: 'redis-server', dataDir: dir, log });
    for (const index of [0, 1]) {
      const redisConnections = new RedisConnections(redis.url);
      connections.push(redisConnections);
      const broker = await MqttBroker.create(log, { shared: redisConnections });
      broker.onDeviceReceived((receipt) => receipts.push({ broker: index, receipt }));
      await broker.listen({ port: 0, host: '127.0.0.1', gate, maxPacketBytes: 70_000 });
      brokers.push(broker);
    }
  });

  afterAll(async () => {
    for (const client of clients) await client.endAsync(true).catch(() => undefined);
    for (const broker of brokers) await broker.close();
    for (const redisConnections of connections) await redisConnections.closeAll();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A box with a persistent session on broker `on`, keeping every message it gets, in
   * order, as `channel:payload`, from before its CONNACK (a session's owed messages may
   * come in the same read).
   */
  async function box(
    deviceId: string,
    on: number,
  ): Promise<{ client: MqttClient; messages: string[] }> {
    const client = mqtt.connect(`mqtt://127.0.0.1:${brokers[on]!.port}`, {
      protocolVersion: 4,
      clientId: deviceId,
      username: deviceId,
      password: 'unused',
      clean: false,
      reconnectPeriod: 0,
    });
    clients.push(client);
    const messages: string[] = [];
    client.on('message', (topic, payload) =>
      messages.push(`${topic.slice(topic.lastIndexOf('/') + 1)}:${payload.toString()}`),
    );
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return { client, messages };
  }

  const until = (condition: () => boolean, what: string) =>
    waitFor(condition, { timeoutMs: 5_000, intervalMs: 20, what });

  it("subscribes to a box's three downlink channels in one SUBACK and gets what the other broker publishes", async () => {
    const { client, messages } = await box('box-a', 0);
    // One SUBSCRIBE with three filters, as a box sends it (Aedes stores its list once per
    // filter; shared-sessions.ts makes the three stores one).
    const granted = await client.subscribeAsync(
      (['ack', 'error', 'diagnosis'] as const).map((channel) => deviceTopic('box-a', channel)),
      { qos: 1 },
    );
    expect(granted.map((grant) => grant.qos)).toEqual([1, 1, 1]);

    await brokers[1]!.publishToDevice('box-a', 'diagnosis', '{"caseId":"one"}');
    await until(() => messages.length === 1, 'the message on the other broker');
    expect(messages).toEqual(['diagnosis:{"caseId":"one"}']);
    // The PUBACK reaches the broker holding the connection, with the message.
    await until(() => receipts.some(({ receipt }) => receipt.deviceId === 'box-a'), 'its PUBACK');
    expect(receipts.filter(({ receipt }) => receipt.deviceId === 'box-a')).toEqual([
      {
        broker: 0,
        receipt: {
          deviceId: 'box-a',
          channel: 'diagnosis',
          payload: Buffer.from('{"caseId":"one"}'),
        },
      },
    ]);
    await client.endAsync();
  });

  it('keeps what an offline box is owed until its PUBACK, on whichever broker it comes back to', async () => {
    const first = await box('box-b', 0);
    await first.client.subscribeAsync(deviceTopic('box-b', 'diagnosis'), { qos: 1 });
    await first.client.endAsync();

    // Published by broker 1 while the box is away from both.
    await brokers[1]!.publishToDevice('box-b', 'diagnosis', '{"caseId":"owed"}');

    // It comes back to broker 1: its session, and the message owed, are there.
    const back = await box('box-b', 1);
    await until(() => back.messages.length === 1, 'the owed message');
    expect(back.messages).toEqual(['diagnosis:{"caseId":"owed"}']);
    await until(
      () => receipts.some(({ broker, receipt }) => broker === 1 && receipt.deviceId === 'box-b'),
      'its PUBACK on broker 1',
    );
    await back.client.endAsync();

    // Acknowledged: back on broker 0 it gets only what is published since.
    const again = await box('box-b', 0);
    await brokers[1]!.publishToDevice('box-b', 'diagnosis', '{"caseId":"later"}');
    await until(() => again.messages.length >= 1, 'the later message');
    expect(again.messages).toEqual(['diagnosis:{"caseId":"later"}']);
  });

  it('sees a box connected to the other broker and closes it from there', async () => {
    const { client } = await box('box-c', 0);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await waitFor(async () => (await brokers[1]!.onlineAmong(['box-c', 'box-z'])).has('box-c'), {
      timeoutMs: 5_000,
      intervalMs: 20,
      what: 'box-c online as broker 1 sees it',
    });
    expect([...(await brokers[1]!.onlineAmong(['box-c', 'box-z']))]).toEqual(['box-c']);
    expect(brokers[1]!.isConnectedHere('box-c')).toBe(false);

    // An administrator on broker 1's instance disables the box: broker 0 closes it.
    expect(await brokers[1]!.disconnect('box-c')).toBe(true);
    await closed;
    await waitFor(async () => !(await brokers[1]!.onlineAmong(['box-c'])).has('box-c'), {
      timeoutMs: 5_000,
      intervalMs: 20,
      what: 'box-c offline once closed',
    });
    expect(await brokers[1]!.disconnect('box-c')).toBe(false);
  });
});
