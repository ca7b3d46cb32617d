import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedExamOrder, SessionUser } from '#contracts';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditService } from '../audit/audit.service.js';
import { DomainError } from '../common/domain-error.js';
import { FileBlobStore } from '../infra/blobs/blob-store.js';
import type { Database } from '../infra/database/database.js';
import { auditLog, diagnoses, facilities, recordings, users } from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import type { Logger } from '../infra/logging/logger.js';
import { recordsWorld } from '../records/testing/records-world.js';
import { CasesRepository } from '../worklist/cases.repository.js';
import { FhirRepository } from './fhir.repository.js';
import { FhirService, type FhirReader } from './fhir.service.js';
import { fhirSchemaErrors } from './testing/fhir-schema.js';

/**
 * The FHIR view on a real database per driver: a clinic registers an exam, its case is signed
 * at the county hospital, and the case is read as FHIR by whoever the case routes let read it.
 */

// Fictitious: area 500101, born 1 January 1900, check character computed (GB 11643).
const ID = '500101190001010017';
const BASE = 'http://relay.test';

/** A logger that keeps every line, to look for the number in it. */
function keptLog(lines: string[]): Logger {
  const keep = (...args: unknown[]) => {
    lines.push(JSON.stringify(args));
  };
  const log = { info: keep, warn: keep, error: keep, debug: keep, child: () => log };
  return log as unknown as Logger;
}

