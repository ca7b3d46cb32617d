/**
 * `npm run bench:fleet`: a whole region's boxes on one relay (bench/README.md, "Fleet
 * benchmark"). One relay process on PostgreSQL, --boxes boxes (default 10,000) registered
 * through a REGION_FILE with their own random 256-bit secrets, each connecting from its own
 * loopback address, in three phases:
 * - rest: all connected and idle: the relay's RSS per box (after a forced GC) and its CPU;
 * - storm: every link cut at once, every box back at once: seconds until all are up, connects/s,
 *   failed attempts; the same against Mosquitto with a password file, in the same run;
 * - burst: --burst-per-min whole 10-second 12-lead recordings a minute over the connected boxes
 *   for --burst-minutes: stored-ack and box → county worklist latencies, recordings lost, CPU.
 * Prints a table, writes bench/results/fleet.json (rows) and fleet-details.json.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  freePort,
  keepTempDirs,
  killEverything,
  launchRelay,
  mosquittoInstalled,
  REPO_ROOT,
  runBenchmark,
  stopProcess,
  trackChild,
  waitForPort,
  trackTempDir,
  type RelayProcess,
} from './brokers.js';
import type { BurstResult, RecordingTimes } from './fleet-worker.js';
import { collectGarbageAndMeasure } from './inspector.js';
import { formatProfileSummary, summariseProfile } from './profile-summary.js';
import {
  cpuPercent,
  loadAverage,
  processTree,
  sampleTree,
  totalRss,
  type TreeSample,
} from './proc.js';
import {
  describeMachine,
  connectAll,
  connectReader,
  ensureOpenFiles,
  epochNow,
  failureCount,
  generateRegion,
  log,
  login,
  relayLogSummary,
  startPostgres,
  startWorkers,
  summarise,
  writeJson,
  type ConsoleSocket,
  type FleetWorker,
  type Region,
} from './region.js';
import { formatTable, percentile, round, optionNumber } from './stats.js';

const USAGE = `npm run bench:fleet -- [options]

  --boxes 10000          boxes in the region (one relay; each box from its own 127.x address)
  --burst-minutes 5      length of the morning burst
  --burst-per-min 1000   recordings a minute in the burst (10 s, 12 leads each)
  --rest-seconds 30      how long the relay's CPU at rest is measured
  --storm-deadline 180   seconds a box keeps trying to come back in the storm
  --workers N            load-generator processes (default: one per 2,500 boxes, at least 2)
  --brokers relay,mosquitto
  --database-url URL     a PostgreSQL server (a role that may create databases); default
                         DATABASE_URL, else a throwaway cluster (initdb) in the temp directory
  --profile-dir DIR      run the relay under node --cpu-prof, the profile and its summary in DIR
  --keep-temp            keep the temp directory (relay log, region file)
  --out bench/results/fleet.json
`;

const SETTLE_MS = 3_000;

type Broker = 'relay' | 'mosquitto';

interface Options {
  boxes: number;
  burstMinutes: number;
  burstPerMin: number;
  restSeconds: number;
  stormDeadlineSeconds: number;
  workers: number;
  brokers: Broker[];
  databaseUrl: string | undefined;
  keepTemp: boolean;
  profileDir: string | undefined;
  out: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      boxes: { type: 'string', default: '10000' },
      'burst-minutes': { type: 'string', default: '5' },
      'burst-per-min': { type: 'string', default: '1000' },
      'rest-seconds': { type: 'string', default: '30' },
      'storm-deadline': { type: 'string', default: '180' },
      workers: { type: 'string' },
      brokers: { type: 'string', default: 'relay,mosquitto' },
      'database-url': { type: 'string' },
      'keep-temp': { type: 'boolean', default: false },
      'profile-dir': { type: 'string' },
      out: { type: 'string', default: 'bench/results/fleet.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const boxes = Math.round(optionNumber('boxes', values.boxes, 10, 60_000));
  const brokers = values.brokers.split(',').map((b) => b.trim());
  for (const broker of brokers) {
    if (broker !== 'relay' && broker !== 'mosquitto') throw new Error(`unknown broker ${broker}`);
  }
  return {
    boxes,
    burstMinutes: optionNumber('burst-minutes', values['burst-minutes'], 0, 120),
    burstPerMin: optionNumber('burst-per-min', values['burst-per-min'], 1, 60_000),
    restSeconds: optionNumber('rest-seconds', values['rest-seconds'], 1, 3600),
    stormDeadlineSeconds: optionNumber('storm-deadline', values['storm-deadline'], 10, 3600),
    workers: values.workers
      ? Math.round(optionNumber('workers', values.workers, 1, 64))
      : Math.max(2, Math.ceil(boxes / 2500)),
    brokers: brokers as Broker[],
    databaseUrl: values['database-url'] ?? process.env['DATABASE_URL'],
    keepTemp: values['keep-temp'],
    profileDir: values['profile-dir'] && resolve(values['profile-dir']),
    out: resolve(REPO_ROOT, values.out),
  };
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

// ── measuring the broker ─────────────────────────────────────────────────────────────

interface Measured {
  pid: number;
  inspectorUrl: string | null;
}

/** The broker tree's RSS after a full GC (Node brokers), in bytes. */
async function idleRss(broker: Measured): Promise<number> {
  if (broker.inspectorUrl) await collectGarbageAndMeasure(broker.inspectorUrl).catch(() => null);
  return totalRss(sampleTree(processTree(broker.pid)));
}

