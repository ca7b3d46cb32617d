/**
 * `npm run bench:dicom`: DICOM intake, the relay beside Orthanc (Debian `orthanc` +
 * `orthanc-dicomweb`) in the same run, on the same corpus of CT slices (512×512, 16-bit
 * native, about 0.5 MB each): STOW-RS at 1, 4 and 16 concurrent uploads (the same
 * one-instance multipart requests to both), C-STORE with DCMTK's storescu at 1 and 4
 * associations. Each run has its own fresh instances, so every store is a new one. Then, for
 * the relay alone: study complete → case on the county worklist (p99), and what one large
 * multi-instance STOW request does to its RSS. Prints tables; writes bench/results/dicom.json.
 *
 * The relay runs as built, on its embedded defaults (PGlite, private redis-server) in a
 * temporary DATA_DIR, in demo mode (clinic1.staff uploads; CLINIC1_CT sends C-STORE).
 * Orthanc gets a temporary storage directory and free ports, no authentication, and is
 * stopped afterwards; without it the Orthanc rows are skipped with a note. Linux only.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate } from 'node:timers/promises';
import { promisify, parseArgs } from 'node:util';
import { makeInstance, syntheticUid } from '#dicom/testing';
import {
  freePort,
  launchRelay,
  runBenchmark,
  stopProcess,
  trackChild,
  trackTempDir,
} from './brokers.js';
import { rssBytes } from './proc.js';
import { formatTable, percentile, round } from './stats.js';

const USAGE = `npm run bench:dicom -- [options]

  --instances 200        CT slices per run (each run its own, spread over --studies)
  --studies 4            studies per run
  --large-mb 500         size of the one large STOW request (0 = skip)
  --case-studies 20      studies completed one by one for "complete → worklist"
  --out bench/results/dicom.json
  --relay-only           skip Orthanc (for profiling the relay)
  --profile-dir DIR      write the relay's CPU profile there (node --cpu-prof; summarise it
                         with node dist/scripts/bench/profile-summary.js)`;

const MB = 1024 * 1024;
const ORTHANC_BIN = '/usr/sbin/Orthanc';
const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
const PASSWORD = 'bench-dicom-password';
const CALLING_AE = 'CLINIC1_CT';
const run = promisify(execFile);

function log(message: string): void {
  process.stderr.write(`[bench:dicom] ${message}\n`);
}

export interface DicomRow {
  server: 'relay' | 'orthanc';
  protocol: 'stow' | 'c-store';
  concurrency: number;
  instancesPerSec: number | null;
  mbPerSec: number | null;
  p99InstanceMs: number | null;
  rssMb: number | null;
  failures: number;
}

/** A server under test: where STOW goes, where C-STORE goes, whose RSS is watched. */
interface Target {
  server: 'relay' | 'orthanc';
  pid: number;
  stowUrl: string;
  headers: () => Promise<Record<string, string>>;
  dicomPort: number;
  calledAe: string;
}

/** The peak RSS of one process while `work` runs, sampled every 50 ms. */
async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<[T, number]> {
  let peak = rssBytes(pid) ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssBytes(pid) ?? 0);
  }, 50);
  try {
    const result = await work();
    peak = Math.max(peak, rssBytes(pid) ?? 0);
    return [result, peak];
  } finally {
    clearInterval(timer);
  }
}

/**
 * Made between runs, yielding to the event loop after each slice: made in one go (seconds on
 * a loaded machine) it kept fetch's keep-alive timer from running, so the next run reused a
 * connection the server had meanwhile closed as idle and its first request failed.
 */
async function corpus(instances: number, studies: number, rows = 512): Promise<Buffer[]> {
  const studyUids = Array.from({ length: studies }, () => ({
    study: syntheticUid(),
    series: syntheticUid(),
  }));
  const made: Buffer[] = [];
  for (let i = 0; i < instances; i++) {
    const { study, series } = studyUids[i % studies]!;
    made.push(
      Buffer.from(
        makeInstance({
          sopClass: 'CT',
          studyInstanceUid: study,
          seriesInstanceUid: series,
          rows,
          columns: rows,
          attributes: { InstanceNumber: Math.floor(i / studies) + 1 },
        }),
      ),
    );
    await setImmediate();
  }
  return made;
}

