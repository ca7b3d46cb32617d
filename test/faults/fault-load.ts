import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { DeviceError, StoredAck } from '#contracts';
import { SimulatedBox } from '../../device-simulator/src/box.js';
import { BoxStoppedError } from '../../device-simulator/src/errors.js';
import { readBlob, sha256Hex } from '../support/crash.js';
import type { DemoDevice, RelayProcess } from '../support/relay-process.js';

/** A recording a box was told is complete: the relay owes it forever after. */
export interface StoredRecording {
  recordingId: string;
  caseId: string;
  sha256: string;
  deviceId: string;
}

/**
 * Boxes under load for the fault tests: each one (a device-simulator box, speaking
 * docs/protocol.md with its outbox and resume logic) records a short ECG, waits for the
 * relay's `complete` acknowledgement, and records the next, until drained. Every
 * acknowledgement and refusal is timed, so a test can ask what the boxes heard while a
 * part of the relay was gone, and how long they waited for the next acknowledgement.
 */
export class LoadFleet {
  readonly boxes: SimulatedBox[] = [];
  readonly stored = new Map<string, StoredRecording>();
  /** Recordings the boxes gave up on: the relay refused them for good or lost acknowledged chunks. */
  readonly failures: { deviceId: string; recordingId?: string; error: string }[] = [];
  readonly refusals: { deviceId: string; at: number; error: DeviceError }[] = [];
  /** Close → complete acknowledgement, per stored recording, with when it arrived. */
  readonly completions: { deviceId: string; at: number; latencyMs: number }[] = [];
  /** Arrival times of every StoredAck, per box. */
  private readonly ackTimes = new Map<string, number[]>();
  /** Every StoredAck with its arrival time, in arrival order. */
  readonly acks: { at: number; ack: StoredAck }[] = [];
  private readonly loops: Promise<void>[] = [];
  private running = false;

  constructor(
    private readonly brokerUrl: () => string,
    private readonly devices: readonly DemoDevice[],
    private readonly recordSeconds = 2,
  ) {}

  /** Connects every box and starts its recording loop; resolves once all are connected. */
  async start(): Promise<void> {
    this.running = true;
    for (const device of this.devices) {
      const box = new SimulatedBox({
        brokerUrl: this.brokerUrl(),
        deviceId: device.deviceId,
        secret: device.secret,
        ackTimeoutMs: 2_000,
        reconnect: { minMs: 100, maxMs: 1_000 },
        retry: { minMs: 100, maxMs: 1_000 },
      });
      const times: number[] = [];
      this.ackTimes.set(device.deviceId, times);
      box.on('acked', (ack) => {
        const at = Date.now();
        times.push(at);
        this.acks.push({ at, ack });
      });
      box.on('refused', (error) =>
        this.refusals.push({ deviceId: device.deviceId, at: Date.now(), error }),
      );
      box.on('stored', (event) =>
        this.completions.push({
          deviceId: device.deviceId,
          at: Date.now(),
          latencyMs: event.ackLatencyMs,
        }),
      );
      // Link errors while the relay is down are expected; the box reconnects by itself.
      box.on('error', () => undefined);
      this.boxes.push(box);
      const connected = new Promise<void>((resolve) => box.once('connected', resolve));
      await box.start();
      await connected;
    }
    for (const box of this.boxes) this.loops.push(this.loop(box));
  }

  private async loop(box: SimulatedBox): Promise<void> {
    while (this.running) {
      try {
        const result = await box.record({ durationSeconds: this.recordSeconds });
        if (result.caseId === null) throw new Error('complete without a case id');
        this.stored.set(result.recordingId, {
          recordingId: result.recordingId,
          caseId: result.caseId,
          sha256: result.sha256,
          deviceId: box.deviceId,
        });
      } catch (error) {
        if (error instanceof BoxStoppedError) return;
        const recordingId = (error as { recordingId?: string }).recordingId;
        this.failures.push({
          deviceId: box.deviceId,
          ...(recordingId !== undefined && { recordingId }),
          error: String(error),
        });
      }
    }
  }

  /** StoredAcks any box received in [from, to). */
  acksBetween(from: number, to: number): number {
    let count = 0;
    for (const times of this.ackTimes.values())
      for (const at of times) if (at >= from && at < to) count += 1;
    return count;
  }

  /**
   * StoredAcks received in [from, to) that told a box more than it had been told before
   * `from`: a higher storedThrough, or complete for the first time. An ack that repeats a
   * recording's known state (the answer to a repeated open or close) acknowledges nothing new.
   */
  advancingAcksBetween(from: number, to: number): { at: number; ack: StoredAck }[] {
    const known = new Map<string, { storedThrough: number; complete: boolean }>();
    for (const { at, ack } of this.acks) {
      if (at >= from) break;
      const before = known.get(ack.recordingId);
      known.set(ack.recordingId, {
        storedThrough: Math.max(before?.storedThrough ?? -1, ack.storedThrough),
        complete: (before?.complete ?? false) || ack.complete,
      });
    }
    return this.acks.filter(({ at, ack }) => {
      if (at < from || at >= to) return false;
      const before = known.get(ack.recordingId);
      return (
        ack.storedThrough > (before?.storedThrough ?? -1) || (ack.complete && !before?.complete)
      );
    });
  }

