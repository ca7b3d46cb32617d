import { once } from 'node:events';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SOCKET_PATH, type SessionUser } from '#contracts';
import type { AuditService } from '../audit/audit.service.js';
import { SystemClock } from '../common/clock.js';
import { waitFor } from '../../../../test/support/wait.js';
import type { AuthService } from '../identity/auth.service.js';
import type { SessionsService } from '../identity/sessions.service.js';
import { TokenService } from '../identity/token.service.js';
import { PrometheusMetrics } from '../infra/metrics/prometheus-metrics.js';
import { GATEWAY_OPTIONS } from './gateway-options.js';
import type { Notifier, RelayServer } from './notifier.js';
import { RealtimeGateway, roomsFor } from './realtime.gateway.js';

const reader: SessionUser = {
  id: 'u-1',
  username: 'c1.reader',
  displayName: 'Reader',
  role: 'reader',
  facilityId: 'county-1',
  facilityKind: 'county',
};

describe('RealtimeGateway on a real Socket.IO server', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** The gateway as Nest wires it, with a token service whose tokens last `ttlSeconds`. */
  async function serve(
    ttlSeconds: number,
  ): Promise<{ url: string; tokens: TokenService; metrics: PrometheusMetrics }> {
    const tokens = new TokenService('k'.repeat(32), ttlSeconds);
    const auth = {
      authenticate: (token: string | undefined) =>
        token ? tokens.verify(token) : Promise.resolve(null),
    } as unknown as AuthService;
    const sessions = { onRevoked: () => undefined } as unknown as SessionsService;
    const notifier = { attach: () => undefined } as unknown as Notifier;
    const audit = { recordLater: () => undefined } as unknown as AuditService;
    const metrics = new PrometheusMetrics(pino({ level: 'silent' }));
    const gateway = new RealtimeGateway(
      auth,
      sessions,
      notifier,
      audit,
      // Tokens expire by the wall clock (jose), so the gateway reads the same one here.
      new SystemClock(),
      pino({ level: 'silent' }),
      metrics,
    );
    const http: HttpServer = createServer();
    const server = new Server(http, GATEWAY_OPTIONS) as unknown as RelayServer;
    gateway.afterInit(server);
    server.on('connection', (socket) => void gateway.handleConnection(socket as never));
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    cleanup.push(() => new Promise<void>((resolve) => void server.close(() => resolve())));
    const { port } = http.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, tokens, metrics };
  }

  function connect(url: string, token: string): Socket {
    const socket = io(url, {
      path: SOCKET_PATH,
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
    });
    cleanup.push(() => void socket.disconnect());
    return socket;
  }

  it('closes a socket when its access token expires, so the client must come back with a fresh one', async () => {
    // Expiry is in whole seconds from a whole-second issue time: 2 s leaves at least one.
    const { url, tokens, metrics } = await serve(2);
    const socket = connect(url, await tokens.issue(reader, 's-1'));
    await new Promise<void>((resolve, reject) => {
      socket.once('session.ready', () => resolve());
      socket.once('connect_error', reject);
    });
    const connected = async () =>
      /^telerelay_sockets_connected (\d+)$/m.exec((await metrics.exposition()).body)?.[1];
    expect(await connected()).toBe('1');
    const reason = await new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect(reason).toBe('io server disconnect');
    await waitFor(async () => (await connected()) === '0');
  });

  it("puts each role in the rooms it may hear: the health authority in its region's, the administrator in none", () => {
    const as = (role: SessionUser['role'], facilityId: string): SessionUser => ({
      ...reader,
      role,
      facilityId,
    });
    expect(roomsFor(reader)).toEqual(['hospital:county-1']);
    expect(roomsFor(as('clinic_staff', 'clinic-1'))).toEqual(['clinic:clinic-1']);
    expect(roomsFor(as('health_authority', 'tertiary-1'))).toEqual(['region:tertiary-1']);
    expect(roomsFor(as('admin', 'tertiary-1'))).toEqual([]);
  });
});
