/**
 * `npm run bench:ingest`: Telerelay's ingest against plain Aedes and Mosquitto under the
 * same simulated load (bench/README.md). For each device count and each broker: start the
 * broker fresh, connect the boxes (idle memory per connection), stream 12-lead ECG chunks
 * for --seconds, drain, stop. Prints a table and writes bench/results/ingest.json.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile, mkdir, access } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  BROKER_KINDS,
  buildRelaySnapshot,
  dropBenchDatabases,
  keepTempDirs,
  killEverything,
  runBenchmark,
  mosquittoInstalled,
  prepareRelayTemplate,
  REPO_ROOT,
  startAedes,
  startMosquitto,
  startRelay,
  trackChild,
  trackTempDir,
  type BrokerKind,
  type DeviceHash,
  type RelayStore,
  type RelayTemplate,
  type RunningBroker,
} from './brokers.js';
import type {
  BenchDevice,
  ConnectReport,
  FromWorker,
  RunReport,
  ToWorker,
  WorkerConfig,
} from './load-protocol.js';
import {
  cpuPercent,
  loadAverage,
  machineBusyPercent,
  machineCpu,
  processName,
  processTree,
  sampleTree,
  totalRss,
  type MachineSample,
  type TreeSample,
} from './proc.js';
import { collectGarbageAndMeasure, type NodeMemory } from './inspector.js';
import { formatProfileSummary, summariseProfile } from './profile-summary.js';
import { formatTable, optionNumber, percentile, round, sortedConcat } from './stats.js';
import { WorkerChannel } from './worker-channel.js';
import { writeJson } from './region.js';

const CHUNK_SAMPLES = 20;
const SAMPLE_RATE_HZ = 500;
const CHUNKS_PER_SECOND = SAMPLE_RATE_HZ / CHUNK_SAMPLES;
const SETTLE_BEFORE_MS = 2_000;
const SETTLE_IDLE_MS = 3_000;

const USAGE = `npm run bench:ingest -- [options]

  --devices 100,300,1000   boxes per step (each streams 25 chunks/s of 12-lead ECG)
  --seconds 30             measured window per step
  --warmup 3               seconds of load before the window (not measured)
  --drain 15               seconds to wait for outstanding acknowledgements
  --brokers relay,aedes,mosquitto
  --workers 2              load-generator processes
  --connect-concurrency 50 CONNECTs in flight per load-generator process
  --device-hash production production | legacy: the bench boxes' secrets as the relay stores
                           them, or as argon2id from before (upgraded at the first CONNECT)
  --storm 32               boxes for the relay connect-storm check (production hashes); 0 = skip
  --recording-seconds 10   length of each recording (closed, then the next one opens)
  --database-url <url>     run the relay on this PostgreSQL server (a fresh database per step,
                           created and dropped by the benchmark) instead of embedded PGlite
  --profile                run the relay with node --cpu-prof and summarise each profile
  --no-retries             do not resend what the relay refuses as retryable
  --keep-temp              keep the temporary data directories (relay logs, databases)
  --relay-ref <commit>     measure the relay of this git commit (built apart) instead of dist/
  --out bench/results/ingest.json
`;

interface Options {
  devices: number[];
  seconds: number;
  warmup: number;
  drain: number;
  brokers: BrokerKind[];
  workers: number;
  connectConcurrency: number;
  deviceHash: DeviceHash;
  storm: number;
  recordingSeconds: number;
  profile: boolean;
  retries: boolean;
  keepTemp: boolean;
  relayRef: string | undefined;
  store: RelayStore;
  out: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    allowNegative: true,
    options: {
      devices: { type: 'string', default: '100,300,1000' },
      seconds: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '3' },
      drain: { type: 'string', default: '15' },
      brokers: { type: 'string', default: BROKER_KINDS.join(',') },
      workers: { type: 'string', default: '2' },
      'connect-concurrency': { type: 'string', default: '50' },
      'device-hash': { type: 'string', default: 'production' },
      storm: { type: 'string', default: '32' },
      'recording-seconds': { type: 'string', default: '10' },
      profile: { type: 'boolean', default: false },
      retries: { type: 'boolean', default: true },
      'keep-temp': { type: 'boolean', default: false },
      'relay-ref': { type: 'string' },
      'database-url': { type: 'string' },
      out: { type: 'string', default: 'bench/results/ingest.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const positive = (name: string, text: string, min = 1, max = 1e6): number =>
    optionNumber(name, text, min, max);
  const devices = values.devices
    .split(',')
    .filter(Boolean)
    .map((n) => Math.round(positive('devices', n, 1, 20_000)));
  const brokers = values.brokers.split(',').filter(Boolean);
  for (const broker of brokers) {
    if (!BROKER_KINDS.includes(broker as BrokerKind)) {
      throw new Error(`--brokers: unknown broker ${broker} (${BROKER_KINDS.join(', ')})`);
    }
  }
  const deviceHash = values['device-hash'];
  if (deviceHash !== 'legacy' && deviceHash !== 'production') {
    throw new Error('--device-hash must be production or legacy');
  }
  const recordingSeconds = positive('recording-seconds', values['recording-seconds'], 0.04, 300);
  return {
    devices,
    seconds: positive('seconds', values.seconds, 1, 3600),
    warmup: positive('warmup', values.warmup, 0, 600),
    drain: positive('drain', values.drain, 0, 600),
    brokers: brokers as BrokerKind[],
    workers: Math.round(positive('workers', values.workers, 1, 64)),
    connectConcurrency: Math.round(
      positive('connect-concurrency', values['connect-concurrency'], 1, 5000),
    ),
    deviceHash,
    storm: Math.round(positive('storm', values.storm, 0, 1000)),
    recordingSeconds,
    profile: values.profile,
    retries: values.retries,
    keepTemp: values['keep-temp'],
    relayRef: values['relay-ref'],
    store: values['database-url']
      ? { kind: 'postgres', serverUrl: values['database-url'] }
      : { kind: 'pglite' },
    out: resolve(REPO_ROOT, values.out),
  };
}

function log(message: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function mergeCounts(parts: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const part of parts) {
    for (const [key, count] of Object.entries(part)) total[key] = (total[key] ?? 0) + count;
  }
  return total;
}

// ── load-generator workers ────────────────────────────────────────────────────────

class LoadWorker extends WorkerChannel<ToWorker, FromWorker> {
  private constructor(
    child: ChildProcess,
    readonly size: number,
  ) {
    super(child, 'load worker');
  }

  static async start(config: WorkerConfig): Promise<LoadWorker> {
    const child = trackChild(
      fork(join(import.meta.dirname, 'load-worker.js'), [JSON.stringify(config)], {
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        execArgv: [],
      }),
    );
    const worker = new LoadWorker(child, config.devices.length);
    await worker.next('ready', 30_000);
    return worker;
  }
}

async function connectStage(
  workers: LoadWorker[],
  count: (worker: LoadWorker) => number,
  timeoutMs: number,
): Promise<ConnectReport[]> {
  return Promise.all(
    workers.map((w) => w.request({ type: 'connect', count: count(w) }, 'connected', timeoutMs)),
  );
}

async function startWorkers(
  broker: RunningBroker,
  devices: BenchDevice[],
  options: Options,
  overrides: Partial<WorkerConfig> = {},
): Promise<LoadWorker[]> {
  const count = Math.max(1, Math.min(options.workers, devices.length));
  const slices: BenchDevice[][] = Array.from({ length: count }, () => []);
  devices.forEach((device, i) => slices[i % count]!.push(device));
  return Promise.all(
    slices.map((slice) =>
      LoadWorker.start({
        brokerUrl: broker.url,
        ackMode: broker.ackMode,
        devices: slice,
        totalDevices: devices.length,
        connectConcurrency: options.connectConcurrency,
        connectTimeoutMs: 60_000,
        chunkSamples: CHUNK_SAMPLES,
        sampleRateHz: SAMPLE_RATE_HZ,
        recordingSeconds: options.recordingSeconds,
        retries: options.retries,
        ...overrides,
      }),
    ),
  );
}

// ── one step: one broker, one device count ───────────────────────────────────────────

export interface IngestRow {
  broker: BrokerKind;
  devices: number;
  chunksPerSec: number | null;
  p50AckMs: number | null;
  p99AckMs: number | null;
  /** null when the step itself failed (see the details file). */
  lost: number | null;
  cpuPercent: number | null;
  rssMb: number | null;
  rssPerIdleConnKb: number | null;
}