function cpuBetween(from: TreeSample, to: TreeSample): number | null {
  return round(cpuPercent(from, to).total, 0);
}

export interface FleetRow {
  broker: Broker;
  phase: 'rest' | 'storm' | 'burst';
  boxes: number;
  seconds: number | null;
  connectsPerSec: number | null;
  rssPerBoxKb: number | null;
  p50StoredAckMs: number | null;
  p99StoredAckMs: number | null;
  p50BoxToWorklistMs: number | null;
  p99BoxToWorklistMs: number | null;
  lost: number | null;
  /** Broker process tree (relay: Node and its redis-server), 100 = one core. */
  cpuPercent: number | null;
}

function row(broker: Broker, phase: FleetRow['phase'], fields: Partial<FleetRow>): FleetRow {
  return {
    broker,
    phase,
    boxes: 0,
    seconds: null,
    connectsPerSec: null,
    rssPerBoxKb: null,
    p50StoredAckMs: null,
    p99StoredAckMs: null,
    p50BoxToWorklistMs: null,
    p99BoxToWorklistMs: null,
    lost: null,
    cpuPercent: null,
    ...fields,
  };
}

/** rest and storm, the same for every broker. */
async function restAndStorm(
  kind: Broker,
  broker: Measured,
  workers: FleetWorker[],
  options: Options,
  extraPids: () => number[],
  rows: FleetRow[],
  details: Record<string, unknown>,
): Promise<void> {
  const perWorker = Math.ceil(options.boxes / workers.length);
  await sleep(SETTLE_MS);
  // Two stages: the first tenth pays one-time costs (code loaded, heaps grown); the memory
  // per idle box is the growth over the second stage, per box.
  log(`${kind}: connecting ${options.boxes} boxes (${workers.length} load processes)`);
  const first = await connectAll(workers, Math.ceil(perWorker / 10));
  await sleep(SETTLE_MS);
  const warm = await idleRss(broker);
  const second = await connectAll(workers, perWorker);
  await sleep(SETTLE_MS);
  const idle = await idleRss(broker);
  const connected = first.connected + second.connected;
  log(
    `${kind}: ${connected} connected in ${round(first.seconds + second.seconds, 1)} s ` +
      `(${failureCount(first.failures) + failureCount(second.failures)} failed attempts)`,
  );
  if (connected === 0)
    throw new Error(`no box could connect to ${kind}: ${JSON.stringify(second.failures)}`);
  const pids = () => [...processTree(broker.pid), ...extraPids()];
  const restStart = sampleTree(pids());
  await sleep(options.restSeconds * 1000);
  const restEnd = sampleTree(pids());
  const rssPerBoxKb = round((idle - warm) / Math.max(1, second.connected) / 1024, 1);
  rows.push(
    row(kind, 'rest', {
      boxes: connected,
      seconds: options.restSeconds,
      rssPerBoxKb,
      cpuPercent: cpuBetween(restStart, restEnd),
    }),
  );
  details[`${kind}.rest`] = {
    connect: { first, second },
    rssMbAfterFirstTenth: round(warm / 2 ** 20),
    rssMbAllConnected: round(idle / 2 ** 20),
    secondStageBoxes: second.connected,
    cpuByProcess: Object.fromEntries(
      [...cpuPercent(restStart, restEnd).perPid].map(([pid, pct]) => [pid, round(pct, 1)]),
    ),
  };
  log(`${kind} rest: ${rssPerBoxKb} KB per idle box, CPU ${cpuBetween(restStart, restEnd)} %`);

  log(`${kind}: storm: every link cut at once, every box back at once`);
  const stormStart = sampleTree(pids());
  const storm = summarise(
    await Promise.all(
      workers.map((w) =>
        w.request(
          { type: 'storm', deadlineMs: options.stormDeadlineSeconds * 1000 },
          'connected',
          options.stormDeadlineSeconds * 1000 + 60_000,
        ),
      ),
    ),
  );
  const stormEnd = sampleTree(pids());
  rows.push(
    row(kind, 'storm', {
      boxes: storm.connected,
      seconds: round(storm.seconds, 2),
      connectsPerSec: round(storm.connected / storm.seconds, 0),
      cpuPercent: cpuBetween(stormStart, stormEnd),
    }),
  );
  details[`${kind}.storm`] = {
    ...storm,
    boxesBefore: connected,
    refusedOrFailedAttempts: failureCount(storm.failures),
  };
  log(
    `${kind} storm: ${storm.connected}/${connected} back in ${round(storm.seconds, 2)} s, ` +
      `${failureCount(storm.failures)} failed attempts ${JSON.stringify(storm.failures)}`,
  );
}

