import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LoginResponse, ServerToClientEvents } from '#contracts';
import { DEMO_PASSWORD } from './relay-process.js';

export type ConsoleSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ApiResult<T> {
  status: number;
  body: T;
}

/** A signed-in console user: REST with the bearer token, and a Socket.IO connection. */
export class ConsoleClient {
  private constructor(
    private readonly baseUrl: string,
    readonly token: string,
    readonly session: LoginResponse,
  ) {}

  static async login(
    baseUrl: string,
    username: string,
    password = DEMO_PASSWORD,
  ): Promise<ConsoleClient> {
    const response = await fetch(`${baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (response.status !== 200) throw new Error(`login of ${username} failed: ${response.status}`);
    const session = (await response.json()) as LoginResponse;
    return new ConsoleClient(baseUrl, session.accessToken, session);
  }

  async get<T>(path: string): Promise<ApiResult<T>> {
    return this.call<T>('GET', path);
  }

  async post<T>(path: string, body?: unknown): Promise<ApiResult<T>> {
    return this.call<T>('POST', path, body);
  }

  async put<T>(path: string, body?: unknown): Promise<ApiResult<T>> {
    return this.call<T>('PUT', path, body);
  }

  async delete<T>(path: string): Promise<ApiResult<T>> {
    return this.call<T>('DELETE', path);
  }

  async patch<T>(path: string, body?: unknown): Promise<ApiResult<T>> {
    return this.call<T>('PATCH', path, body);
  }

  /** Connects and resolves once the relay has put the socket in its rooms. */
  async connectSocket(): Promise<ConsoleSocket> {
    const socket: ConsoleSocket = io(this.baseUrl, {
      path: '/socket.io',
      auth: { token: this.token },
      transports: ['websocket'],
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('session.ready', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket;
  }

  /**
   * Connects with a listener for `event` attached before the handshake completes, so events
   * the relay replays right after connecting are not missed.
   */
  async connectSocketCollecting<E extends keyof ServerToClientEvents>(
    event: E,
    into: Parameters<ServerToClientEvents[E]>[0][],
  ): Promise<ConsoleSocket> {
    return this.connectSocketCollectingAll({ [event]: into });
  }

  /**
   * A socket that collects each named event from its first packet on: what the relay replays
   * at connect may arrive in the same read as `session.ready`, before a listener added after
   * the connect could hear it.
   */
  async connectSocketCollectingAll(collect: {
    [E in keyof ServerToClientEvents]?: Parameters<ServerToClientEvents[E]>[0][];
  }): Promise<ConsoleSocket> {
    const socket: ConsoleSocket = io(this.baseUrl, {
      path: '/socket.io',
      auth: { token: this.token },
      transports: ['websocket'],
      reconnection: false,
      autoConnect: false,
    });
    for (const [event, into] of Object.entries(collect)) {
      socket.on(
        event as keyof ServerToClientEvents,
        ((payload: unknown) => (into as unknown[]).push(payload)) as never,
      );
    }
    const ready = new Promise<void>((resolve, reject) => {
      socket.once('session.ready', () => resolve());
      socket.once('connect_error', reject);
    });
    socket.connect();
    await ready;
    return socket;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
}

/** Resolves with the first event that matches, or rejects after `timeoutMs`. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ConsoleSocket,
  event: E,
  matches: (...args: Parameters<ServerToClientEvents[E]>) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener as never);
      reject(new Error(`no ${String(event)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: Parameters<ServerToClientEvents[E]>) => {
      if (!matches(...args)) return;
      clearTimeout(timer);
      socket.off(event, listener as never);
      resolve(args[0]);
    };
    socket.on(event, listener as never);
  });
}