interface StepResult {
  row: IngestRow;
  detail: Record<string, unknown>;
}

interface Context {
  options: Options;
  workDir: string;
  template: RelayTemplate | undefined;
}

async function startBroker(
  kind: BrokerKind,
  devices: number,
  ctx: Context,
): Promise<RunningBroker> {
  switch (kind) {
    case 'relay':
      return startRelay(ctx.template!, ctx.workDir, ctx.template!.devices.slice(0, devices), {
        profile: ctx.options.profile,
        label: `n${devices}`,
      });
    case 'aedes':
      return startAedes(devices);
    case 'mosquitto':
      return startMosquitto(ctx.workDir, devices);
  }
}

/** A sample of the broker tree, the load generators and the machine, taken at `atEpochMs`. */
function sampleAt(
  atEpochMs: number,
  brokerPid: number,
  workerPids: number[],
): Promise<{ broker: TreeSample; load: TreeSample; machine: MachineSample; loadAvg: number }> {
  return new Promise((done) =>
    setTimeout(
      () =>
        done({
          broker: sampleTree(processTree(brokerPid)),
          load: sampleTree(workerPids),
          machine: machineCpu(),
          loadAvg: loadAverage(),
        }),
      Math.max(0, atEpochMs - Date.now()),
    ),
  );
}

