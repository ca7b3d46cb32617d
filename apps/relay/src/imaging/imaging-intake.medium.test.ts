import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { access, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultWaveform, makeInstance, syntheticUid } from '#dicom/testing';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditService } from '../audit/audit.service.js';
import type { RelayConfig } from '../config/config.js';
import { FileBlobStore } from '../infra/blobs/blob-store.js';
import {
  auditLog,
  cases,
  facilities,
  instances,
  recordings,
  repeatExamWarnings,
  studies,
  users,
} from '../infra/database/schema.js';
import type { JobQueues } from '../infra/queue/job-queues.js';
import { outbox } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import { EcgFileRecordings, ecgFileRecordingId } from '../ingest/ecg-file-recordings.js';
import { RecordingArchive } from '../ingest/recording-archive.js';
import { RecordingsRepository } from '../ingest/recordings.repository.js';
import { worklistWorld, type WorklistWorld } from '../worklist/testing/worklist-world.js';
import { waitFor } from '../../../../test/support/wait.js';
import { InlineDicomInspector } from './dicom-inspector.js';
import { DicomwebService } from './dicomweb.service.js';
import { ImagingCases, IMAGING_QUIET_QUEUE } from './imaging-cases.js';
import { ImagingIntake, type StoreSource } from './imaging-intake.js';
import { ImagingRepository } from './imaging.repository.js';
import { StowReceiver, type StowResult } from './stow.js';
import { ExamOrdersRepository } from '../records/exam-orders.repository.js';
import { ExamOrdersService } from '../records/exam-orders.service.js';
import { PatientIdentity } from '../records/patient-identity.js';
import { PatientsRepository } from '../records/patients.repository.js';
import { PatientsService } from '../records/patients.service.js';
import { quietLog } from '../infra/logging/testing/quiet-log.js';

/**
 * The one store path for STOW-RS and C-STORE, medium tier: real database (PGlite, and
 * PostgreSQL when CI gives one), real blob files, DICOM files made by dcmjs (#dicom/testing).
 * The parser runs inline here (the thread pool's worker file exists only in the build; the
 * e2e test drives the pool).
 */