  /** Per box, ms from `since` to its first StoredAck at or after it; undefined if none yet. */
  firstAckAfter(since: number): Map<string, number | undefined> {
    const waits = new Map<string, number | undefined>();
    for (const [deviceId, times] of this.ackTimes) {
      const at = times.find((time) => time >= since);
      waits.set(deviceId, at === undefined ? undefined : at - since);
    }
    return waits;
  }

  /** True once every box has had a StoredAck at or after `since`. */
  allAckedSince(since: number): boolean {
    return [...this.firstAckAfter(since).values()].every((wait) => wait !== undefined);
  }

  completionsSince(since: number): number {
    return this.completions.filter((completion) => completion.at >= since).length;
  }

  /** Stops recording new ECGs and waits until every box's last recording is settled. */
  async drain(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.boxes.map((box) => box.stop()));
    await Promise.all(this.loops);
  }
}

/** Nearest-rank percentile of `values` (0 for none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Rows of a query on the relay's database, read after the relay has stopped (PGlite holds
 * its directory while the relay runs) or from the PostgreSQL database it used.
 */
export async function relayRows<T>(
  dataDir: string,
  query: string,
  databaseUrl?: string,
): Promise<T[]> {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query(query)).rows as T[];
    } finally {
      await client.end();
    }
  }
  const db = await PGlite.create(join(dataDir, 'pg'));
  try {
    return (await db.query<T>(query)).rows;
  } finally {
    await db.close();
  }
}

/** Every case of the relay's database with its recording (see relayRows). */
export function caseRows(
  dataDir: string,
  databaseUrl?: string,
): Promise<{ id: string; recordingId: string | null }[]> {
  return relayRows(
    dataDir,
    'select id::text as id, recording_id::text as "recordingId" from cases',
    databaseUrl,
  );
}

/**
 * What the boxes were told against what the database holds: a recording acknowledged
 * complete with no case (or another case) is lost; a recording with more than one case, or a
 * case for a recording no box sent twice over, is a duplicate.
 */
export function reconcile(
  stored: ReadonlyMap<string, StoredRecording>,
  rows: readonly { id: string; recordingId: string | null }[],
): { ackedLost: number; duplicateCases: number } {
  const casesByRecording = new Map<string, string[]>();
  for (const row of rows) {
    if (row.recordingId === null) continue;
    casesByRecording.set(row.recordingId, [
      ...(casesByRecording.get(row.recordingId) ?? []),
      row.id,
    ]);
  }
  let ackedLost = 0;
  for (const recording of stored.values()) {
    const cases = casesByRecording.get(recording.recordingId) ?? [];
    if (!cases.includes(recording.caseId)) ackedLost += 1;
  }
  let duplicateCases = 0;
  for (const cases of casesByRecording.values()) duplicateCases += cases.length - 1;
  return { ackedLost, duplicateCases };
}

/** Stored recordings whose sample file is missing or not what the box sent. */
export async function damagedBlobs(
  dataDir: string,
  stored: ReadonlyMap<string, StoredRecording>,
): Promise<number> {
  let damaged = 0;
  for (const recording of stored.values()) {
    const bytes = await readBlob(dataDir, recording.sha256).catch(() => undefined);
    if (bytes === undefined || sha256Hex(bytes) !== recording.sha256) damaged += 1;
  }
  return damaged;
}

/**
 * The fault tests' boxes all connect from 127.0.0.1, where a region's come from as many
 * addresses as boxes: the per-address connect limit (600 a minute) is meant for the latter,
 * so it is raised here; the per-device limit stays as configured.
 */
export const ONE_ADDRESS_FLEET_ENV = { MQTT_CONNECTS_PER_ADDRESS_PER_MINUTE: '100000' };

/** A count from the environment (FAULT_RUNS=3 …), or the full run's default. */
export function countFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

/** One line a fault test prints, `FAULT <name>: key=value …`, for the report and docs/faults.md. */
export function printFigure(name: string, figures: Record<string, string | number>): void {
  const line = `FAULT ${name}: ${Object.entries(figures)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')}`;
  console.log(line);
}

/**
 * Stops the relay with SIGTERM as an operator would; if it has not exited after
 * `timeoutMs`, kills it (-9) so the test can read what it left. Returns how long the
 * graceful stop took, or 'hung'.
 */
export async function stopOrKill(
  relay: RelayProcess,
  timeoutMs = 30_000,
): Promise<number | 'hung'> {
  const started = Date.now();
  const stopped = relay.stop().then(() => Date.now() - started);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), timeoutMs);
  });
  const outcome = await Promise.race([stopped, late]);
  clearTimeout(timer);
  if (outcome === 'hung') {
    await relay.kill();
    await stopped;
  }
  return outcome;
}
