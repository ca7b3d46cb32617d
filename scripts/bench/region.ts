/**
 * A region on one relay, shared by the benchmarks that put many boxes on it (bench:fleet,
 * bench:soak): the open-files check, PostgreSQL (the given server or a throwaway cluster),
 * the REGION_FILE with its boxes and county readers, the load processes (fleet-worker.ts),
 * a county reader's console, what the relay logged, and the results file.
 */
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, LoginResponse, ServerToClientEvents } from '#contracts';
import { freePort, REPO_ROOT, trackChild, type RelayProcess } from './brokers.js';
import { loadAverage } from './proc.js';
import type {
  ConnectResult,
  FleetCommand,
  FleetDevice,
  FleetReply,
  FleetWorkerConfig,
} from './fleet-worker.js';
import { percentile, round } from './stats.js';
import { WorkerChannel } from './worker-channel.js';

const BOXES_PER_CLINIC = 10;
const CLINICS_PER_COUNTY = 100;

/** `[fleet 01:02:03] …` or `[soak …]`: the benchmark that runs is the one that logs. */
export function log(message: string): void {
  const name = basename(process.argv[1] ?? 'bench', '.js');
  process.stdout.write(`[${name} ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export const epochNow = () => performance.timeOrigin + performance.now();

// ── open files: every connection is a descriptor in the broker and in a load process ──

function openFilesLimit(): { soft: number; hard: number } {
  const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(
    execFileSync('cat', ['/proc/self/limits'], { encoding: 'utf8' }),
  );
  const value = (text: string | undefined) =>
    text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
  return { soft: value(line?.[1]), hard: value(line?.[2]) };
}

/**
 * The broker holds one descriptor per box, and Node cannot raise its own limit: when the
 * soft limit is too low but the hard one allows it, the benchmark runs itself again under
 * `ulimit -n`; otherwise it says what to do.
 */
export function ensureOpenFiles(boxes: number): void {
  const needed = boxes + 2_000;
  const { soft, hard } = openFilesLimit();
  if (soft >= needed) {
    log(`open files: limit ${soft} ≥ ${needed} needed`);
    return;
  }
  if (hard < needed || process.env['FLEET_NOFILE_RAISED']) {
    throw new Error(
      `open files: soft limit ${soft}, hard ${hard}, ${needed} needed for ${boxes} boxes: ` +
        `raise it (ulimit -n ${needed}, or LimitNOFILE / limits.conf) or run fewer --boxes`,
    );
  }
  log(`open files: soft limit ${soft} < ${needed}; running again under ulimit -n ${needed}`);
  const result = spawnSync(
    '/bin/sh',
    ['-c', `ulimit -n ${needed} && exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, FLEET_NOFILE_RAISED: '1' } },
  );
  process.exit(result.status ?? 1);
}

// ── PostgreSQL ──────────────────────────────────────────────────────────────────────

