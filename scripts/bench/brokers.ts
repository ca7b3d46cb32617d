/**
 * The three brokers the ingest benchmark compares, each started as its own process on a
 * free loopback port and stopped (with everything it started) afterwards:
 * - relay: Telerelay as built (dist/), with its private redis-server, on a copy of a
 *   prepared data directory where the benchmark's boxes are registered;
 * - aedes: plain Aedes with no hooks (bench/aedes-plain.mjs);
 * - mosquitto: Debian's mosquitto with a minimal loopback-only configuration.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { connect as connectTcp, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { PGlite } from '@electric-sql/pglite';
import argon2 from 'argon2';
import { Redis } from 'ioredis';
import { SecretHasher } from '../../apps/relay/src/identity/secret-hasher.js';
import pg from 'pg';
import type { AckMode, BenchDevice } from './load-protocol.js';
import { inspectorUrlIn } from './inspector.js';
import { isAlive, processTree } from './proc.js';

export type BrokerKind = 'relay' | 'aedes' | 'mosquitto';
export const BROKER_KINDS: readonly BrokerKind[] = ['relay', 'aedes', 'mosquitto'];

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
/** Where the relay under test is built; the working tree unless --relay-ref names a commit. */
let relayRoot = REPO_ROOT;
const relayMain = () => join(relayRoot, 'dist/apps/relay/src/main.js');
const AEDES_PLAIN = join(REPO_ROOT, 'bench/aedes-plain.mjs');
const DEMO_PASSWORD = 'bench-demo-password';
const RELAY_READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 30_000;

// ── cleanup: every process and directory we create is registered here ─────────────

const children = new Set<ChildProcess>();
const strayPids = new Set<number>();
const tempDirs = new Set<string>();
let keepTemp = false;

/** Keep data directories and logs (for debugging); processes are still stopped. */
export function keepTempDirs(keep: boolean): void {
  keepTemp = keep;
}