// ── the relay ───────────────────────────────────────────────────────────────────────

async function runRelay(
  options: Options,
  workDir: string,
  region: Region,
  rows: FleetRow[],
  details: Record<string, unknown>,
): Promise<void> {
  const postgres = await startPostgres(workDir, options.databaseUrl);
  let relay: RelayProcess | undefined;
  const sockets: ConsoleSocket[] = [];
  let workers: FleetWorker[] = [];
  try {
    const regionFile = join(workDir, 'region.json');
    await writeFile(regionFile, JSON.stringify(region.file));
    const dataDir = join(workDir, 'relay');
    await mkdir(dataDir, { recursive: true });
    log(`relay: starting on PostgreSQL, seeding ${options.boxes} boxes from a REGION_FILE`);
    const started = performance.now();
    relay = await launchRelay(dataDir, {
      profileDir: options.profileDir,
      env: {
        DEMO: 'false',
        REGION_FILE: regionFile,
        DATABASE_URL: postgres.url,
        PATIENT_ID_HMAC_KEY: randomBytes(32).toString('base64'),
        PATIENT_ID_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      },
      readyTimeoutMs: 900_000,
    });
    details['relay.startSeconds'] = round((performance.now() - started) / 1000, 1);
    const httpUrl = `http://127.0.0.1:${relay.httpPort}`;
    log(`relay ready in ${details['relay.startSeconds']} s`);
    const measured = { pid: relay.child.pid!, inspectorUrl: relay.inspectorUrl };
    const postgresPids = () => (postgres.pid ? processTree(postgres.pid) : []);

    const listedAt = new Map<string, number>();
    for (const reader of region.readers) {
      const token = await login(httpUrl, reader.username, reader.password);
      sockets.push(await connectReader(httpUrl, token, listedAt));
    }
    log(`${sockets.length} county readers connected`);

    workers = await startWorkers(
      `mqtt://127.0.0.1:${relay.mqttPort}`,
      'relay',
      region.devices,
      options.workers,
    );
    await restAndStorm('relay', measured, workers, options, () => [], rows, details);

    if (options.burstMinutes > 0) {
      const seconds = options.burstMinutes * 60;
      log(
        `relay burst: ${options.burstPerMin} recordings/min for ${options.burstMinutes} min ` +
          `over ${options.boxes} boxes`,
      );
      const relayPids = () => processTree(measured.pid);
      const startRelayCpu = sampleTree(relayPids());
      const startPgCpu = sampleTree(postgresPids());
      const firstAt = epochNow() + 2_000;
      const perWorker = options.burstPerMin / workers.length;
      const results: BurstResult[] = await Promise.all(
        workers.map((w, i) =>
          w.request(
            {
              type: 'burst',
              perMinute: perWorker,
              firstAtEpochMs: firstAt + (i * 60_000) / options.burstPerMin,
              seconds,
              drainMs: 60_000,
            },
            'burst-done',
            (seconds + 180) * 1000,
          ),
        ),
      );
      const endRelayCpu = sampleTree(relayPids());
      const endPgCpu = sampleTree(postgresPids());
      const recordings: RecordingTimes[] = results.flatMap((r) => r.recordings);
      // The worklist event may trail the box's complete ack a little.
      const deadline = performance.now() + 10_000;
      const listed = (r: RecordingTimes) => r.caseId !== null && listedAt.has(r.caseId);
      while (
        recordings.some((r) => r.completeAt !== null && !listed(r)) &&
        performance.now() < deadline
      ) {
        await sleep(100);
      }
      const sorted = (values: number[]) => Float64Array.from(values).sort();
      const storedAck = sorted(
        recordings.filter((r) => r.storedAt !== null).map((r) => r.storedAt! - r.lastChunkAt),
      );
      const complete = sorted(
        recordings.filter((r) => r.completeAt !== null).map((r) => r.completeAt! - r.lastChunkAt),
      );
      const toWorklist = sorted(
        recordings.filter(listed).map((r) => listedAt.get(r.caseId!)! - r.openAt),
      );
      const lost = recordings.filter((r) => r.completeAt === null).length;
      const errors: Record<string, number> = {};
      for (const result of results) {
        for (const [code, n] of Object.entries(result.errors))
          errors[code] = (errors[code] ?? 0) + n;
      }
      rows.push(
        row('relay', 'burst', {
          boxes: options.boxes,
          seconds,
          p50StoredAckMs: round(percentile(storedAck, 50), 0),
          p99StoredAckMs: round(percentile(storedAck, 99), 0),
          p50BoxToWorklistMs: round(percentile(toWorklist, 50), 0),
          p99BoxToWorklistMs: round(percentile(toWorklist, 99), 0),
          lost,
          cpuPercent: cpuBetween(startRelayCpu, endRelayCpu),
        }),
      );
      details['relay.burst'] = {
        recordingsSent: recordings.length,
        recordingsComplete: complete.length,
        completeButNotListed: recordings.filter((r) => r.completeAt !== null && !listed(r)).length,
        lastChunkToCompleteMs: {
          p50: round(percentile(complete, 50), 0),
          p99: round(percentile(complete, 99), 0),
        },
        maxStoredAckMs: round(percentile(storedAck, 100), 0),
        maxBoxToWorklistMs: round(percentile(toWorklist, 100), 0),
        relayErrors: errors,
        resentChunks: {
          afterMissing: results.reduce((sum, r) => sum + r.resentChunks.missing, 0),
          afterError: results.reduce((sum, r) => sum + r.resentChunks.error, 0),
          afterTimeout: results.reduce((sum, r) => sum + r.resentChunks.timeout, 0),
        },
        boxDisconnects: results.reduce((sum, r) => sum + r.disconnects, 0),
        postgresCpuPercent: cpuBetween(startPgCpu, endPgCpu),
      };
      log(`relay burst: ${JSON.stringify(details['relay.burst'])}`);
    }
  } finally {
    if (relay) details['relay.log'] = await relayLogSummary(relay);
    for (const socket of sockets) socket.disconnect();
    await Promise.all(
      workers.map((w) =>
        w.request({ type: 'disconnect' }, 'disconnected', 60_000).catch(() => undefined),
      ),
    );
    for (const worker of workers) worker.kill();
    if (relay) await stopProcess(relay.child);
    await postgres.stop();
    if (options.profileDir) await summariseRelayProfile(options.profileDir);
  }
}

