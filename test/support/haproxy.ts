import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait.js';

/** Debian's haproxy package installs it here (.ci/run installs it when missing). */
export const HAPROXY_BIN = '/usr/sbin/haproxy';

export const haproxyInstalled = (): boolean => existsSync(HAPROXY_BIN);

/** A port nobody listens on now, for a process the test starts (HAProxy binds it itself). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** HAProxy in the foreground on a configuration the test writes, as a deployment runs it. */
export class HaProxy {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly output: string[],
  ) {}

  /** Starts HAProxy and resolves once every port in `listens` accepts connections. */
  static async start(config: string, listens: number[]): Promise<HaProxy> {
    const dir = await mkdtemp(join(tmpdir(), 'telerelay-haproxy-'));
    const file = join(dir, 'haproxy.cfg');
    await writeFile(file, config);
    // -db: stay in the foreground, logs on stderr; -f: the configuration.
    const child = spawn(HAPROXY_BIN, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout!.on('data', (data: Buffer) => output.push(data.toString()));
    child.stderr!.on('data', (data: Buffer) => output.push(data.toString()));
    const proxy = new HaProxy(child, dir, output);
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`haproxy exited: ${output.join('')}`);
        return (await Promise.all(listens.map(accepts))).every(Boolean);
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'haproxy listening' },
    );
    return proxy;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