function mb(bytes: number): number {
  return bytes / (1024 * 1024);
}

/** Event-loop lag (ms) of a load process beyond which its timings are its own, not the broker's. */
const MAX_LOAD_LAG_MS = 100;

/**
 * Why a step measured the load generator rather than the broker, or null: its event loop
 * lagged (so publish and acknowledgement times are late by its own delays) or it could not
 * send the offered rate.
 */
function loadBoundReason(
  lagP99Ms: number,
  sentPerSec: number,
  offeredPerSec: number,
): string | null {
  const reasons: string[] = [];
  if (lagP99Ms > MAX_LOAD_LAG_MS) {
    reasons.push(
      `load-generator event-loop lag p99 ${Math.round(lagP99Ms)} ms > ${MAX_LOAD_LAG_MS} ms`,
    );
  }
  if (sentPerSec < 0.97 * offeredPerSec) {
    reasons.push(`sent ${Math.round(sentPerSec)} of ${offeredPerSec} chunks/s`);
  }
  return reasons.length > 0 ? reasons.join('; ') : null;
}

/**
 * The broker tree's RSS as it is, then (Node brokers) after a forced full GC through the
 * inspector, with the Node process's heap figures.
 */
async function idleSample(
  broker: RunningBroker,
): Promise<{ raw: number; afterGc: number; node: NodeMemory | null }> {
  const raw = totalRss(sampleTree(processTree(broker.pid)));
  if (!broker.inspectorUrl) return { raw, afterGc: raw, node: null };
  const node = await collectGarbageAndMeasure(broker.inspectorUrl).catch(() => null);
  return { raw, afterGc: totalRss(sampleTree(processTree(broker.pid))), node };
}

