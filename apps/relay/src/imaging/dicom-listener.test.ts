import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectInstance } from '#dicom';
import { makeInstance, syntheticUid } from '#dicom/testing';
import type { AuditEntry, AuditService } from '../audit/audit.service.js';
import type { RelayConfig } from '../config/config.js';
import type { ClinicAeTitlesRepository } from '../facilities/clinic-ae-titles.repository.js';
import { waitFor } from '../../../../test/support/wait.js';
import { PrometheusMetrics } from '../infra/metrics/prometheus-metrics.js';
import { DicomListener } from './dicom-listener.js';
import type { ImagingIntake, StoreOutcome, StoreSource } from './imaging-intake.js';

/**
 * The DICOM listener against DCMTK's echoscu and storescu (real DICOM peers over TCP). The
 * store path and the AE title table are faked at their boundary: a store keeps the file's
 * bytes and inspects them with libs/dicom, so what storescu sent can be compared with what
 * arrived.
 */
const run = promisify(execFile);

class RecordingIntake {
  readonly stored = new Map<string, { bytes: Buffer; source: StoreSource }>();
  calls = 0;
  diskFull = false;
  hasRoomFor(): Promise<boolean> {
    return Promise.resolve(!this.diskFull);
  }
  constructor(private readonly scratch: string) {}
  scratchPath(): Promise<string> {
    return Promise.resolve(join(this.scratch, `${randomUUID()}.part`));
  }
  /** How each instance was handed over: held in memory, or as a scratch file. */
  readonly handedOver: ('memory' | 'file')[] = [];
  async storeFile(path: string, source: StoreSource): Promise<StoreOutcome> {
    const bytes = await readFile(path);
    await rm(path);
    this.handedOver.push('file');
    return this.keep(bytes, source);
  }
  storeBytes(bytes: Uint8Array, source: StoreSource): Promise<StoreOutcome> {
    this.handedOver.push('memory');
    return Promise.resolve(this.keep(Buffer.from(bytes), source));
  }
  private keep(bytes: Buffer, source: StoreSource): StoreOutcome {
    this.calls += 1;
    const inspection = inspectInstance(bytes);
    if (!inspection.ok) return { outcome: 'refused', refusal: inspection.refusal };
    const { sopClassUid, sopInstanceUid, studyInstanceUid } = inspection.instance;
    const before = this.stored.get(sopInstanceUid);
    if (before && !before.bytes.equals(bytes)) {
      return {
        outcome: 'conflict',
        reason: 'another file has this SOP Instance UID',
        sopClassUid,
        sopInstanceUid,
      };
    }
    this.stored.set(sopInstanceUid, { bytes, source });
    return {
      outcome: before ? 'already-stored' : 'stored',
      sopClassUid,
      sopInstanceUid,
      studyInstanceUid,
      retrieveUrl: `/dicomweb/studies/${studyInstanceUid}`,
    };
  }
}

/** Offset of the dataset after the File Meta Information group (PS3.10 §7.1). */
function datasetOf(file: Buffer): Buffer {
  const groupLength = file.readUInt32LE(132 + 8);
  return file.subarray(132 + 12 + groupLength);
}

let dir: string;
let scratch: string;
let intake: RecordingIntake;
let listener: DicomListener;
let port: number;
const audits: AuditEntry[] = [];
const metrics = new PrometheusMetrics(pino({ level: 'silent' }));

