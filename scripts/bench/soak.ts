/**
 * `npm run bench:soak`: does the relay's memory, or its Redis's, grow under steady load
 * (bench/README.md, "Soak")? One relay on PostgreSQL with a region of --boxes boxes (as
 * bench:fleet builds it: REGION_FILE, load processes, county readers on the console), fed
 * whole 10-second 12-lead recordings at 70 % of the measured capacity for --minutes. Every
 * --sample-seconds it reads the relay's own /metrics (process_resident_memory_bytes, the V8
 * heap) and its Redis's INFO memory (used_memory, used_memory_rss); after the warm-up it fits
 * a least-squares line to each series and reports the slope in MB an hour, with the values
 * at the start and end, and the recordings sent, acknowledged complete and lost.
 * Prints a table, writes bench/results/soak.json (summary and every sample).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import {
  keepTempDirs,
  killEverything,
  launchRelay,
  REPO_ROOT,
  runBenchmark,
  stopProcess,
  trackTempDir,
  type RelayProcess,
} from './brokers.js';
import type { BurstProgress, BurstResult, RecordingTimes } from './fleet-worker.js';
import { loadAverage } from './proc.js';
import {
  describeMachine,
  connectAll,
  connectReader,
  ensureOpenFiles,
  generateRegion,
  log,
  login,
  relayLogSummary,
  startPostgres,
  startWorkers,
  writeJson,
  type ConsoleSocket,
  type FleetWorker,
} from './region.js';
import { formatTable, leastSquaresSlope, optionNumber, round } from './stats.js';

const USAGE = `npm run bench:soak -- [options]

  --minutes 60           how long the load runs
  --rate N               recordings a minute to send; default: --load of the measured capacity
                         (the newest of bench/results/fleet.json and ingest.json)
  --load 0.7             share of the measured capacity to send
  --boxes 200            boxes in the region (each from its own 127.x address)
  --sample-seconds 10    how often memory is read
  --warmup-minutes M     samples before this are left out of the slopes (default: a sixth of
                         --minutes, at least 1)
  --workers 2            load-generator processes
  --database-url URL     a PostgreSQL server (a role that may create databases); default
                         DATABASE_URL, else a throwaway cluster (initdb) in the temp directory
  --keep-temp            keep the temp directory (relay log, region file)
  --out bench/results/soak.json
`;

/** A 10-second recording as bench:ingest streams it: a chunk every 40 ms (load-worker.ts). */
const INGEST_CHUNKS_PER_RECORDING = 250;
const MB = 1024 * 1024;

interface Options {
  minutes: number;
  rate: number | undefined;
  load: number;
  boxes: number;
  sampleSeconds: number;
  warmupMinutes: number;
  workers: number;
  databaseUrl: string | undefined;
  keepTemp: boolean;
  out: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '60' },
      rate: { type: 'string' },
      load: { type: 'string', default: '0.7' },
      boxes: { type: 'string', default: '200' },
      'sample-seconds': { type: 'string', default: '10' },
      'warmup-minutes': { type: 'string' },
      workers: { type: 'string', default: '2' },
      'database-url': { type: 'string' },
      'keep-temp': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results/soak.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const minutes = optionNumber('minutes', values.minutes, 1, 24 * 60);
  const warmupMinutes = values['warmup-minutes']
    ? optionNumber('warmup-minutes', values['warmup-minutes'], 0, minutes - 0.5)
    : Math.max(1, minutes / 6);
  return {
    minutes,
    rate: values.rate === undefined ? undefined : optionNumber('rate', values.rate, 1, 60_000),
    load: optionNumber('load', values.load, 0.01, 1),
    boxes: Math.round(optionNumber('boxes', values.boxes, 10, 60_000)),
    sampleSeconds: optionNumber('sample-seconds', values['sample-seconds'], 1, 600),
    warmupMinutes,
    workers: Math.round(optionNumber('workers', values.workers, 1, 64)),
    databaseUrl: values['database-url'] ?? process.env['DATABASE_URL'],
    keepTemp: values['keep-temp'],
    out: resolve(REPO_ROOT, values.out),
  };
}

