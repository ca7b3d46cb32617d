import { Inject } from '@nestjs/common';
import {
  WebSocketGateway,
  WebSocketServer,
  type OnGatewayConnection,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { type ClientToServerEvents, type ServerToClientEvents, type SessionUser } from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { Metrics } from '../common/metrics.js';
import { LOGGER } from '../common/tokens.js';
import { AuthService } from '../identity/auth.service.js';
import { bearerToken } from '../identity/auth.guard.js';
import { SessionsService } from '../identity/sessions.service.js';
import type { Logger } from '../infra/logging/logger.js';
import { GATEWAY_OPTIONS } from './gateway-options.js';
import { clinicRoom, hospitalRoom, Notifier, regionRoom, type RelayServer } from './notifier.js';

type RelaySocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  { user: SessionUser; sessionId: string; expiresAt: Date }
>;

/** Every socket of a sign-in, so a logout can disconnect them together. */
const sessionRoom = (sessionId: string) => `session:${sessionId}`;

/** Rooms a user may join: the one place socket scoping is decided. */
export function roomsFor(user: SessionUser): string[] {
  switch (user.role) {
    case 'reader':
      return [hospitalRoom(user.facilityId)];
    case 'clinic_staff':
      return [clinicRoom(user.facilityId)];
    case 'health_authority':
      // Its facility and everything below it; the room hears `supervision.changed` only.
      return [regionRoom(user.facilityId)];
    case 'admin':
      // The administrator's pages ask the REST API; nothing is pushed to them.
      return [];
  }
}

/**
 * Socket.IO for the console and clinics. The handshake must carry a valid access token
 * (`auth.token` or an Authorization header); the server, not the client, picks the rooms.
 */
@WebSocketGateway(GATEWAY_OPTIONS)
export class RealtimeGateway
  implements OnGatewayInit<RelayServer>, OnGatewayConnection<RelaySocket>
{
  @WebSocketServer() server!: RelayServer;

  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
    private readonly notifier: Notifier,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  afterInit(server: RelayServer): void {
    this.notifier.attach(server);
    this.metrics.gauge('telerelay_sockets_connected', () => server.engine.clientsCount);
    // A revoked session keeps no socket: disconnected now, refused at the next handshake.
    this.sessions.onRevoked((sessionIds) => {
      server.in(sessionIds.map(sessionRoom)).disconnectSockets(true);
      this.log.info({ sessionIds }, 'sockets of revoked sessions disconnected');
    });
    server.use((socket, next) => {
      const handshake = socket.handshake;
      const token =
        (typeof handshake.auth['token'] === 'string' ? handshake.auth['token'] : undefined) ??
        bearerToken(handshake.headers.authorization);
      this.auth.authenticate(token).then(
        (claims) => {
          if (!claims) {
            this.metrics.count('telerelay_refusals_total', {
              edge: 'socket',
              code: 'UNAUTHENTICATED',
            });
            this.audit.recordLater({
              actor: 'anonymous',
              action: 'socket.connect',
              outcome: 'denied',
              remoteAddress: handshake.address,
            });
            return next(new Error('UNAUTHENTICATED: a valid access token is required'));
          }
          (socket as RelaySocket).data.user = claims.user;
          (socket as RelaySocket).data.sessionId = claims.sessionId;
          (socket as RelaySocket).data.expiresAt = claims.expiresAt;
          next();
        },
        (error: unknown) =>
          next(error instanceof Error ? error : new Error('authentication failed')),
      );
    });
  }

  async handleConnection(socket: RelaySocket): Promise<void> {
    const user = socket.data.user;
    // A socket may not outlive the token that opened it: the role, facility and session it
    // was admitted with are only vouched for until then. The client reconnects with the
    // token it has renewed meanwhile, and so is checked again.
    const expiry = setTimeout(
      () => {
        socket.disconnect(true);
        this.log.debug({ userId: user.id }, 'socket closed at its access token expiry');
      },
      Math.max(socket.data.expiresAt.getTime() - this.clock.now().getTime(), 0),
    );
    socket.once('disconnect', () => clearTimeout(expiry));
    const rooms = roomsFor(user);
    await socket.join([...rooms, sessionRoom(socket.data.sessionId)]);
    socket.emit('session.ready', { userId: user.id, rooms });
    this.log.debug({ userId: user.id, rooms }, 'socket connected');
  }
}