/** The newest .cpuprofile in the directory, summarised beside it (profile-summary.ts). */
async function summariseRelayProfile(dir: string): Promise<void> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  const newest = files.at(-1);
  if (!newest) return log(`no CPU profile in ${dir}`);
  const summary = formatProfileSummary(
    await summariseProfile(join(dir, newest)),
    'relay CPU profile, fleet benchmark (start, rest, storm, burst, stop)',
  );
  await writeFile(join(dir, `${newest}.txt`), summary);
  log(`relay profile summary: ${join(dir, `${newest}.txt`)}`);
}

// ── Mosquitto ───────────────────────────────────────────────────────────────────────

/** Debian's mosquitto with a password file of the same boxes (mosquitto_passwd hashes it). */
async function runMosquitto(
  options: Options,
  workDir: string,
  region: Region,
  rows: FleetRow[],
  details: Record<string, unknown>,
): Promise<void> {
  const dir = join(workDir, 'mosquitto');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(workDir, 0o755);
  const passwordFile = join(dir, 'passwords');
  await writeFile(
    passwordFile,
    region.devices.map((device) => `${device.id}:${device.secret}\n`).join(''),
    { mode: 0o644 },
  );
  const hashed = spawnSync('mosquitto_passwd', ['-U', passwordFile], { encoding: 'utf8' });
  if (hashed.status !== 0) throw new Error(`mosquitto_passwd -U failed: ${hashed.stderr}`);
  await chmod(passwordFile, 0o644);
  const port = await freePort();
  const configFile = join(dir, 'mosquitto.conf');
  await writeFile(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwordFile}`,
      'persistence false',
      'log_dest none',
      '',
    ].join('\n'),
  );
  const child = trackChild(
    spawn('mosquitto', ['-c', configFile], { stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  let workers: FleetWorker[] = [];
  try {
    await waitForPort(port, child, 30_000);
    workers = await startWorkers(
      `mqtt://127.0.0.1:${port}`,
      'plain',
      region.devices,
      options.workers,
    );
    await restAndStorm(
      'mosquitto',
      { pid: child.pid!, inspectorUrl: null },
      workers,
      options,
      () => [],
      rows,
      details,
    );
  } finally {
    await Promise.all(
      workers.map((w) =>
        w.request({ type: 'disconnect' }, 'disconnected', 60_000).catch(() => undefined),
      ),
    );
    for (const worker of workers) worker.kill();
    await stopProcess(child);
  }
}

