import { randomInt } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeInstance, syntheticUid } from '#dicom/testing';
import { ConsoleClient } from '../support/clients.js';
import { sha256Hex } from '../support/crash.js';
import { stowBody } from '../support/dicomweb.js';
import { RelayProcess } from '../support/relay-process.js';
import { waitFor } from '../support/wait.js';
import { countFromEnv, printFigure, relayRows, stopOrKill } from './fault-load.js';

const CUTS = countFromEnv('FAULT_UPLOAD_CUTS', 20);
const PARTS = 6;

/** Every file under `dir`, recursively, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}

/**
 * Sends the first `bytes` of a STOW-RS request that announces all of it, then drops the
 * connection: with a TCP reset on odd runs, a FIN on even ones (a clinic's link dies either
 * way).
 */
async function cutUpload(
  relay: RelayProcess,
  token: string,
  body: Buffer,
  contentType: string,
  bytes: number,
  reset: boolean,
): Promise<void> {
  const socket = connect(relay.httpPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const head =
    `POST /dicomweb/studies HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: ${contentType}\r\nAccept: application/dicom+json\r\n` +
    `Content-Length: ${body.byteLength}\r\n\r\n`;
  await new Promise<void>((resolve) =>
    socket.write(Buffer.concat([Buffer.from(head), body.subarray(0, bytes)]), () => resolve()),
  );
  if (reset) socket.resetAndDestroy();
  else socket.destroy();
}

/**
 * An upload cut at random byte offsets: a STOW-RS request of a six-instance study, each
 * cut at a random byte of its body. The promise: the part being received at the cut is not
 * stored and nothing of it stays on disk. So afterwards each study holds a prefix of its
 * parts (never one that had not arrived whole), every stored instance is byte for byte one
 * the clinic sent, every study's counts match its rows, the scratch directory is empty and
 * every file in the blob store is an instance the database names (no orphan); a whole
 * upload afterwards is stored whole.
 *
 * docs/imaging.md also says the parts before the cut "were whole and are stored"; the relay
 * in fact drops them too when the client goes away first (the sender had no answer and
 * sends again, so nothing promised is lost). That is counted (wholePartsNotStored), not
 * asserted.
 */
describe(`a DICOM upload cut at ${CUTS} random byte offsets`, () => {
  let relay: RelayProcess | undefined;

  afterAll(async () => {
    await relay?.dispose();
  });

  it('leaves no partial instance, no study counting what it does not hold, and no orphan file', async () => {
    const current = await RelayProcess.start({
      DICOM_MIN_FREE_DISK_BYTES: '0',
      // Each part must find room for the largest instance allowed (4 GiB by default).
      DICOM_MAX_INSTANCE_BYTES: String(1024 * 1024),
    });
    relay = current;
    const clinic = await ConsoleClient.login(current.httpUrl, 'clinic1.staff');
    const scratch = join(current.dataDir, 'blobs', 'scratch');
    const sent = new Map<string, { sha256s: string[]; lower: number; upper: number }>();

    for (let run = 0; run < CUTS; run++) {
      const studyUid = syntheticUid();
      const seriesUid = syntheticUid();
      const files = Array.from({ length: PARTS }, (_, i) =>
        makeInstance({
          sopClass: 'CT',
          studyInstanceUid: studyUid,
          seriesInstanceUid: seriesUid,
          rows: 64,
          columns: 64,
          patientId: `FAULT-CUT-${run}`,
          attributes: { InstanceNumber: i + 1 },
        }),
      );
      const { body, contentType } = stowBody(files);
      const boundary = /boundary=(.+)$/.exec(contentType)![1]!;
      const delimiter = Buffer.from(`\r\n--${boundary}`);
      // Part i's bytes end where the next delimiter starts; it is whole for certain once the
      // delimiter line after it has arrived, and cannot be before its last byte has.
      let from = 0;
      let lower = 0;
      let upper = 0;
      const offset = randomInt(1, body.byteLength);
      for (let i = 0; i < PARTS; i++) {
        const end = body.indexOf(delimiter, from + 1);
        if (offset >= end) upper = i + 1;
        if (offset >= end + delimiter.length + 2) lower = i + 1;
        from = end;
      }
      sent.set(studyUid, { sha256s: files.map((file) => sha256Hex(file)), lower, upper });
      await cutUpload(current, clinic.token, body, contentType, offset, run % 2 === 1);
      // Settled: no scratch file left (the part being received is deleted).
      await waitFor(async () => (await filesUnder(scratch)).length === 0, {
        what: `run ${run}: the cut upload's scratch files gone`,
      });
    }

    // A whole upload afterwards: stored whole, so the checks below can see a whole study.
    const wholeUid = syntheticUid();
    const whole = Array.from({ length: PARTS }, () =>
      makeInstance({ sopClass: 'CT', studyInstanceUid: wholeUid, rows: 64, columns: 64 }),
    );
    const wholeBody = stowBody(whole);
    const answer = await fetch(`${current.httpUrl}/dicomweb/studies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clinic.token}`, 'content-type': wholeBody.contentType },
      body: new Uint8Array(wholeBody.body),
    });
    await answer.arrayBuffer();
    expect(answer.status).toBe(200);
    sent.set(wholeUid, {
      sha256s: whole.map((file) => sha256Hex(file)),
      lower: PARTS,
      upper: PARTS,
    });

    const sigtermStop = await stopOrKill(current);
    const leftInScratch = (await filesUnder(scratch)).length;
    const studies = await relayRows<{ uid: string; count: number; rows: number }>(
      current.dataDir,
      `select s.study_instance_uid as uid, s.instance_count as count,
              (select count(*)::int from instances i where i.study_id = s.id) as rows
         from studies s`,
    );
    const instanceRows = await relayRows<{ uid: string; sha256: string }>(
      current.dataDir,
      `select s.study_instance_uid as uid, i.sha256 from instances i join studies s on s.id = i.study_id`,
    );
    let partialInstances = 0;
    let notAPrefix = 0;
    let countMismatches = 0;
    let outsideBounds = 0;
    let wholePartsNotStored = 0;
    for (const study of studies) {
      const upload = sent.get(study.uid);
      if (!upload) continue;
      if (study.count !== study.rows) countMismatches += 1;
      const stored = instanceRows.filter((row) => row.uid === study.uid).map((row) => row.sha256);
      if (stored.some((sha) => !upload.sha256s.includes(sha))) partialInstances += 1;
      const prefix = upload.sha256s.slice(0, stored.length);
      if (!stored.every((sha) => prefix.includes(sha))) notAPrefix += 1;
      if (stored.length > upload.upper) outsideBounds += 1;
      if (upload.lower === PARTS && upload.upper === PARTS && stored.length !== PARTS)
        outsideBounds += 1;
      wholePartsNotStored += Math.max(0, upload.lower - stored.length);
    }
    const named = new Set(instanceRows.map((row) => row.sha256));
    const blobFiles = (await filesUnder(join(current.dataDir, 'blobs'))).filter(
      (path) => !path.startsWith('scratch'),
    );
    const orphans = blobFiles.filter((path) => !named.has(path.split('/').pop()!)).length;
    const missing = [...named].filter(
      (sha) => !blobFiles.includes(join(sha.slice(0, 2), sha.slice(2, 4), sha)),
    ).length;
    const storedInstances = instanceRows.length;
    printFigure('upload-cut', {
      sigtermStopMs: sigtermStop,
      cuts: CUTS,
      partsPerUpload: PARTS,
      storedInstances,
      partialInstances,
      studiesNotAPrefix: notAPrefix,
      studyCountMismatches: countMismatches,
      studiesOutsideBounds: outsideBounds,
      wholePartsBeforeCut: [...sent.values()].reduce((sum, u) => sum + u.lower, 0) - PARTS,
      wholePartsNotStored,
      orphanFiles: orphans,
      scratchFilesLeft: leftInScratch,
      missingBlobs: missing,
    });
    expect(partialInstances).toBe(0);
    expect(notAPrefix).toBe(0);
    expect(countMismatches).toBe(0);
    expect(outsideBounds).toBe(0);
    expect(orphans).toBe(0);
    expect(leftInScratch).toBe(0);
    expect(missing).toBe(0);
  });
});
