import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionUser } from '#contracts';
import { defaultWaveform, makeInstance, syntheticUid } from '#dicom/testing';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditService } from '../audit/audit.service.js';
import type { RelayConfig } from '../config/config.js';
import { InlineDicomInspector } from '../imaging/dicom-inspector.js';
import { ImagingCases } from '../imaging/imaging-cases.js';
import { ImagingIntake } from '../imaging/imaging-intake.js';
import { ImagingRepository } from '../imaging/imaging.repository.js';
import { FileBlobStore } from '../infra/blobs/blob-store.js';
import { auditLog, cases, recordings } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import { quietLog } from '../infra/logging/testing/quiet-log.js';
import type { JobQueues } from '../infra/queue/job-queues.js';
import { EcgFileRecordings, ecgFileRecordingId } from '../ingest/ecg-file-recordings.js';
import { RecordingArchive } from '../ingest/recording-archive.js';
import { RecordingsRepository } from '../ingest/recordings.repository.js';
import { ExamOrdersRepository } from '../records/exam-orders.repository.js';
import { ExamOrdersService } from '../records/exam-orders.service.js';
import { worklistWorld, type WorklistWorld } from '../worklist/testing/worklist-world.js';
import { waitFor } from '../../../../test/support/wait.js';
import { EcgFileIntake } from './ecg-file-intake.js';

/**
 * The clinic's ECG file upload, medium tier: real database (PGlite, and PostgreSQL when CI
 * gives one), real blob files, the real readers; the files from hospital electrocardiographs
 * in ../shared/data/ecg-other (skipped, saying so, when that folder is absent).
 */
const SHARED = fileURLToPath(new URL('../../../../../shared/data/ecg-other/', import.meta.url));
const DICOM_ECG = join(SHARED, 'dicom-waveform/waveform_ecg.dcm');
const hasDicomEcg = existsSync(DICOM_ECG);
const SCP_ECG = join(SHARED, 'scp-ecg/ecgtoolkit-Example.scp');
const SCP_ECG_8_LEADS = join(SHARED, 'scp-ecg/ecgviewer-demo.scp');
const HL7_AECG = join(SHARED, 'hl7-aecg/ecg_hl7.xml');
const hasScp = existsSync(SCP_ECG) && existsSync(SCP_ECG_8_LEADS);
const hasAecg = existsSync(HL7_AECG);
/** Both example files hold the same ECG Toolkit example, with the cart's figures. */
const TOOLKIT_MEASUREMENTS = {
  prMs: 148,
  qrsMs: 120,
  qtMs: 420,
  qtcMs: 443,
  pAxisDeg: 44,
  qrsAxisDeg: -61,
  tAxisDeg: 86,
};

