import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import {
  Aedes,
  type AuthenticateError,
  type Client,
  type PublishPacket,
  type PubrelPacket,
} from 'aedes';
import {
  deviceTopic,
  isUplinkChannel,
  parseDeviceTopic,
  type DownlinkChannel,
  type UplinkChannel,
} from '#contracts';
import type { Logger } from '../logging/logger.js';
import type { RedisConnections } from '../redis/redis-connections.js';
import { BoxPresence } from './box-presence.js';
import { PacketSizeGuard } from './packet-size-guard.js';
import { readProxyHeader } from './proxy-header.js';
import { sharedSessions } from './shared-sessions.js';

export type ConnectDecision = 'accepted' | 'refused' | 'throttled';

/** What the broker asks the domain before letting a device in or a packet through. */
export interface DeviceGate {
  authenticate(attempt: {
    deviceId: string | undefined;
    clientId: string;
    secret: Buffer | undefined;
    remoteAddress: string | undefined;
  }): Promise<ConnectDecision>;
  /** A CONNECT in another MQTT version than 3.1.1 was refused and the connection closed. */
  unacceptableProtocol(event: {
    deviceId: string | undefined;
    remoteAddress: string | undefined;
    protocolVersion: number;
  }): void;
  /** A connection sent a packet over the size limit and was closed. */
  oversize(event: {
    deviceId: string | undefined;
    remoteAddress: string | undefined;
    declaredBytes: number;
  }): void;
  /** Called for refused publishes and subscriptions so they are audited. */
  refused(event: {
    deviceId: string;
    action: 'publish' | 'subscribe';
    topic: string;
    reason: string;
  }): void;
}

export interface DeviceMessage {
  deviceId: string;
  channel: UplinkChannel;
  payload: Buffer;
}

/** A box's PUBACK for a QoS 1 message the relay published to it, with that message. */
export interface DeviceReceipt {
  deviceId: string;
  channel: DownlinkChannel;
  payload: Buffer;
}

export interface ListenOptions {
  port: number;
  host?: string;
  gate: DeviceGate;
  /** MQTT over TLS (mqtts) as well, when a certificate and key are configured. */
  tls?: { port: number; cert: Buffer; key: Buffer };
  maxPacketBytes: number;
  /**
   * Every connection on the plain port starts with a PROXY protocol header (v1 or v2) from
   * the load balancer in front, which gives the box's own address (docs/scaling.md).
   */
  proxyProtocol?: boolean;
}

/** Aedes's own refusals of a PUBLISH topic (lib/handlers/publish.js). */
const BROKER_TOPIC_REFUSAL =
  / is not allowed in PUBLISH$|^empty topic not allowed in PUBLISH$|^topic has too many levels$/;

/**
 * CONNACK with return code 1, unacceptable protocol version (§3.2.2.3), in the 3.1.1
 * layout (fixed header 0x20, remaining length 2, flags 0). MQTT 3.1 clients read the same
 * bytes, and an MQTT 5 client reads a 3.1.1 CONNACK as "version not supported".
 */
const UNACCEPTABLE_PROTOCOL_CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x01]);

/** [MQTT-3.1.3-5] leaves client id length to the server; device ids fit in 64. */
const MAX_CLIENT_ID = 64;

/**
 * Longest a box's publish is held while input is paused. Aedes reads nothing more from a
 * box with a held publish, not even PINGREQ, and drops it after 1.5 × its keepalive (45 s
 * for a box's 30 s): measured, a relay paused for longer on a busy machine dropped every box
 * that was sending. 20 s leaves room for two PINGREQs and still slows a box to one read in 20 s.
 */
const MAX_PUBLISH_HOLD_MS = 20_000;
/** A balancer writes its PROXY header at once; a connection still without one is not from it. */
const PROXY_HEADER_TIMEOUT_MS = 5_000;

/**
 * The embedded Aedes broker, speaking device terms to the rest of the relay:
 * who may connect, which topics a box may touch, messages in, messages out.
 */
export class MqttBroker {
  private readonly handlers: ((message: DeviceMessage) => void)[] = [];

  private gate: DeviceGate | undefined;