async function runStep(kind: BrokerKind, devices: number, ctx: Context): Promise<StepResult> {
  const { options } = ctx;
  log(`${kind} × ${devices} boxes: starting the broker`);
  const broker = await startBroker(kind, devices, ctx);
  const detail: Record<string, unknown> = { broker: kind, devices };
  try {
    await sleep(SETTLE_BEFORE_MS);
    const base = await idleSample(broker);
    const workers = await startWorkers(broker, broker.devices, options);
    try {
      log(`${kind} × ${devices}: connecting ${devices} boxes (${workers.length} load processes)`);
      const connectTimeout = 120_000 + devices * (options.deviceHash === 'legacy' ? 3_000 : 50);
      // Two stages: the first tenth pays one-time costs (code loaded, heap grown); the
      // memory per idle box is the growth from the second stage, per box.
      const first = await connectStage(workers, (w) => Math.ceil(w.size / 10), connectTimeout);
      await sleep(SETTLE_IDLE_MS);
      const warm = await idleSample(broker);
      const rest = await connectStage(workers, (w) => w.size, connectTimeout);
      const connects = [...first, ...rest];
      const connected = connects.reduce((sum, c) => sum + c.connected, 0);
      const failed = connects.reduce((sum, c) => sum + c.failed, 0);
      const connack = sortedConcat(connects.map((c) => c.connackMs));
      const stageSeconds = (stage: ConnectReport[]) => Math.max(...stage.map((c) => c.ms)) / 1000;
      detail['connect'] = {
        connected,
        failed,
        firstError: connects.find((c) => c.firstError)?.firstError ?? null,
        seconds: round(stageSeconds(first) + stageSeconds(rest), 2),
        connackP50Ms: round(percentile(connack, 50)),
        connackP99Ms: round(percentile(connack, 99)),
      };
      if (connected === 0)
        throw new Error(`no box could connect to ${kind}: ${connects[0]?.firstError}`);
      await sleep(SETTLE_IDLE_MS);
      const idle = await idleSample(broker);
      const secondStage = rest.reduce((sum, c) => sum + c.connected, 0);
      const perBox = (from: number, to: number) => round((to - from) / secondStage / 1024);
      const perIdleBox =
        secondStage > 0
          ? (idle.afterGc - warm.afterGc) / secondStage
          : (idle.afterGc - base.afterGc) / connected;
      detail['idle'] = {
        boxesInSecondStage: secondStage,
        rssMb: {
          before: round(mb(base.afterGc)),
          afterFirstTenth: round(mb(warm.afterGc)),
          allConnected: round(mb(idle.afterGc)),
        },
        kbPerBox: {
          rssAfterGc: round(perIdleBox / 1024),
          rssWithoutGc: perBox(warm.raw, idle.raw),
          ...(idle.node &&
            warm.node && {
              v8HeapUsed: perBox(warm.node.heapUsed, idle.node.heapUsed),
              external: perBox(warm.node.external, idle.node.external),
            }),
          rssFromNothingWithoutGc: round((idle.raw - base.raw) / connected / 1024),
        },
        forcedGc: broker.inspectorUrl !== null,
      };

      log(
        `${kind} × ${devices}: streaming ${options.warmup} s warm-up + ${options.seconds} s measured`,
      );
      const startAt = Date.now() + 1_000;
      const windowStartAt = startAt + options.warmup * 1000;
      const windowEndAt = windowStartAt + options.seconds * 1000;
      const workerPids = workers.map((w) => w.pid);
      const atStart = sampleAt(windowStartAt, broker.pid, workerPids);
      const atEnd = sampleAt(windowEndAt, broker.pid, workerPids);
      let peakRss = 0;
      const rssProbe = setInterval(() => {
        const now = Date.now();
        if (now < windowStartAt || now > windowEndAt) return;
        peakRss = Math.max(peakRss, totalRss(sampleTree(processTree(broker.pid))));
      }, 500);
      let reports: RunReport[];
      try {
        reports = await Promise.all(
          workers.map((w) =>
            w.request(
              {
                type: 'run',
                startAtEpochMs: startAt,
                warmupMs: options.warmup * 1000,
                windowMs: options.seconds * 1000,
                drainMs: options.drain * 1000,
              },
              'result',
              (options.warmup + options.seconds + options.drain) * 1000 + 60_000,
            ),
          ),
        );
      } finally {
        clearInterval(rssProbe);
      }
      const [start, end] = await Promise.all([atStart, atEnd]);
      const crashed = broker.exited();
      if (crashed) {
        detail['brokerExitedDuringStep'] = crashed;
        log(`${kind} × ${devices}: THE BROKER PROCESS ENDED DURING THE STEP (${crashed})`);
      }
      peakRss = Math.max(peakRss, totalRss(end.broker));
      const brokerCpu = cpuPercent(start.broker, end.broker);
      const loadCpu = cpuPercent(start.load, end.load);

      const sum = (key: keyof RunReport) =>
        reports.reduce((total, r) => total + (r[key] as number), 0);
      const latencies = sortedConcat(reports.map((r) => r.latencies));
      const pubacks = sortedConcat(reports.map((r) => r.pubackLatencies));
      const completes = sortedConcat(reports.map((r) => r.completeLatencies));
      const errors = mergeCounts(reports.map((r) => r.errors));
      const sent = sum('sent');
      const lost = sent - sum('acked');
      const row: IngestRow = {
        broker: kind,
        devices,
        chunksPerSec: round(sum('ackedDuringWindow') / options.seconds, 0),
        p50AckMs: round(percentile(latencies, 50)),
        p99AckMs: round(percentile(latencies, 99)),
        lost,
        // A broker that died during the window has no CPU figure for it.
        cpuPercent: crashed ? null : round(brokerCpu.total, 0),
        rssMb: round(mb(peakRss)),
        rssPerIdleConnKb: round(perIdleBox / 1024),
      };
      Object.assign(detail, {
        offeredChunksPerSec: devices * CHUNKS_PER_SECOND,
        // Robust to a busy machine: CPU time the broker spent per chunk it acknowledged.
        brokerCpuMsPerAckedChunk:
          !crashed && sum('ackedDuringWindow') > 0
            ? round(
                ((brokerCpu.total / 100) * options.seconds * 1000) / sum('ackedDuringWindow'),
                3,
              )
            : null,
        sentChunksPerSec: round(sum('sentInWindow') / options.seconds, 0),
        chunksSent: sent,
        chunksAcked: sum('acked'),
        windowChunksAcked: latencies.length,
        ackMs: {
          p50: row.p50AckMs,
          p90: round(percentile(latencies, 90)),
          p99: row.p99AckMs,
          p999: round(percentile(latencies, 99.9)),
          max: round(percentile(latencies, 100)),
        },
        ...(broker.ackMode === 'stored' && {
          relayPubackMs: {
            p50: round(percentile(pubacks, 50)),
            p99: round(percentile(pubacks, 99)),
          },
          recordings: {
            closed: sum('recordingsClosed'),
            completed: sum('recordingsCompleted'),
            closeToCompleteP50Ms: round(percentile(completes, 50)),
            closeToCompleteP99Ms: round(percentile(completes, 99)),
          },
          relayErrors: errors,
          boxRetries: {
            resentChunks: sum('resentChunks'),
            reopens: sum('reopens'),
            reCloses: sum('reCloses'),
          },
        }),
        disconnects: sum('disconnects'),
        disconnectReasons: mergeCounts(reports.map((r) => r.disconnectReasons)),
        drainSeconds: round(Math.max(...reports.map((r) => r.drainMs)) / 1000, 1),
        brokerCpuByProcess: Object.fromEntries(
          [...brokerCpu.perPid].map(([pid, pct]) => [`${processName(pid)}:${pid}`, round(pct, 0)]),
        ),
        brokerRssByProcessMb: Object.fromEntries(
          [...end.broker.rss].map(([pid, bytes]) => [
            `${processName(pid)}:${pid}`,
            round(mb(bytes)),
          ]),
        ),
        loadGenerator: {
          cpuPercent: round(loadCpu.total, 0),
          loopDelayP99Ms: round(Math.max(...reports.map((r) => r.loopDelayP99Ms))),
          loopDelayMaxMs: round(Math.max(...reports.map((r) => r.loopDelayMaxMs))),
          maxScheduleLagMs: round(Math.max(...reports.map((r) => r.maxScheduleLagMs))),
        },
        loadBound: loadBoundReason(
          Math.max(...reports.map((r) => r.loopDelayP99Ms)),
          sum('sentInWindow') / options.seconds,
          devices * CHUNKS_PER_SECOND,
        ),
        machine: {
          busyPercentAllCores: round(machineBusyPercent(start.machine, end.machine), 0),
          loadAverage1m: end.loadAvg,
        },
      });
      if (kind === 'relay') detail['relay'] = await broker.diagnostics();
      await Promise.all(
        workers.map((w) =>
          w.request({ type: 'disconnect' }, 'disconnected', 20_000).catch(() => undefined),
        ),
      );
      return { row, detail };
    } finally {
      for (const worker of workers) worker.kill();
    }
  } finally {
    await broker.stop();
    if (kind === 'relay') detail['relayDatabase'] = broker.databaseCounts();
    const profilePath = await broker.profilePath();
    if (profilePath) {
      const summary = formatProfileSummary(
        await summariseProfile(profilePath),
        `relay CPU profile, ${devices} boxes (whole process lifetime: start, connect, load, drain, stop)`,
      );
      const file = join(dirname(options.out), `relay-profile-${devices}.txt`);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, summary);
      log(`relay profile summary: ${file}`);
    }
  }
}