// ── the rate: 70 % of the measured capacity ──────────────────────────────────────────

interface Capacity {
  /** Where the figure comes from, said in the output. */
  source: string;
  recordingsPerMin: number;
  measuredAt: string;
  how: string;
}

/**
 * The relay's measured capacity in whole recordings a minute, from the newest results file:
 * - fleet.json: the burst's recordings acknowledged complete per minute of burst (what the
 *   relay did, not what it was offered: a burst it did not keep up with counts what it managed);
 * - ingest.json: the largest relay step's acknowledged chunks a second, as 10-second
 *   recordings of ingest's 250 chunks of 40 ms (the soak sends the same 10 s in 20 chunks).
 */
async function measuredCapacity(): Promise<Capacity | null> {
  const found: Capacity[] = [];
  const dir = join(REPO_ROOT, 'bench/results');
  const modified = async (file: string) => (await stat(file)).mtime.toISOString();
  try {
    const file = join(dir, 'fleet.json');
    const rows = JSON.parse(await readFile(file, 'utf8')) as {
      broker: string;
      phase: string;
      seconds: number | null;
    }[];
    const details = JSON.parse(await readFile(join(dir, 'fleet-details.json'), 'utf8')) as {
      'relay.burst'?: { recordingsComplete?: number };
    };
    const burst = rows.find((r) => r.broker === 'relay' && r.phase === 'burst');
    const complete = details['relay.burst']?.recordingsComplete;
    if (burst?.seconds) {
      found.push({
        source: relative(REPO_ROOT, file),
        recordingsPerMin: (complete ?? 0) / (burst.seconds / 60),
        measuredAt: await modified(file),
        how: `burst: ${complete ?? 0} recordings complete in ${burst.seconds} s`,
      });
    }
  } catch {
    // no fleet results
  }
  try {
    const file = join(dir, 'ingest.json');
    const rows = JSON.parse(await readFile(file, 'utf8')) as {
      broker: string;
      devices: number;
      chunksPerSec: number | null;
    }[];
    const best = rows
      .filter((r) => r.broker === 'relay' && r.chunksPerSec)
      .sort((a, b) => b.chunksPerSec! - a.chunksPerSec!)[0];
    if (best) {
      found.push({
        source: relative(REPO_ROOT, file),
        recordingsPerMin: (best.chunksPerSec! * 60) / INGEST_CHUNKS_PER_RECORDING,
        measuredAt: await modified(file),
        how: `${best.chunksPerSec} chunks/s at ${best.devices} boxes, ${INGEST_CHUNKS_PER_RECORDING} chunks a recording`,
      });
    }
  } catch {
    // no ingest results
  }
  return found.sort((a, b) => b.measuredAt.localeCompare(a.measuredAt))[0] ?? null;
}

// ── sampling memory ───────────────────────────────────────────────────────────────────

interface Sample {
  /** Seconds since the load began. */
  t: number;
  relayRssMb: number | null;
  relayHeapUsedMb: number | null;
  relayHeapTotalMb: number | null;
  relayExternalMb: number | null;
  redisUsedMb: number | null;
  redisRssMb: number | null;
  redisKeys: number | null;
  recordingsStarted: number;
  recordingsComplete: number;
}

const SERIES = [
  ['relay RSS', 'relayRssMb', 'process_resident_memory_bytes'],
  ['relay heap used', 'relayHeapUsedMb', 'nodejs_heap_size_used_bytes'],
  ['relay heap total', 'relayHeapTotalMb', 'nodejs_heap_size_total_bytes'],
  ['relay external', 'relayExternalMb', 'nodejs_external_memory_bytes'],
  ['Redis used_memory', 'redisUsedMb', 'used_memory'],
  ['Redis used_memory_rss', 'redisRssMb', 'used_memory_rss'],
] as const;