  private tlsServer: TlsServer | undefined;
  private readonly online = new Map<string, Client>();
  /** The box's own address, where a PROXY header gave it (the socket's is the balancer's). */
  private readonly proxiedAddresses = new WeakMap<object, string>();
  private proxyProtocol = false;
  private inputPaused = false;
  /** Set by a graceful stop: input stays paused whatever the intake throttle says. */
  private inputStopped = false;
  /** Publishes that arrived while input was paused, each waiting for its go-ahead. */
  private readonly heldPublishes = new Set<() => void>();
  private maxPacketBytes = Number.POSITIVE_INFINITY;
  /** Where boxes are connected across the cluster; undefined on a lone instance. */
  private presence: BoxPresence | undefined;

  private constructor(
    private readonly aedes: Aedes,
    private readonly server: Server,
    private readonly maxHoldMs: number,
    private readonly log: Logger,
  ) {}

  /**
   * Creates the broker; it accepts devices only after `listen` gives it a gate. With
   * `shared`, sessions, subscriptions, retained and owed messages live in Redis and every
   * publish crosses to the instance its box is connected to (docs/scaling.md); without it,
   * all of that is in this process's memory.
   */
  static async create(
    log: Logger,
    options: { shared?: RedisConnections; maxPublishHoldMs?: number } = {},
  ): Promise<MqttBroker> {
    const shared = options.shared;
    let gate: () => DeviceGate | undefined = () => undefined;
    const aedes = await Aedes.createBroker({
      ...(shared && sharedSessions(shared)),
      connectTimeout: 10_000,
      drainTimeout: 15_000,
      maxTopicLevels: 8,
      maxClientsIdLength: MAX_CLIENT_ID,
      heartbeatInterval: 60_000,
      // Aedes's emitter queues publishes past this many in flight and drains that queue
      // recursively: at a thousand boxes' acks the stack overflowed and the relay died. A
      // global cap also lets one box slow to read hold up every other box's acks. Per-box
      // inbound flow is bounded by MQTT itself (maxInflightInbound, TCP backpressure) and a
      // frozen box is cut off by drainTimeout, so the emitter needs no queue of its own.
      concurrency: 1_000_000,
      // The protocol promises MQTT 3.1.1 only (docs/protocol.md). Aedes itself answers MQTT 5
      // with return code 1 but lets MQTT 3.1 ("MQIsdp", level 3) in, and neither is audited.
      preConnect: (client, packet, done) => {
        if (packet.protocolId === 'MQTT' && packet.protocolVersion === 4) return done(null, true);
        gate()?.unacceptableProtocol({
          deviceId: packet.username,
          remoteAddress: broker.addressOf(client.conn),
          protocolVersion: packet.protocolVersion ?? 0,
        });
        // [MQTT-3.1.2-2] answer with return code 1, then close. Aedes writes no CONNACK for
        // a preConnect refusal, so it is written here; the error then closes the connection.
        const connection = client.conn as Writable;
        connection.write(UNACCEPTABLE_PROTOCOL_CONNACK, () =>
          done(new Error('unacceptable protocol version'), false),
        );
      },
      authenticate: (client, username, password, done) => {
        const current = gate();
        if (!current) return done(refusal(3), false);
        current
          .authenticate({
            deviceId: username,
            clientId: client.id,
            secret: password,
            remoteAddress: broker.addressOf(client.conn),
          })
          .then(
            // [MQTT-3.2.2.3] 4: bad user name or password; 3: server unavailable (try later).
            (decision) =>
              decision === 'accepted'
                ? done(null, true)
                : done(refusal(decision === 'throttled' ? 3 : 4), false),
            (error: unknown) => {
              log.error({ err: error, clientId: client.id }, 'device authentication failed');
              done(refusal(3), false);
            },
          );
      },
      authorizePublish: (client, packet, done) => {
        // Internal publishes (client null) are the relay's own.
        if (client === null) return done(null);
        const reason = publishRefusal(client.id, packet.topic);
        if (reason) {
          gate()?.refused({ deviceId: client.id, action: 'publish', topic: packet.topic, reason });
          return done(new Error(reason));
        }
        // No retained message of a box is kept (its status and Last Will are sent retained):
        // nobody may subscribe to a box's uplink, and Aedes matches every retained message
        // against each SUBSCRIBE, so a region's statuses made a reconnect storm quadratic.
        packet.retain = false;
        if (broker.inputPaused) broker.hold(() => done(null));
        else done(null);
      },
      authorizeSubscribe: (client, subscription, done) => {
        const reason = subscribeRefusal(client.id, subscription.topic);
        if (reason) {
          gate()?.refused({
            deviceId: client.id,
            action: 'subscribe',
            topic: subscription.topic,
            reason,
          });
          // [MQTT-3.9.3-2] a refused filter is answered with 0x80 in SUBACK, not a disconnect.
          return done(null, null);
        }
        done(null, subscription);
      },
    });
    const server = createServer();
    const broker = new MqttBroker(
      aedes,
      server,
      options.maxPublishHoldMs ?? MAX_PUBLISH_HOLD_MS,
      log,
    );
    server.on('connection', (socket: Socket) =>
      broker.proxyProtocol ? broker.acceptProxied(socket) : broker.accept(socket),
    );
    gate = () => broker.gate;
    aedes.on('publish', (packet, client) => {
      if (client === null) return;
      const parsed = parseDeviceTopic(packet.topic);
      if (!parsed || parsed.deviceId !== client.id || !isUplinkChannel(parsed.channel)) return;
      const payload = Buffer.isBuffer(packet.payload)
        ? packet.payload
        : Buffer.from(packet.payload);
      const message: DeviceMessage = { deviceId: client.id, channel: parsed.channel, payload };
      for (const handler of broker.handlers) handler(message);
    });
    aedes.on('clientReady', (client) => {
      broker.online.set(client.id, client);
      broker.presence?.connected(client.id);
    });
    aedes.on('clientDisconnect', (client) => {
      if (broker.online.get(client.id) !== client) return;
      broker.online.delete(client.id);
      broker.presence?.disconnected(client.id);
    });
    if (shared) {
      broker.presence = await BoxPresence.start(randomUUID(), shared, log, (deviceId) =>
        broker.online.get(deviceId)?.close(),
      );
    }
    aedes.on('clientError', (client, error) => {
      log.warn({ deviceId: client.id, err: error.message }, 'mqtt client error');
      // Aedes refuses these topics itself, before authorizePublish runs; audit them the same.
      if (BROKER_TOPIC_REFUSAL.test(error.message)) {
        gate()?.refused({
          deviceId: client.id,
          action: 'publish',
          topic: '(refused by the broker)',
          reason: error.message,
        });
      }
    });
    aedes.on('connectionError', (client, error) =>
      log.warn({ clientId: client.id, err: error.message }, 'mqtt connection error'),
    );
    return broker;
  }

