import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';

export class RedisNotInstalledError extends Error {
  constructor(bin: string) {
    super(
      `No Redis server: '${bin}' was not found on PATH.\n` +
        '  Install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis)\n' +
        '  or point the relay at a running Redis with REDIS_URL=redis://host:6379.',
    );
    this.name = 'RedisNotInstalledError';
  }
}

/**
 * A private redis-server for the single-machine default: loopback only, a free port,
 * AOF with fsync on every write (the relay acknowledges chunks to boxes once Redis has
 * them, so "stored" must mean on disk), data under DATA_DIR/redis.
 * If it dies while the relay runs, it is started again on the same port and data.
 */
export class EmbeddedRedis {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;

  private constructor(
    private readonly bin: string,
    private readonly dir: string,
    readonly port: number,
    private readonly log: Logger,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(options: {
    bin: string;
    dataDir: string;
    log: Logger;
  }): Promise<EmbeddedRedis> {
    const dir = join(options.dataDir, 'redis');
    await mkdir(dir, { recursive: true });
    await stopLeftover(dir, options.log);
    const redis = new EmbeddedRedis(options.bin, dir, await freePort(), options.log);
    await redis.launch();
    return redis;
  }

  private async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--protected-mode',
      'yes',
      '--dir',
      this.dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      '--pidfile',
      join(this.dir, 'redis.pid'),
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
      '--maxmemory-policy',
      'noeviction',
    ];
    const child = spawn(this.bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // If the relay dies of an uncaught error, its private Redis must not outlive it.
    const killOnExit = () => child.kill('SIGTERM');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));
    const ready = new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (data: Buffer) => {
        output += data.toString();
        if (output.includes('Ready to accept connections')) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'ENOENT' ? new RedisNotInstalledError(this.bin) : error),
      );
      child.once('exit', (code) =>
        reject(
          new Error(`redis-server exited (${code}) before it was ready:\n${output.slice(-2000)}`),
        ),
      );
    });
    // Redis logs readiness only at 'notice'; 'warning' keeps it quiet, so poll the port too.
    await Promise.race([ready, waitForPort(this.port, child)]);
    child.stdout?.removeAllListeners('data');
    child.stderr?.removeAllListeners('data');
    child.stdout?.resume();
    child.stderr?.resume();
    await writeFile(join(this.dir, 'redis.port'), String(this.port));
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      this.restarts += 1;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.restarts, 6));
      this.log.error(
        { code, signal, retryInMs: delay },
        'embedded redis-server exited; restarting',
      );
      setTimeout(() => {
        if (this.stopping) return;
        this.launch().then(
          () => this.log.info({ port: this.port }, 'embedded redis-server is back'),
          (error: unknown) =>
            this.log.error({ err: error }, 'embedded redis-server failed to restart'),
        );
      }, delay).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (child.exitCode !== null) return new Promise(() => undefined);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end('PING\r\n');
        socket.once('data', (data) => resolve(data.toString().startsWith('+PONG')));
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server did not answer on port ${port}`);
}

/**
 * A relay killed with SIGKILL leaves its redis-server running on the same files; stop it
 * (it flushes the AOF on SIGTERM) so the new one opens the data alone.
 */
async function stopLeftover(dir: string, log: Logger): Promise<void> {
  const pidFile = join(dir, 'redis.pid');
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !(await isRedisProcess(pid))) {
    await rm(pidFile, { force: true });
    return;
  }
  log.warn({ pid }, 'stopping a redis-server left over from an earlier run');
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 200 && (await isAlive(pid)); i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (await isAlive(pid)) process.kill(pid, 'SIGKILL');
  await rm(pidFile, { force: true });
}

async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function isRedisProcess(pid: number): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('redis-server');
  } catch {
    return false;
  }
}
