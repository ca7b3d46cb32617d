import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseSummary } from '#contracts';
import { FileOutboxStore } from '../../device-simulator/src/file-outbox.js';
import { ConsoleClient } from '../support/clients.js';
import { RelayProcess } from '../support/relay-process.js';

interface SimRun {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm run sim -- …` without the build (the e2e global setup has built dist/ already). */
function runSimulator(args: readonly string[]): SimRun {
  const child = spawn(process.execPath, ['dist/device-simulator/src/main.js', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  let out = '';
  child.stdout!.on('data', (data: Buffer) => {
    out += data.toString();
    const lines = out.split('\n');
    out = lines.pop() ?? '';
    stdout.push(...lines);
  });
  child.stderr!.on('data', (data: Buffer) => stderr.push(data.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => {
    if (out) stdout.push(out);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return { child, stdout, stderr, exited };
}

/** Counts of the final summary line. */
function summary(line: string | undefined): Record<string, number> {
  const numbers: Record<string, number> = {};
  for (const [, key, value] of (line ?? '').matchAll(
    /(boxes|recordings sent|stored|failed|lost|kept|link drops) (\d+)/g,
  )) {
    numbers[key!] = Number(value);
  }
  return numbers;
}

/** Resolves once `check` holds, re-checking whenever a file changes in one of `dirs`. */
async function whenFiles(dirs: readonly string[], check: () => Promise<boolean>): Promise<void> {
  let changed: () => void = () => undefined;
  const watchers = dirs.map((dir) => watch(dir, () => changed()));
  try {
    for (;;) {
      const next = new Promise<void>((resolve) => (changed = resolve));
      if (await check()) return;
      await next;
    }
  } finally {
    for (const watcher of watchers) watcher.close();
  }
}

async function recordingFiles(bufferDir: string): Promise<string[]> {
  const files: string[] = [];
  for (const box of await readdir(bufferDir).catch(() => [] as string[])) {
    const names = await readdir(join(bufferDir, box)).catch(() => [] as string[]);
    files.push(...names.filter((name) => name.endsWith('.rec')).map((name) => `${box}/${name}`));
  }
  return files;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the simulator CLI against a relay process', () => {
  let relay: RelayProcess;
  let credentials: string;
  const temporary: string[] = [];

  beforeAll(async () => {
    relay = await RelayProcess.start();
    credentials = join(relay.dataDir, 'demo-devices.json');
  });

  afterAll(async () => {
    await relay?.dispose();
    for (const dir of temporary) await rm(dir, { recursive: true, force: true });
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'telerelay-e2e-sim-'));
    temporary.push(dir);
    return dir;
  }

  /** Every clinic's cases, as its staff sees them. */
  async function casesByClinic(clinics: readonly string[]): Promise<Map<string, CaseSummary[]>> {
    const byClinic = new Map<string, CaseSummary[]>();
    for (const clinicId of clinics) {
      const staff = await ConsoleClient.login(relay.httpUrl, `${clinicId.replace('-', '')}.staff`);
      byClinic.set(clinicId, (await staff.get<CaseSummary[]>('/api/worklist')).body);
    }
    return byClinic;
  }

  it('--flaky: six boxes, two recordings each, end with lost 0 and exit code 0', async () => {
    const run = runSimulator([
      '--url',
      relay.mqttUrl,
      '--credentials',
      credentials,
      '--devices',
      '6',
      '--count',
      '2',
      '--flaky',
      '--interval',
      '1',
      '--quiet',
    ]);
    const { code } = await run.exited;
    expect(run.stderr.join('')).toBe('');
    expect(code, run.stdout.join('\n')).toBe(0);
    const last = run.stdout.at(-1);
    expect(last).toContain('lost 0');
    expect(summary(last)).toMatchObject({
      boxes: 6,
      'recordings sent': 12,
      stored: 12,
      failed: 0,
      lost: 0,
    });
    expect(last).toMatch(/ · link drops \d+$/);

    // Each of the six boxes (two per clinic 1..3) delivered two recordings: four cases per
    // clinic, each for a different recording.
    const devices = (await relay.demoDevices()).slice(0, 6);
    const clinics = [...new Set(devices.map((device) => device.clinicId))];
    expect(clinics).toEqual(['clinic-1', 'clinic-2', 'clinic-3']);
    for (const [clinicId, cases] of await casesByClinic(clinics)) {
      expect(cases, clinicId).toHaveLength(4);
      expect(new Set(cases.map((c) => c.recordingId)).size).toBe(4);
    }
  });

  it('--flaky-seconds: links cut while recordings are in flight still lose nothing', async () => {
    const bufferDir = await tempDir();
    const run = runSimulator([
      '--url',
      relay.mqttUrl,
      '--credentials',
      credentials,
      '--devices',
      '6',
      '--count',
      '3',
      '--interval',
      '1',
      '--chunk-samples',
      '50',
      '--flaky-seconds',
      '0.2-1',
      '--buffer-dir',
      bufferDir,
      '--quiet',
    ]);
    const { code } = await run.exited;
    expect(run.stderr.join('')).toBe('');
    expect(code, run.stdout.join('\n')).toBe(0);
    const counts = summary(run.stdout.at(-1));
    expect(counts).toMatchObject({ 'recordings sent': 18, stored: 18, failed: 0, kept: 0 });
    // Six boxes rolling every 0.2–1 s for several seconds: links were cut (p of none < 1e-5).
    expect(counts['link drops']).toBeGreaterThan(0);
    expect(await recordingFiles(bufferDir)).toEqual([]);
  });

  it('--buffer-dir: a simulator killed with -9 hands its recordings to the next run', async () => {
    const bufferDir = await tempDir();
    const devices = (await relay.demoDevices()).slice(6, 8);
    expect(devices.map((device) => device.clinicId)).toEqual(['clinic-4', 'clinic-4']);
    const before = await casesByClinic(['clinic-4']);
    expect(before.get('clinic-4')).toEqual([]);
    const credentialsFile = join(await tempDir(), 'boxes.json');
    await writeFile(credentialsFile, JSON.stringify({ devices }));
    // The boxes' directories exist up front, so the test can watch them for files.
    const boxDirs = devices.map((d) => FileOutboxStore.directoryFor(bufferDir, d.deviceId));
    for (const dir of boxDirs) await mkdir(dir, { recursive: true });

    // Run 1: the relay is out of reach; each box records twice into its buffer, then dies.
    const offline = runSimulator([
      '--url',
      `mqtt://127.0.0.1:${await closedPort()}`,
      '--credentials',
      credentialsFile,
      '--count',
      '2',
      '--interval',
      '0.2',
      '--buffer-dir',
      bufferDir,
      '--quiet',
    ]);
    await whenFiles(boxDirs, async () => (await recordingFiles(bufferDir)).length === 4);
    offline.child.kill('SIGKILL');
    expect((await offline.exited).signal).toBe('SIGKILL');
    const buffered = await recordingFiles(bufferDir);
    expect(buffered).toHaveLength(4);

    // Run 2: the relay is there; the boxes deliver what run 1 left plus one new recording each.
    const online = runSimulator([
      '--url',
      relay.mqttUrl,
      '--credentials',
      credentialsFile,
      '--count',
      '1',
      '--interval',
      '0.2',
      '--buffer-dir',
      bufferDir,
    ]);
    const { code } = await online.exited;
    expect(online.stderr.join('')).toBe('');
    expect(code, online.stdout.join('\n')).toBe(0);
    const resumedIds = online.stdout.flatMap(
      (line) => / resumed ([0-9a-f-]{36}) from the buffer /.exec(line)?.[1] ?? [],
    );
    expect(resumedIds.sort()).toEqual(
      buffered.map((file) => file.slice(file.indexOf('/') + 1, -'.rec'.length)).sort(),
    );
    expect(summary(online.stdout.at(-1))).toMatchObject({
      'recordings sent': 6,
      stored: 6,
      failed: 0,
      kept: 0,
    });
    expect(await recordingFiles(bufferDir)).toEqual([]);
    const cases = (await casesByClinic(['clinic-4'])).get('clinic-4')!;
    expect(cases).toHaveLength(6);
    expect(cases.map((c) => c.recordingId)).toEqual(expect.arrayContaining(resumedIds));
  });
});
