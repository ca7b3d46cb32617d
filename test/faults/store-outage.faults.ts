import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { relayDatabase } from '../support/relay-databases.js';
import { TestRedis } from '../support/redis-server.js';
import { RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';
import {
  caseRows,
  countFromEnv,
  damagedBlobs,
  LoadFleet,
  ONE_ADDRESS_FLEET_ENV,
  percentile,
  printFigure,
  reconcile,
  stopOrKill,
} from './fault-load.js';

const BOXES = countFromEnv('FAULT_BOXES', 50);

interface Store {
  name: string;
  /** What the relay may not acknowledge while the store is away. */
  withheld: 'every ack' | 'complete acks';
  crash: () => Promise<void>;
  restart: () => Promise<void>;
}

async function healthStatus(relay: RelayProcess): Promise<number> {
  return (await fetch(`${relay.httpUrl}/health`)).status;
}

/**
 * A store of the relay crashes under a 50-box load and comes back. While it is away the
 * relay must not say "stored" for what it could not store (Redis: no ack at all, since
 * chunks are staged there; PostgreSQL: no `complete`, since the case is committed there,
 * while chunks, staged in Redis, are still acknowledged); when it is back, the relay must
 * resume by itself (no restart of the relay) and nothing it acknowledged may be missing.
 *
 * An ack that only repeats what a recording's box had already been told (the answer to a
 * repeated open or close of a recording stored before the crash, which the relay reads from
 * its database) acknowledges nothing new: it is counted (acksWhileDown) but allowed; an ack
 * that tells a box more than before (newAcksWhileDown) is not.
 *
 * "While it is away" starts when the relay's /health says so, not at the kill: an ack for a
 * write that was durable before the kill may still be on the wire for a few milliseconds.
 * The store stays away until every box has been refused (TEMPORARILY_UNAVAILABLE) at least
 * once: the relay answered each of them and said no, which is the behaviour under test.
 */
async function outage(relay: RelayProcess, store: Store, databaseUrl?: string): Promise<void> {
  const devices = (await relay.demoDevices()).slice(0, BOXES);
  const fleet = new LoadFleet(() => relay.mqttUrl, devices);
  try {
    await fleet.start();
    await waitFor(() => fleet.completions.length >= BOXES, {
      timeoutMs: 120_000,
      what: 'a first round of recordings',
    });
    const killedAt = Date.now();
    await store.crash();
    await waitFor(async () => (await healthStatus(relay)) === 503, {
      what: `/health to report ${store.name} down`,
    });
    const noticedAt = Date.now();
    const refusedWhileDown = () =>
      fleet.refusals.filter(
        (refusal) => refusal.at >= noticedAt && refusal.error.code === 'TEMPORARILY_UNAVAILABLE',
      );
    const refusedBoxes = () => new Set(refusedWhileDown().map((r) => r.deviceId)).size;
    await waitFor(() => refusedBoxes() === BOXES, {
      timeoutMs: 60_000,
      what: `every box refused while ${store.name} is down`,
    });
    const backAt = Date.now();
    const acksWhileDown = fleet.acksBetween(noticedAt, backAt);
    const advancing = fleet.advancingAcksBetween(noticedAt, backAt);
    const newWhileDown =
      store.withheld === 'every ack' ? advancing : advancing.filter(({ ack }) => ack.complete);
    const refusals = refusedWhileDown().length;
    await store.restart();
    const upAt = Date.now();
    await waitFor(() => fleet.allAckedSince(upAt) && fleet.completionsSince(upAt) >= BOXES, {
      timeoutMs: 60_000,
      what: `every box acknowledged again after ${store.name} came back`,
    });
    const resumeMs = [...fleet.firstAckAfter(upAt).values()].map((wait) => wait!);
    const firstCompleteMs = Math.min(
      ...fleet.completions.filter((c) => c.at >= upAt).map((c) => c.at - upAt),
    );
    await waitFor(async () => (await healthStatus(relay)) === 200, {
      what: '/health up again',
    });
    await fleet.drain();
    await fleet.stop();
    // Not the promise under test, but worth seeing: does the relay still stop cleanly?
    const sigtermStop = await stopOrKill(relay);
    const { ackedLost, duplicateCases } = reconcile(
      fleet.stored,
      await caseRows(relay.dataDir, databaseUrl),
    );
    const damaged = await damagedBlobs(relay.dataDir, fleet.stored);
    printFigure(`${store.name.toLowerCase()}-restart`, {
      boxes: BOXES,
      recordings: fleet.stored.size,
      downMs: upAt - killedAt,
      acksWhileDown,
      [store.withheld === 'every ack' ? 'newAcksWhileDown' : 'newCompleteAcksWhileDown']:
        newWhileDown.length,
      refusalsWhileDown: refusals,
      ackedLost: ackedLost + damaged,
      duplicateCases,
      failedRecordings: fleet.failures.length,
      p99ResumeMs: percentile(resumeMs, 99),
      maxResumeMs: Math.max(...resumeMs),
      firstCompleteMs,
      sigtermStopMs: sigtermStop,
    });
    expect(newWhileDown).toEqual([]);
    expect(fleet.failures).toEqual([]);
    expect(ackedLost).toBe(0);
    expect(damaged).toBe(0);
    expect(duplicateCases).toBe(0);
    expect(Math.max(...resumeMs)).toBeLessThanOrEqual(10_000);
  } catch (error) {
    console.log(`relay's last lines:\n${relay.logs.slice(-40).join('\n')}`);
    throw error;
  } finally {
    await fleet.stop();
  }
}

/** The local cluster (Debian's pg_ctlcluster) that listens on the URL's port, if any. */
function clusterOf(url: string): { version: string; name: string } | undefined {
  const port = new URL(url).port || '5432';
  let listing: string;
  try {
    listing = execFileSync('pg_lsclusters', ['-h'], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
  for (const line of listing.split('\n')) {
    const [version, name, clusterPort] = line.split(/\s+/);
    if (version && name && clusterPort === port) return { version, name };
  }
  return undefined;
}

describe(`a store of the relay crashes and returns during a ${BOXES}-box load`, () => {
  const cleanups: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it('Redis (kill -9, then started again on its append-only file): no ack while it is down, the relay resumes by itself, nothing acknowledged is lost', async () => {
    const redis = await TestRedis.start();
    cleanups.push(() => redis.dispose());
    const relay = await RelayProcess.start({ REDIS_URL: redis.url, ...ONE_ADDRESS_FLEET_ENV });
    cleanups.push(() => relay.dispose());
    await outage(relay, {
      name: 'Redis',
      withheld: 'every ack',
      crash: () => redis.kill(),
      restart: () => redis.up(),
    });
  });

  const serverUrl = process.env['TEST_DATABASE_URL'];
  const cluster = serverUrl ? clusterOf(serverUrl) : undefined;
  const skipPostgres = !cluster;
  if (skipPostgres) {
    console.log(
      serverUrl
        ? 'FAULT postgresql-restart: skipped, TEST_DATABASE_URL names no local pg_ctlcluster cluster this test could restart'
        : 'FAULT postgresql-restart: skipped, TEST_DATABASE_URL is not set (the relay runs on PGlite, inside its own process)',
    );
  }

  // Restarts the whole server TEST_DATABASE_URL names: test:faults runs its files one at a
  // time, and the server must be one no other run is using (docs/faults.md).
  it.skipIf(skipPostgres)(
    'PostgreSQL (stopped in immediate mode, then started again): no complete ack while it is down, the relay resumes by itself, nothing acknowledged is lost',
    async () => {
      const { version, name } = cluster!;
      const database = await relayDatabase('PostgreSQL');
      cleanups.push(() => database.drop());
      const relay = await RelayProcess.start({ ...database.env, ...ONE_ADDRESS_FLEET_ENV });
      cleanups.push(() => relay.dispose());
      const pgctl = (...args: string[]) =>
        execFileSync('pg_ctlcluster', [version, name, ...args], { stdio: 'ignore' });
      cleanups.push(async () => void pgctl('start'));
      await outage(
        relay,
        {
          name: 'PostgreSQL',
          withheld: 'complete acks',
          crash: async () => void pgctl('stop', '-m', 'immediate'),
          restart: async () => void pgctl('start'),
        },
        database.env['DATABASE_URL'],
      );
    },
  );
});