describe.each(DRIVERS)('EcgFileIntake on %s', (driver) => {
  let dispose: () => Promise<void>;
  let dir: string;
  let world: WorklistWorld;
  let blobs: FileBlobStore;
  let audit: AuditService;
  let imaging: ImagingIntake;
  let intake: EcgFileIntake;
  let nurse: SessionUser;
  const MAX_BYTES = 4 * 1024 * 1024;

  beforeAll(async () => {
    const opened = await openTestDatabase(driver);
    dispose = opened.dispose;
    world = await worklistWorld(opened.database);
    nurse = world.nurse;
    dir = await mkdtemp(join(tmpdir(), 'telerelay-ecg-files-'));
    blobs = new FileBlobStore(join(dir, 'blobs'));
    await mkdir(join(dir, 'blobs'));
    audit = new AuditService(new AuditRepository(world.database), world.clock, quietLog);
    const config = {
      ...world.config,
      dataDir: dir,
      blobDir: join(dir, 'blobs'),
      imaging: {
        maxRequestBytes: 1e9,
        maxInstanceBytes: 1e8,
        minFreeDiskBytes: 0,
        parseTimeoutMs: 10_000,
        parseThreads: 1,
        quietSeconds: 120,
      },
      ecgFiles: { maxBytes: MAX_BYTES },
    } as RelayConfig;
    const orders = new ExamOrdersService(
      world.database,
      new ExamOrdersRepository(world.database),
      world.patients,
      audit,
      world.clock,
      { repeatExamWindowDays: 30 },
    );
    const repository = new ImagingRepository(world.database);
    const recordingsRepository = new RecordingsRepository(world.database);
    const ecgRecordings = new EcgFileRecordings(
      new RecordingArchive(
        blobs,
        world.database,
        recordingsRepository,
        world.worklist,
        world.outbox,
        orders,
        quietLog,
      ),
      recordingsRepository,
      world.clock,
      quietLog,
    );
    imaging = new ImagingIntake(
      new InlineDicomInspector(),
      repository,
      blobs,
      audit,
      new ImagingCases(
        world.database,
        repository,
        world.worklist,
        world.outbox,
        world.queues as unknown as JobQueues,
        orders,
        world.patients,
        world.clock,
        config,
        quietLog,
      ),
      ecgRecordings,
      world.clock,
      config,
      quietLog,
    );
    intake = new EcgFileIntake(imaging, ecgRecordings, blobs, audit, config, quietLog);
  }, 60_000);

  afterAll(async () => {
    await dispose();
    await rm(dir, { recursive: true, force: true });
  });

  /** A request carrying `bytes` as its body, as Express hands it to the route. */
  function requestOf(bytes: Uint8Array, headers: Record<string, string> = {}): IncomingMessage {
    const request = Readable.from([Buffer.from(bytes)]) as unknown as IncomingMessage;
    request.headers = { 'content-type': 'application/octet-stream', ...headers };
    return request;
  }

  /** Files left in the blob store's scratch area: a refused file must leave none. */
  async function scratchFiles(): Promise<string[]> {
    return readdir(join(dir, 'blobs', 'scratch')).catch(() => []);
  }

  async function refusalsSince(count: number) {
    await audit.drained();
    const rows = await world.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'POST /api/ecg-files'), eq(auditLog.outcome, 'denied')));
    return rows.slice(count);
  }

  async function caseOfRecording(recordingId: string) {
    return world.database.db.select().from(cases).where(eq(cases.recordingId, recordingId));
  }

  it.skipIf(!hasDicomEcg)(
    `the clinic uploads a hospital cart's DICOM ECG (${DICOM_ECG}; skipped when ../shared/data is absent): one recording and one ECG case at its county hospital, analysis queued, the cart's measurements beside ours; the same file again is the same case`,
    async () => {
      const bytes = await readFile(DICOM_ECG);
      const accepted = await intake.receive(nurse, requestOf(bytes));
      expect(accepted).toMatchObject({
        outcome: 'created',
        format: 'dicom-ecg',
        leads: ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'],
        sampleRateHz: 1000,
        deviceMeasurements: true,
      });
      const [recording] = await world.database.db
        .select()
        .from(recordings)
        .where(eq(recordings.id, accepted.recordingId));
      expect(recording).toMatchObject({
        deviceId: null,
        clinicId: 'clinic-k',
        source: 'dicom:upload',
        examKind: 'resting-12-lead',
      });
      const [ecgCase] = await caseOfRecording(accepted.recordingId);
      expect(ecgCase).toMatchObject({
        id: accepted.caseId,
        kind: 'ecg',
        clinicId: 'clinic-k',
        hospitalId: 'hosp-c1',
        status: 'analysing',
      });
      await world.outbox.flush();
      await waitFor(
        () =>
          world.queues
            .named('analyse-ecg')
            .some((entry) => (entry.job.data as { caseId?: string }).caseId === accepted.caseId),
        { what: 'the analysis job of the uploaded ECG' },
      );
      // The county reader's case view gets the cart's own figures with the case.
      const detail = await world.queries.getCase(world.readers.c1, accepted.caseId);
      expect(detail.deviceMeasurements).toEqual({
        heartRateBpm: 61,
        rrMs: 982,
        prMs: 161,
        qrsMs: 75,
        qtMs: 368,
        qtcMs: 370,
        pAxisDeg: 74,
        qrsAxisDeg: 52,
        tAxisDeg: 57,
        statements: ['RITMO SINUSALE', 'ECG NORMALE'],
      });

      const again = await intake.receive(nurse, requestOf(bytes));
      expect(again).toMatchObject({
        outcome: 'already-received',
        caseId: accepted.caseId,
        recordingId: accepted.recordingId,
      });
      expect(await caseOfRecording(accepted.recordingId)).toHaveLength(1);
    },
    60_000,
  );

  it.skipIf(!hasScp)(
    `an SCP-ECG file (${SCP_ECG}; skipped when ../shared/data is absent) becomes a 12-lead recording and case, kept as received; its device measurements come with the case; the same file again is the same case`,
    async () => {
      const bytes = await readFile(SCP_ECG);
      const accepted = await intake.receive(nurse, requestOf(bytes));
      expect(accepted).toMatchObject({
        outcome: 'created',
        format: 'scp-ecg',
        sampleRateHz: 500,
        deviceMeasurements: true,
      });
      expect(accepted.leads).toHaveLength(12);
      const [recording] = await world.database.db
        .select()
        .from(recordings)
        .where(eq(recordings.id, accepted.recordingId));
      expect(recording).toMatchObject({
        source: 'upload:scp-ecg',
        examKind: 'resting-12-lead',
        samplesPerLead: 5000,
        // 09:10 on the cart's clock, read as China Standard Time.
        startedAt: new Date('2002-11-22T01:10:00.000Z'),
      });
      expect(accepted.warnings).toContain(
        'the acquisition time has no time zone; read as Asia/Shanghai',
      );
      // The file itself, byte for byte, under its sha256; the recording is keyed on it.
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      expect((await blobs.get(sha256)).equals(bytes)).toBe(true);
      expect(accepted.recordingId).toBe(ecgFileRecordingId('clinic-k', `sha256:${sha256}`));
      const detail = await world.queries.getCase(world.readers.c1, accepted.caseId);
      expect(detail).toMatchObject({ kind: 'ecg', status: 'analysing', hospitalId: 'hosp-c1' });
      expect(detail.deviceMeasurements).toMatchObject(TOOLKIT_MEASUREMENTS);

      const again = await intake.receive(nurse, requestOf(bytes));
      expect(again).toMatchObject({
        outcome: 'already-received',
        caseId: accepted.caseId,
        recordingId: accepted.recordingId,
        deviceMeasurements: true,
      });
      expect(await caseOfRecording(accepted.recordingId)).toHaveLength(1);
    },
    60_000,
  );

  it.skipIf(!hasScp)(
    `an 8-lead SCP-ECG file without measurements (${SCP_ECG_8_LEADS}) is a rhythm strip with none shown`,
    async () => {
      const accepted = await intake.receive(nurse, requestOf(await readFile(SCP_ECG_8_LEADS)));
      expect(accepted).toMatchObject({
        outcome: 'created',
        format: 'scp-ecg',
        leads: ['I', 'II', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'],
        deviceMeasurements: false,
      });
      const detail = await world.queries.getCase(world.readers.c1, accepted.caseId);
      expect(detail.deviceMeasurements).toBeNull();
      expect(detail.examKind).toBe('rhythm-strip');
    },
    60_000,
  );

  it.skipIf(!hasAecg)(
    `an HL7 aECG file (${HL7_AECG}; skipped when ../shared/data is absent) becomes a recording and case with the device's measurements and statements`,
    async () => {
      const bytes = await readFile(HL7_AECG);
      const accepted = await intake.receive(
        nurse,
        requestOf(bytes, { 'content-type': 'text/xml' }),
      );
      expect(accepted).toMatchObject({
        outcome: 'created',
        format: 'hl7-aecg',
        sampleRateHz: 500,
        deviceMeasurements: true,
      });
      const [recording] = await world.database.db
        .select()
        .from(recordings)
        .where(eq(recordings.id, accepted.recordingId));
      expect(recording).toMatchObject({ source: 'upload:hl7-aecg', samplesPerLead: 5000 });
      const detail = await world.queries.getCase(world.readers.c1, accepted.caseId);
      expect(detail.deviceMeasurements).toEqual({
        ...TOOLKIT_MEASUREMENTS,
        statements: ['Sinus Rhythm'],
      });
    },
    60_000,
  );

  it("refuses a file of a known format it cannot read with 422 and the reader's reason, audited; nothing is kept", async () => {
    const before = (await refusalsSince(0)).length;
    // An aECG document that stops before any waveform.
    const broken = new TextEncoder().encode(
      '<?xml version="1.0"?><AnnotatedECG xmlns="urn:hl7-org:v3"><id root="1.2.3"/></AnnotatedECG>',
    );
    await expect(intake.receive(nurse, requestOf(broken))).rejects.toMatchObject({
      code: 'UNPROCESSABLE',
      message: expect.any(String),
    });
    const [row] = await refusalsSince(before);
    expect(row?.detail).toMatchObject({
      format: 'hl7-aecg',
      code: expect.stringMatching(/^ECG_FILE_/),
    });
    expect(await scratchFiles()).toEqual([]);
    const sha256 = createHash('sha256').update(broken).digest('hex');
    expect(await blobs.has(sha256)).toBe(false);
  });

  it('a DICOM ECG sent by STOW and then uploaded is one recording and one case', async () => {
    const sopUid = syntheticUid();
    const bytes = makeInstance({ sopClass: 'ECG12', sopInstanceUid: sopUid });
    const path = await blobs.scratchPath();
    await writeFile(path, bytes);
    const stored = await imaging.storeFile(path, {
      via: 'stow',
      clinicId: 'clinic-k',
      actor: `user:${nurse.id}`,
    });
    expect(stored).toMatchObject({ outcome: 'stored', ecgCaseId: expect.any(String) });
    const uploaded = await intake.receive(nurse, requestOf(bytes));
    expect(uploaded).toMatchObject({
      outcome: 'already-received',
      format: 'dicom-ecg',
      recordingId: ecgFileRecordingId('clinic-k', sopUid),
      caseId: stored.outcome === 'stored' ? stored.ecgCaseId : 'none',
      deviceMeasurements: false,
    });
  });

  it('refuses what is not an ECG file with 415 (bytes of no known format, a DICOM image, a JSON body), audited without the content; nothing is kept', async () => {
    const before = (await refusalsSince(0)).length;
    const text = new TextEncoder().encode('Name: Zhang San\nID: 110101199003070011\n');
    await expect(intake.receive(nurse, requestOf(text))).rejects.toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: expect.stringMatching(/not an ECG file/),
    });
    const image = makeInstance({ sopClass: 'CR', rows: 16, columns: 16 });
    await expect(intake.receive(nurse, requestOf(image))).rejects.toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: expect.stringMatching(/not an ECG waveform/),
    });
    await expect(
      intake.receive(nurse, requestOf(text, { 'content-type': 'application/json' })),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    const rows = await refusalsSince(before);
    expect(rows.map((row) => (row.detail as { code?: string }).code).sort()).toEqual([
      'ECG_FILE_UNRECOGNISED',
      'NOT_A_FILE_BODY',
    ]);
    expect(JSON.stringify(rows)).not.toMatch(/Zhang|110101199003070011/);
    // The DICOM image was refused by the imaging store path, under its own action.
    await audit.drained();
    const dicomRefusals = await world.database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'dicom.upload'));
    expect(
      dicomRefusals.some((row) => (row.detail as { code?: string }).code === 'NOT_ECG_WAVEFORM'),
    ).toBe(true);
    expect(await scratchFiles()).toEqual([]);
  });

  it('refuses a DICOM ECG it cannot make a recording of with 422 and the reason; nothing is stored', async () => {
    const sopUid = syntheticUid();
    const bytes = makeInstance({
      sopClass: 'ECG12',
      sopInstanceUid: sopUid,
      waveform: { ...defaultWaveform(), sampleRateHz: 10 },
    });
    await expect(intake.receive(nurse, requestOf(bytes))).rejects.toMatchObject({
      code: 'UNPROCESSABLE',
      message: expect.stringMatching(/sampleRateHz/),
    });
    expect(await caseOfRecording(ecgFileRecordingId('clinic-k', sopUid))).toEqual([]);
  });

  it('refuses a file over ECG_FILE_MAX_BYTES with 413: on Content-Length before reading, and when a body without one grows past it', async () => {
    const before = (await refusalsSince(0)).length;
    const declared = requestOf(new Uint8Array(16), { 'content-length': String(MAX_BYTES + 1) });
    await expect(intake.receive(nurse, declared)).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    // Not read: the body is still there for the server to discard.
    expect((declared as unknown as Readable).readableEnded).toBe(false);
    const big = requestOf(new Uint8Array(MAX_BYTES + 10));
    await expect(intake.receive(nurse, big)).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    const rows = await refusalsSince(before);
    expect(rows.map((row) => (row.detail as { code?: string }).code)).toEqual([
      'TOO_LARGE',
      'TOO_LARGE',
    ]);
    expect(await scratchFiles()).toEqual([]);
  });

  it('a client that drops the line mid-file gets INVALID_INPUT and leaves no scratch file', async () => {
    let sent = false;
    const request = new Readable({
      read() {
        if (sent) {
          this.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
          return;
        }
        sent = true;
        this.push(Buffer.alloc(64 * 1024, 1));
      },
    }) as unknown as IncomingMessage;
    request.headers = { 'content-type': 'application/octet-stream' };
    await expect(intake.receive(nurse, request)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(await scratchFiles()).toEqual([]);
  });
});