async function writeInstance(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

function storescu(callingAe: string, files: string[], extra: string[] = []) {
  return run('storescu', [
    '-v',
    '-aet',
    callingAe,
    '-aec',
    'TELERELAY',
    ...extra,
    '127.0.0.1',
    String(port),
    ...files,
  ]).then(
    (r) => ({ ok: true, output: r.stdout + r.stderr }),
    (e: { stdout: string; stderr: string }) => ({ ok: false, output: e.stdout + e.stderr }),
  );
}

function echoscu(callingAe: string, calledAe = 'TELERELAY') {
  return run('echoscu', [
    '-v',
    '-aet',
    callingAe,
    '-aec',
    calledAe,
    '127.0.0.1',
    String(port),
  ]).then(
    (r) => ({ ok: true, output: r.stdout + r.stderr }),
    (e: { stdout: string; stderr: string }) => ({ ok: false, output: e.stdout + e.stderr }),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dicom-listener-'));
  scratch = join(dir, 'scratch');
  await rm(scratch, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(scratch));
  intake = new RecordingIntake(scratch);
  const aeTitles = {
    clinicOf: (title: string) =>
      Promise.resolve(
        title === 'CLINIC1_CT'
          ? { clinicId: 'clinic-1', disabled: false }
          : title === 'CLOSED_DX'
            ? { clinicId: 'clinic-9', disabled: true }
            : undefined,
      ),
  } as unknown as ClinicAeTitlesRepository;
  const audit = {
    recordLater: (entry: AuditEntry) => audits.push(entry),
  } as unknown as AuditService;
  const config = {
    dicom: { port: 0, aeTitle: 'TELERELAY', maxAssociations: 4 },
    imaging: { maxInstanceBytes: 4 * 1024 * 1024, inMemoryInstanceBytes: 64 * 1024 },
  } as unknown as RelayConfig;
  listener = new DicomListener(
    intake as unknown as ImagingIntake,
    aeTitles,
    audit,
    config,
    pino({ level: 'silent' }),
    metrics,
  );
  port = (await listener.listen('127.0.0.1')) ?? 0;
});

afterAll(async () => {
  await listener.onApplicationShutdown();
  await rm(dir, { recursive: true, force: true });
});

describe('DICOM listener (C-ECHO, C-STORE) with DCMTK as the modality', () => {
  it("answers a clinic's C-ECHO, and the association is audited as allowed", async () => {
    const echo = await echoscu('CLINIC1_CT');
    expect(echo.ok, echo.output).toBe(true);
    expect(echo.output).toMatch(/Received Echo Response \(Success\)/);
    expect(audits).toContainEqual(
      expect.objectContaining({
        actor: 'ae:CLINIC1_CT',
        action: 'dicom.associate',
        outcome: 'allowed',
      }),
    );
  });

  it('refuses an AE title no clinic owns at association (calling AE not recognised), audited', async () => {
    const echo = await echoscu('STRANGER');
    expect(echo.ok).toBe(false);
    expect(echo.output).toMatch(/Association Rejected/);
    expect(echo.output).toMatch(/Calling AE Title Not Recognized/i);
    expect(audits).toContainEqual(
      expect.objectContaining({
        actor: 'ae:STRANGER',
        action: 'dicom.associate',
        outcome: 'denied',
        detail: expect.objectContaining({ reason: 'calling-ae-not-recognised' }),
      }),
    );
    expect((await metrics.exposition()).body).toMatch(
      /^telerelay_refusals_total\{edge="dicom",code="calling-ae-not-recognised"\} [1-9]/m,
    );
  });

  it('refuses the machine of a disabled clinic as an unknown caller; the audit says why', async () => {
    const echo = await echoscu('CLOSED_DX');
    expect(echo.ok).toBe(false);
    expect(echo.output).toMatch(/Calling AE Title Not Recognized/i);
    expect(audits).toContainEqual(
      expect.objectContaining({
        actor: 'ae:CLOSED_DX',
        outcome: 'denied',
        subject: 'facility:clinic-9',
        detail: expect.objectContaining({ reason: 'clinic-disabled' }),
      }),
    );
  });

  it('refuses a modality that calls another AE title than the relay’s', async () => {
    const echo = await echoscu('CLINIC1_CT', 'SOMEONE_ELSE');
    expect(echo.ok).toBe(false);
    expect(echo.output).toMatch(/Called AE Title Not Recognized/i);
  });

  it('stores a CT series: each instance arrives as a Part 10 file with the dataset byte for byte, in memory or (over DICOM_IN_MEMORY_INSTANCE_BYTES) as a scratch file', async () => {
    const study = syntheticUid();
    const series = syntheticUid();
    const handedOver = intake.handedOver.length;
    // 8 KiB of pixels twice, held in memory; 128 KiB once, past the 64 KiB bound: a file.
    const originals = await Promise.all(
      [64, 64, 256].map(async (rows, n) => {
        const bytes = makeInstance({
          sopClass: 'CT',
          studyInstanceUid: study,
          seriesInstanceUid: series,
          rows,
          columns: rows,
        });
        return { bytes: Buffer.from(bytes), path: await writeInstance(`ct-${n}.dcm`, bytes) };
      }),
    );
    const sent = await storescu(
      'CLINIC1_CT',
      originals.map((o) => o.path),
    );
    expect(sent.ok, sent.output).toBe(true);
    expect(sent.output.match(/Received Store Response \(Success\)/g)).toHaveLength(3);
    for (const original of originals) {
      const inspection = inspectInstance(original.bytes);
      if (!inspection.ok) throw new Error('generator made an unreadable file');
      const arrived = intake.stored.get(inspection.instance.sopInstanceUid);
      expect(arrived?.source).toEqual({
        via: 'c-store',
        clinicId: 'clinic-1',
        actor: 'ae:CLINIC1_CT',
        callingAe: 'CLINIC1_CT',
      });
      expect(datasetOf(arrived!.bytes).equals(datasetOf(original.bytes))).toBe(true);
    }
    expect(intake.handedOver.slice(handedOver).sort()).toEqual(['file', 'memory', 'memory']);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('answers success again for an instance already stored, and a failure with a comment for other bytes under its UID', async () => {
    const sop = syntheticUid();
    const first = await writeInstance(
      'dup-a.dcm',
      makeInstance({ sopClass: 'CT', sopInstanceUid: sop, rows: 32, columns: 32 }),
    );
    const other = await writeInstance(
      'dup-b.dcm',
      makeInstance({ sopClass: 'CT', sopInstanceUid: sop, rows: 16, columns: 16 }),
    );
    expect((await storescu('CLINIC1_CT', [first])).output).toMatch(/Store Response \(Success\)/);
    expect((await storescu('CLINIC1_CT', [first])).output).toMatch(/Store Response \(Success\)/);
    const conflict = await storescu('CLINIC1_CT', [other]);
    expect(conflict.output).toMatch(/Store Response \(Error: CannotUnderstand/i);
    expect(conflict.output).not.toMatch(/Store Response \(Success\)/);
  });

  it('answers a refused instance with the refusal’s status, and goes on', async () => {
    const bad = makeInstance({
      sopClass: 'CT',
      rows: 32,
      columns: 32,
      attributes: { StudyInstanceUID: undefined },
    });
    const path = await writeInstance('no-study.dcm', bad);
    const sent = await storescu('CLINIC1_CT', [path]);
    expect(sent.output).not.toMatch(/Store Response \(Success\)/);
    expect(sent.output).toMatch(/Received Store Response \((Failure|Error|0x[ac])/i);
    expect((await echoscu('CLINIC1_CT')).ok).toBe(true);
  });

  it('answers "out of resources" for an instance over the size limit, without keeping any of it', async () => {
    const big = await writeInstance(
      'big.dcm',
      makeInstance({ sopClass: 'CT', rows: 1600, columns: 1600 }),
    );
    const calls = intake.calls;
    const sent = await storescu('CLINIC1_CT', [big]);
    expect(sent.output).toMatch(/Store Response \(Refused: OutOfResources\)/);
    expect(intake.calls).toBe(calls);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('answers "out of resources" when the data disk is nearly full, and removes the received file', async () => {
    const path = await writeInstance(
      'full-disk.dcm',
      makeInstance({ sopClass: 'CT', rows: 32, columns: 32 }),
    );
    const calls = intake.calls;
    intake.diskFull = true;
    try {
      const sent = await storescu('CLINIC1_CT', [path]);
      expect(sent.output).toMatch(/Store Response \(Refused: OutOfResources\)/);
    } finally {
      intake.diskFull = false;
    }
    expect(intake.calls).toBe(calls);
    expect(await readdir(scratch)).toEqual([]);
  });

  it('survives garbage, a 4 GiB PDU header and a peer killed mid-transfer, and removes the partial file', async () => {
    for (const bytes of [
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.from([0x04, 0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]),
    ]) {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(bytes);
      await new Promise((resolve) => socket.once('close', resolve));
    }
    const big = await writeInstance(
      'slow.dcm',
      makeInstance({ sopClass: 'CT', rows: 1000, columns: 1000 }),
    );
    const calls = intake.calls;
    // storescu's smallest PDUs, so the file is still being written when it is killed.
    const sender = spawn('storescu', [
      '-aet',
      'CLINIC1_CT',
      '-aec',
      'TELERELAY',
      '--max-send-pdu',
      '4096',
      '127.0.0.1',
      String(port),
      big,
    ]);
    await waitFor(
      async () => {
        const names = await readdir(scratch);
        const sizes = await Promise.all(
          names.map((n) =>
            stat(join(scratch, n)).then(
              (s) => s.size,
              () => 0,
            ),
          ),
        );
        return sizes.some((size) => size > 100_000);
      },
      { what: 'a partial file in the scratch area', timeoutMs: 10_000, intervalMs: 5 },
    );
    sender.kill('SIGKILL');
    await waitFor(async () => (await readdir(scratch)).length === 0, {
      what: 'the partial file removed',
    });
    expect(intake.calls).toBe(calls);
    expect((await echoscu('CLINIC1_CT')).ok).toBe(true);
  });
});