// ── main ────────────────────────────────────────────────────────────────────────────

const HEADERS = [
  'broker',
  'phase',
  'boxes',
  'seconds',
  'connects/s',
  'RSS/box KB',
  'p50 stored-ack ms',
  'p99 stored-ack ms',
  'p50 box→worklist ms',
  'p99 box→worklist ms',
  'lost',
  'CPU %',
];

function cells(r: FleetRow): (string | number | null)[] {
  return [
    r.broker,
    r.phase,
    r.boxes,
    r.seconds,
    r.connectsPerSec,
    r.rssPerBoxKb,
    r.p50StoredAckMs,
    r.p99StoredAckMs,
    r.p50BoxToWorklistMs,
    r.p99BoxToWorklistMs,
    r.lost,
    r.cpuPercent,
  ];
}

function verdicts(rows: FleetRow[], boxes: number): string[] {
  const find = (broker: Broker, phase: FleetRow['phase']) =>
    rows.find((r) => r.broker === broker && r.phase === phase);
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const lines: string[] = [];
  const rest = find('relay', 'rest');
  if (rest?.rssPerBoxKb != null) {
    lines.push(
      `rest: ${rest.rssPerBoxKb} KB per idle box (≤ 20 KB: ${met(rest.rssPerBoxKb <= 20)})`,
    );
  }
  const storm = find('relay', 'storm');
  const mosquitto = find('mosquitto', 'storm');
  if (storm?.seconds != null) {
    const all = storm.boxes === boxes;
    const ratio =
      mosquitto?.connectsPerSec && storm.connectsPerSec
        ? storm.connectsPerSec / mosquitto.connectsPerSec
        : null;
    lines.push(
      `storm: ${storm.boxes}/${boxes} back in ${storm.seconds} s (all within 60 s: ${met(all && storm.seconds <= 60)}); ` +
        `connects/s relay/Mosquitto ${ratio === null ? '– (no Mosquitto row)' : `${ratio.toFixed(2)}× (≥ 0.5×: ${met(ratio >= 0.5)})`}`,
    );
  }
  const burst = find('relay', 'burst');
  if (burst) {
    lines.push(
      `burst: p99 stored-ack ${burst.p99StoredAckMs ?? '–'} ms (≤ 250: ${met((burst.p99StoredAckMs ?? Infinity) <= 250)}), ` +
        `p99 box→worklist ${burst.p99BoxToWorklistMs ?? '–'} ms (≤ 1000: ${met((burst.p99BoxToWorklistMs ?? Infinity) <= 1000)}), ` +
        `lost ${burst.lost} (0: ${met(burst.lost === 0)})`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  ensureOpenFiles(options.boxes);
  if (options.brokers.includes('mosquitto') && !(await mosquittoInstalled())) {
    log(
      'MOSQUITTO IS NOT INSTALLED (apt-get install -y mosquitto): its storm row and the ratio are skipped',
    );
    options.brokers = options.brokers.filter((b) => b !== 'mosquitto');
  }
  const budgetMs =
    30 * 60_000 +
    options.burstMinutes * 60_000 +
    options.brokers.length * (options.restSeconds + 2 * options.stormDeadlineSeconds) * 1000;
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${Math.round(budgetMs / 1000)} s, stopping everything`);
    killEverything();
    process.exit(1);
  }, budgetMs);
  watchdog.unref();

  const workDir = await mkdtemp(join(tmpdir(), 'telerelay-bench-fleet-'));
  trackTempDir(workDir);
  keepTempDirs(options.keepTemp);
  const machine = describeMachine();
  log(
    `${options.boxes} boxes${options.boxes < 10_000 ? ' (FEWER THAN THE 10,000 OF THE TARGETS)' : ''}, ` +
      `${options.workers} load processes, brokers ${options.brokers.join(', ')}; ` +
      `${machine.cores} cores, load average ${machine.loadAverageAtStart}`,
  );
  const region = generateRegion(options.boxes);
  const rows: FleetRow[] = [];
  const details: Record<string, unknown> = {
    options: { ...options, databaseUrl: options.databaseUrl ? 'given' : 'throwaway cluster' },
    machine,
  };
  const detailsFile = options.out.replace(/\.json$/, '-details.json');
  for (const broker of options.brokers) {
    try {
      if (broker === 'relay') await runRelay(options, workDir, region, rows, details);
      else await runMosquitto(options, workDir, region, rows, details);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`${broker}: FAILED: ${message}`);
      details[`${broker}.failed`] = message;
    }
    await writeJson(options.out, rows);
    await writeJson(detailsFile, { ...details, loadAverageAtEnd: loadAverage() });
  }
  process.stdout.write(
    `\n${options.boxes} boxes${options.boxes < 10_000 ? ` (--boxes ${options.boxes}: fewer than the targets' 10,000)` : ''}\n`,
  );
  process.stdout.write(`${formatTable(HEADERS, rows.map(cells))}\n\n`);
  for (const line of verdicts(rows, options.boxes)) process.stdout.write(`${line}\n`);
  process.stdout.write(`\nrows: ${options.out}\ndetails: ${detailsFile}\n`);
}

runBenchmark(main, log);