describe.each(DRIVERS)('ImagingIntake on %s', (driver) => {
  let dispose: () => Promise<void>;
  let dir: string;
  let world: WorklistWorld;
  let intake: ImagingIntake;
  let imagingCases: ImagingCases;
  let repository: ImagingRepository;
  let dicomweb: DicomwebService;
  let audit: AuditService;
  let blobs: FileBlobStore;
  let config: RelayConfig;
  let ecgRecordings: EcgFileRecordings;
  let patients: PatientsService;
  let orders: ExamOrdersService;
  const source: StoreSource = { via: 'stow', clinicId: 'clinic-k', actor: 'user:test' };

  const intakeWith = (settings: RelayConfig) =>
    new ImagingIntake(
      new InlineDicomInspector(),
      repository,
      blobs,
      audit,
      imagingCases,
      ecgRecordings,
      world.clock,
      settings,
      quietLog,
    );

  beforeAll(async () => {
    const opened = await openTestDatabase(driver);
    dispose = opened.dispose;
    world = await worklistWorld(opened.database);
    dir = await mkdtemp(join(tmpdir(), 'telerelay-imaging-'));
    blobs = new FileBlobStore(join(dir, 'blobs'));
    repository = new ImagingRepository(world.database);
    audit = new AuditService(new AuditRepository(world.database), world.clock, quietLog);
    config = {
      ...world.config,
      dataDir: dir,
      blobDir: join(dir, 'blobs'),
      imaging: {
        maxRequestBytes: 1e9,
        maxInstanceBytes: 1e8,
        inMemoryInstanceBytes: 64 * 1024,
        minFreeDiskBytes: 0,
        parseTimeoutMs: 10_000,
        parseThreads: 1,
        quietSeconds: 120,
      },
    } as RelayConfig;
    patients = new PatientsService(
      new PatientsRepository(world.database),
      new PatientIdentity({
        hmacKey: Buffer.alloc(32, 1),
        sealKeys: [{ id: 'k1', key: Buffer.alloc(32, 2) }],
      }),
    );
    orders = new ExamOrdersService(
      world.database,
      new ExamOrdersRepository(world.database),
      patients,
      audit,
      world.clock,
      { repeatExamWindowDays: 30 },
    );
    imagingCases = new ImagingCases(
      world.database,
      repository,
      world.worklist,
      world.outbox,
      world.queues as unknown as JobQueues,
      orders,
      patients,
      world.clock,
      config,
      quietLog,
    );
    const recordingsRepository = new RecordingsRepository(world.database);
    ecgRecordings = new EcgFileRecordings(
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
    intake = intakeWith(config);
    dicomweb = new DicomwebService(repository, blobs, quietLog);
    await world.database.db
      .insert(facilities)
      .values({ id: 'clinic-j', kind: 'clinic', name: 'Clinic J', parentId: 'hosp-c2' });
  }, 400_000);

  afterAll(async () => {
    await dispose();
    await rm(dir, { recursive: true, force: true });
  });

  async function fileOf(bytes: Uint8Array): Promise<string> {
    const path = await blobs.scratchPath();
    await writeFile(path, bytes);
    return path;
  }

  const exists = (path: string) =>
    access(path).then(
      () => true,
      () => false,
    );

  async function studyRow(uid: string, clinicId = 'clinic-k') {
    const [row] = await world.database.db
      .select()
      .from(studies)
      .where(eq(studies.studyInstanceUid, uid));
    return row?.clinicId === clinicId ? row : undefined;
  }

  it('stores a new CT instance: blob in place, one study, the scratch file consumed, a quiet check queued', async () => {
    const studyUid = syntheticUid();
    const bytes = makeInstance({
      sopClass: 'CT',
      studyInstanceUid: studyUid,
      rows: 32,
      columns: 32,
    });
    const path = await fileOf(bytes);
    const outcome = await intake.storeFile(path, source);
    expect(outcome.outcome).toBe('stored');
    expect(await exists(path)).toBe(false);
    const study = await studyRow(studyUid);
    expect(study).toMatchObject({ instanceCount: 1, seriesCount: 1, state: 'receiving' });
    expect(study?.modalities).toEqual(['CT']);
    const [row] = await world.database.db
      .select()
      .from(instances)
      .where(eq(instances.studyId, study!.id));
    expect(await blobs.has(row!.sha256)).toBe(true);
    expect((await blobs.get(row!.sha256)).equals(Buffer.from(bytes))).toBe(true);
    const jobs = await world.database.db
      .select()
      .from(outbox)
      .where(eq(outbox.kind, `${IMAGING_QUIET_QUEUE}:study-quiet`));
    expect(jobs.some((job) => JSON.stringify(job.payload).includes(study!.id))).toBe(true);
  });

  it('the same file again is already stored; other bytes under the same SOP Instance UID are a conflict, audited without patient data', async () => {
    const studyUid = syntheticUid();
    const sopUid = syntheticUid();
    const options = {
      sopClass: 'CR' as const,
      studyInstanceUid: studyUid,
      sopInstanceUid: sopUid,
      patientName: 'Wang^Fang',
      patientId: 'PID-SECRET-1',
    };
    const bytes = makeInstance({ ...options, rows: 16, columns: 16 });
    expect((await intake.storeFile(await fileOf(bytes), source)).outcome).toBe('stored');
    const again = await intake.storeFile(await fileOf(bytes), source);
    expect(again).toMatchObject({ outcome: 'already-stored', sopInstanceUid: sopUid });
    const other = await intake.storeFile(
      await fileOf(makeInstance({ ...options, rows: 24, columns: 24 })),
      source,
    );
    expect(other).toMatchObject({ outcome: 'conflict', sopInstanceUid: sopUid });
    expect((await studyRow(studyUid))?.instanceCount).toBe(1);
    await audit.drained();
    const rows = await world.database.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'dicom.stow'));
    const conflict = rows.find((r) => JSON.stringify(r.detail).includes(sopUid));
    expect(conflict?.outcome).toBe('denied');
    expect(JSON.stringify(rows)).not.toMatch(/Wang|PID-SECRET/);
  });

  it('refuses a file that is not DICOM and one cut off half-way, storing nothing of either', async () => {
    const before = await world.database.db.select({ id: instances.id }).from(instances);
    const notDicom = await fileOf(new TextEncoder().encode('this is a text file, not an image'));
    const refused = await intake.storeFile(notDicom, source);
    expect(refused).toMatchObject({ outcome: 'refused', refusal: { code: 'NOT_DICOM' } });
    expect(await exists(notDicom)).toBe(false);

    const whole = makeInstance({ sopClass: 'CT', rows: 64, columns: 64 });
    const cut = await fileOf(whole.subarray(0, Math.floor(whole.byteLength / 2)));
    const truncated = await intake.storeFile(cut, source);
    expect(truncated.outcome).toBe('refused');
    expect(await exists(cut)).toBe(false);
    const after = await world.database.db.select({ id: instances.id }).from(instances);
    expect(after).toHaveLength(before.length);
    // Nothing half-stored on disk either: only blobs of stored instances remain.
    expect(await readdir(join(dir, 'blobs', 'scratch'))).toEqual([]);
  });

  it('refuses an instance of another study than the STOW URL names', async () => {
    const outcome = await intake.storeFile(
      await fileOf(makeInstance({ sopClass: 'CT', rows: 8, columns: 8 })),
      source,
      { studyInstanceUid: syntheticUid() },
    );
    expect(outcome).toMatchObject({
      outcome: 'refused',
      refusal: { code: 'STUDY_UID_MISMATCH', failureReason: 0xa900 },
    });
  });

  it('parallel uploads of one study make one study with every instance counted once', async () => {
    const studyUid = syntheticUid();
    const seriesA = syntheticUid();
    const seriesB = syntheticUid();
    const files = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        fileOf(
          makeInstance({
            sopClass: 'CT',
            studyInstanceUid: studyUid,
            seriesInstanceUid: i % 2 ? seriesA : seriesB,
            rows: 16,
            columns: 16,
          }),
        ),
      ),
    );
    const outcomes = await Promise.all(files.map((path) => intake.storeFile(path, source)));
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(8).fill('stored'));
    const rows = await world.database.db
      .select()
      .from(studies)
      .where(eq(studies.studyInstanceUid, studyUid));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ instanceCount: 8, seriesCount: 2 });
  });

  it('the clinic marks a study complete: one imaging case on its county worklist, by modality and urgency; a second call changes nothing', async () => {
    const studyUid = syntheticUid();
    const seriesUid = syntheticUid();
    for (let i = 0; i < 3; i += 1) {
      await intake.storeFile(
        await fileOf(
          makeInstance({
            sopClass: 'CT',
            studyInstanceUid: studyUid,
            seriesInstanceUid: seriesUid,
            rows: 8,
            columns: 8,
          }),
        ),
        source,
      );
    }
    const done = await imagingCases.complete(world.nurse, studyUid, 'stat');
    expect(done).toMatchObject({ state: 'queued', instanceCount: 3 });
    const [row] = await world.database.db.select().from(cases).where(eq(cases.id, done.caseId!));
    expect(row).toMatchObject({
      kind: 'imaging',
      examKind: 'imaging:CT',
      priority: 'stat',
      status: 'awaiting_review',
      hospitalId: 'hosp-c1',
      recordingId: null,
    });
    // IMAGING_STAT_SLA (900 s in the test policy) from now.
    expect(row!.dueAt.getTime() - world.clock.now().getTime()).toBe(900_000);
    const summary = await world.cases.summary(done.caseId!);
    expect(summary?.study).toEqual({
      studyInstanceUid: studyUid,
      description: 'Synthetic CT',
      modalities: ['CT'],
      seriesCount: 1,
      instanceCount: 3,
    });
    const again = await imagingCases.complete(world.nurse, studyUid, 'routine');
    expect(again.caseId).toBe(done.caseId);
    const all = await world.database.db
      .select()
      .from(studies)
      .where(eq(studies.caseId, done.caseId!));
    expect(all).toHaveLength(1);
    await expect(
      imagingCases.complete(world.readers.c1, studyUid, 'routine'),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('a study nobody marks complete becomes a routine case after the quiet time, not before', async () => {
    const studyUid = syntheticUid();
    await intake.storeFile(
      await fileOf(
        makeInstance({ sopClass: 'CR', studyInstanceUid: studyUid, rows: 8, columns: 8 }),
      ),
      source,
    );
    const study = await studyRow(studyUid);
    world.clock.advance(60_000);
    await imagingCases.checkQuiet(study!.id);
    expect((await studyRow(studyUid))?.state).toBe('receiving');
    world.clock.advance(61_000);
    await imagingCases.checkQuiet(study!.id);
    const after = await studyRow(studyUid);
    expect(after?.state).toBe('queued');
    const [row] = await world.database.db.select().from(cases).where(eq(cases.id, after!.caseId!));
    expect(row).toMatchObject({ priority: 'routine', examKind: 'imaging:CR' });
  });

  it('STOW-RS answers 507 before reading when the data disk would keep less than DICOM_MIN_FREE_DISK_BYTES free', async () => {
    const full = intakeWith({
      ...config,
      imaging: { ...config.imaging, minFreeDiskBytes: Number.MAX_SAFE_INTEGER },
    });
    const body = Readable.from([
      Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\nx\r\n--b--\r\n'),
    ]);
    const request = Object.assign(body, {
      headers: {
        'content-type': 'multipart/related; type="application/dicom"; boundary=b',
        'content-length': '44',
      },
    }) as unknown as IncomingMessage;
    const stow = new StowReceiver(full, config);
    await expect(stow.receive(world.nurse, request, 'http://relay')).rejects.toMatchObject({
      code: 'INSUFFICIENT_STORAGE',
    });
    expect(body.readableFlowing).not.toBe(true);
  });

  /** A STOW-RS request as the receiver reads it, arriving in 64 KiB reads. */
  const stowRequest = (parts: Uint8Array[]) => {
    const body = Buffer.concat([
      ...parts.flatMap((part) => [
        Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\n'),
        part,
        Buffer.from('\r\n'),
      ]),
      Buffer.from('--b--\r\n'),
    ]);
    const reads = Array.from({ length: Math.ceil(body.byteLength / 65_536) }, (_, i) =>
      body.subarray(i * 65_536, (i + 1) * 65_536),
    );
    return Object.assign(Readable.from(reads), {
      complete: true,
      headers: {
        'content-type': 'multipart/related; type="application/dicom"; boundary=b',
        'content-length': String(body.byteLength),
      },
    }) as unknown as IncomingMessage;
  };
  const sequence = (result: StowResult, tag: string) =>
    (result.body[tag]?.Value ?? []) as Record<string, { Value?: unknown[] }>[];
  const scratchFiles = () => readdir(join(dir, 'blobs', 'scratch'));

  it('STOW-RS takes a small part into memory and one over DICOM_IN_MEMORY_INSTANCE_BYTES through a scratch file, both stored byte for byte, no scratch file left', async () => {
    const studyUid = syntheticUid();
    const slice = makeInstance({
      sopClass: 'CT',
      studyInstanceUid: studyUid,
      rows: 64,
      columns: 64,
    });
    const large = makeInstance({
      sopClass: 'CT',
      studyInstanceUid: studyUid,
      rows: 512,
      columns: 512,
    });
    expect(slice.byteLength).toBeLessThan(config.imaging.inMemoryInstanceBytes);
    expect(large.byteLength).toBeGreaterThan(config.imaging.inMemoryInstanceBytes);
    const stow = new StowReceiver(intake, config);
    const result = await stow.receive(world.nurse, stowRequest([slice, large]), 'http://relay');
    expect(result.status).toBe(200);
    expect(sequence(result, '00081199')).toHaveLength(2);
    for (const sent of [slice, large]) {
      const sha256 = createHash('sha256').update(sent).digest('hex');
      expect(Buffer.compare(await blobs.get(sha256), Buffer.from(sent))).toBe(0);
    }
    expect(await scratchFiles()).toEqual([]);
  });

  it('STOW-RS refuses a part that grows past DICOM_MAX_INSTANCE_BYTES after it went to a scratch file, removes that file, and stores the part after it', async () => {
    const large = makeInstance({ sopClass: 'CT', rows: 512, columns: 512 });
    const maxInstanceBytes = config.imaging.inMemoryInstanceBytes + 128 * 1024;
    expect(large.byteLength).toBeGreaterThan(maxInstanceBytes);
    const small = makeInstance({ sopClass: 'CT', rows: 16, columns: 16 });
    const stow = new StowReceiver(intake, {
      ...config,
      imaging: { ...config.imaging, maxInstanceBytes },
    });
    const result = await stow.receive(world.nurse, stowRequest([large, small]), 'http://relay');
    expect(result.status).toBe(202);
    expect(sequence(result, '00081198')[0]?.['00081197']?.Value).toEqual([0xa700]);
    expect(sequence(result, '00081199')).toHaveLength(1);
    const largeKey = createHash('sha256').update(large).digest('hex');
    expect(await blobs.has(largeKey)).toBe(false);
    expect(await scratchFiles()).toEqual([]);
  });

  it('STOW-RS cut off while a skipped part is the last one read: the request fails, the part stored before stays, and nothing is thrown outside the request', async () => {
    // Found by test/faults/upload-cut.faults.ts: the cut destroyed with an error a part no
    // pipeline was reading any more (stored, or skipped as not DICOM), nobody listened for
    // it, and Node.js ended the relay.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      // Run alone, this test is the first to use the blob store, which intake measures.
      await mkdir(join(dir, 'blobs'), { recursive: true });
      const studyUid = syntheticUid();
      const file = makeInstance({
        sopClass: 'CT',
        studyInstanceUid: studyUid,
        rows: 16,
        columns: 16,
      });
      const boundary = `cut-${randomUUID()}`;
      const head = (type: string) => Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\n\r\n`);
      // A DICOM part, then a part that is not DICOM (skipped), then the next delimiter line
      // and no more: the link dies there.
      const sent = Buffer.concat([
        head('application/dicom'),
        Buffer.from(file),
        Buffer.from('\r\n'),
        head('text/plain'),
        Buffer.from('not an image'),
        Buffer.from(`\r\n--${boundary}\r\n`),
      ]);
      const line = new PassThrough();
      const request = Object.assign(line, {
        headers: {
          'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
          'content-length': String(sent.byteLength + 4096),
        },
        complete: false,
      }) as unknown as IncomingMessage;
      const outcome = new StowReceiver(intake, config)
        .receive(world.nurse, request, 'http://relay')
        .then(
          () => 'answered',
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        );
      line.write(sent);
      await waitFor(async () => (await studyRow(studyUid, world.nurse.facilityId)) !== undefined, {
        what: 'the DICOM part stored',
      });
      line.destroy();
      expect(await outcome).toBe('the request was cut off');
      // An 'error' event nobody listens to is thrown on a later tick.
      await new Promise((tick) => setImmediate(tick));
      expect(uncaught).toEqual([]);
      expect((await studyRow(studyUid, world.nurse.facilityId))?.instanceCount).toBe(1);
      expect(await readdir(join(dir, 'blobs', 'scratch')).catch(() => [])).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('QIDO-RS: filters by PatientID, StudyDate range, ModalitiesInStudy and AccessionNumber, within the user’s scope only', async () => {
    const studyUid = syntheticUid();
    const accession = `ACC${randomUUID().slice(0, 6)}`;
    await intake.storeFile(
      await fileOf(
        makeInstance({
          sopClass: 'DX',
          studyInstanceUid: studyUid,
          rows: 8,
          columns: 8,
          patientId: 'QIDO-P1',
          studyDate: '20260215',
          accessionNumber: accession,
        }),
      ),
      source,
    );
    const base = 'http://relay';
    const find = (user: typeof world.nurse, params: Record<string, string>) =>
      dicomweb.searchStudies(user, params, base);
    const uidsOf = (rows: Awaited<ReturnType<typeof find>>) =>
      rows.map((r) => r['0020000D']?.Value?.[0]);
    expect(uidsOf(await find(world.nurse, { PatientID: 'QIDO-P1' }))).toEqual([studyUid]);
    expect(
      uidsOf(
        await find(world.nurse, { StudyDate: '20260201-20260228', AccessionNumber: accession }),
      ),
    ).toEqual([studyUid]);
    expect(
      uidsOf(await find(world.nurse, { StudyDate: '20260301-', AccessionNumber: accession })),
    ).toEqual([]);
    expect(
      uidsOf(await find(world.nurse, { ModalitiesInStudy: 'DX', AccessionNumber: accession })),
    ).toEqual([studyUid]);
    expect(
      uidsOf(await find(world.nurse, { ModalitiesInStudy: 'CT', AccessionNumber: accession })),
    ).toEqual([]);
    const [found] = await find(world.nurse, { StudyInstanceUID: studyUid });
    expect(found?.['00201208']?.Value).toEqual([1]);
    expect(found?.['00081190']?.Value).toEqual([`${base}/dicomweb/studies/${studyUid}`]);
    // A reader sees it only once the case is at their hospital; another clinic never.
    expect(await find(world.readers.c1, { StudyInstanceUID: studyUid })).toEqual([]);
    await imagingCases.complete(world.nurse, studyUid, 'routine');
    expect(uidsOf(await find(world.readers.c1, { StudyInstanceUID: studyUid }))).toEqual([
      studyUid,
    ]);
    expect(await find(world.readers.c2, { StudyInstanceUID: studyUid })).toEqual([]);
    const [otherNurse] = await world.database.db
      .insert(users)
      .values({
        username: `j-${randomUUID()}`,
        displayName: 'J',
        passwordHash: 'x',
        role: 'clinic_staff',
        facilityId: 'clinic-j',
      })
      .returning({ id: users.id });
    const stranger = { ...world.nurse, id: otherNurse!.id, facilityId: 'clinic-j' };
    expect(await find(stranger, { StudyInstanceUID: studyUid })).toEqual([]);
    await expect(dicomweb.metadata(stranger, { study: studyUid }, base)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await expect(
      dicomweb.searchStudies(world.nurse, { StudyDate: '2026-02-01' }, base),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('a 12-lead ECG waveform becomes one ECG recording and one ECG case with its analysis queued; the same file again makes nothing new', async () => {
    const studyUid = syntheticUid();
    const sopUid = syntheticUid();
    const bytes = makeInstance({
      sopClass: 'ECG12',
      studyInstanceUid: studyUid,
      sopInstanceUid: sopUid,
    });
    const outcome = await intake.storeFile(await fileOf(bytes), {
      via: 'c-store',
      clinicId: 'clinic-k',
      actor: 'ae:ECGCART1',
      callingAe: 'ECGCART1',
    });
    expect(outcome).toMatchObject({ outcome: 'stored', sopInstanceUid: sopUid });
    const caseId = outcome.outcome === 'stored' ? outcome.ecgCaseId : undefined;
    expect(caseId).toBeDefined();
    const recordingId = ecgFileRecordingId('clinic-k', sopUid);
    const [recording] = await world.database.db
      .select()
      .from(recordings)
      .where(eq(recordings.id, recordingId));
    expect(recording).toMatchObject({
      deviceId: null,
      source: 'dicom:c-store:ECGCART1',
      clinicId: 'clinic-k',
      examKind: 'resting-12-lead',
      leads: ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'],
      chunkCount: 1,
    });
    const samples = await blobs.get(recording!.sha256);
    expect(samples.byteLength).toBe(recording!.samplesPerLead * 12 * 2);
    const [ecgCase] = await world.database.db.select().from(cases).where(eq(cases.id, caseId!));
    expect(ecgCase).toMatchObject({
      kind: 'ecg',
      recordingId,
      clinicId: 'clinic-k',
      status: 'analysing',
    });
    await world.outbox.flush();
    await waitFor(
      () =>
        world.queues
          .named('analyse-ecg')
          .some((entry) => (entry.job.data as { caseId?: string }).caseId === caseId),
      { what: 'the ECG analysis job of the waveform case' },
    );
    // The cart's study is read as an ECG, never as an imaging case.
    const study = await studyRow(studyUid);
    expect(study).toMatchObject({ state: 'receiving', caseId: null });
    const quiet = await world.database.db
      .select()
      .from(outbox)
      .where(eq(outbox.kind, `${IMAGING_QUIET_QUEUE}:study-quiet`));
    expect(quiet.some((job) => JSON.stringify(job.payload).includes(study!.id))).toBe(false);

    const again = await intake.storeFile(await fileOf(bytes), source);
    expect(again).toMatchObject({ outcome: 'already-stored', sopInstanceUid: sopUid });
    const ecgCases = await world.database.db
      .select()
      .from(cases)
      .where(eq(cases.recordingId, recordingId));
    expect(ecgCases).toHaveLength(1);
    const analyses = world.queues
      .named('analyse-ecg')
      .filter((entry) => (entry.job.data as { caseId?: string }).caseId === caseId);
    expect(analyses).toHaveLength(1);
  });

  it('an ECG waveform that cannot become a recording is refused with 0xA900 and the reason, and nothing is stored', async () => {
    const sopUid = syntheticUid();
    const bytes = makeInstance({
      sopClass: 'ECG12',
      sopInstanceUid: sopUid,
      // Below the slowest sampling rate the relay analyses.
      waveform: { ...defaultWaveform(), sampleRateHz: 10 },
    });
    const outcome = await intake.storeFile(await fileOf(bytes), source);
    expect(outcome).toMatchObject({
      outcome: 'refused',
      refusal: { code: 'ECG_WAVEFORM_UNUSABLE', failureReason: 0xa900, sopInstanceUid: sopUid },
    });
    expect(outcome.outcome === 'refused' && outcome.refusal.reason).toMatch(/sampleRateHz/);
    expect(await repository.storedSha256('clinic-k', sopUid)).toBeUndefined();
    expect(
      await world.database.db
        .select()
        .from(recordings)
        .where(eq(recordings.id, ecgFileRecordingId('clinic-k', sopUid))),
    ).toEqual([]);
  });

  it('an ECG waveform stored while its recording could not be archived (the relay stopped between the two) gets its recording when the cart sends it again', async () => {
    const sopUid = syntheticUid();
    const bytes = makeInstance({ sopClass: 'ECG12', sopInstanceUid: sopUid });
    class StoppedBeforeArchiving extends EcgFileRecordings {
      override archiveFile(): Promise<{ caseId: string; recordingId: string }> {
        return Promise.reject(new Error('relay stopped'));
      }
    }
    const interrupted = new ImagingIntake(
      new InlineDicomInspector(),
      repository,
      blobs,
      audit,
      imagingCases,
      new StoppedBeforeArchiving(
        undefined as never,
        new RecordingsRepository(world.database),
        world.clock,
        quietLog,
      ),
      world.clock,
      config,
      quietLog,
    );
    await expect(interrupted.storeFile(await fileOf(bytes), source)).rejects.toThrow(
      'relay stopped',
    );
    expect(await repository.storedSha256('clinic-k', sopUid)).toBeDefined();
    const recordingId = ecgFileRecordingId('clinic-k', sopUid);
    const before = await world.database.db
      .select()
      .from(cases)
      .where(eq(cases.recordingId, recordingId));
    expect(before).toEqual([]);

    const again = await intake.storeFile(await fileOf(bytes), source);
    expect(again).toMatchObject({ outcome: 'already-stored', ecgCaseId: expect.any(String) });
    const after = await world.database.db
      .select()
      .from(cases)
      .where(eq(cases.recordingId, recordingId));
    expect(after).toHaveLength(1);
  });
  it('links a study to the imaging order its Accession Number names: the case gets the patient, the order is recorded', async () => {
    const created = await orders.create(world.nurse, {
      patient: { documentType: 'resident_id', idNumber: '500101190001010148', name: '测试患者五' },
      kind: 'imaging',
      modality: 'CR',
      bodyPart: 'CHEST',
      indication: 'cough',
    });
    const studyUid = syntheticUid();
    const bytes = makeInstance({
      sopClass: 'CR',
      studyInstanceUid: studyUid,
      accessionNumber: created.order.accessionNumber!,
      rows: 16,
      columns: 16,
    });
    expect((await intake.storeFile(await fileOf(bytes), source)).outcome).toBe('stored');
    const done = await imagingCases.complete(world.nurse, studyUid, 'routine');
    const [row] = await world.database.db.select().from(cases).where(eq(cases.id, done.caseId!));
    expect(row).toMatchObject({ patientId: created.order.patient.id, orderId: created.order.id });
    expect((await orders.byOrderNumber(created.order.orderNumber))?.status).toBe('recorded');
  });

  it("links a study by a Patient ID that is a registered resident ID, and counts a repeat of the patient's earlier study", async () => {
    const idNumber = '500101190001010156';
    const first = await orders.create(world.nurse, {
      patient: { documentType: 'resident_id', idNumber, name: '测试患者六' },
      kind: 'imaging',
      modality: 'CT',
      bodyPart: 'HEAD',
      indication: 'fall',
    });
    const earlierUid = syntheticUid();
    await intake.storeFile(
      await fileOf(
        makeInstance({
          sopClass: 'CT',
          studyInstanceUid: earlierUid,
          accessionNumber: first.order.accessionNumber!,
          rows: 16,
          columns: 16,
        }),
      ),
      source,
    );
    await imagingCases.complete(world.nurse, earlierUid, 'routine');
    // The same CT of the head again, without an order, naming the patient by the ID.
    const againUid = syntheticUid();
    await intake.storeFile(
      await fileOf(
        makeInstance({
          sopClass: 'CT',
          studyInstanceUid: againUid,
          accessionNumber: 'NO-ORDER-1',
          patientId: idNumber,
          rows: 16,
          columns: 16,
        }),
      ),
      source,
    );
    const again = await imagingCases.complete(world.nurse, againUid, 'routine');
    const [row] = await world.database.db.select().from(cases).where(eq(cases.id, again.caseId!));
    expect(row).toMatchObject({ patientId: first.order.patient.id, orderId: null });
    const warnings = await world.database.db
      .select()
      .from(repeatExamWarnings)
      .where(eq(repeatExamWarnings.patientId, first.order.patient.id));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ orderId: null, kind: 'imaging', wentAhead: true });
  });
});