export interface Postgres {
  url: string;
  pid: number | null;
  stop(): Promise<void>;
}

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A throwaway cluster in the temp directory (trust on loopback only), or the given server. */
export async function startPostgres(
  workDir: string,
  databaseUrl: string | undefined,
): Promise<Postgres> {
  if (databaseUrl) {
    const database = `telerelay_fleet_${process.pid}`;
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${database}"`);
    await admin.end();
    const url = new URL(databaseUrl);
    url.pathname = `/${database}`;
    return {
      url: url.toString(),
      pid: null,
      stop: async () => {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
        await client.end();
      },
    };
  }
  const dir = join(workDir, 'postgres');
  await mkdir(dir, { recursive: true });
  // initdb refuses to run as root: the cluster then belongs to the postgres user.
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) => {
    const argv = asRoot ? ['-u', 'postgres', '--', command, ...args] : args;
    const result = spawnSync(asRoot ? 'runuser' : command, argv, { encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(`${command} failed: ${result.error?.message ?? result.stderr}`);
    }
  };
  if (asRoot) {
    const ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    await chown(dir, Number(ids), Number(gid));
    await chmod(workDir, 0o755);
  }
  run(`${PG_BIN}/initdb`, ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '-E', 'UTF8']);
  const port = await freePort();
  run(`${PG_BIN}/pg_ctl`, [
    '-D',
    join(dir, 'data'),
    '-l',
    join(dir, 'postgres.log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -h 127.0.0.1 -c max_connections=200 -c shared_buffers=128MB`,
    'start',
  ]);
  const pid = Number((await readFile(join(dir, 'data', 'postmaster.pid'), 'utf8')).split('\n')[0]);
  log(`PostgreSQL 15: throwaway cluster on port ${port} (pid ${pid})`);
  // pg_ctl daemonises the server: stop it however the benchmark ends.
  const stopNow = () =>
    spawnSync(asRoot ? 'runuser' : `${PG_BIN}/pg_ctl`, [
      ...(asRoot ? ['-u', 'postgres', '--', `${PG_BIN}/pg_ctl`] : []),
      ...['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop'],
    ]);
  process.once('exit', stopNow);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    pid,
    stop: async () => {
      try {
        run(`${PG_BIN}/pg_ctl`, ['-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']);
      } catch (error) {
        log(`PostgreSQL stop: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  };
}

// ── the region ──────────────────────────────────────────────────────────────────────

export interface Region {
  file: unknown;
  devices: FleetDevice[];
  readers: { username: string; password: string }[];
}

/**
 * A tertiary hospital, county hospitals of 100 clinics, ten boxes per clinic, one reader per
 * county. Every box has its own random 256-bit secret, as the relay makes them.
 */
export function generateRegion(boxes: number): Region {
  const clinics = Math.ceil(boxes / BOXES_PER_CLINIC);
  const counties = Math.ceil(clinics / CLINICS_PER_COUNTY);
  const pad = (n: number, width = 4) => String(n).padStart(width, '0');
  const password = randomBytes(12).toString('base64url');
  const facilities: Record<string, unknown>[] = [
    { id: 'fleet-tertiary', kind: 'tertiary', name: 'Fleet City Hospital', parentId: null },
  ];
  const users: Record<string, unknown>[] = [];
  const readers: Region['readers'] = [];
  for (let c = 1; c <= counties; c += 1) {
    const id = `fleet-county-${pad(c, 3)}`;
    facilities.push({ id, kind: 'county', name: `Fleet County ${c}`, parentId: 'fleet-tertiary' });
    const username = `fleet.reader${pad(c, 3)}`;
    users.push({
      username,
      password,
      displayName: `Dr. Fleet ${c}`,
      role: 'reader',
      facilityId: id,
    });
    readers.push({ username, password });
  }
  for (let n = 1; n <= clinics; n += 1) {
    facilities.push({
      id: `fleet-clinic-${pad(n)}`,
      kind: 'clinic',
      name: `Fleet Clinic ${n}`,
      parentId: `fleet-county-${pad(Math.ceil(n / CLINICS_PER_COUNTY), 3)}`,
    });
  }
  const devices: FleetDevice[] = Array.from({ length: boxes }, (_, index) => ({
    id: `fleet-box-${pad(index + 1, 5)}`,
    secret: randomBytes(32).toString('base64url'),
    index,
  }));
  return {
    file: {
      facilities,
      users,
      devices: devices.map((device) => ({
        id: device.id,
        facilityId: `fleet-clinic-${pad(Math.floor(device.index / BOXES_PER_CLINIC) + 1)}`,
        secret: device.secret,
      })),
    },
    devices,
    readers,
  };
}

// ── load processes ──────────────────────────────────────────────────────────────────

export class FleetWorker extends WorkerChannel<FleetCommand, FleetReply> {
  static async start(config: FleetWorkerConfig): Promise<FleetWorker> {
    const child = trackChild(
      fork(join(import.meta.dirname, 'fleet-worker.js'), [], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: [],
      }),
    );
    const worker = new FleetWorker(child, 'load process');
    await worker.next('ready', 30_000);
    await worker.request({ type: 'setup', config }, 'set-up', 30_000);
    return worker;
  }
}

export async function startWorkers(
  brokerUrl: string,
  broker: FleetWorkerConfig['broker'],
  devices: FleetDevice[],
  count: number,
): Promise<FleetWorker[]> {
  const slices: FleetDevice[][] = Array.from({ length: count }, () => []);
  devices.forEach((device, i) => slices[i % count]!.push(device));
  return Promise.all(
    slices.map((slice) =>
      FleetWorker.start({ brokerUrl, broker, devices: slice, connectTimeoutMs: 30_000 }),
    ),
  );
}

export interface ConnectSummary {
  connected: number;
  seconds: number;
  failures: Record<string, number>;
  upP50Ms: number | null;
  upP99Ms: number | null;
}

export function summarise(results: ConnectResult[]): ConnectSummary {
  const up = Float64Array.from(results.flatMap((r) => r.upMs)).sort();
  const failures: Record<string, number> = {};
  for (const result of results) {
    for (const [reason, n] of Object.entries(result.failures)) {
      failures[reason] = (failures[reason] ?? 0) + n;
    }
  }
  return {
    connected: results.reduce((sum, r) => sum + r.connected, 0),
    seconds: Math.max(...results.map((r) => r.ms)) / 1000,
    failures,
    upP50Ms: round(percentile(up, 50), 0),
    upP99Ms: round(percentile(up, 99), 0),
  };
}

export const failureCount = (failures: Record<string, number>) =>
  Object.values(failures).reduce((sum, n) => sum + n, 0);

/** Connects every worker's next `share(size)` boxes, 100 CONNECTs in flight per process. */
export async function connectAll(
  workers: FleetWorker[],
  perWorker: number,
): Promise<ConnectSummary> {
  return summarise(
    await Promise.all(
      workers.map((w) =>
        w.request({ type: 'connect', count: perWorker, concurrency: 100 }, 'connected', 900_000),
      ),
    ),
  );
}

export type ConsoleSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export async function login(httpUrl: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200) throw new Error(`login of ${username}: HTTP ${response.status}`);
  return ((await response.json()) as LoginResponse).accessToken;
}

/** A county reader's console: when each case reached its worklist (epoch ms). */
export async function connectReader(
  httpUrl: string,
  token: string,
  listedAt: Map<string, number>,
): Promise<ConsoleSocket> {
  const socket: ConsoleSocket = io(httpUrl, {
    path: '/socket.io',
    auth: { token },
    transports: ['websocket'],
    autoConnect: false,
  });
  socket.on('worklist.case-added', (summary) => {
    if (!listedAt.has(summary.id)) listedAt.set(summary.id, epochNow());
  });
  const ready = new Promise<void>((done, fail) => {
    socket.once('session.ready', () => done());
    socket.once('connect_error', fail);
  });
  socket.connect();
  await ready;
  return socket;
}

/**
 * What the relay logged (warnings and worse), counted by message and error, and whether it
 * exited during the run, with the end of its log then: a collapse is explained here.
 */
export async function relayLogSummary(relay: RelayProcess): Promise<Record<string, unknown>> {
  const text = await readFile(relay.logFile, 'utf8').catch(() => '');
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let key: string;
    try {
      const entry = JSON.parse(line) as { msg?: string; err?: unknown };
      key = `${entry.msg ?? ''}${typeof entry.err === 'string' ? `: ${entry.err}` : ''}`;
    } catch {
      key = `(text) ${line.slice(0, 100)}`;
    }
    counts[key] = (counts[key] ?? 0) + 1;
  }
  const { exitCode, signalCode } = relay.child;
  const exited = exitCode !== null || signalCode !== null;
  if (exited) log(`RELAY EXITED during the run (${exitCode ?? signalCode}): see the details`);
  return {
    messages: counts,
    exitedDuringRun: exited ? String(exitCode ?? signalCode) : null,
    ...(exited && { logTail: text.split('\n').slice(-30).join('\n') }),
  };
}

/** Writes JSON as the repository's Prettier would (so `npm run lint` stays clean), atomically. */
export async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  let text = `${JSON.stringify(value, null, 2)}\n`;
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(file)) ?? {};
    text = await prettier.format(text, { ...config, filepath: file });
  } catch {
    // Prettier is a dev dependency; without it the plain JSON is just as valid.
  }
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
}

/** The machine a run measured on, as every result file names it. */
export function describeMachine() {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memoryGb: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    loadAverageAtStart: loadAverage(),
    commit: (() => {
      try {
        return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
          cwd: REPO_ROOT,
          encoding: 'utf8',
        }).trim();
      } catch {
        return null;
      }
    })(),
  };
}