/** The relay's CONNECT cost with the secrets as it really stores them (SecretHasher). */
async function runConnectStorm(ctx: Context): Promise<Record<string, unknown>> {
  const devices = ctx.template!.stormDevices;
  log(
    `relay connect storm: ${devices.length} boxes with secrets stored as the relay stores them, all at once`,
  );
  const broker = await startRelay(ctx.template!, ctx.workDir, devices, {
    profile: false,
    label: 'storm',
  });
  try {
    await sleep(SETTLE_BEFORE_MS);
    const base = sampleTree(processTree(broker.pid));
    const cpuBefore = base;
    const workers = await startWorkers(broker, devices, ctx.options, {
      connectConcurrency: devices.length,
      connectTimeoutMs: 600_000,
    });
    try {
      const connects = await connectStage(workers, (w) => w.size, 660_000);
      const after = sampleTree(processTree(broker.pid));
      const seconds = Math.max(...connects.map((c) => c.ms)) / 1000;
      const connack = sortedConcat(connects.map((c) => c.connackMs));
      const connected = connects.reduce((s, c) => s + c.connected, 0);
      return {
        boxes: devices.length,
        connected,
        failed: connects.reduce((s, c) => s + c.failed, 0),
        seconds: round(seconds, 2),
        connectsPerSecond: round(connected / seconds, 1),
        connackP50Ms: round(percentile(connack, 50), 0),
        connackMaxMs: round(percentile(connack, 100), 0),
        relayCpuPercentDuringStorm: round(cpuPercent(cpuBefore, after).total, 0),
        rssBeforeMb: round(mb(totalRss(base))),
        rssAfterMb: round(mb(totalRss(after))),
        secondsFor1000BoxesAtThisRate: round(1000 / (connected / seconds), 0),
      };
    } finally {
      for (const worker of workers) worker.kill();
    }
  } finally {
    await broker.stop();
  }
}