describe.each(DRIVERS)('FHIR view of a signed case on %s', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let world: Awaited<ReturnType<typeof recordsWorld>>;
  let fhir: FhirService;
  let readerC1: SessionUser;
  let readerC2: SessionUser;
  let signedCase: string;
  let unsignedCase: string;
  let order: CreatedExamOrder;
  const logLines: string[] = [];
  let blobDir: string;
  let blobs: FileBlobStore;

  const as = (user: SessionUser): FhirReader => ({
    user,
    remoteAddress: '192.0.2.7',
    baseUrl: BASE,
  });
  const serviceWith = (audit: AuditService, lines: string[]) =>
    new FhirService(
      new FhirRepository(database),
      new CasesRepository(database),
      world.patients,
      blobs,
      audit,
      world.clock,
      keptLog(lines),
    );

  async function reader(facilityId: string): Promise<SessionUser> {
    const username = `reader-${randomUUID().slice(0, 8)}`;
    const [row] = await database.db
      .insert(users)
      .values({
        username,
        displayName: 'Dr. Reader',
        passwordHash: 'x',
        role: 'reader',
        facilityId,
      })
      .returning({ id: users.id });
    return {
      id: row!.id,
      username,
      displayName: 'Dr. Reader',
      role: 'reader',
      facilityId,
      facilityKind: 'county',
    };
  }

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
    blobDir = await mkdtemp(join(tmpdir(), 'telerelay-fhir-'));
    blobs = new FileBlobStore(blobDir);
    world = await recordsWorld(database);
    await database.db
      .insert(facilities)
      .values({ id: 'hosp-c2', kind: 'county', name: 'County Two', parentId: null });
    readerC1 = await reader('hosp-c1');
    readerC2 = await reader('hosp-c2');
    fhir = serviceWith(
      new AuditService(new AuditRepository(database), world.clock, keptLog(logLines)),
      logLines,
    );
    // Clinic A registers the patient's ECG; its case is signed at County One.
    order = await world.orders.create(world.staffA, {
      patient: { documentType: 'resident_id', idNumber: ID, name: '测试患者' },
      kind: 'ecg',
      indication: 'Chest pain',
      urgency: 'urgent',
    });
    // Its recording: 2 leads × 3 samples, interleaved int16 little-endian as a box sends.
    const bytes = Buffer.alloc(12);
    [10, -20, 11, -21, 12, -22].forEach((value, i) => bytes.writeInt16LE(value, i * 2));
    const recordingId = randomUUID();
    await database.db.insert(recordings).values({
      id: recordingId,
      clinicId: 'clinic-a',
      examKind: 'resting-12-lead',
      leads: ['I', 'II'],
      sampleRateHz: 250,
      microvoltsPerLsb: 2.5,
      samplesPerLead: 3,
      chunkCount: 1,
      sha256: await blobs.put(bytes),
      startedAt: world.clock.now(),
      analysis: { algorithmVersion: 'ecg-test', heartRateBpm: 61, measurements: { prMs: 150 } },
    });
    signedCase = await world.examCase({
      patientId: order.order.patient.id,
      orderId: order.order.id,
      recordingId,
      priority: 'urgent',
    });
    await database.db.insert(diagnoses).values({
      caseId: signedCase,
      conclusion: 'Sinus rhythm.',
      findings: ['Normal ECG'],
      signedBy: readerC1.id,
      hospitalId: 'hosp-c1',
      signedAt: world.clock.now(),
    });
    unsignedCase = await world.examCase({
      patientId: order.order.patient.id,
      status: 'awaiting_review',
    });
  }, 60_000);
  afterAll(async () => {
    await dispose();
    await rm(blobDir, { recursive: true, force: true });
  });

  it("the clinic's staff and the county's reader get a valid Bundle with the patient masked", async () => {
    for (const user of [world.staffA, readerC1]) {
      const bundle: Bundle = await fhir.bundle(as(user), signedCase, { waveform: false });
      const resources = (bundle.entry ?? []).map((entry) => entry.resource!);
      expect([bundle, ...resources].flatMap((r) => fhirSchemaErrors(r))).toEqual([]);
      const patient = resources.find((r): r is Patient => r.resourceType === 'Patient');
      expect(patient).toMatchObject({
        id: order.order.patient.id,
        name: [{ text: '测试患者' }],
        gender: 'male',
        birthDate: '1900-01-01',
        identifier: [{ system: 'urn:oid:2.16.156.10011.1.3', value: '5001**********0017' }],
      });
      expect(resources.find((r) => r.resourceType === 'ServiceRequest')).toMatchObject({
        identifier: [{ value: order.order.orderNumber }],
        requester: { reference: 'Organization/clinic-a', display: 'Clinic A' },
        performer: [{ reference: 'Organization/hosp-c1' }],
        priority: 'urgent',
      });
      expect(JSON.stringify(bundle)).not.toContain(ID);
    }
    const report = await fhir.report(as(readerC1), signedCase);
    expect(fhirSchemaErrors(report)).toEqual([]);
    expect(report).toMatchObject({ id: signedCase, status: 'final', conclusion: 'Sinus rhythm.' });
  });

  it('adds the waveform from the stored samples when asked, lead by lead', async () => {
    const bundle = await fhir.bundle(as(readerC1), signedCase, { waveform: true });
    const observations = (bundle.entry ?? [])
      .map((entry) => entry.resource!)
      .filter((r): r is Observation => r.resourceType === 'Observation');
    expect(observations.flatMap((o) => fhirSchemaErrors(o))).toEqual([]);
    expect(observations.map((o) => o.code.coding?.[0]?.code).sort()).toEqual([
      '131328',
      '8625-6',
      '8867-4',
    ]);
    const waveform = observations.find((o) => o.id === `${signedCase}-ecg`);
    expect(waveform?.component?.map((c) => c.valueSampledData)).toMatchObject([
      { period: 4, factor: 2.5, data: '10 11 12' },
      { period: 4, factor: 2.5, data: '-20 -21 -22' },
    ]);
  });

  it('audits each read by the patient lookup key; the number is in no audit row and no log line', async () => {
    const rows = await database.db.select().from(auditLog);
    const reads = rows.filter((row) => row.action === 'fhir.read');
    expect(reads.map((row) => [row.actor, row.detail?.['resource']])).toEqual([
      [`user:${world.staffA.id}`, 'Bundle'],
      [`user:${readerC1.id}`, 'Bundle'],
      [`user:${readerC1.id}`, 'DiagnosticReport'],
      [`user:${readerC1.id}`, 'Bundle'],
    ]);
    expect(reads.map((row) => row.detail?.['waveform'])).toEqual([false, false, undefined, true]);
    expect(reads[0]).toMatchObject({
      outcome: 'allowed',
      subject: `case:${signedCase}`,
      remoteAddress: '192.0.2.7',
      patientKey: world.identity.lookupKey('resident_id', ID),
      detail: {
        role: 'clinic_staff',
        facilityId: 'clinic-a',
      },
    });
    expect(JSON.stringify(rows)).not.toContain(ID);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(ID);
  });

  it('another clinic, another county and an unsigned or missing case get the same not-found', async () => {
    const refusals = await Promise.all(
      [
        [world.staffB, signedCase],
        [readerC2, signedCase],
        [world.staffA, unsignedCase],
        [readerC1, randomUUID()],
      ].map(([user, caseId]) =>
        fhir.bundle(as(user as SessionUser), caseId as string, { waveform: false }).then(
          () => 'answered',
          (error: unknown) => (error instanceof DomainError ? error.code : String(error)),
        ),
      ),
    );
    expect(refusals).toEqual(['NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND']);
    await expect(fhir.report(as(readerC2), signedCase)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('refuses the read when its audit row cannot be written', async () => {
    const lines: string[] = [];
    const broken = new AuditService(
      {
        insert: () => Promise.reject(new Error('audit table unavailable')),
      } as unknown as AuditRepository,
      world.clock,
      keptLog(lines),
    );
    await expect(serviceWith(broken, lines).report(as(readerC1), signedCase)).rejects.toMatchObject(
      { code: 'UNAVAILABLE' },
    );
    expect(lines.join('\n')).not.toContain(ID);
  });
});