const BOUNDARY = `bench-${randomBytes(8).toString('hex')}`;
const STOW_TYPE = `multipart/related; type="application/dicom"; boundary=${BOUNDARY}`;

/** One multipart/related body (PS3.18 §8.6.1.2), copied once into a fetch-ready array. */
function multipart(parts: Buffer[]): Uint8Array<ArrayBuffer> {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), part);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return new Uint8Array(Buffer.concat(chunks));
}

async function stow(
  target: Target,
  instances: Buffer[],
  concurrency: number,
): Promise<Omit<DicomRow, 'server' | 'protocol' | 'concurrency' | 'rssMb'> & { rss: number }> {
  const bodies = instances.map((instance) => multipart([instance]));
  const headers = {
    ...(await target.headers()),
    'content-type': STOW_TYPE,
    accept: 'application/dicom+json',
  };
  const latencies = new Float64Array(bodies.length);
  let next = 0;
  let failures = 0;
  const started = performance.now();
  const [, rss] = await withPeakRss(target.pid, () =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < bodies.length) {
          const index = next++;
          const t0 = performance.now();
          try {
            const response = await fetch(target.stowUrl, {
              method: 'POST',
              headers,
              body: bodies[index],
            });
            await response.arrayBuffer();
            if (response.status !== 200) failures += 1;
          } catch (error) {
            // A request the connection failed under is a failed store, not the end of the run.
            failures += 1;
            const cause = (error as Error & { cause?: unknown }).cause;
            log(`  ${target.server}: ${(error as Error).message} (${String(cause)})`);
          }
          latencies[index] = performance.now() - t0;
        }
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const bytes = instances.reduce((sum, b) => sum + b.length, 0);
  return {
    instancesPerSec: round(instances.length / seconds),
    mbPerSec: round(bytes / MB / seconds),
    p99InstanceMs: round(percentile(latencies.sort(), 99)),
    failures,
    rss,
  };
}

/** DCMTK logs with epoch-millisecond times, so each C-STORE's round trip can be read. */
const LOG_CONFIG = `log4cplus.rootLogger = INFO, console
log4cplus.appender.console = log4cplus::ConsoleAppender
log4cplus.appender.console.layout = log4cplus::PatternLayout
log4cplus.appender.console.layout.ConversionPattern = %D{%s.%q} %m%n
`;

