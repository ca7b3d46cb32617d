/**
 * `npm run bench:worklist`: the clinical round trip under a region's load (bench/README.md).
 * Starts the relay on a generated region (REGION_FILE) or the demo region (--demo), connects
 * the readers and the clinics over Socket.IO, has one simulated box per clinic send ECGs at
 * --cases-per-min over MQTT, and lets the readers claim and sign as cases arrive. Measures
 * stored → on the readers' worklists and sign → at the clinic, counts lost and duplicated
 * diagnoses. Prints a table and writes bench/results/worklist.json.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { io, type Socket } from 'socket.io-client';
import type {
  ClientToServerEvents,
  DiagnosisDelivery,
  LoginResponse,
  ServerToClientEvents,
} from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import {
  keepTempDirs,
  killEverything,
  launchRelay,
  runBenchmark,
  REPO_ROOT,
  stopProcess,
  trackTempDir,
} from './brokers.js';
import { loadAverage } from './proc.js';
import { formatTable, percentile, round, optionNumber } from './stats.js';

const USAGE = `npm run bench:worklist -- [options]

  --cases-per-min 100   new ECG cases per minute, from the clinics' boxes in turn
  --readers 20          connected readers (Socket.IO + REST), spread over the county hospitals
  --clinics 50          clinics, each with one box and one connected clinic console
  --seconds 120         how long new cases are sent
  --drain 60            seconds to wait afterwards for cases still on their way
  --demo                run on the demo region (6 clinics, its readers and boxes) instead of a
                        generated REGION_FILE; --clinics is capped at 6
  --keep-temp           keep the relay's data directory and log
  --out bench/results/worklist.json
`;

/** Clinics per county hospital in the generated region. */
const CLINICS_PER_COUNTY = 10;
const ECG_SECONDS = 10;
const DEMO_PASSWORD = 'bench-demo-password';
const RELAY_READY_TIMEOUT_MS = 300_000;
const CONCLUSION = 'Sinus rhythm. Normal ECG.';

type ConsoleSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

interface Options {
  casesPerMin: number;
  readers: number;
  clinics: number;
  seconds: number;
  drain: number;
  demo: boolean;
  keepTemp: boolean;
  out: string;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      'cases-per-min': { type: 'string', default: '100' },
      readers: { type: 'string', default: '20' },
      clinics: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '120' },
      drain: { type: 'string', default: '60' },
      demo: { type: 'boolean', default: false },
      'keep-temp': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results/worklist.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const clinics = Math.round(optionNumber('clinics', values.clinics, 1, 1000));
  return {
    casesPerMin: optionNumber('cases-per-min', values['cases-per-min'], 1, 6000),
    readers: Math.round(optionNumber('readers', values.readers, 1, 500)),
    clinics: values.demo ? Math.min(clinics, 6) : clinics,
    seconds: optionNumber('seconds', values.seconds, 1, 3600),
    drain: optionNumber('drain', values.drain, 1, 600),
    demo: values.demo,
    keepTemp: values['keep-temp'],
    out: resolve(REPO_ROOT, values.out),
  };
}

