import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { assertNoIdentifierLeak } from './identifier-scan.js';
import { E2E_STORE, relayDatabase } from './relay-databases.js';

export const DEMO_PASSWORD = 'e2e-demo-password';

export interface DemoDevice {
  deviceId: string;
  secret: string;
  clinicId: string;
}

/**
 * The relay as a separate process on the embedded defaults: a temp data directory and
 * random free ports (PORT=0, MQTT_PORT=0), read back from its "relay ready" log line.
 */
export class RelayProcess {
  readonly logs: string[] = [];
  private child: ChildProcess | undefined;
  httpPort = 0;
  mqttPort = 0;
  /** The DICOM listener's port (DICOM_PORT=0 here, so files running at once never collide). */
  dicomPort = 0;

  private constructor(
    readonly dataDir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly dropDatabase: () => Promise<void>,
  ) {}

  /** `dataDir`: a directory the test prepared (a small file system, say); a temp one otherwise. */
  static async start(env: NodeJS.ProcessEnv = {}, dataDir?: string): Promise<RelayProcess> {
    const relay = await RelayProcess.create(env, dataDir);
    await relay.launch();
    return relay;
  }

  /**
   * A relay with its data directory made but not started, for a test to prepare first. In
   * the e2e-postgres project (E2E_STORE=PostgreSQL) it gets a database of its own on the
   * server, unless the test names one (DATABASE_URL) itself.
   */
  static async create(env: NodeJS.ProcessEnv = {}, dataDir?: string): Promise<RelayProcess> {
    const database =
      env['DATABASE_URL'] === undefined
        ? await relayDatabase(E2E_STORE)
        : { env: {}, drop: async () => undefined };
    return new RelayProcess(
      dataDir ?? (await mkdtemp(join(tmpdir(), 'telerelay-e2e-'))),
      { ...database.env, ...env },
      database.drop,
    );
  }

  /** The PostgreSQL database this relay runs on; undefined when it runs on its PGlite. */
  get databaseUrl(): string | undefined {
    return this.env['DATABASE_URL'];
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  /** Starts (or restarts, on the same data directory) the relay process. */
  async launch(extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
    const child = spawn(process.execPath, ['dist/apps/relay/src/main.js'], {
      env: {
        ...process.env,
        DATA_DIR: this.dataDir,
        PORT: '0',
        MQTT_PORT: '0',
        DICOM_PORT: '0',
        HOST: '127.0.0.1',
        DEMO: 'true',
        DEMO_PASSWORD,
        LOG_LEVEL: 'info',
        ...this.env,
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const lines = createInterface({ input: child.stdout! });
    child.stderr!.on('data', (data: Buffer) => this.logs.push(data.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        this.logs.push(line);
        if (!line.includes('"relay ready"')) return;
        const entry = JSON.parse(line) as {
          httpPort: number;
          mqttPort: number;
          dicomPort?: number;
        };
        this.httpPort = entry.httpPort;
        this.mqttPort = entry.mqttPort;
        this.dicomPort = entry.dicomPort ?? 0;
        resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`relay exited (${code}) before ready:\n${this.logs.join('\n')}`)),
      );
    });
    await ready;
  }

  /**
   * The first log line at index >= `from` in `logs` that matches, already logged or still
   * to come (checked again whenever the relay writes to stdout).
   */
  async waitForLog(
    matches: (line: string) => boolean,
    from = 0,
    timeoutMs = 15_000,
  ): Promise<string> {
    const find = () => this.logs.slice(from).find(matches);
    const found = find();
    if (found !== undefined) return found;
    const stdout = this.child?.stdout;
    if (!stdout) throw new Error('relay is not running');
    return new Promise<string>((resolve, reject) => {
      // Registered after launch's readline, so its lines are in `logs` when this runs.
      const onData = () => {
        const line = find();
        if (line === undefined) return;
        clearTimeout(timer);
        stdout.off('data', onData);
        resolve(line);
      };
      const timer = setTimeout(() => {
        stdout.off('data', onData);
        const tail = this.logs.slice(-5).join('\n');
        reject(
          new Error(
            `no relay log line matching ${String(matches)} within ${timeoutMs} ms; last lines:\n${tail}`,
          ),
        );
      }, timeoutMs);
      stdout.on('data', onData);
    });
  }

  async demoDevices(): Promise<DemoDevice[]> {
    const file = JSON.parse(await readFile(join(this.dataDir, 'demo-devices.json'), 'utf8')) as {
      devices: DemoDevice[];
    };
    return file.devices;
  }

  /** Graceful stop (SIGTERM), as an operator would; how the process ended, if it was running. */
  async stop(): Promise<{ code: number | null; signal: string | null } | undefined> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
    const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    return { code, signal };
  }

  /** A crash: SIGKILL, no shutdown hooks. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * Stops the relay and removes its data directory, after checking that neither its logs nor
   * any file it wrote outside the database holds a national ID in clear: every e2e test that
   * starts a relay takes part in that check.
   */
  async dispose(): Promise<void> {
    await this.stop();
    try {
      await assertNoIdentifierLeak('the relay', {
        logs: this.logs,
        dirs: [this.dataDir],
        skip: ['pg'],
      });
    } finally {
      await rm(this.dataDir, { recursive: true, force: true });
      await this.dropDatabase();
    }
  }
}
