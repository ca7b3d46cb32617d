import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeInstance, syntheticUid } from '#dicom/testing';
import { ConsoleClient } from '../support/clients.js';
import { stowBody } from '../support/dicomweb.js';
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

const BOXES = countFromEnv('FAULT_DISK_BOXES', 10);
/** Room for the relay's database and Redis (about 45 MB at start) and the test's recordings. */
const FILESYSTEM_SIZE = '160m';
const MIN_FREE_BYTES = 2 * 1024 * 1024;

/** Fills the file system with one file until it refuses another byte; returns its path. */
async function fill(dir: string): Promise<string> {
  const path = join(dir, 'ballast');
  const file = await open(path, 'w');
  try {
    for (const size of [1024 * 1024, 4096, 1]) {
      const block = Buffer.alloc(size, 0xa5);
      for (;;) {
        try {
          await file.write(block);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    await file.close();
  }
  return path;
}

/**
 * The relay's data directory on a small file system of the test's own (tmpfs, mounted by
 * the test; we run as root, CI too) while boxes record and a clinic uploads images. The
 * disk then fills up (a file written until ENOSPC), and later the space returns (the file
 * is deleted). While it is full: uploads are refused with 507 before they are read, and no
 * box is told more is stored than before (its chunks live in Redis's append-only file on
 * that disk). When the space returns, the relay recovers by itself: boxes are acknowledged
 * again, uploads are stored, and nothing acknowledged before, during or after is lost.
 */
describe('the data directory’s disk full', () => {
  let relay: RelayProcess | undefined;
  let fleet: LoadFleet | undefined;
  let mountPoint: string | undefined;
  let mounted = false;

  afterAll(async () => {
    await fleet?.stop();
    await relay?.stop();
    if (mounted) execFileSync('umount', [mountPoint!]);
    await relay?.dispose();
    if (mountPoint) await rm(mountPoint, { recursive: true, force: true });
  });

  it('refuses uploads with 507 and acknowledges no ECG chunk while full, and recovers by itself when space returns', async (context) => {
    mountPoint = await mkdtemp(join(tmpdir(), 'telerelay-fault-disk-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${FILESYSTEM_SIZE}`, 'tmpfs', mountPoint], {
        stdio: 'pipe',
      });
      mounted = true;
    } catch (error) {
      console.log(
        `FAULT disk-full: skipped, mounting a tmpfs is not permitted here (${String(error).split('\n')[0]})`,
      );
      context.skip();
    }
    const current = await RelayProcess.start(
      {
        DICOM_MIN_FREE_DISK_BYTES: String(MIN_FREE_BYTES),
        // Each part must find room for the largest instance allowed: one that fits this disk.
        DICOM_MAX_INSTANCE_BYTES: String(1024 * 1024),
        ...ONE_ADDRESS_FLEET_ENV,
      },
      mountPoint,
    );
    relay = current;
    const clinic = await ConsoleClient.login(current.httpUrl, 'clinic1.staff');
    const upload = async (): Promise<number> => {
      const { body, contentType } = stowBody([
        makeInstance({ sopClass: 'CT', studyInstanceUid: syntheticUid(), rows: 64, columns: 64 }),
      ]);
      const response = await fetch(`${current.httpUrl}/dicomweb/studies`, {
        method: 'POST',
        headers: { authorization: `Bearer ${clinic.token}`, 'content-type': contentType },
        body: new Uint8Array(body),
      });
      const answer = await response.text();
      if (response.status !== 200 && response.status !== 507)
        console.log(`upload ${response.status}: ${answer}`);
      return response.status;
    };
    expect(await upload()).toBe(200);

    const devices = (await current.demoDevices()).slice(0, BOXES);
    const load = new LoadFleet(() => current.mqttUrl, devices);
    fleet = load;
    await load.start();
    await waitFor(() => load.completions.length >= BOXES, { what: 'a first round of recordings' });

    const ballast = await fill(mountPoint);
    const fullAt = Date.now();
    await waitFor(async () => (await upload()) === 507, { what: 'an upload refused with 507' });
    const refusedFrom = () =>
      load.refusals.filter((r) => r.at >= fullAt && r.error.code === 'TEMPORARILY_UNAVAILABLE');
    await waitFor(() => new Set(refusedFrom().map((r) => r.deviceId)).size === BOXES, {
      timeoutMs: 60_000,
      what: 'every box refused while the disk is full',
    });
    // From the first refusal on the relay knows the disk is full (an ack written just before
    // may still have been on the wire when the ballast's last byte went in).
    const refusedAt = refusedFrom()[0]!.at;
    const uploadWhileFull = await upload();
    const backAt = Date.now();
    const newAcksWhileFull = load.advancingAcksBetween(refusedAt, backAt);

    await unlink(ballast);
    const spaceAt = Date.now();
    await waitFor(() => load.allAckedSince(spaceAt) && load.completionsSince(spaceAt) >= BOXES, {
      timeoutMs: 90_000,
      what: 'every box acknowledged again after the space returned',
    });
    const resumeMs = [...load.firstAckAfter(spaceAt).values()].map((wait) => wait!);
    await waitFor(async () => (await upload()) === 200, { what: 'an upload stored again' });
    const uploadBackMs = Date.now() - spaceAt;
    await waitFor(async () => (await fetch(`${current.httpUrl}/health`)).status === 200, {
      what: '/health up again',
    });

    await load.drain();
    await load.stop();
    const sigtermStop = await stopOrKill(current);
    const { ackedLost, duplicateCases } = reconcile(load.stored, await caseRows(current.dataDir));
    const damaged = await damagedBlobs(current.dataDir, load.stored);
    printFigure('disk-full', {
      sigtermStopMs: sigtermStop,
      boxes: BOXES,
      recordings: load.stored.size,
      fullMs: spaceAt - fullAt,
      uploadWhileFull,
      acksWhileFull: load.acksBetween(refusedAt, backAt),
      newAcksWhileFull: newAcksWhileFull.length,
      ackedLost: ackedLost + damaged,
      duplicateCases,
      failedRecordings: load.failures.length,
      p99ResumeMs: percentile(resumeMs, 99),
      maxResumeMs: Math.max(...resumeMs),
      uploadBackMs,
    });
    expect(uploadWhileFull).toBe(507);
    expect(newAcksWhileFull).toEqual([]);
    expect(load.failures).toEqual([]);
    expect(ackedLost).toBe(0);
    expect(damaged).toBe(0);
    expect(duplicateCases).toBe(0);
    expect(Math.max(...resumeMs)).toBeLessThanOrEqual(10_000);
  });
});
