import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from '../common/testing/test-clock.js';
import { Database } from '../infra/database/database.js';
import { quietLog } from '../infra/logging/testing/quiet-log.js';
import { PrometheusMetrics } from '../infra/metrics/prometheus-metrics.js';
import { cases, devices, facilities, recordings } from '../infra/database/schema.js';
import { ClinicInboxRepository } from './clinic-inbox.repository.js';
import { ClinicInbox, type ClinicEventKind } from './clinic-inbox.js';

describe('ClinicInbox, the box side (real PGlite)', () => {
  let dataDir: string;
  let database: Database;
  let inbox: ClinicInbox;
  // An event's owed time is the database's own now(): the test moves this clock from there.
  const clock = new TestClock(Date.now());
  const metrics = new PrometheusMetrics(quietLog);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-inbox-'));
    database = await Database.open({ dataDir });
    inbox = new ClinicInbox(new ClinicInboxRepository(database), clock, metrics);
    await database.db.insert(facilities).values([
      { id: 't-1', kind: 'tertiary', name: 'T1' },
      { id: 'c-1', kind: 'county', name: 'C1', parentId: 't-1' },
      { id: 'k-1', kind: 'clinic', name: 'K1', parentId: 'c-1' },
    ]);
    await database.db.insert(devices).values([
      { id: 'box-a', facilityId: 'k-1', secretHash: 'x' },
      { id: 'box-b', facilityId: 'k-1', secretHash: 'x' },
    ]);
  }, 60_000);

  afterAll(async () => {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A case from the box's recording (or, without a box, one with no recording), owed `kind`. */
  async function owed(deviceId: string | null, kind: ClinicEventKind) {
    const recordingId = deviceId ? randomUUID() : null;
    if (deviceId && recordingId)
      await database.db.insert(recordings).values({
        id: recordingId,
        deviceId,
        clinicId: 'k-1',
        examKind: 'ecg-12',
        leads: ['I'],
        sampleRateHz: 500,
        microvoltsPerLsb: 1,
        samplesPerLead: 5000,
        chunkCount: 1,
        sha256: randomUUID(),
        startedAt: new Date(),
      });
    const [row] = await database.db
      .insert(cases)
      .values({
        kind: deviceId ? 'ecg' : 'imaging',
        recordingId,
        examKind: 'ecg-12',
        clinicId: 'k-1',
        hospitalId: 'c-1',
        priority: 'routine',
        status: kind === 'diagnosis.signed' ? 'signed' : 'returned',
        dueAt: new Date(),
      })
      .returning({ id: cases.id });
    const caseId = row!.id;
    const eventId = await database.db.transaction((tx) => inbox.owe(tx, 'k-1', caseId, kind));
    return { caseId, recordingId, eventId };
  }

  it('owes each event to the box of its recording only, oldest first, a page at a time', async () => {
    const first = await owed('box-a', 'diagnosis.signed');
    const returned = await owed('box-a', 'case.returned');
    const second = await owed('box-a', 'diagnosis.signed');
    await owed('box-b', 'diagnosis.signed');
    await owed(null, 'diagnosis.signed');

    const both: ClinicEventKind[] = ['diagnosis.signed', 'case.returned'];
    expect((await inbox.pendingForBox('box-a', both, null)).map((e) => e.caseId)).toEqual([
      first.caseId,
      returned.caseId,
      second.caseId,
    ]);
    // Only what the box subscribed to, and keyset paging.
    const diagnoses = await inbox.pendingForBox('box-a', ['diagnosis.signed'], null, 1);
    expect(diagnoses.map((e) => e.caseId)).toEqual([first.caseId]);
    const next = await inbox.pendingForBox('box-a', ['diagnosis.signed'], diagnoses[0]!.eventId);
    expect(next.map((e) => e.caseId)).toEqual([second.caseId]);
    expect(await inbox.pendingForBox('box-a', [], null)).toEqual([]);
    expect(await inbox.pendingForBox('box-c', both, null)).toEqual([]);

    // Another box cannot settle it; the owner can, once; a return is settled by recording.
    // The box comes back a minute and a half after the events were owed (by the wall clock,
    // which the database's now() read when it wrote them).
    clock.advance(Date.now() + 90_000 - clock.now().getTime());
    expect(await inbox.boxReceived('box-b', 'diagnosis.signed', first)).toBeNull();
    expect(await inbox.boxReceived('box-a', 'case.returned', first)).toBeNull();
    expect(await inbox.boxReceived('box-a', 'diagnosis.signed', first)).toBe(first.caseId);
    expect(await inbox.boxReceived('box-a', 'diagnosis.signed', first)).toBeNull();
    expect(
      await inbox.boxReceived('box-a', 'case.returned', { recordingId: returned.recordingId! }),
    ).toBe(returned.caseId);
    expect((await inbox.pendingForBox('box-a', both, null)).map((e) => e.caseId)).toEqual([
      second.caseId,
    ]);

    // The clinic's own debt is separate: the box's PUBACK does not settle it.
    expect((await inbox.pending('k-1')).map((e) => e.caseId)).toContain(first.caseId);

    // Each first receipt, and only those, is measured as the box's delivery lag.
    const { body } = await metrics.exposition();
    const value = (series: string) => {
      const line = body.split('\n').find((candidate) => candidate.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    const lag = 'telerelay_delivery_lag_seconds';
    expect(value(`${lag}_count{to="box",kind="diagnosis.signed"}`)).toBe(1);
    expect(value(`${lag}_count{to="box",kind="case.returned"}`)).toBe(1);
    expect(value(`${lag}_bucket{le="60",to="box",kind="diagnosis.signed"}`)).toBe(0);
    expect(value(`${lag}_bucket{le="300",to="box",kind="diagnosis.signed"}`)).toBe(1);
  });
});