function log(message: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

// ── the region ────────────────────────────────────────────────────────────────────

interface Region {
  /** Reader logins, in the order readers are created (spread over the counties). */
  readers: { username: string; password: string; hospitalId: string }[];
  clinics: {
    id: string;
    hospitalId: string;
    staff: { username: string; password: string };
    box?: { id: string; secret: string };
  }[];
}

/**
 * A tertiary hospital, county hospitals of ten clinics each, readers spread evenly over the
 * counties, one staff login and one box per clinic: the REGION_FILE shape of
 * docs (facilities, users, devices; clear-text secrets are for seeding only).
 */
function generateRegion(options: Options): { file: unknown; region: Region } {
  const password = randomBytes(12).toString('base64url');
  const counties = Math.ceil(options.clinics / CLINICS_PER_COUNTY);
  const pad = (n: number) => String(n).padStart(3, '0');
  const facilities: { id: string; kind: string; name: string; parentId: string | null }[] = [
    { id: 'bench-tertiary', kind: 'tertiary', name: 'Bench City Hospital', parentId: null },
  ];
  for (let c = 1; c <= counties; c += 1) {
    facilities.push({
      id: `bench-county-${pad(c)}`,
      kind: 'county',
      name: `Bench County ${c} Hospital`,
      parentId: 'bench-tertiary',
    });
  }
  const region: Region = { readers: [], clinics: [] };
  const users: Record<string, string>[] = [];
  const devices: Record<string, string>[] = [];
  for (let n = 1; n <= options.clinics; n += 1) {
    const id = `bench-clinic-${pad(n)}`;
    const hospitalId = `bench-county-${pad(Math.ceil(n / CLINICS_PER_COUNTY))}`;
    facilities.push({ id, kind: 'clinic', name: `Bench Clinic ${n}`, parentId: hospitalId });
    const staff = { username: `bench.clinic${pad(n)}.staff`, password };
    users.push({
      ...staff,
      displayName: `Bench clinic ${n} staff`,
      role: 'clinic_staff',
      facilityId: id,
    });
    const box = { id: `bench-box-${pad(n)}`, secret: randomBytes(18).toString('base64url') };
    devices.push({ id: box.id, facilityId: id, secret: box.secret });
    region.clinics.push({ id, hospitalId, staff, box });
  }
  for (let r = 1; r <= options.readers; r += 1) {
    const hospitalId = `bench-county-${pad(((r - 1) % counties) + 1)}`;
    const reader = { username: `bench.reader${pad(r)}`, password, hospitalId };
    users.push({
      username: reader.username,
      password,
      displayName: `Dr. Bench ${r}`,
      role: 'reader',
      facilityId: hospitalId,
    });
    region.readers.push(reader);
  }
  return { file: { facilities, users, devices }, region };
}

/** The demo region: readers are sessions of the two county readers, boxes from its file. */
async function demoRegion(options: Options, dataDir: string): Promise<Region> {
  const file = JSON.parse(await readFile(join(dataDir, 'demo-devices.json'), 'utf8')) as {
    devices: { deviceId: string; secret: string; clinicId: string }[];
  };
  const hospitalOf = (n: number) => (n <= 3 ? 'county-1' : 'county-2');
  const clinics: Region['clinics'] = [];
  for (let n = 1; n <= options.clinics; n += 1) {
    const device = file.devices.find((d) => d.clinicId === `clinic-${n}`);
    clinics.push({
      id: `clinic-${n}`,
      hospitalId: hospitalOf(n),
      staff: { username: `clinic${n}.staff`, password: DEMO_PASSWORD },
      box: device && { id: device.deviceId, secret: device.secret },
    });
  }
  const hospitals = [...new Set(clinics.map((c) => c.hospitalId))];
  const readers = Array.from({ length: options.readers }, (_, r) => {
    const hospitalId = hospitals[r % hospitals.length]!;
    return {
      username: hospitalId === 'county-1' ? 'county1.reader' : 'county2.reader',
      password: DEMO_PASSWORD,
      hospitalId,
    };
  });
  return { readers, clinics };
}

// ── the relay ─────────────────────────────────────────────────────────────────────

interface RunningRelay {
  child: ChildProcess;
  httpUrl: string;
  mqttUrl: string;
  logFile: string;
}

/** Seeding a region hashes every password and secret: give the start more time. */
async function startRelay(dataDir: string, env: NodeJS.ProcessEnv): Promise<RunningRelay> {
  const relay = await launchRelay(dataDir, { env, readyTimeoutMs: RELAY_READY_TIMEOUT_MS });
  return {
    child: relay.child,
    httpUrl: `http://127.0.0.1:${relay.httpPort}`,
    mqttUrl: `mqtt://127.0.0.1:${relay.mqttPort}`,
    logFile: relay.logFile,
  };
}

// ── clients ───────────────────────────────────────────────────────────────────────

async function login(httpUrl: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200) throw new Error(`login of ${username}: HTTP ${response.status}`);
  return ((await response.json()) as LoginResponse).accessToken;
}

async function connectSocket(
  httpUrl: string,
  token: string,
  listen: (socket: ConsoleSocket) => void,
): Promise<ConsoleSocket> {
  const socket: ConsoleSocket = io(httpUrl, {
    path: '/socket.io',
    auth: { token },
    transports: ['websocket'],
    autoConnect: false,
  });
  // Listeners first: the relay replays owed events right after the handshake.
  listen(socket);
  const ready = new Promise<void>((done, fail) => {
    socket.once('session.ready', () => done());
    socket.once('connect_error', fail);
  });
  socket.connect();
  await ready;
  return socket;
}