// ── main ─────────────────────────────────────────────────────────────────────────────

const HEADERS = [
  'broker',
  'devices',
  'chunks/s',
  'p50 ack ms',
  'p99 ack ms',
  'lost',
  'CPU %',
  'RSS MB',
  'RSS/idle conn KB',
];

function rowCells(row: IngestRow): (string | number | null)[] {
  return [
    row.broker,
    row.devices,
    row.chunksPerSec,
    row.p50AckMs,
    row.p99AckMs,
    row.lost,
    row.cpuPercent,
    row.rssMb,
    row.rssPerIdleConnKb,
  ];
}

function targets(rows: IngestRow[]): string[] {
  const lines: string[] = [];
  for (const relay of rows.filter((r) => r.broker === 'relay')) {
    const aedes = rows.find((r) => r.broker === 'aedes' && r.devices === relay.devices);
    const ratio =
      aedes?.chunksPerSec && relay.chunksPerSec !== null
        ? relay.chunksPerSec / aedes.chunksPerSec
        : null;
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const p99ok = relay.p99AckMs !== null && relay.p99AckMs <= 250 && relay.lost === 0;
    lines.push(
      `relay × ${relay.devices}: p99 stored-ack ${relay.p99AckMs ?? '–'} ms, lost ${relay.lost ?? '–'} ` +
        `(≤ 250 ms, 0 lost: ${verdict(p99ok)}); throughput ${ratio === null ? '–' : `${ratio.toFixed(2)}×`} plain Aedes ` +
        `(≥ 0.8×: ${ratio === null ? 'n/a' : verdict(ratio >= 0.8)}); ${relay.rssPerIdleConnKb ?? '–'} KB per idle box ` +
        `(≤ 20 KB: ${relay.rssPerIdleConnKb === null ? 'n/a' : verdict(relay.rssPerIdleConnKb <= 20)})`,
    );
  }
  return lines;
}