/** The relay's memory as it reports it to Prometheus (prom-client's default metrics). */
async function relayMemory(httpUrl: string, token: string): Promise<Map<string, number>> {
  const response = await fetch(`${httpUrl}/metrics`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5_000),
  });
  if (response.status !== 200) throw new Error(`/metrics: HTTP ${response.status}`);
  const values = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    // Unlabelled samples only: `name value`.
    const match = /^([a-z_]+) ([0-9.e+-]+)$/.exec(line);
    if (match) values.set(match[1]!, Number(match[2]));
  }
  return values;
}

/** The relay's private redis-server (DATA_DIR/redis/redis.port), for INFO memory. */
async function openRedis(relay: RelayProcess): Promise<Redis> {
  const port = Number(await readFile(join(relay.dataDir, 'redis', 'redis.port'), 'utf8'));
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await redis.connect();
  return redis;
}

async function redisMemory(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('memory');
  const values = new Map<string, number>();
  for (const key of ['used_memory', 'used_memory_rss']) {
    const match = new RegExp(`^${key}:(\\d+)`, 'm').exec(info);
    if (match) values.set(key, Number(match[1]));
  }
  values.set('keys', await redis.dbsize());
  return values;
}

async function progress(workers: FleetWorker[]): Promise<{ started: number; complete: number }> {
  const replies: BurstProgress[] = await Promise.all(
    workers.map((w) => w.request({ type: 'progress' }, 'progress', 10_000)),
  );
  return {
    started: replies.reduce((sum, r) => sum + r.started, 0),
    complete: replies.reduce((sum, r) => sum + r.complete, 0),
  };
}

// ── the run ─────────────────────────────────────────────────────────────────────────

interface SeriesRow {
  series: string;
  /** First sample after the warm-up, last sample, in MB. */
  startMb: number | null;
  endMb: number | null;
  slopeMbPerHour: number | null;
  samples: number;
}

