import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { SocketAdapter } from '../infra/sockets/socket-adapter.js';

/**
 * Whether a Socket.IO handshake may proceed, judged by its Origin header. A browser always
 * sends one, so a page elsewhere cannot ride a user's token into the relay's sockets; the
 * console is served by the relay, so its own origin (the Host it was reached at) is allowed,
 * and so are the listed ones. Clients that are not browsers (boxes' tools, tests) send no
 * Origin and still need a valid token.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  listed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (listed.includes(origin)) return true;
  return host !== undefined && URL.canParse(origin) && new URL(origin).host === host;
}

// @nestjs/platform-socket.io brings its own copy of socket.io; its option type is the one taken.
type IoServerOptions = Parameters<IoAdapter['createIOServer']>[1];
type IoServer = ReturnType<IoAdapter['createIOServer']>;

/**
 * Socket.IO's CORS headers only stop a browser reading polling responses; a WebSocket
 * upgrade ignores them, so the Origin is checked on every handshake request instead.
 */
export class OriginCheckedIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly origins: readonly string[],
    /** Rooms across instances (the Redis adapter); Socket.IO's in-memory one when absent. */
    private readonly roomsAdapter?: SocketAdapter,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: IoServerOptions): IoServer {
    // Nest passes the gateway's partial options through the same (loosely typed) way.
    const withOrigins = {
      ...options,
      cors: { origin: [...this.origins] },
      allowRequest: (request, callback) =>
        callback(null, originAllowed(request.headers.origin, request.headers.host, this.origins)),
    } as IoServerOptions;
    const server = super.createIOServer(port, withOrigins);
    if (this.roomsAdapter) server.adapter(this.roomsAdapter);
    return server;
  }
}