/** Which relay was measured: the commit, and whether apps/ or libs/ had uncommitted changes. */
function codeVersion(
  ref: string | undefined,
): { commit: string; uncommittedFilesInAppsAndLibs: number } | null {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    if (ref) return { commit: git('rev-parse', '--short', ref), uncommittedFilesInAppsAndLibs: 0 };
    return {
      commit: git('rev-parse', '--short', 'HEAD'),
      uncommittedFilesInAppsAndLibs: git('status', '--porcelain', '--', 'apps', 'libs')
        .split('\n')
        .filter(Boolean).length,
    };
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  try {
    await access(join(REPO_ROOT, 'dist/apps/relay/src/main.js'));
  } catch {
    throw new Error('dist/ is missing: run `npm run build` first (npm run bench:ingest does)');
  }
  if (options.brokers.includes('mosquitto') && !(await mosquittoInstalled())) {
    log('mosquitto is not installed (apt-get install -y mosquitto): skipping it');
    options.brokers = options.brokers.filter((b) => b !== 'mosquitto');
  }
  const steps = options.devices.length * options.brokers.length;
  const budgetMs =
    10 * 60_000 +
    steps * (options.warmup + options.seconds + options.drain + 240) * 1000 +
    (options.deviceHash === 'legacy'
      ? Math.max(...options.devices) * 3_000 * options.devices.length
      : 0);
  // Whatever happens, the benchmark ends and leaves nothing behind.
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${Math.round(budgetMs / 1000)} s, stopping everything`);
    killEverything();
    process.exit(1);
  }, budgetMs);
  watchdog.unref();

  const workDir = await mkdtemp(join(tmpdir(), 'telerelay-bench-'));
  trackTempDir(workDir);
  keepTempDirs(options.keepTemp);
  if (options.keepTemp) log(`keeping temporary files in ${workDir}`);
  const ctx: Context = { options, workDir, template: undefined };
  const machine = {
    code: codeVersion(options.relayRef),
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memoryGb: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    loadAverageAtStart: loadAverage(),
    relayDatabase: options.store.kind === 'postgres' ? 'PostgreSQL' : 'PGlite (embedded)',
  };
  log(
    `machine: ${machine.cores} cores (${machine.cpuModel}), load average ${machine.loadAverageAtStart}; ` +
      `steps: ${options.devices.join(', ')} boxes × ${options.brokers.join(', ')}; ` +
      `relay database: ${machine.relayDatabase}`,
  );
  let storm: Record<string, unknown> | null = null;
  if (options.brokers.includes('relay')) {
    if (options.relayRef) {
      log(`relay: building commit ${options.relayRef} apart from the working tree`);
      await buildRelaySnapshot(options.relayRef, workDir);
    }
    log('relay: creating the schema and registering the bench boxes');
    ctx.template = await prepareRelayTemplate(workDir, {
      devices: Math.max(...options.devices),
      stormDevices: options.storm,
      deviceHash: options.deviceHash,
      store: options.store,
    });
    if (options.storm > 0) {
      storm = await runConnectStorm(ctx);
      log(`connect storm: ${JSON.stringify(storm)}`);
    }
  }

  const rows: IngestRow[] = [];
  const details: Record<string, unknown>[] = [];
  const detailsFile = options.out.replace(/\.json$/, '-details.json');
  for (const devices of options.devices) {
    for (const kind of options.brokers) {
      const { row, detail } = await runStep(kind, devices, ctx).catch(
        (error: unknown): StepResult => {
          // One broadly failed step must not cost the others: record it and go on.
          const message = error instanceof Error ? error.message : String(error);
          log(`${kind} × ${devices}: STEP FAILED: ${message}`);
          return {
            row: {
              broker: kind,
              devices,
              chunksPerSec: null,
              p50AckMs: null,
              p99AckMs: null,
              lost: null,
              cpuPercent: null,
              rssMb: null,
              rssPerIdleConnKb: null,
            },
            detail: { broker: kind, devices, failed: message },
          };
        },
      );
      rows.push(row);
      details.push(detail);
      log(`${formatTable(HEADERS, [rowCells(row)]).split('\n')[2]}`);
      log(`  details: ${JSON.stringify(detail)}`);
      await writeJson(options.out, rows);
      await writeJson(detailsFile, {
        // The server URL may carry a password: the details name only the kind of store.
        options: { ...options, store: options.store.kind },
        machine,
        connectStorm: storm,
        steps: details,
      });
    }
  }

  process.stdout.write(`\n${formatTable(HEADERS, rows.map(rowCells))}\n\n`);
  const cpuPerChunk = (broker: string, devices: number) =>
    (
      details.find((d) => d['broker'] === broker && d['devices'] === devices) as
        { brokerCpuMsPerAckedChunk?: number | null } | undefined
    )?.brokerCpuMsPerAckedChunk ?? null;
  /** The relay's CPU per stored chunk over plain Aedes's per PUBACKed chunk, same run and step. */
  const cpuRatio = (broker: string, devices: number): number | null => {
    const relay = cpuPerChunk(broker, devices);
    const aedes = cpuPerChunk('aedes', devices);
    return broker === 'relay' && relay !== null && aedes ? round(relay / aedes, 2) : null;
  };
  const extra = details.map((d) => {
    const relay = d as {
      broker: string;
      devices: number;
      offeredChunksPerSec?: number;
      brokerCpuMsPerAckedChunk?: number | null;
      connect?: { seconds: number };
      relayPubackMs?: { p99: number | null };
      recordings?: { closed: number; completed: number; closeToCompleteP99Ms: number | null };
      relayErrors?: Record<string, number>;
      loadGenerator?: { cpuPercent: number | null; loopDelayP99Ms: number | null };
      machine?: { busyPercentAllCores: number | null; loadAverage1m: number };
      brokerExitedDuringStep?: string;
    };
    const errorCount = Object.values(relay.relayErrors ?? {}).reduce((s, n) => s + n, 0);
    return [
      relay.brokerExitedDuringStep
        ? `${relay.broker} (DIED: ${relay.brokerExitedDuringStep})`
        : relay.broker,
      relay.devices,
      relay.offeredChunksPerSec ?? null,
      relay.brokerCpuMsPerAckedChunk ?? null,
      cpuRatio(relay.broker, relay.devices),
      relay.connect?.seconds ?? null,
      relay.relayPubackMs?.p99 ?? null,
      relay.recordings ? `${relay.recordings.completed}/${relay.recordings.closed}` : null,
      relay.recordings?.closeToCompleteP99Ms ?? null,
      relay.relayErrors
        ? errorCount === 0
          ? 0
          : Object.entries(relay.relayErrors)
              .map(([code, n]) => `${code}:${n}`)
              .join(' ')
        : null,
      relay.loadGenerator?.cpuPercent ?? null,
      relay.loadGenerator?.loopDelayP99Ms ?? null,
      relay.machine?.busyPercentAllCores ?? null,
      relay.machine?.loadAverage1m ?? null,
    ];
  });
  process.stdout.write(
    `${formatTable(
      [
        'broker',
        'devices',
        'offered/s',
        'CPU ms/chunk',
        'CPU/chunk ÷ Aedes',
        'connect s',
        'PUBACK p99',
        'recordings done',
        'close→complete p99',
        'relay errors',
        'load CPU %',
        'load lag p99',
        'machine busy %',
        'load avg',
      ],
      extra,
    )}\n\n`,
  );
  if (storm)
    process.stdout.write(`relay connect storm (secrets as stored): ${JSON.stringify(storm)}\n\n`);
  const bound = details.filter((d) => d['loadBound']);
  if (bound.length > 0) {
    process.stdout.write(
      'NOT A BROKER MEASUREMENT (the load generator could not keep up; see bench/README.md):\n',
    );
    for (const d of bound) {
      process.stdout.write(
        `  ${String(d['broker'])} × ${String(d['devices'])}: ${String(d['loadBound'])}\n`,
      );
    }
    process.stdout.write('\n');
  }
  for (const line of targets(rows)) process.stdout.write(`${line}\n`);
  for (const devices of options.devices) {
    const ratio = cpuRatio('relay', devices);
    if (ratio !== null) {
      process.stdout.write(
        `relay × ${devices}: CPU per stored chunk ${ratio}× plain Aedes's per chunk (≤ 3×: ${ratio <= 3 ? 'met' : 'NOT met'})\n`,
      );
    }
  }
  process.stdout.write(`\nrows: ${options.out}\ndetails: ${detailsFile}\n`);
  // A run that fails before this leaves its databases to the next run, which drops them.
  await dropBenchDatabases(options.store);
}

runBenchmark(main, log);