/** What the run observed, all times from performance.now() in this process. */
class Observations {
  readonly storedAt = new Map<string, number>();
  /** Per case, when each reader's worklist got it. */
  readonly listedAt = new Map<string, number[]>();
  readonly signRequestedAt = new Map<string, number>();
  readonly signedCases = new Set<string>();
  /** Per case, when the clinic got its diagnosis (first time). */
  readonly clinicReceivedAt = new Map<string, number>();
  /** Deliveries per event id, over all clinic sockets. */
  readonly deliveries = new Map<string, number>();
  readonly boxDiagnoses = new Set<string>();
  readonly errors: string[] = [];
  sendFailures = 0;
  claimConflicts = 0;

  listed(caseId: string): void {
    const list = this.listedAt.get(caseId) ?? [];
    list.push(performance.now());
    this.listedAt.set(caseId, list);
  }
}

/**
 * A reader as the console is used: keeps its worklist from the live events, takes the
 * oldest case still waiting, claims it (another reader may be faster: 409, take the next)
 * and signs it at once.
 */
class Reader {
  private readonly waiting: string[] = [];
  private busy = false;

  constructor(
    private readonly httpUrl: string,
    private readonly token: string,
    private readonly seen: Observations,
  ) {}

  listen(socket: ConsoleSocket): void {
    socket.on('worklist.case-added', (summary) => {
      this.seen.listed(summary.id);
      this.waiting.push(summary.id);
      void this.work();
    });
    socket.on('worklist.case-updated', (summary) => {
      if (summary.status === 'awaiting_review') return;
      const index = this.waiting.indexOf(summary.id);
      if (index >= 0) this.waiting.splice(index, 1);
    });
  }

  private async work(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let caseId = this.waiting.shift(); caseId; caseId = this.waiting.shift()) {
        const claim = await this.post(`/api/cases/${caseId}/claim`);
        if (claim === 409) {
          this.seen.claimConflicts += 1;
          continue;
        }
        if (claim !== 200) {
          this.seen.errors.push(`claim ${caseId}: HTTP ${claim}`);
          continue;
        }
        this.seen.signRequestedAt.set(caseId, performance.now());
        const sign = await this.post(`/api/cases/${caseId}/sign`, { conclusion: CONCLUSION });
        if (sign === 200) this.seen.signedCases.add(caseId);
        else this.seen.errors.push(`sign ${caseId}: HTTP ${sign}`);
      }
    } catch (error) {
      this.seen.errors.push(`reader: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.busy = false;
    }
  }

  private async post(path: string, body?: unknown): Promise<number> {
    const response = await fetch(`${this.httpUrl}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await response.arrayBuffer();
    return response.status;
  }
}

/** A clinic console: shows each diagnosis and acknowledges it, as the console does. */
function clinicListener(seen: Observations): (socket: ConsoleSocket) => void {
  return (socket) => {
    socket.on('diagnosis.signed', (delivery: DiagnosisDelivery) => {
      const now = performance.now();
      seen.deliveries.set(delivery.eventId, (seen.deliveries.get(delivery.eventId) ?? 0) + 1);
      if (!seen.clinicReceivedAt.has(delivery.diagnosis.caseId)) {
        seen.clinicReceivedAt.set(delivery.diagnosis.caseId, now);
      }
      socket.emit('diagnosis.received', { eventId: delivery.eventId });
    });
  };
}

// ── the run ───────────────────────────────────────────────────────────────────────