export function trackChild(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function trackTempDir(dir: string): void {
  tempDirs.add(dir);
}

/** Synchronous last resort (also from process 'exit'): kill what is left, remove temp dirs. */
export function killEverything(): void {
  for (const child of children) {
    if (child.pid !== undefined) for (const pid of processTree(child.pid)) strayPids.add(pid);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const pid of strayPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  strayPids.clear();
  if (!keepTemp) for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const timer = new Promise<false>((done) => setTimeout(() => done(false), timeoutMs).unref());
  return Promise.race([once(child, 'exit').then(() => true as const), timer]);
}

/** SIGTERM, then SIGKILL for the process and every descendant it still has. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  const tree = processTree(child.pid);
  for (const pid of tree) strayPids.add(pid);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  if (!(await waitForExit(child, STOP_TIMEOUT_MS))) child.kill('SIGKILL');
  await waitForExit(child, 5_000);
  // Descendants (the relay's redis-server) are stopped by their parent; make sure.
  for (const pid of tree) {
    if (pid !== child.pid && isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone in the meantime
      }
    }
    strayPids.delete(pid);
  }
}

/**
 * Runs a benchmark's main: every process it started is killed on any exit (done, failed,
 * Ctrl-C, SIGTERM), and the exit code says which.
 */
export function runBenchmark(main: () => Promise<void>, log: (message: string) => void): void {
  process.on('exit', killEverything);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping everything`);
      killEverything();
      process.exit(130);
    });
  }
  main().then(
    () => {
      killEverything();
      process.exit(0);
    },
    (error: unknown) => {
      process.stderr.write(
        `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      killEverything();
      process.exit(1);
    },
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/** Resolves once `port` accepts a connection; rejects if `child` exits first or on the timeout. */
export async function waitForPort(
  port: number,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`process exited (${child.exitCode}) before listening`);
    const open = await new Promise<boolean>((done) => {
      const socket = connectTcp(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}

// ── the brokers ────────────────────────────────────────────────────────────────────

export interface RunningBroker {
  kind: BrokerKind;
  url: string;
  /** The broker's own process; its tree (e.g. the relay's redis-server) is measured too. */
  pid: number;
  ackMode: AckMode;
  devices: BenchDevice[];
  /** Relay only: Redis command statistics and the relay's log, summarised. */
  diagnostics(): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
  /** Relay only, with profiling on: the .cpuprofile written at exit. */
  profilePath(): Promise<string | null>;
  /** Relay only, after stop(): rows per table in its database (what the run wrote). */
  databaseCounts(): Record<string, unknown>;
  /** How the broker process ended, if it already has (a crash during the step). */
  exited(): string | null;
  /** Node brokers run with --inspect on loopback, so idle memory is measured after a GC. */
  inspectorUrl: string | null;
}

function exitOf(child: ChildProcess): string | null {
  if (child.exitCode !== null) return `exit code ${child.exitCode}`;
  if (child.signalCode !== null) return `signal ${child.signalCode}`;
  return null;
}

/** Boxes for brokers that do not authenticate: any id works, no secret checked. */
function anonymousDevices(count: number): BenchDevice[] {
  return Array.from({ length: count }, (_, index) => ({
    id: benchDeviceId(index),
    secret: 'unused',
    index,
  }));
}

export function benchDeviceId(index: number): string {
  return `bench-box-${String(index + 1).padStart(5, '0')}`;
}

export async function startAedes(devices: number): Promise<RunningBroker> {
  const child = trackChild(
    spawn(process.execPath, ['--inspect=127.0.0.1:0', AEDES_PLAIN], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let inspectorUrl: string | null = null;
  createInterface({ input: child.stderr! }).on('line', (line) => {
    inspectorUrl ??= inspectorUrlIn(line);
    if (!/Debugger|devtools|nodejs\.org\/en\/docs\/inspector|For help/.test(line)) {
      process.stderr.write(`[aedes] ${line}\n`);
    }
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error('plain Aedes did not start')), 30_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      done((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => fail(new Error(`plain Aedes exited (${code})`)));
  });
  return {
    kind: 'aedes',
    inspectorUrl,
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid!,
    ackMode: 'puback',
    devices: anonymousDevices(devices),
    diagnostics: async () => ({}),
    stop: () => stopProcess(child),
    profilePath: async () => null,
    databaseCounts: () => ({}),
    exited: () => exitOf(child),
  };
}

export async function startMosquitto(workDir: string, devices: number): Promise<RunningBroker> {
  const port = await freePort();
  const dir = join(workDir, `mosquitto-${port}`);
  await mkdir(dir, { recursive: true });
  const configFile = join(dir, 'mosquitto.conf');
  // Minimal: one loopback listener, no auth (like plain Aedes), no persistence, no logs.
  await writeFile(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'log_dest none',
      '',
    ].join('\n'),
  );
  const child = trackChild(
    spawn('mosquitto', ['-c', configFile], { stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  const started = new Promise<void>((_, fail) =>
    child.once('error', (error) =>
      fail(new Error(`cannot run mosquitto (apt-get install -y mosquitto): ${error.message}`)),
    ),
  );
  await Promise.race([waitForPort(port, child, 30_000), started]);
  return {
    kind: 'mosquitto',
    inspectorUrl: null,
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid!,
    ackMode: 'puback',
    devices: anonymousDevices(devices),
    diagnostics: async () => ({}),
    stop: () => stopProcess(child),
    profilePath: async () => null,
    databaseCounts: () => ({}),
    exited: () => exitOf(child),
  };
}

export function mosquittoInstalled(): Promise<boolean> {
  return new Promise((done) => {
    const probe = spawn('mosquitto', ['-h'], { stdio: 'ignore' });
    probe.once('error', () => done(false));
    probe.once('exit', () => done(true));
  });
}

// ── the relay ──────────────────────────────────────────────────────────────────────

/**
 * How bench devices' secrets are stored. 'production' is exactly what the relay stores for a
 * box (SecretHasher: salted HMAC-SHA-256); 'legacy' is an argon2id hash (m = 1 MiB, t = 1,
 * p = 1) as earlier versions stored them: the relay still verifies it and stores the secret
 * again as HMAC at the box's first good CONNECT.
 */
export type DeviceHash = 'legacy' | 'production';

const machineSecrets = new SecretHasher();

export async function hashSecret(secret: string, kind: DeviceHash): Promise<string> {
  return kind === 'production'
    ? machineSecrets.hashMachineSecret(secret)
    : argon2.hash(secret, { type: argon2.argon2id, memoryCost: 1024, timeCost: 1, parallelism: 1 });
}

/**
 * Where the relay under test keeps its database: embedded PGlite in its data directory (the
 * default, as `npm run demo` runs), or a PostgreSQL server (`--database-url`), where every
 * relay step gets its own database copied from a template database.
 */
export type RelayStore = { kind: 'pglite' } | { kind: 'postgres'; serverUrl: string };

/** Names of the PostgreSQL databases this run created; dropped when the run ends. */
const benchDatabases = new Set<string>();
const BENCH_DATABASE_PREFIX = 'telerelay_bench_';

function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The little of SQL the benchmark needs, on either store. */
interface SqlSession {
  query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  close(): Promise<void>;
}

async function openSql(
  store: RelayStore,
  place: { dataDir: string; database: string | undefined },
): Promise<SqlSession> {
  if (store.kind === 'pglite') {
    const db = await PGlite.create(join(place.dataDir, 'pg'));
    return {
      query: async <T>(text: string, params?: unknown[]) => db.query<T>(text, params),
      close: () => db.close(),
    };
  }
  const client = new pg.Client({
    connectionString: databaseUrl(store.serverUrl, place.database ?? 'postgres'),
  });
  await client.connect();
  return {
    query: async <T>(text: string, params?: unknown[]) => {
      const result = await client.query(text, params);
      return { rows: result.rows as T[] };
    },
    close: () => client.end(),
  };
}

/** CREATE DATABASE, from a template when given; the name is ours, never user input. */
async function createBenchDatabase(
  store: Extract<RelayStore, { kind: 'postgres' }>,
  name: string,
  template?: string,
): Promise<void> {
  const server = await openSql(store, { dataDir: '', database: undefined });
  try {
    await server.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await server.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
    benchDatabases.add(name);
  } finally {
    await server.close();
  }
}

async function dropBenchDatabase(
  store: Extract<RelayStore, { kind: 'postgres' }>,
  name: string,
): Promise<void> {
  const server = await openSql(store, { dataDir: '', database: undefined });
  try {
    await server.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    benchDatabases.delete(name);
  } finally {
    await server.close();
  }
}

/** Drops the databases of this run, and those of earlier runs whose benchmark is gone. */
export async function dropBenchDatabases(store: RelayStore): Promise<void> {
  if (store.kind !== 'postgres') return;
  const server = await openSql(store, { dataDir: '', database: undefined });
  try {
    const { rows } = await server.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE '${BENCH_DATABASE_PREFIX}%'`,
    );
    for (const { datname } of rows) {
      const owner = Number(/^telerelay_bench_(\d+)_/.exec(datname)?.[1]);
      if (benchDatabases.has(datname) || !isAlive(owner)) await dropBenchDatabase(store, datname);
    }
  } finally {
    await server.close();
  }
}

/**
 * Registers boxes in the relay's database directly: the relay has no device-registration
 * API yet. Only while the relay is stopped (PGlite in DATA_DIR/pg has one process at a
 * time). Clinics are the demo region's (seeded by a first start with DEMO=true).
 */
async function registerBenchDevices(
  sql: SqlSession,
  devices: { id: string; secretHash: string }[],
): Promise<void> {
  const batch = 200;
  for (let start = 0; start < devices.length; start += batch) {
    const slice = devices.slice(start, start + batch);
    const values: string[] = [];
    const params: string[] = [];
    slice.forEach((device, i) => {
      values.push(`($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`);
      params.push(device.id, `clinic-${((start + i) % 6) + 1}`, device.secretHash);
    });
    await sql.query(
      `INSERT INTO devices (id, facility_id, secret_hash) VALUES ${values.join(', ')}
       ON CONFLICT (id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, disabled = false`,
      params,
    );
  }
}

/**
 * Builds the relay of a git commit apart from the working tree (which colleagues may be
 * editing and rebuilding during a run): `git archive` of the commit into the work
 * directory, the repository's node_modules linked in, SWC as in `npm run build` (without
 * the console, which the ingest path does not use). Only reads the repository.
 */
export async function buildRelaySnapshot(ref: string, workDir: string): Promise<string> {
  const root = join(workDir, 'relay-source');
  await mkdir(root, { recursive: true });
  await new Promise<void>((done, fail) => {
    const archive = spawn(
      'git',
      ['archive', '--format=tar', ref, '--', 'apps', 'libs', 'scripts', 'package.json', '.swcrc'],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const tar = spawn('tar', ['-x', '-C', root], { stdio: ['pipe', 'inherit', 'inherit'] });
    archive.stdout.pipe(tar.stdin);
    archive.once('error', fail);
    tar.once('error', fail);
    tar.once('exit', (code) =>
      code === 0 ? done() : fail(new Error(`git archive ${ref} failed`)),
    );
  });
  await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
  const run = (command: string, args: string[]) =>
    new Promise<void>((done, fail) => {
      const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
      child.once('error', fail);
      child.once('exit', (code) =>
        code === 0 ? done() : fail(new Error(`${command} ${args.join(' ')} exited ${code}`)),
      );
    });
  await run(join(REPO_ROOT, 'node_modules/.bin/swc'), [
    'apps',
    'libs',
    '-d',
    'dist',
    '--config-file',
    '.swcrc',
    '--ignore',
    '**/*.test.ts,**/*.e2e.ts,**/testing/**,apps/console/**',
    '--quiet',
  ]);
  await run(process.execPath, ['scripts/copy-assets.mjs']);
  await mkdir(join(root, 'dist/apps/console/public'), { recursive: true });
  await writeFile(join(root, 'dist/apps/console/public/index.html'), '<!doctype html>\n');
  relayRoot = root;
  return root;
}

export interface RelayTemplate {
  dir: string;
  store: RelayStore;
  /** On PostgreSQL: the template database each step's database is copied from. */
  database: string | undefined;
  /** Streaming boxes (hash per --device-hash), then connect-storm boxes (production hash). */
  devices: BenchDevice[];
  stormDevices: BenchDevice[];
}

export interface RelayProcess {
  child: ChildProcess;
  httpPort: number;
  mqttPort: number;
  dataDir: string;
  logFile: string;
  inspectorUrl: string | null;
}

/**
 * Starts the relay on free loopback ports and waits until it has written relay.json. By
 * default in demo mode; `env` overrides (a region file, a longer `readyTimeoutMs` for
 * seeding that hashes many secrets).
 */
export async function launchRelay(
  dataDir: string,
  options: {
    profileDir?: string | undefined;
    env?: NodeJS.ProcessEnv;
    readyTimeoutMs?: number;
  } = {},
): Promise<RelayProcess> {
  const readyTimeoutMs = options.readyTimeoutMs ?? RELAY_READY_TIMEOUT_MS;
  await rm(join(dataDir, 'relay.json'), { force: true });
  const logFile = join(dataDir, 'relay.log');
  const log = openSync(logFile, 'a');
  const execArgv = [
    '--inspect=127.0.0.1:0',
    ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : []),
  ];
  const child = trackChild(
    spawn(process.execPath, [...execArgv, relayMain()], {
      cwd: relayRoot,
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        MQTT_PORT: '0',
        DICOM_PORT: '0',
        DEMO: 'true',
        DEMO_PASSWORD,
        LOG_LEVEL: 'warn',
        ...options.env,
      },
      stdio: ['ignore', log, log],
    }),
  );
  closeSync(log);
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(
        `relay exited (${child.exitCode}) before it was ready:\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
      );
    }
    try {
      const runtime = JSON.parse(await readFile(join(dataDir, 'relay.json'), 'utf8')) as {
        pid: number;
        httpPort: number;
        mqttPort: number;
      };
      if (runtime.pid === child.pid) {
        const inspectorUrl = inspectorUrlIn(await readFile(logFile, 'utf8'));
        const { httpPort, mqttPort } = runtime;
        return { child, httpPort, mqttPort, dataDir, logFile, inspectorUrl };
      }
    } catch {
      // not written yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`relay not ready after ${readyTimeoutMs} ms`);
}

function relayStoreEnv(store: RelayStore, database: string | undefined): NodeJS.ProcessEnv {
  return store.kind === 'postgres' && database
    ? { DATABASE_URL: databaseUrl(store.serverUrl, database) }
    : {};
}

/**
 * Creates the schema (one start with DEMO=true, then SIGTERM) and registers the boxes;
 * every relay step starts on a fresh copy of this directory.
 */
export async function prepareRelayTemplate(
  workDir: string,
  options: { devices: number; stormDevices: number; deviceHash: DeviceHash; store: RelayStore },
): Promise<RelayTemplate> {
  const { store } = options;
  const dir = join(workDir, 'relay-template');
  await mkdir(dir, { recursive: true });
  let database: string | undefined;
  if (store.kind === 'postgres') {
    await dropBenchDatabases(store);
    database = `${BENCH_DATABASE_PREFIX}${process.pid}_template`;
    await createBenchDatabase(store, database);
  }
  const relay = await launchRelay(dir, { env: relayStoreEnv(store, database) });
  await stopProcess(relay.child);
  const secret = randomBytes(18).toString('base64url');
  const devices: BenchDevice[] = Array.from({ length: options.devices }, (_, index) => ({
    id: benchDeviceId(index),
    secret,
    index,
  }));
  const stormDevices: BenchDevice[] = Array.from({ length: options.stormDevices }, (_, index) => ({
    id: `bench-storm-${String(index + 1).padStart(4, '0')}`,
    secret,
    index,
  }));
  // One hash of the one shared secret, reused for every box (hashing 1,000 would take minutes).
  const streamingHash = await hashSecret(secret, options.deviceHash);
  const productionHash =
    options.deviceHash === 'production' ? streamingHash : await hashSecret(secret, 'production');
  const sql = await openSql(store, { dataDir: dir, database });
  try {
    await registerBenchDevices(sql, [
      ...devices.map((device) => ({ id: device.id, secretHash: streamingHash })),
      ...stormDevices.map((device) => ({ id: device.id, secretHash: productionHash })),
    ]);
  } finally {
    await sql.close();
  }
  // Only the database, secrets and demo files go into the copies: no Redis data, no logs.
  for (const entry of await readdir(dir)) {
    if (entry === 'redis' || entry.endsWith('.log') || entry === 'relay.json') {
      await rm(join(dir, entry), { recursive: true, force: true });
    }
  }
  return { dir, store, database, devices, stormDevices };
}

export async function startRelay(
  template: RelayTemplate,
  workDir: string,
  devices: BenchDevice[],
  options: { profile: boolean; label: string },
): Promise<RunningBroker> {
  const dataDir = join(workDir, `relay-${options.label}`);
  await cp(template.dir, dataDir, { recursive: true });
  const { store } = template;
  let database: string | undefined;
  if (store.kind === 'postgres') {
    database = `${BENCH_DATABASE_PREFIX}${process.pid}_${options.label.replace(/\W/g, '_')}`;
    await createBenchDatabase(store, database, template.database);
  }
  const profileDir = options.profile ? join(dataDir, 'cpu-profile') : undefined;
  const relay = await launchRelay(dataDir, { profileDir, env: relayStoreEnv(store, database) });
  let counts: Record<string, unknown> = {};
  return {
    kind: 'relay',
    inspectorUrl: relay.inspectorUrl,
    url: `mqtt://127.0.0.1:${relay.mqttPort}`,
    pid: relay.child.pid!,
    ackMode: 'stored',
    devices,
    diagnostics: () => relayDiagnostics(relay),
    stop: async () => {
      await stopProcess(relay.child);
      counts = await countRows(store, { dataDir, database }).catch((error: unknown) => ({
        error: error instanceof Error ? error.message : String(error),
      }));
      if (!profileDir && !keepTemp) await rm(dataDir, { recursive: true, force: true });
      if (store.kind === 'postgres' && database && !keepTemp) {
        await dropBenchDatabase(store, database);
      }
    },
    databaseCounts: () => counts,
    exited: () => exitOf(relay.child),
    profilePath: async () => {
      if (!profileDir) return null;
      const files = (await readdir(profileDir).catch(() => [])).filter((f) =>
        f.endsWith('.cpuprofile'),
      );
      return files[0] ? join(profileDir, files[0]) : null;
    },
  };
}

/**
 * Rows per table of a stopped relay's database, and its audit log by action: every
 * refusal the relay audits is one INSERT on its single PGlite connection.
 */
async function countRows(
  store: RelayStore,
  place: { dataDir: string; database: string | undefined },
): Promise<Record<string, unknown>> {
  const db = await openSql(store, place);
  try {
    const tables = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    const rows: Record<string, number> = {};
    for (const { table_name: table } of tables.rows) {
      const result = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}"`);
      rows[table] = result.rows[0]?.n ?? 0;
    }
    const audit = await db
      .query<{ action: string; outcome: string; n: number }>(
        `SELECT action, outcome, count(*)::int AS n FROM audit_log GROUP BY 1, 2 ORDER BY 3 DESC`,
      )
      .catch(() => ({ rows: [] }));
    return {
      rows,
      auditLog: Object.fromEntries(audit.rows.map((r) => [`${r.action} ${r.outcome}`, r.n])),
    };
  } finally {
    await db.close();
  }
}

/** What the relay's private Redis did (INFO commandstats, persistence) and what it logged. */
async function relayDiagnostics(relay: RelayProcess): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  try {
    const port = Number(await readFile(join(relay.dataDir, 'redis', 'redis.port'), 'utf8'));
    const redis = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const stats: Record<string, { calls: number; usecPerCall: number; usec: number }> = {};
      for (const line of (await redis.info('commandstats')).split('\n')) {
        const match = /^cmdstat_(\w+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/.exec(line);
        if (match) {
          stats[match[1]!] = {
            calls: Number(match[2]),
            usec: Number(match[3]),
            usecPerCall: Number(match[4]),
          };
        }
      }
      result['redisCommandStats'] = stats;
      const persistence = await redis.info('persistence');
      const pick = (key: string) => new RegExp(`^${key}:(.*)$`, 'm').exec(persistence)?.[1]?.trim();
      result['redisAof'] = {
        aofEnabled: pick('aof_enabled'),
        aofDelayedFsync: pick('aof_delayed_fsync'),
        aofLastWriteStatus: pick('aof_last_write_status'),
      };
    } finally {
      redis.disconnect();
    }
  } catch (error) {
    result['redisError'] = error instanceof Error ? error.message : String(error);
  }
  result['relayLog'] = await summariseLog(relay.logFile);
  if (relay.child.exitCode !== null || relay.child.signalCode !== null) {
    // It died during the step: keep the end of what it wrote (the crash).
    const text = await readFile(relay.logFile, 'utf8').catch(() => '');
    result['crashLogTail'] = text.split('\n').slice(-40).join('\n');
  }
  return result;
}

/** Counts the relay's log lines (pino JSON, level warn and above) by level and message. */
async function summariseLog(file: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return counts;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let key: string;
    try {
      const entry = JSON.parse(line) as { level?: number | string; msg?: string };
      key = `${entry.level}: ${entry.msg ?? ''}`;
    } catch {
      key = `(text) ${line.slice(0, 80)}`;
    }
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
