import { io, type Socket } from 'socket.io-client';
import { SOCKET_PATH, type ClientToServerEvents, type ServerToClientEvents } from '#contracts';

export type ConsoleSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type LinkState = 'connecting' | 'live' | 'offline';

export interface RealtimeOptions {
  token: string;
  onState: (state: LinkState) => void;
  /** The relay is in its rooms again: a fresh start or a reconnect, so reload what may be stale. */
  onReady: () => void;
  onUnauthorized: () => void;
}

const RETRY_AFTER_REFUSAL_MS = 5_000;

/**
 * The console's Socket.IO link. Socket.IO reconnects by itself after a network drop; a
 * refusal by the relay's middleware, or the relay closing the socket, stops it, so unless
 * the token is the cause the link is retried here.
 */
export class RealtimeLink {
  readonly socket: ConsoleSocket;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(options: RealtimeOptions) {
    const socket: ConsoleSocket = io(window.location.origin, {
      path: SOCKET_PATH,
      auth: { token: options.token },
    });
    this.socket = socket;
    options.onState('connecting');
    socket.on('session.ready', () => {
      options.onState('live');
      options.onReady();
    });
    socket.on('disconnect', (reason) => {
      // The relay closes a socket when its access token expires (and at logout or when the
      // account is disabled). Socket.IO does not reconnect after that by itself; reconnect
      // with the token renewed meanwhile. A session that has ended is then refused as
      // UNAUTHENTICATED below, which signs the console out.
      if (reason === 'io server disconnect') socket.connect();
      options.onState(socket.active ? 'connecting' : 'offline');
    });
    socket.on('connect_error', (error) => {
      if (socket.active) {
        options.onState('connecting');
        return;
      }
      if (error.message.startsWith('UNAUTHENTICATED')) {
        options.onUnauthorized();
        return;
      }
      options.onState('offline');
      clearTimeout(this.retry);
      this.retry = setTimeout(() => socket.connect(), RETRY_AFTER_REFUSAL_MS);
    });
  }

  /** The access token for the next (re)connection; the open connection stays as it is. */
  useToken(token: string): void {
    this.socket.auth = { token };
  }

  close(): void {
    clearTimeout(this.retry);
    this.socket.removeAllListeners();
    this.socket.disconnect();
  }
}