export interface WorklistResult {
  casesPerMin: number;
  readers: number;
  clinics: number;
  p50StoredToWorklistMs: number | null;
  p99StoredToWorklistMs: number | null;
  p50SignToClinicMs: number | null;
  p99SignToClinicMs: number | null;
  lost: number;
  duplicated: number;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  try {
    await access(join(REPO_ROOT, 'dist/apps/relay/src/main.js'));
  } catch {
    throw new Error('dist/ is missing: run `npm run build` first (npm run bench:worklist does)');
  }
  const budgetMs = (options.seconds + options.drain) * 1000 + 15 * 60_000;
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${Math.round(budgetMs / 1000)} s, stopping everything`);
    killEverything();
    process.exit(1);
  }, budgetMs);
  watchdog.unref();

  const workDir = await mkdtemp(join(tmpdir(), 'telerelay-bench-worklist-'));
  trackTempDir(workDir);
  keepTempDirs(options.keepTemp);
  const dataDir = join(workDir, 'relay');
  await mkdir(dataDir, { recursive: true });
  log(
    `${options.demo ? 'demo region' : 'generated region'}: ${options.clinics} clinics, ` +
      `${options.readers} readers, ${options.casesPerMin} cases/min for ${options.seconds} s; ` +
      `load average ${loadAverage()}`,
  );

  let region: Region;
  let relay: RunningRelay;
  if (options.demo) {
    relay = await startRelay(dataDir, { DEMO: 'true', DEMO_PASSWORD });
    region = await demoRegion(options, dataDir);
  } else {
    const generated = generateRegion(options);
    const regionFile = join(workDir, 'region.json');
    await writeFile(regionFile, JSON.stringify(generated.file, null, 2));
    log('starting the relay (seeding the region hashes every password and secret)');
    relay = await startRelay(dataDir, {
      DEMO: 'false',
      REGION_FILE: regionFile,
      // A bench region's patients are fictitious: keys of the run's own.
      PATIENT_ID_HMAC_KEY: randomBytes(32).toString('base64'),
      PATIENT_ID_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    });
    region = generated.region;
  }
  log(`relay ready at ${relay.httpUrl}, ${relay.mqttUrl}`);

  const seen = new Observations();
  const sockets: ConsoleSocket[] = [];
  const boxes: SimulatedBox[] = [];
  try {
    // Sign-ins one at a time: each is an argon2id verification on the relay.
    for (const entry of region.readers) {
      const token = await login(relay.httpUrl, entry.username, entry.password);
      const reader = new Reader(relay.httpUrl, token, seen);
      sockets.push(await connectSocket(relay.httpUrl, token, (s) => reader.listen(s)));
    }
    for (const clinic of region.clinics) {
      const token = await login(relay.httpUrl, clinic.staff.username, clinic.staff.password);
      sockets.push(await connectSocket(relay.httpUrl, token, clinicListener(seen)));
    }
    log(`${region.readers.length} readers and ${region.clinics.length} clinic consoles connected`);
    // Every box connected before the first case: a CONNECT costs an argon2id verification on
    // the relay's thread pool, which would otherwise compete with the measured path.
    await Promise.all(
      region.clinics.map(async (clinic) => {
        if (!clinic.box) throw new Error(`no box for ${clinic.id}`);
        const box = new SimulatedBox({
          brokerUrl: relay.mqttUrl,
          deviceId: clinic.box.id,
          secret: clinic.box.secret,
        });
        box.on('stored', (event) => {
          if (event.caseId) seen.storedAt.set(event.caseId, performance.now());
        });
        box.on('diagnosis', (diagnosis) => seen.boxDiagnoses.add(diagnosis.caseId));
        box.on('error', (error) => seen.errors.push(`box ${clinic.box!.id}: ${error.message}`));
        boxes.push(box);
        const connected = once(box, 'connected');
        await box.start();
        await connected;
      }),
    );
    log(`${boxes.length} boxes connected; sending cases`);

    const intervalMs = 60_000 / options.casesPerMin;
    const started = performance.now();
    let sent = 0;
    const pending: Promise<unknown>[] = [];
    while (performance.now() - started < options.seconds * 1000) {
      const box = boxes[sent % boxes.length]!;
      const seed = sent + 1;
      pending.push(
        box.record({ durationSeconds: ECG_SECONDS, seed }).catch((error: unknown) => {
          seen.sendFailures += 1;
          seen.errors.push(`record: ${error instanceof Error ? error.message : String(error)}`);
        }),
      );
      sent += 1;
      const next = started + sent * intervalMs;
      await sleep(Math.max(0, next - performance.now()));
    }
    log(`${sent} cases sent; waiting up to ${options.drain} s for the last ones`);
    const drainUntil = performance.now() + options.drain * 1000;
    await Promise.race([Promise.all(pending), sleep(options.drain * 1000)]);
    while (performance.now() < drainUntil && !settled(seen, region.readers.length > 0)) {
      await sleep(250);
    }
    const result = summarise(options, region, seen);
    report(options, result, seen, sent);
    await mkdir(dirname(options.out), { recursive: true });
    await writeFile(options.out, `${JSON.stringify(result, null, 2)}\n`);
    log(`written ${options.out}`);
  } finally {
    for (const socket of sockets) socket.disconnect();
    await Promise.all(boxes.map((box) => box.stop().catch(() => undefined)));
    await stopProcess(relay.child);
    if (!options.keepTemp) await rm(workDir, { recursive: true, force: true });
    else log(`kept ${workDir} (relay log: ${relay.logFile})`);
  }
}

/** Every stored case listed and signed, every signed case at its clinic. */
function settled(seen: Observations, haveReaders: boolean): boolean {
  if (!haveReaders) return true;
  for (const caseId of seen.storedAt.keys()) {
    if (!seen.signedCases.has(caseId)) return false;
  }
  for (const caseId of seen.signedCases) {
    if (!seen.clinicReceivedAt.has(caseId)) return false;
  }
  return true;
}

function summarise(options: Options, region: Region, seen: Observations): WorklistResult {
  const storedToWorklist: number[] = [];
  for (const [caseId, storedAt] of seen.storedAt) {
    for (const listedAt of seen.listedAt.get(caseId) ?? []) {
      storedToWorklist.push(listedAt - storedAt);
    }
  }
  const signToClinic: number[] = [];
  for (const caseId of seen.signedCases) {
    const requested = seen.signRequestedAt.get(caseId);
    const received = seen.clinicReceivedAt.get(caseId);
    if (requested !== undefined && received !== undefined) signToClinic.push(received - requested);
  }
  const sorted = (values: number[]) => Float64Array.from(values).sort();
  const a = sorted(storedToWorklist);
  const b = sorted(signToClinic);
  return {
    casesPerMin: options.casesPerMin,
    readers: region.readers.length,
    clinics: region.clinics.length,
    p50StoredToWorklistMs: round(percentile(a, 50)),
    p99StoredToWorklistMs: round(percentile(a, 99)),
    p50SignToClinicMs: round(percentile(b, 50)),
    p99SignToClinicMs: round(percentile(b, 99)),
    lost: [...seen.signedCases].filter((caseId) => !seen.clinicReceivedAt.has(caseId)).length,
    duplicated: [...seen.deliveries.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0),
  };
}

function report(options: Options, result: WorklistResult, seen: Observations, sent: number): void {
  const notListed = [...seen.storedAt.keys()].filter((id) => !seen.listedAt.has(id)).length;
  const target = (value: number | null, limit: number) =>
    value === null ? 'no data' : value <= limit ? 'met' : 'MISSED';
  process.stdout.write(
    `\n${options.demo ? 'DEMO REGION (6 clinics at most, readers are sessions of 2 users)\n' : ''}` +
      formatTable(
        [
          'cases/min',
          'readers',
          'clinics',
          'p50 stored→worklist ms',
          'p99 stored→worklist ms',
          'p50 sign→clinic ms',
          'p99 sign→clinic ms',
          'lost',
          'duplicated',
        ],
        [
          [
            result.casesPerMin,
            result.readers,
            result.clinics,
            result.p50StoredToWorklistMs,
            result.p99StoredToWorklistMs,
            result.p50SignToClinicMs,
            result.p99SignToClinicMs,
            result.lost,
            result.duplicated,
          ],
        ],
      ) +
      '\n\n' +
      formatTable(
        ['sent', 'stored', 'not listed', 'signed', 'at clinic', 'at box', 'claim 409s', 'errors'],
        [
          [
            sent,
            seen.storedAt.size,
            notListed,
            seen.signedCases.size,
            seen.clinicReceivedAt.size,
            seen.boxDiagnoses.size,
            seen.claimConflicts,
            seen.errors.length,
          ],
        ],
      ) +
      '\n\n' +
      `targets: p99 stored→worklist ≤ 500 ms: ${target(result.p99StoredToWorklistMs, 500)}; ` +
      `p99 sign→clinic ≤ 300 ms: ${target(result.p99SignToClinicMs, 300)}; ` +
      `lost 0: ${result.lost === 0 ? 'met' : 'MISSED'}; duplicated 0: ${result.duplicated === 0 ? 'met' : 'MISSED'}\n`,
  );
  for (const error of seen.errors.slice(0, 10)) process.stdout.write(`  error: ${error}\n`);
  if (seen.errors.length > 10) process.stdout.write(`  … ${seen.errors.length - 10} more\n`);
}

runBenchmark(main, log);