function seriesRows(samples: Sample[], warmupSeconds: number): SeriesRow[] {
  const after = samples.filter((s) => s.t >= warmupSeconds);
  return SERIES.map(([series, key]) => {
    const points = after.filter((s) => s[key] !== null);
    const slopePerSecond = leastSquaresSlope(
      points.map((s) => s.t),
      points.map((s) => s[key]!),
    );
    return {
      series,
      startMb: round(points[0]?.[key] ?? null, 1),
      endMb: round(points.at(-1)?.[key] ?? null, 1),
      slopeMbPerHour: round(slopePerSecond === null ? null : slopePerSecond * 3600, 2),
      samples: points.length,
    };
  });
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  ensureOpenFiles(options.boxes);
  const capacity = await measuredCapacity();
  let rate: number;
  let rateSource: string;
  if (options.rate !== undefined) {
    rate = options.rate;
    rateSource = !capacity
      ? 'given with --rate (no measured capacity in bench/results/)'
      : capacity.recordingsPerMin > 0
        ? `given with --rate (${round((rate / capacity.recordingsPerMin) * 100, 0)} % of the ` +
          `capacity ${round(capacity.recordingsPerMin, 0)}/min in ${capacity.source})`
        : `given with --rate (${capacity.source}, ${capacity.measuredAt}, measured no capacity: ${capacity.how})`;
  } else if (capacity && capacity.recordingsPerMin > 0) {
    rate = capacity.recordingsPerMin * options.load;
    rateSource =
      `${options.load * 100} % of the measured capacity ${round(capacity.recordingsPerMin, 0)}` +
      ` recordings/min (${capacity.source}, ${capacity.measuredAt}: ${capacity.how})`;
  } else {
    throw new Error(
      `no measured capacity${capacity ? ` (${capacity.source}: ${capacity.how})` : ''}: run ` +
        'npm run bench:fleet or bench:ingest first (bench/results/), ' +
        'or give the rate with --rate <recordings a minute>',
    );
  }
  rate = round(rate, 1)!;
  log(
    `${options.minutes} min at ${rate} recordings/min: ${rateSource}; ${options.boxes} boxes, ` +
      `memory every ${options.sampleSeconds} s, slopes after ${round(options.warmupMinutes, 1)} min`,
  );
  const budgetMs = (options.minutes + 30) * 60_000;
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${Math.round(budgetMs / 1000)} s, stopping everything`);
    killEverything();
    process.exit(1);
  }, budgetMs);
  watchdog.unref();

  const workDir = await mkdtemp(join(tmpdir(), 'telerelay-bench-soak-'));
  trackTempDir(workDir);
  keepTempDirs(options.keepTemp);
  const machine = describeMachine();
  const region = generateRegion(options.boxes);
  const postgres = await startPostgres(workDir, options.databaseUrl);
  const metricsToken = randomBytes(32).toString('base64url');
  let relay: RelayProcess | undefined;
  let redis: Redis | undefined;
  let workers: FleetWorker[] = [];
  const sockets: ConsoleSocket[] = [];
  const samples: Sample[] = [];
  const sampleErrors: Record<string, number> = {};
  let result: Record<string, unknown> = {};
  try {
    const regionFile = join(workDir, 'region.json');
    await writeFile(regionFile, JSON.stringify(region.file));
    const dataDir = join(workDir, 'relay');
    await mkdir(dataDir, { recursive: true });
    relay = await launchRelay(dataDir, {
      env: {
        DEMO: 'false',
        REGION_FILE: regionFile,
        DATABASE_URL: postgres.url,
        METRICS_TOKEN: metricsToken,
        PATIENT_ID_HMAC_KEY: randomBytes(32).toString('base64'),
        PATIENT_ID_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      },
      readyTimeoutMs: 600_000,
    });
    const httpUrl = `http://127.0.0.1:${relay.httpPort}`;
    redis = await openRedis(relay);
    // County readers have the console open, as in the field: the worklist is pushed to them.
    const listedAt = new Map<string, number>();
    for (const reader of region.readers) {
      sockets.push(
        await connectReader(
          httpUrl,
          await login(httpUrl, reader.username, reader.password),
          listedAt,
        ),
      );
    }
    workers = await startWorkers(
      `mqtt://127.0.0.1:${relay.mqttPort}`,
      'relay',
      region.devices,
      options.workers,
    );
    const connected = await connectAll(workers, Math.ceil(options.boxes / options.workers));
    log(`${connected.connected}/${options.boxes} boxes up in ${round(connected.seconds, 1)} s`);

    const seconds = options.minutes * 60;
    const began = performance.now();
    const firstAt = performance.timeOrigin + began + 1_000;
    const perWorker = rate / workers.length;
    const bursts = Promise.all(
      workers.map((w, i) =>
        w.request(
          {
            type: 'burst',
            perMinute: perWorker,
            firstAtEpochMs: firstAt + (i * 60_000) / rate,
            seconds,
            drainMs: 60_000,
          },
          'burst-done',
          (seconds + 300) * 1000,
        ),
      ),
    );
    let done = false;
    const finished = bursts.finally(() => {
      done = true;
    });
    const takeSample = async (): Promise<void> => {
      const t = round((performance.now() - began) / 1000, 1)!;
      const [relayValues, redisValues, sent] = await Promise.all(
        [relayMemory(httpUrl, metricsToken), redisMemory(redis!), progress(workers)].map((p) =>
          p.catch((error: unknown) => {
            const key = error instanceof Error ? error.message : String(error);
            sampleErrors[key] = (sampleErrors[key] ?? 0) + 1;
            return null;
          }),
        ),
      );
      const mb = (values: unknown, key: string) => {
        const value = (values as Map<string, number> | null)?.get(key);
        return value === undefined ? null : round(value / MB, 2);
      };
      const counts = sent as { started: number; complete: number } | null;
      const sample: Sample = {
        t,
        relayRssMb: mb(relayValues, 'process_resident_memory_bytes'),
        relayHeapUsedMb: mb(relayValues, 'nodejs_heap_size_used_bytes'),
        relayHeapTotalMb: mb(relayValues, 'nodejs_heap_size_total_bytes'),
        relayExternalMb: mb(relayValues, 'nodejs_external_memory_bytes'),
        redisUsedMb: mb(redisValues, 'used_memory'),
        redisRssMb: mb(redisValues, 'used_memory_rss'),
        redisKeys: (redisValues as Map<string, number> | null)?.get('keys') ?? null,
        recordingsStarted: counts?.started ?? 0,
        recordingsComplete: counts?.complete ?? 0,
      };
      samples.push(sample);
      if (samples.length % Math.max(1, Math.round(60 / options.sampleSeconds)) === 1) {
        log(
          `t=${Math.round(t)} s: relay RSS ${sample.relayRssMb} MB, heap ${sample.relayHeapUsedMb} MB; ` +
            `Redis ${sample.redisUsedMb} MB (rss ${sample.redisRssMb}), ${sample.redisKeys} keys; ` +
            `recordings ${sample.recordingsComplete}/${sample.recordingsStarted} complete`,
        );
      }
    };
    // Memory is read on a fixed period: the period is the measurement, not a wait for an event.
    await takeSample();
    while (!done && performance.now() - began < seconds * 1000) {
      const next = began + samples.length * options.sampleSeconds * 1000;
      await Promise.race([
        finished.then(() => undefined),
        new Promise((wake) => setTimeout(wake, Math.max(0, next - performance.now()))),
      ]);
      if (!done && performance.now() - began <= seconds * 1000) await takeSample();
    }
    const results: BurstResult[] = await finished;
    const recordings: RecordingTimes[] = results.flatMap((r) => r.recordings);
    const complete = recordings.filter((r) => r.completeAt !== null).length;
    const rows = seriesRows(samples, options.warmupMinutes * 60);
    const errors: Record<string, number> = {};
    for (const r of results) {
      for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
    }
    result = {
      rows,
      recordings: { sent: recordings.length, complete, lost: recordings.length - complete },
      relayErrors: errors,
      boxDisconnects: results.reduce((sum, r) => sum + r.disconnects, 0),
      resentChunks: {
        afterMissing: results.reduce((sum, r) => sum + r.resentChunks.missing, 0),
        afterError: results.reduce((sum, r) => sum + r.resentChunks.error, 0),
        afterTimeout: results.reduce((sum, r) => sum + r.resentChunks.timeout, 0),
      },
      casesListedOnWorklist: listedAt.size,
    };
  } finally {
    const relayLog = relay ? await relayLogSummary(relay) : null;
    for (const socket of sockets) socket.disconnect();
    await Promise.all(
      workers.map((w) =>
        w.request({ type: 'disconnect' }, 'disconnected', 60_000).catch(() => undefined),
      ),
    );
    for (const worker of workers) worker.kill();
    redis?.disconnect();
    if (relay) await stopProcess(relay.child);
    await postgres.stop();
    await writeJson(options.out, {
      measuredAt: new Date().toISOString(),
      machine: { ...machine, loadAverageAtEnd: loadAverage() },
      options: { ...options, databaseUrl: options.databaseUrl ? 'given' : 'throwaway cluster' },
      rate: { recordingsPerMin: rate, source: rateSource, capacity },
      ...result,
      sampleErrors,
      relayLog,
      samples,
    });
  }
  const rows = result['rows'] as SeriesRow[];
  const recordings = result['recordings'] as { sent: number; complete: number; lost: number };
  process.stdout.write(
    `\nsoak: ${options.minutes} min at ${rate} recordings/min (${rateSource}), ` +
      `${options.boxes} boxes, relay on PostgreSQL; slopes over the samples after ` +
      `${round(options.warmupMinutes, 1)} min\n`,
  );
  process.stdout.write(
    `${formatTable(
      ['series', 'start MB', 'end MB', 'slope MB/h', 'samples'],
      rows.map((r) => [r.series, r.startMb, r.endMb, r.slopeMbPerHour, r.samples]),
    )}\n\n`,
  );
  process.stdout.write(
    `recordings: ${recordings.sent} sent, ${recordings.complete} acknowledged complete, ` +
      `${recordings.lost} lost (not acknowledged by the end of a 60 s drain)\n` +
      `results: ${options.out}\n`,
  );
}

runBenchmark(main, log);
