import { once } from 'node:events';
import { connect } from 'node:net';
import mqtt, { MqttClient } from 'mqtt';
import { pino } from 'pino';
import {
  Command,
  IPv4Address,
  IPv4ProxyAddress,
  TransportProtocol,
  V2ProxyProtocol,
} from 'proxy-protocol-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic, type DownlinkChannel } from '#contracts';
import { MqttBroker, type DeviceGate, type DeviceReceipt } from './mqtt-broker.js';

const gate: DeviceGate = {
  authenticate: ({ deviceId, clientId }) =>
    Promise.resolve(deviceId === clientId ? 'accepted' : 'refused'),
  unacceptableProtocol: () => undefined,
  oversize: () => undefined,
  refused: () => undefined,
};

/**
 * The real embedded broker on a free port: what the relay's box delivery relies on, a
 * subscribe announced with its channels, and a box's PUBACK matched to the message.
 */
describe('MqttBroker subscriptions and PUBACKs (real Aedes)', () => {
  let broker: MqttBroker;
  const subscribed: { deviceId: string; channels: DownlinkChannel[] }[] = [];
  const receipts: DeviceReceipt[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await MqttBroker.create(pino({ level: 'silent' }));
    broker.onDeviceSubscribed((deviceId, channels) => subscribed.push({ deviceId, channels }));
    broker.onDeviceReceived((receipt) => receipts.push(receipt));
    await broker.listen({ port: 0, host: '127.0.0.1', gate, maxPacketBytes: 70_000 });
  });

  afterAll(async () => {
    for (const client of clients) await client.endAsync(true);
    await broker.close();
  });

  async function box(deviceId: string, clean: boolean): Promise<MqttClient> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      protocolVersion: 4,
      clientId: deviceId,
      username: deviceId,
      password: 'unused',
      clean,
      reconnectPeriod: 0,
    });
    clients.push(client);
    return client;
  }

  function nextMessage(client: MqttClient): Promise<string> {
    return new Promise((resolve) =>
      client.once('message', (_topic, payload) => resolve(payload.toString())),
    );
  }

  it("announces a box's granted downlink channels, never a refused filter", async () => {
    const client = await box('box-sub', true);
    // A refused filter fails the whole call in mqtt.js, so it goes in its own SUBSCRIBE.
    await expect(
      client.subscribeAsync(deviceTopic('other-box', 'diagnosis'), { qos: 1 }),
    ).rejects.toThrow(/Subscribe error/);
    const granted = await client.subscribeAsync(
      [deviceTopic('box-sub', 'diagnosis'), deviceTopic('box-sub', 'error')],
      { qos: 1 },
    );
    expect(granted.map((g) => g.qos)).toEqual([1, 1]);
    await until(() => subscribed.some((s) => s.deviceId === 'box-sub'));
    expect(subscribed.filter((s) => s.deviceId === 'box-sub')).toEqual([
      { deviceId: 'box-sub', channels: ['diagnosis', 'error'] },
    ]);
  });

  it('reports the PUBACK of a box in a persistent session, with the message it acknowledges', async () => {
    const client = await box('box-kept', false);
    await client.subscribeAsync(deviceTopic('box-kept', 'diagnosis'), { qos: 1 });
    const arrived = nextMessage(client);
    await broker.publishToDevice('box-kept', 'diagnosis', '{"caseId":"c-1"}');
    expect(await arrived).toBe('{"caseId":"c-1"}');
    await until(() => receipts.some((r) => r.deviceId === 'box-kept'));
    const receipt = receipts.find((r) => r.deviceId === 'box-kept')!;
    expect(receipt.channel).toBe('diagnosis');
    expect(receipt.payload.toString()).toBe('{"caseId":"c-1"}');
  });

  it('cannot match the PUBACK of a box in a clean session (Aedes keeps no copy), and says nothing', async () => {
    const client = await box('box-clean', true);
    await client.subscribeAsync(deviceTopic('box-clean', 'diagnosis'), { qos: 1 });
    const arrived = nextMessage(client);
    await broker.publishToDevice('box-clean', 'diagnosis', '{"caseId":"c-2"}');
    await arrived;
    // A persistent box acknowledged after this one: once its receipt is in, this one's
    // PUBACK (sent first, on its own connection) has been handled too.
    const later = await box('box-later', false);
    await later.subscribeAsync(deviceTopic('box-later', 'diagnosis'), { qos: 1 });
    const laterArrived = nextMessage(later);
    await broker.publishToDevice('box-later', 'diagnosis', '{"caseId":"c-3"}');
    await laterArrived;
    await until(() => receipts.some((r) => r.deviceId === 'box-later'));
    expect(receipts.filter((r) => r.deviceId === 'box-clean')).toEqual([]);
  });

  it('keeps no retained message of a box (status, Last Will), and still hands the status to the relay', async () => {
    const heard: string[] = [];
    broker.onDeviceMessage((message) => {
      if (message.deviceId === 'box-retain') heard.push(message.payload.toString());
    });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      protocolVersion: 4,
      clientId: 'box-retain',
      username: 'box-retain',
      password: 'unused',
      reconnectPeriod: 0,
      will: {
        topic: deviceTopic('box-retain', 'status'),
        payload: Buffer.from('{"online":false}'),
        qos: 1,
        retain: true,
      },
    });
    await client.publishAsync(deviceTopic('box-retain', 'status'), '{"online":true}', {
      qos: 1,
      retain: true,
    });
    // Dropped without DISCONNECT: the broker publishes the Last Will.
    client.stream.destroy();
    await until(() => heard.length === 2);
    expect(heard).toEqual(['{"online":true}', '{"online":false}']);
    // Aedes's own store, read directly: nothing a box can reach would show a retained message.
    const { persistence } = (
      broker as unknown as {
        aedes: { persistence: { createRetainedStreamCombi(p: string[]): AsyncIterable<unknown> } };
      }
    ).aedes;
    const retained: unknown[] = [];
    for await (const packet of persistence.createRetainedStreamCombi(['#'])) {
      retained.push(packet);
    }
    expect(retained).toEqual([]);
  });

  it('reads nothing more from the boxes while input is paused, and everything after', async () => {
    const messages: string[] = [];
    broker.onDeviceMessage((message) => messages.push(message.payload.toString()));
    const client = await box('box-paused', true);
    await until(() => broker.isConnectedHere('box-paused'));
    broker.pauseInput();
    // QoS 0: nothing waits on the broker, so only the broker's reading decides arrival.
    for (const n of [1, 2, 3]) client.publish(deviceTopic('box-paused', 'status'), `{"n":${n}}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(messages).toEqual([]);
    broker.resumeInput();
    await until(() => messages.length === 3);
    expect(messages).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
  });

  it('lets a held publish through after the longest hold even while input stays paused, before a box would be dropped as silent', async () => {
    const quick = await MqttBroker.create(pino({ level: 'silent' }), { maxPublishHoldMs: 300 });
    await quick.listen({ port: 0, host: '127.0.0.1', gate, maxPacketBytes: 70_000 });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${quick.port}`, {
      protocolVersion: 4,
      clientId: 'box-held',
      username: 'box-held',
      password: 'unused',
      reconnectPeriod: 0,
    });
    try {
      const arrived: number[] = [];
      quick.onDeviceMessage(() => arrived.push(performance.now()));
      await until(() => quick.isConnectedHere('box-held'));
      quick.pauseInput();
      const sent = performance.now();
      // The PUBACK comes only once the hold ends; input is never resumed here.
      await client.publishAsync(deviceTopic('box-held', 'status'), '{"n":1}', { qos: 1 });
      await until(() => arrived.length === 1);
      expect(arrived[0]! - sent).toBeGreaterThanOrEqual(250);
    } finally {
      await client.endAsync(true);
      await quick.close();
    }
  });

  it('reads on after a pause that began while packets of the box were being handled', async () => {
    // The overload pause starts inside the relay's handling of a packet, while the rest of
    // the packets Aedes parsed from the same read are still in hand. Aedes's own
    // client.pause() lost count of those and never read from the box again.
    const messages: string[] = [];
    let pausedOnce = false;
    broker.onDeviceMessage((message) => {
      if (message.deviceId !== 'box-busy') return;
      messages.push(message.payload.toString());
      if (!pausedOnce) {
        pausedOnce = true;
        broker.pauseInput();
        setTimeout(() => broker.resumeInput(), 200);
      }
    });
    const client = await box('box-busy', true);
    await until(() => broker.isConnectedHere('box-busy'));
    const topic = deviceTopic('box-busy', 'status');
    // One TCP write, so Aedes parses all of them in one batch.
    client.stream.cork();
    for (const n of [1, 2, 3, 4]) client.publish(topic, `{"n":${n}}`, { qos: 1 });
    client.stream.uncork();
    await until(() => messages.length === 4);
    for (const n of [5, 6]) await client.publishAsync(topic, `{"n":${n}}`, { qos: 1 });
    await until(() => messages.length === 6);
    expect(messages.map((m) => (JSON.parse(m) as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('MqttBroker protocol versions (real Aedes)', () => {
  let broker: MqttBroker;
  const refusedVersions: { deviceId: string | undefined; protocolVersion: number }[] = [];

  beforeAll(async () => {
    broker = await MqttBroker.create(pino({ level: 'silent' }));
    await broker.listen({
      port: 0,
      host: '127.0.0.1',
      gate: {
        ...gate,
        unacceptableProtocol: ({ deviceId, protocolVersion }) =>
          refusedVersions.push({ deviceId, protocolVersion }),
      },
      maxPacketBytes: 70_000,
    });
  });

  afterAll(() => broker.close());

  /** The CONNACK return code the broker answers, or 0 once the client is connected. */
  function connackCode(version: { protocolVersion: 3 | 4 | 5; protocolId: 'MQIsdp' | 'MQTT' }) {
    const client = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, {
      ...version,
      clientId: 'box-old',
      username: 'box-old',
      password: 'unused',
      reconnectPeriod: 0,
    });
    return new Promise<number>((resolve) => {
      client.once('connect', () => resolve(0));
      client.once('error', (error) => resolve((error as { code?: number }).code ?? -1));
    }).finally(() => client.end(true));
  }

  it('refuses an MQTT 3.1 box with return code 1 (unacceptable protocol version), and reports it', async () => {
    expect(await connackCode({ protocolVersion: 3, protocolId: 'MQIsdp' })).toBe(1);
    expect(refusedVersions).toEqual([{ deviceId: 'box-old', protocolVersion: 3 }]);
    expect(broker.isConnectedHere('box-old')).toBe(false);
  });

  it('refuses MQTT 5 the same way, and still lets an MQTT 3.1.1 box in', async () => {
    refusedVersions.length = 0;
    expect(await connackCode({ protocolVersion: 5, protocolId: 'MQTT' })).not.toBe(0);
    expect(refusedVersions).toEqual([{ deviceId: 'box-old', protocolVersion: 5 }]);
    expect(await connackCode({ protocolVersion: 4, protocolId: 'MQTT' })).toBe(0);
  });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The broker behind HAProxy with `send-proxy-v2` (MQTT_PROXY_PROTOCOL=true): the gate sees
 * each box's own address from the header, and nothing reaches Aedes without one.
 */
describe('MqttBroker behind a load balancer (PROXY protocol)', () => {
  let broker: MqttBroker;
  const addresses: (string | undefined)[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await MqttBroker.create(pino({ level: 'silent' }));
    const noting: DeviceGate = {
      ...gate,
      authenticate: (attempt) => {
        addresses.push(attempt.remoteAddress);
        return gate.authenticate(attempt);
      },
    };
    await broker.listen({
      port: 0,
      host: '127.0.0.1',
      gate: noting,
      maxPacketBytes: 70_000,
      proxyProtocol: true,
    });
  });

  afterAll(async () => {
    for (const client of clients) await client.endAsync(true);
    await broker.close();
  });

  /** A box's connection as HAProxy makes it: the header first, in pieces, then MQTT. */
  async function boxBehind(deviceId: string, header: Buffer): Promise<MqttClient> {
    const socket = connect(broker.port, '127.0.0.1');
    await once(socket, 'connect');
    const half = Math.floor(header.length / 2);
    socket.write(header.subarray(0, half));
    socket.write(header.subarray(half));
    const client = new MqttClient(() => socket, {
      protocolVersion: 4,
      clientId: deviceId,
      username: deviceId,
      password: 'unused',
      reconnectPeriod: 0,
    });
    clients.push(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    return client;
  }

  it("gives the gate the box's address from a v2 header and from a v1 line", async () => {
    const v2 = Buffer.from(
      new V2ProxyProtocol(
        Command.PROXY,
        TransportProtocol.STREAM,
        new IPv4ProxyAddress(
          IPv4Address.createFrom([203, 0, 113, 7]),
          40_000,
          IPv4Address.createFrom([127, 0, 0, 1]),
          broker.port,
        ),
      ).build(),
    );
    const first = await boxBehind('box-proxied-v2', v2);
    const v1 = Buffer.from(`PROXY TCP4 198.51.100.4 127.0.0.1 51000 ${broker.port}\r\n`);
    await boxBehind('box-proxied-v1', v1);
    expect(addresses).toEqual(['203.0.113.7', '198.51.100.4']);
    // After the header the connection is plain MQTT: a SUBSCRIBE gets its SUBACK.
    await first.subscribeAsync(deviceTopic('box-proxied-v2', 'diagnosis'), { qos: 1 });
    expect(broker.isConnectedHere('box-proxied-v2')).toBe(true);
  });

  it('closes a connection that starts without a PROXY header, before any CONNECT is read', async () => {
    const before = addresses.length;
    const client = mqtt.connect(`mqtt://127.0.0.1:${broker.port}`, {
      protocolVersion: 4,
      clientId: 'box-direct',
      username: 'box-direct',
      password: 'unused',
      reconnectPeriod: 0,
    });
    clients.push(client);
    let connected = false;
    client.on('connect', () => (connected = true));
    await new Promise<void>((resolve) => client.once('close', () => resolve()));
    expect(connected).toBe(false);
    expect(addresses.length).toBe(before);
  });
});
