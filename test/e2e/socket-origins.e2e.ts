import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOCKET_PATH } from '#contracts';
import { ConsoleClient } from '../support/clients.js';
import { RelayProcess } from '../support/relay-process.js';

const LISTED = 'https://console.example.org';

describe('Socket.IO admits browsers only from the relay itself and the listed origins', () => {
  let relay: RelayProcess;
  let reader: ConsoleClient;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start({ SOCKET_ORIGINS: LISTED });
    reader = await ConsoleClient.login(relay.httpUrl, 'county1.reader');
  });

  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await relay?.dispose();
  });

  /** Resolves 'ready' once the relay puts the socket in its rooms, or the refusal. */
  function handshakeFrom(origin: string): Promise<'ready' | 'refused'> {
    const socket = io(relay.httpUrl, {
      path: SOCKET_PATH,
      auth: { token: reader.token },
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { origin },
    });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.once('session.ready', () => resolve('ready'));
      socket.once('connect_error', () => resolve('refused'));
    });
  }

  it('refuses a page from another origin, even with a valid token', async () => {
    expect(await handshakeFrom('https://evil.example')).toBe('refused');
  });

  it('admits the console the relay serves, and a listed origin', async () => {
    expect(await handshakeFrom(new URL(relay.httpUrl).origin)).toBe('ready');
    expect(await handshakeFrom(LISTED)).toBe('ready');
  });
});
