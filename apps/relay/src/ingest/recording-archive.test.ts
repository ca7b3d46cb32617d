import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../infra/blobs/blob-store.js';
import { Database } from '../infra/database/database.js';
import { devices, facilities } from '../infra/database/schema.js';
import type { Outbox } from '../outbox/outbox.js';
import type { WorklistService } from '../worklist/worklist.service.js';
import { RecordingArchive } from './recording-archive.js';
import type { StagedRecording } from './recording-staging.js';
import { RecordingsRepository } from './recordings.repository.js';
import type { ExamOrdersService } from '../records/exam-orders.service.js';

describe('RecordingArchive on PGlite', () => {
  let dataDir: string;
  let database: Database;
  let archive: RecordingArchive;
  const opened: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-archive-'));
    database = await Database.open({ dataDir });
    await database.db.insert(facilities).values([
      { id: 'clinic-a', kind: 'clinic', name: 'Clinic A' },
      { id: 'clinic-b', kind: 'clinic', name: 'Clinic B' },
    ]);
    await database.db.insert(devices).values([
      { id: 'box-a', facilityId: 'clinic-a', secretHash: 'x' },
      { id: 'box-b', facilityId: 'clinic-b', secretHash: 'x' },
    ]);
    // The worklist side is not what is tested here: a case id per recording is enough.
    const worklist = {
      openCase: async (_tx: unknown, request: { recordingId: string }) => {
        opened.push(request.recordingId);
        return `case-of-${request.recordingId}`;
      },
      caseOpened: async () => undefined,
    } as unknown as WorklistService;
    const blobs = {
      put: async (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex'),
    } as unknown as BlobStore;
    archive = new RecordingArchive(
      blobs,
      database,
      new RecordingsRepository(database),
      worklist,
      { flush: async () => undefined } as unknown as Outbox,
      // These recordings name no order: the archive never asks for one.
      {} as ExamOrdersService,
      pino({ level: 'silent' }),
    );
    // Migrating a fresh PGlite takes seconds on a busy machine.
  }, 60_000);

  afterAll(async () => {
    await database?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  function staged(recordingId: string, deviceId: string, clinicId: string): StagedRecording {
    return {
      recordingId,
      deviceId,
      clinicId,
      examKind: 'rhythm-strip',
      leads: ['II'],
      sampleRateHz: 500,
      microvoltsPerLsb: 2.5,
      startedAt: '2026-11-27T08:00:00.000Z',
    };
  }

  it('answers a repeat with the same case, and refuses the id from another box or with other samples', async () => {
    const recordingId = randomUUID();
    const samples = Buffer.from([1, 0, 2, 0]);
    const first = await archive.archive(staged(recordingId, 'box-a', 'clinic-a'), samples, 1);
    expect(first).toBe(`case-of-${recordingId}`);
    expect(await archive.archive(staged(recordingId, 'box-a', 'clinic-a'), samples, 1)).toBe(first);

    await expect(
      archive.archive(staged(recordingId, 'box-b', 'clinic-b'), samples, 1),
    ).rejects.toMatchObject({ code: 'INVALID_MESSAGE', message: 'recording id already in use' });
    await expect(
      archive.archive(staged(recordingId, 'box-a', 'clinic-a'), Buffer.from([9, 0, 9, 0]), 1),
    ).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    // The refused attempts never reached the worklist.
    expect(opened.filter((id) => id === recordingId)).toHaveLength(2);
  });
});