  async listen(options: ListenOptions): Promise<void> {
    this.gate = options.gate;
    this.maxPacketBytes = options.maxPacketBytes;
    this.proxyProtocol = options.proxyProtocol ?? false;
    this.server.listen(options.port, options.host ?? '0.0.0.0');
    await once(this.server, 'listening');
    if (options.tls) {
      const tlsServer = createTlsServer(
        { cert: options.tls.cert, key: options.tls.key },
        (socket) => this.accept(socket),
      );
      this.tlsServer = tlsServer;
      tlsServer.listen(options.tls.port, options.host ?? '0.0.0.0');
      await once(tlsServer, 'listening');
    }
  }

  get tlsPort(): number | undefined {
    const address = this.tlsServer?.address();
    return address !== null && typeof address === 'object' ? address.port : undefined;
  }

  /**
   * Reads the PROXY header a load balancer puts before the box's first byte, keeps the
   * box's address it names, and hands the rest to `accept`. A connection without a valid
   * header within PROXY_HEADER_TIMEOUT_MS is closed: behind a balancer, anything else on
   * this port did not come through it.
   */
  private acceptProxied(socket: Socket): void {
    let received: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), PROXY_HEADER_TIMEOUT_MS);
    const read = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const header = readProxyHeader(received);
      if (header.state === 'incomplete') return;
      socket.off('data', read);
      socket.pause();
      clearTimeout(timer);
      if (header.state === 'invalid') {
        this.log.warn(
          { remoteAddress: socket.remoteAddress, reason: header.reason },
          'mqtt connection without a PROXY header closed',
        );
        socket.destroy();
        return;
      }
      if (header.sourceAddress !== undefined) {
        this.proxiedAddresses.set(socket, header.sourceAddress);
      }
      const rest = received.subarray(header.length);
      if (rest.length > 0) socket.unshift(rest);
      this.accept(socket);
    };
    socket.on('data', read);
    socket.once('close', () => clearTimeout(timer));
  }

  /** The address a box connects from: the PROXY header's, else the socket's. */
  private addressOf(connection: object & { remoteAddress?: string }): string | undefined {
    return this.proxiedAddresses.get(connection) ?? connection.remoteAddress;
  }

  /** Hands a connection to Aedes behind a guard that closes it on an oversize packet. */
  private accept(socket: Socket): void {
    const guard = new PacketSizeGuard(this.maxPacketBytes);
    const client = this.aedes.handle(socket);
    const watch = (chunk: Buffer) => {
      const declaredBytes = guard.inspect(chunk);
      if (declaredBytes === null) return;
      socket.off('data', watch);
      this.gate?.oversize({
        deviceId: client.id ?? undefined,
        remoteAddress: this.addressOf(socket),
        declaredBytes,
      });
      socket.destroy();
    };
    socket.on('data', watch);
  }

  get port(): number {
    const address = this.server.address();
    return address !== null && typeof address === 'object' ? address.port : 0;
  }

  get listening(): boolean {
    return this.server.listening && !this.aedes.closed;
  }

  get connectedDevices(): number {
    return this.aedes.connectedClients;
  }

  /** Whether the box is connected to this instance. */
  isConnectedHere(deviceId: string): boolean {
    return this.online.has(deviceId);
  }

  /** The boxes among `deviceIds` connected to this instance or, in a cluster, to any. */
  async onlineAmong(deviceIds: readonly string[]): Promise<Set<string>> {
    const here = deviceIds.filter((id) => this.online.has(id));
    if (!this.presence || here.length === deviceIds.length) return new Set(here);
    const elsewhere = await this.presence.onlineAmong(
      deviceIds.filter((id) => !this.online.has(id)),
    );
    return new Set([...here, ...elsewhere]);
  }

  /**
   * Closes the box's connection, if it has one (a box just disabled), on whichever instance
   * holds it. Its session stays as MQTT keeps it; the box's reconnect meets the gate again.
   */
  async disconnect(deviceId: string): Promise<boolean> {
    const client = this.online.get(deviceId);
    if (client) {
      client.close();
      return true;
    }
    return (await this.presence?.disconnectElsewhere(deviceId)) ?? false;
  }

  /**
   * Stops reading from every box until `resumeInput`. Used when the relay is behind: TCP
   * then pushes back on the boxes, which keep their unacknowledged chunks in their own
   * memory, instead of the relay queueing without bound until nothing gets through.
   *
   * Each publish that arrives meanwhile is held at authorization, before its PUBACK, and
   * Aedes reads nothing more from a box until the packets of its last read are handled.
   * So a box stops after at most one read; boxes with nothing held (idle ones) are read on,
   * PINGREQ included. A held box is not read at all, so its hold ends after at most
   * MAX_PUBLISH_HOLD_MS even while input stays paused, before Aedes would drop it as silent.
   * Aedes's own client.pause() is not used: paused while packets of the same read were in
   * hand, it lost count of them and never read from that box again.
   */
  pauseInput(): void {
    this.inputPaused = true;
  }

  resumeInput(): void {
    if (!this.inputPaused || this.inputStopped) return;
    this.inputPaused = false;
    for (const release of [...this.heldPublishes]) release();
  }

  /** Holds a publish until input resumes, or at most `maxHoldMs` (MAX_PUBLISH_HOLD_MS). */
  private hold(release: () => void): void {
    const once = () => {
      // A graceful stop keeps what it holds: the box sends it again to the relay it reaches next.
      if (this.inputStopped || !this.heldPublishes.delete(once)) return;
      clearTimeout(timer);
      release();
    };
    const timer = setTimeout(once, this.maxHoldMs);
    this.heldPublishes.add(once);
  }

  /**
   * The first step of a graceful stop: no new connection is taken and no further publish is
   * read. A publish arriving now is held before its PUBACK, as under `pauseInput`, so its box
   * keeps it and sends it again to the relay it reaches next; the boxes stay connected until
   * `close`, while what was already read is stored and acknowledged.
   */
  stopAccepting(): void {
    this.inputStopped = true;
    this.inputPaused = true;
    // Listening ends now; the callbacks (all connections gone) are not waited for here.
    if (this.server.listening) this.server.close();
    if (this.tlsServer?.listening) this.tlsServer.close();
  }

  onDeviceMessage(handler: (message: DeviceMessage) => void): void {
    this.handlers.push(handler);
  }

  onDeviceConnection(handler: (deviceId: string, online: boolean) => void): void {
    this.aedes.on('clientReady', (client) => handler(client.id, true));
    this.aedes.on('clientDisconnect', (client) => handler(client.id, false));
  }

  /**
   * A box subscribed to some of its downlink channels (those granted, never a refused one).
   * After a relay restart the broker holds no subscriptions, so this, not the connection,
   * is the first moment a publish to the box can reach it.
   */
  onDeviceSubscribed(handler: (deviceId: string, channels: DownlinkChannel[]) => void): void {
    this.aedes.on('subscribe', (subscriptions, client) => {
      const channels: DownlinkChannel[] = [];
      for (const subscription of subscriptions) {
        // Aedes reports a refused filter with its SUBACK code 0x80 [MQTT-3.9.3-2].
        if ((subscription.qos as number) === 0x80) continue;
        const parsed = parseDeviceTopic(subscription.topic);
        if (!parsed || parsed.deviceId !== client.id || isUplinkChannel(parsed.channel)) continue;
        channels.push(parsed.channel);
      }
      if (channels.length > 0) handler(client.id, channels);
    });
  }

  /**
   * A box acknowledged (PUBACK [MQTT-4.3.2]) a QoS 1 message the relay published to it.
   * Aedes hands back the message only from a persistent session (clean = false, as the
   * protocol asks): for a clean session it keeps no copy in flight, so such a PUBACK cannot
   * be matched and is not reported.
   */
  onDeviceReceived(handler: (receipt: DeviceReceipt) => void): void {
    this.aedes.on('ack', (packet: PublishPacket | PubrelPacket | undefined, client) => {
      if (packet?.cmd !== 'publish') return;
      const parsed = parseDeviceTopic(packet.topic);
      if (!parsed || parsed.deviceId !== client.id || isUplinkChannel(parsed.channel)) return;
      const payload = Buffer.isBuffer(packet.payload)
        ? packet.payload
        : Buffer.from(packet.payload);
      handler({ deviceId: client.id, channel: parsed.channel, payload });
    });
  }

  /**
   * QoS 1 unless asked otherwise; `qos: 0` suits messages that are repeated and
   * cumulative (stored acks), where QoS 1 would make the broker keep each one in the
   * box's session until the box acknowledged it.
   */
  publishToDevice(
    deviceId: string,
    channel: DownlinkChannel,
    payload: Buffer | string,
    options: { retain?: boolean; qos?: 0 | 1 } = {},
  ): Promise<void> {
    const packet: PublishPacket = {
      cmd: 'publish',
      topic: deviceTopic(deviceId, channel),
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      qos: options.qos ?? 1,
      retain: options.retain ?? false,
      dup: false,
    };
    return new Promise((resolve, reject) =>
      this.aedes.publish(packet, (error) => (error ? reject(error) : resolve())),
    );
  }

  async close(): Promise<void> {
    await this.presence?.close();
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    if (this.tlsServer?.listening)
      await new Promise<void>((resolve) => this.tlsServer?.close(() => resolve()));
    if (this.server.listening)
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function refusal(returnCode: 3 | 4): AuthenticateError {
  const error = new Error(returnCode === 4 ? 'bad device id or secret' : 'server unavailable');
  return Object.assign(error, { returnCode }) as AuthenticateError;
}

/** A box publishes only to its own uplink topics, never with wildcards [MQTT-3.3.2-2]. */
export function publishRefusal(deviceId: string, topic: string): string | null {
  // Aedes refuses wildcards before this runs; kept so the rule stands on its own.
  if (topic.includes('+') || topic.includes('#')) return 'wildcard in publish topic';
  const parsed = parseDeviceTopic(topic);
  if (!parsed) return 'topic outside the device tree';
  if (parsed.deviceId !== deviceId) return "another device's topic";
  if (!isUplinkChannel(parsed.channel)) return 'relay-only channel';
  return null;
}

/** A box subscribes only to its own downlink topics; `$SYS` and wildcards are closed. */
export function subscribeRefusal(deviceId: string, topic: string): string | null {
  if (topic.startsWith('$')) return 'system topics are closed';
  if (topic.includes('+') || topic.includes('#')) return 'wildcard subscriptions are closed';
  const parsed = parseDeviceTopic(topic);
  if (!parsed) return 'topic outside the device tree';
  if (parsed.deviceId !== deviceId) return "another device's topic";
  if (isUplinkChannel(parsed.channel)) return 'uplink channel';
  return null;
}
