/**
 * `npm run bench:memory`: how much memory the relay needs, on the embedded defaults (PGlite,
 * private redis-server) or on DATABASE_URL. Starts the built relay twice on one temporary
 * data directory: the first start creates the database (PGlite runs initdb), the second is
 * every later start. For each, the relay process's peak RSS during start-up and at rest,
 * and the private redis-server's RSS. Linux only (reads /proc).
 *
 * The peak is the kernel's own high-water mark (VmHWM), so nothing between samples is
 * missed. It is read after the rest period, not at "relay ready": V8 compiles PGlite's
 * WebAssembly Postgres with its optimising tier in the background after the first queries,
 * and that compile is the largest part of a later start's peak.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { REPO_ROOT, runBenchmark, stopProcess, trackChild, trackTempDir } from './brokers.js';
import { processTree, rssBytes } from './proc.js';
import { formatTable } from './stats.js';

const USAGE = `npm run bench:memory -- [options]

  --rest-seconds 30     how long each start is watched after "relay ready"
  --node-option <flag>  passed to node before the relay (repeatable), e.g. --liftoff-only
  Set DATABASE_URL to measure the relay on PostgreSQL instead of PGlite.`;

const MB = 1024 * 1024;

interface StartFigures {
  start: string;
  readySeconds: number;
  peakMb: number;
  restMb: number;
  redisMb: number | null;
}

function log(message: string): void {
  process.stderr.write(`[bench:memory] ${message}\n`);
}

function highWaterMark(pid: number): number {
  // VmHWM is kept by the kernel; /proc only shows it while the process lives.
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmHWM for ${pid}`);
  return Number(match[1]) * 1024;
}

async function measureStart(
  label: string,
  dataDir: string,
  nodeOptions: string[],
  restSeconds: number,
): Promise<StartFigures> {
  const started = performance.now();
  const child = trackChild(
    spawn(process.execPath, [...nodeOptions, join(REPO_ROOT, 'dist/apps/relay/src/main.js')], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        MQTT_PORT: '0',
        DICOM_PORT: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('relay did not start');
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"relay ready"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`relay exited (${code}) before ready`)));
  });
  await ready;
  const readySeconds = (performance.now() - started) / 1000;
  log(`${label}: ready after ${readySeconds.toFixed(1)} s, watching for ${restSeconds} s`);
  // The watch is the measurement itself (memory over time), not a wait for an event.
  await new Promise((resolve) => setTimeout(resolve, restSeconds * 1000));
  const tree = processTree(pid);
  const redisPid = tree.find((other) => other !== pid);
  const figures: StartFigures = {
    start: label,
    readySeconds: Math.round(readySeconds * 10) / 10,
    peakMb: Math.round(highWaterMark(pid) / MB),
    restMb: Math.round((rssBytes(pid) ?? 0) / MB),
    redisMb: redisPid === undefined ? null : Math.round((rssBytes(redisPid) ?? 0) / MB),
  };
  const exited = once(child, 'exit');
  await stopProcess(child);
  await exited.catch(() => undefined);
  return figures;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'rest-seconds': { type: 'string', default: '30' },
      'node-option': { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const restSeconds = Number(values['rest-seconds']);
  if (!Number.isFinite(restSeconds) || restSeconds < 1) throw new Error('--rest-seconds ≥ 1');
  const dataDir = await mkdtemp(join(tmpdir(), 'telerelay-bench-memory-'));
  trackTempDir(dataDir);
  const nodeOptions = values['node-option'];
  const rows: StartFigures[] = [];
  rows.push(await measureStart('first start', dataDir, nodeOptions, restSeconds));
  rows.push(await measureStart('later start', dataDir, nodeOptions, restSeconds));
  const database = process.env['DATABASE_URL'] ? 'PostgreSQL' : 'PGlite';
  process.stdout.write(
    `relay on ${database}${nodeOptions.length ? `, node ${nodeOptions.join(' ')}` : ''}; ` +
      `RSS of the relay process (MB), redis-server apart\n`,
  );
  process.stdout.write(
    formatTable(
      ['start', 'ready (s)', 'peak RSS', `RSS after ${restSeconds} s`, 'redis-server RSS'],
      rows.map((row) => [row.start, row.readySeconds, row.peakMb, row.restMb, row.redisMb]),
    ) + '\n',
  );
}

runBenchmark(main, log);
