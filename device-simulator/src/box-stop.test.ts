import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SimulatedBox } from './box.js';

describe('SimulatedBox.stop', () => {
  it('closes a connection that is still waiting for CONNACK', async () => {
    // A broker that accepts the TCP connection and reads the CONNECT but never answers it,
    // as a relay busy starting up (or a slow link) does.
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const box = new SimulatedBox({
        brokerUrl: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
        deviceId: 'box-stop-0001',
        secret: 'secret',
      });
      const connection = once(server, 'connection') as Promise<[Socket]>;
      await box.start();
      const [socket] = await connection;
      await once(socket, 'data'); // the CONNECT packet
      const closed = once(socket, 'close');
      await box.stop();
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        closed.then(() => 'closed'),
        new Promise((resolve) => (timer = setTimeout(resolve, 3_000, 'still open'))),
      ]);
      clearTimeout(timer);
      // An open socket here keeps a stopped simulator's process alive (the CLI then exits 1).
      expect(outcome).toBe('closed');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