async function cStore(
  target: Target,
  workDir: string,
  instances: Buffer[],
  associations: number,
): Promise<Omit<DicomRow, 'server' | 'protocol' | 'concurrency' | 'rssMb'> & { rss: number }> {
  const dir = await mkdtemp(join(workDir, 'cstore-'));
  const logConfig = join(dir, 'log.cfg');
  await writeFile(logConfig, LOG_CONFIG);
  const groups: string[][] = Array.from({ length: associations }, () => []);
  for (const [i, instance] of instances.entries()) {
    const path = join(dir, `${i}.dcm`);
    await writeFile(path, instance);
    groups[i % associations]!.push(path);
  }
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const [, rss] = await withPeakRss(target.pid, () =>
    Promise.all(
      groups.map(async (files) => {
        const args = ['-lc', logConfig, '-aet', CALLING_AE, '-aec', target.calledAe];
        const { stdout, stderr } = await run(
          'storescu',
          [...args, '127.0.0.1', String(target.dicomPort), ...files],
          { maxBuffer: 64 * MB },
        ).catch((error: { stdout?: string; stderr?: string }) => ({
          stdout: error.stdout ?? '',
          stderr: error.stderr ?? '',
        }));
        let sentAt: number | undefined;
        for (const line of `${stdout}\n${stderr}`.split('\n')) {
          const match = /^(\d+\.\d+) (.*)$/.exec(line);
          if (!match) continue;
          const at = Number(match[1]) * 1000;
          if (match[2]!.startsWith('Sending Store Request')) sentAt = at;
          if (match[2]!.startsWith('Received Store Response')) {
            if (sentAt !== undefined) latencies.push(at - sentAt);
            if (!match[2]!.includes('(Success)')) failures += 1;
            sentAt = undefined;
          }
        }
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  await rm(dir, { recursive: true, force: true });
  failures += instances.length - latencies.length;
  const bytes = instances.reduce((sum, b) => sum + b.length, 0);
  return {
    instancesPerSec: round(instances.length / seconds),
    mbPerSec: round(bytes / MB / seconds),
    p99InstanceMs: round(percentile(Float64Array.from(latencies).sort(), 99)),
    failures,
    rss,
  };
}

async function login(httpUrl: string, username: string): Promise<string> {
  const response = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`login of ${username}: ${response.status}`);
  return ((await response.json()) as { accessToken: string }).accessToken;
}

async function startRelayTarget(
  workDir: string,
  profileDir: string | undefined,
): Promise<Target & { child: ChildProcess; httpUrl: string }> {
  const dataDir = await mkdtemp(join(workDir, 'relay-'));
  const relay = await launchRelay(dataDir, {
    profileDir,
    env: { DEMO_PASSWORD: PASSWORD, LOG_LEVEL: 'warn' },
  });
  const runtime = JSON.parse(await readFile(join(dataDir, 'relay.json'), 'utf8')) as {
    dicomPort: number;
  };
  const httpUrl = `http://127.0.0.1:${relay.httpPort}`;
  let token: { value: string; at: number } | undefined;
  return {
    server: 'relay',
    child: relay.child,
    pid: relay.child.pid!,
    httpUrl,
    stowUrl: `${httpUrl}/dicomweb/studies`,
    // Access tokens live 15 minutes; a new one before each run.
    headers: async () => {
      if (!token || Date.now() - token.at > 5 * 60_000) {
        token = { value: await login(httpUrl, 'clinic1.staff'), at: Date.now() };
      }
      return { authorization: `Bearer ${token.value}` };
    },
    dicomPort: runtime.dicomPort,
    calledAe: 'TELERELAY',
  };
}

async function orthancInstalled(): Promise<boolean> {
  try {
    await access(ORTHANC_BIN);
    await access(DICOMWEB_PLUGIN);
    return true;
  } catch {
    return false;
  }
}

async function startOrthanc(workDir: string): Promise<Target & { child: ChildProcess }> {
  const dir = await mkdtemp(join(workDir, 'orthanc-'));
  const [httpPort, dicomPort] = [await freePort(), await freePort()];
  const config = {
    Name: 'bench',
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: 'ORTHANC',
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomCheckCalledAet: false,
    StorageCompression: false,
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
  };
  const configFile = join(dir, 'orthanc.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const child = trackChild(
    spawn(ORTHANC_BIN, [configFile], { stdio: ['ignore', 'ignore', 'pipe'] }),
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited (${child.exitCode}):\n${stderr}`);
    const up = await fetch(`http://127.0.0.1:${httpPort}/dicom-web/studies?limit=1`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error(`Orthanc not up after 60 s:\n${stderr}`);
    await new Promise((done) => setTimeout(done, 200));
  }
  return {
    server: 'orthanc',
    child,
    pid: child.pid!,
    stowUrl: `http://127.0.0.1:${httpPort}/dicom-web/studies`,
    headers: () => Promise.resolve({}),
    dicomPort,
    calledAe: 'ORTHANC',
  };
}

/** Study complete → its case on county-1's worklist, one study at a time (relay only). */
async function completeToWorklist(
  relay: Target & { httpUrl: string },
  studies: number,
): Promise<{ studies: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null }> {
  const reader = await login(relay.httpUrl, 'county1.reader');
  const headers = await relay.headers();
  const uids: string[] = [];
  for (let i = 0; i < studies; i++) {
    const uid = syntheticUid();
    const series = syntheticUid();
    const instances = [1, 2, 3].map((n) =>
      Buffer.from(
        makeInstance({
          sopClass: 'CT',
          studyInstanceUid: uid,
          seriesInstanceUid: series,
          rows: 64,
          columns: 64,
          attributes: { InstanceNumber: n },
        }),
      ),
    );
    const response = await fetch(relay.stowUrl, {
      method: 'POST',
      headers: { ...headers, 'content-type': STOW_TYPE, accept: 'application/dicom+json' },
      body: multipart(instances),
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`STOW of a small study: ${response.status}`);
    uids.push(uid);
  }
  const times: number[] = [];
  for (const uid of uids) {
    const t0 = performance.now();
    const completed = await fetch(`${relay.httpUrl}/api/imaging/studies/${uid}/complete`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ priority: 'routine' }),
    });
    await completed.arrayBuffer();
    if (completed.status !== 200) throw new Error(`complete: ${completed.status}`);
    // Polled every 10 ms: the figure is at most that much late.
    for (;;) {
      const worklist = (await fetch(`${relay.httpUrl}/api/worklist`, {
        headers: { authorization: `Bearer ${reader}` },
      }).then((r) => r.json())) as { study: { studyInstanceUid: string } | null }[];
      if (worklist.some((c) => c.study?.studyInstanceUid === uid)) break;
      if (performance.now() - t0 > 60_000) throw new Error('case not on the worklist after 60 s');
      await new Promise((done) => setTimeout(done, 10));
    }
    times.push(performance.now() - t0);
  }
  const sorted = Float64Array.from(times).sort();
  return {
    studies,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? null),
  };
}

/**
 * One STOW request of about `megabytes` MB (512×512 CT slices, made as the body is sent, so
 * the benchmark never holds it either): the relay's RSS just before, and its peak during.
 */
async function largeRequest(
  relay: Target,
  megabytes: number,
): Promise<{
  requestMb: number;
  instances: number;
  status: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  rssRiseMb: number;
  seconds: number;
}> {
  const study = syntheticUid();
  const series = syntheticUid();
  const perInstance = makeInstance({ sopClass: 'CT', rows: 512, columns: 512 }).length;
  const count = Math.ceil((megabytes * MB) / perInstance);
  let sent = 0;
  let bytes = 0;
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === count) {
        controller.enqueue(encoder.encode(`--${BOUNDARY}--\r\n`));
        controller.close();
        return;
      }
      sent += 1;
      const instance = makeInstance({
        sopClass: 'CT',
        studyInstanceUid: study,
        seriesInstanceUid: series,
        rows: 512,
        columns: 512,
        attributes: { InstanceNumber: sent },
      });
      bytes += instance.length;
      controller.enqueue(
        encoder.encode(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`),
      );
      controller.enqueue(instance);
      controller.enqueue(encoder.encode('\r\n'));
    },
  });
  const headers = {
    ...(await relay.headers()),
    'content-type': STOW_TYPE,
    accept: 'application/dicom+json',
  };
  const before = rssBytes(relay.pid) ?? 0;
  const started = performance.now();
  const [status, peak] = await withPeakRss(relay.pid, async () => {
    const response = await fetch(relay.stowUrl, {
      method: 'POST',
      headers,
      body,
      duplex: 'half',
    } as RequestInit);
    await response.arrayBuffer();
    return response.status;
  });
  return {
    requestMb: round(bytes / MB) ?? 0,
    instances: count,
    status,
    rssBeforeMb: Math.round(before / MB),
    rssPeakMb: Math.round(peak / MB),
    rssRiseMb: Math.round((peak - before) / MB),
    seconds: round((performance.now() - started) / 1000) ?? 0,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string', default: '200' },
      studies: { type: 'string', default: '4' },
      'large-mb': { type: 'string', default: '500' },
      'case-studies': { type: 'string', default: '20' },
      out: { type: 'string', default: 'bench/results/dicom.json' },
      'profile-dir': { type: 'string' },
      'relay-only': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const instanceCount = Number(values.instances);
  const studyCount = Number(values.studies);
  await run('storescu', ['--version']).catch(() => {
    throw new Error('storescu not found: apt-get install -y dcmtk');
  });
  const workDir = await mkdtemp(join(tmpdir(), 'telerelay-bench-dicom-'));
  trackTempDir(workDir);

  log('starting the relay (embedded defaults, temporary DATA_DIR)');
  const relay = await startRelayTarget(workDir, values['profile-dir']);
  const targets: Target[] = [relay];
  let orthanc: (Target & { child: ChildProcess }) | undefined;
  if (values['relay-only']) {
    log('--relay-only: the Orthanc rows are skipped');
  } else if (await orthancInstalled()) {
    log('starting Orthanc (temporary storage, DICOMweb plugin)');
    orthanc = await startOrthanc(workDir);
    targets.push(orthanc);
  } else {
    log(
      `Orthanc not installed (${ORTHANC_BIN}, ${DICOMWEB_PLUGIN}): its rows are skipped (apt-get install -y orthanc orthanc-dicomweb)`,
    );
  }

  const rows: DicomRow[] = [];
  const runs: { protocol: 'stow' | 'c-store'; concurrency: number }[] = [
    { protocol: 'stow', concurrency: 1 },
    { protocol: 'stow', concurrency: 4 },
    { protocol: 'stow', concurrency: 16 },
    { protocol: 'c-store', concurrency: 1 },
    { protocol: 'c-store', concurrency: 4 },
  ];
  for (const { protocol, concurrency } of runs) {
    log(`${protocol} ×${concurrency}: making ${instanceCount} fresh CT slices`);
    const instances = await corpus(instanceCount, studyCount);
    for (const target of targets) {
      const result =
        protocol === 'stow'
          ? await stow(target, instances, concurrency)
          : await cStore(target, workDir, instances, concurrency);
      const { rss, ...figures } = result;
      const row: DicomRow = {
        server: target.server,
        protocol,
        concurrency,
        ...figures,
        rssMb: Math.round(rss / MB),
      };
      log(
        `  ${target.server}: ${row.instancesPerSec} instances/s, p99 ${row.p99InstanceMs} ms, ${row.failures} failed`,
      );
      rows.push(row);
    }
  }

  log(`study complete → county worklist, ${values['case-studies']} studies`);
  const studyToCase = await completeToWorklist(relay, Number(values['case-studies']));
  let large: Awaited<ReturnType<typeof largeRequest>> | undefined;
  if (Number(values['large-mb']) > 0) {
    log(`one STOW request of ${values['large-mb']} MB`);
    large = await largeRequest(relay, Number(values['large-mb']));
  }
  if (orthanc) await stopProcess(orthanc.child);
  await stopProcess(relay.child);

  const headers = [
    'server',
    'protocol',
    'concurrency',
    'instances/s',
    'MB/s',
    'p99 ms/instance',
    'peak RSS MB',
    'failed',
  ];
  process.stdout.write(
    `\nDICOM intake, ${instanceCount} CT slices of ${round((await corpus(1, 1))[0]!.length / MB, 2)} MB per run\n` +
      `${formatTable(
        headers,
        rows.map((r) => [
          r.server,
          r.protocol,
          r.concurrency,
          r.instancesPerSec,
          r.mbPerSec,
          r.p99InstanceMs,
          r.rssMb,
          r.failures,
        ]),
      )}\n`,
  );
  const ratios = runs.map(({ protocol, concurrency }) => {
    const ours = rows.find(
      (r) => r.server === 'relay' && r.protocol === protocol && r.concurrency === concurrency,
    );
    const theirs = rows.find(
      (r) => r.server === 'orthanc' && r.protocol === protocol && r.concurrency === concurrency,
    );
    const ratio =
      ours?.instancesPerSec && theirs?.instancesPerSec
        ? round(ours.instancesPerSec / theirs.instancesPerSec, 2)
        : null;
    return { protocol, concurrency, ratio };
  });
  if (orthanc) {
    process.stdout.write(
      `\nrelay / Orthanc, instances per second\n${formatTable(
        ['protocol', 'concurrency', 'ours / Orthanc'],
        ratios.map((r) => [r.protocol, r.concurrency, r.ratio === null ? null : `${r.ratio}×`]),
      )}\n`,
    );
  } else {
    process.stdout.write('\nOrthanc not installed: no Orthanc rows, no ratios.\n');
  }
  process.stdout.write(
    `\nstudy complete → case on the county worklist (relay), ${studyToCase.studies} studies: ` +
      `p50 ${studyToCase.p50Ms} ms, p99 ${studyToCase.p99Ms} ms, max ${studyToCase.maxMs} ms\n`,
  );
  if (large) {
    process.stdout.write(
      `one STOW request of ${large.requestMb} MB (${large.instances} instances): HTTP ${large.status} in ${large.seconds} s; ` +
        `relay RSS ${large.rssBeforeMb} MB before, peak ${large.rssPeakMb} MB, rise ${large.rssRiseMb} MB\n`,
    );
  }
  const out = values.out;
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify({ rows, ratios: orthanc ? ratios : null, studyCompleteToWorklist: studyToCase, largeStowRequest: large ?? null }, null, 2)}\n`,
  );
  log(`wrote ${out}`);
  await rm(workDir, { recursive: true, force: true });
}

runBenchmark(main, log);
