import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionUser } from '#contracts';
import { TestClock } from '../common/testing/test-clock.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import { Database } from '../infra/database/database.js';
import {
  caseEvents,
  cases,
  diagnoses,
  facilities,
  patients,
  repeatExamWarnings,
  users,
} from '../infra/database/schema.js';
import { StatsRepository } from './stats.repository.js';
import { StatsService } from './stats.service.js';

describe('StatsService (real PGlite)', () => {
  let dataDir: string;
  let database: Database;
  let service: StatsService;
  const now = new Date();
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
  const authority = (facilityId: string): SessionUser => ({
    id: '00000000-0000-4000-8000-000000000009',
    username: 'ha',
    displayName: 'HA',
    role: 'health_authority',
    facilityId,
    facilityKind: 'tertiary',
  });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-stats-'));
    database = await Database.open({ dataDir });
    await database.db.insert(facilities).values([
      { id: 't-1', kind: 'tertiary', name: 'T1' },
      { id: 'c-1', kind: 'county', name: 'C1', parentId: 't-1' },
      { id: 'k-1', kind: 'clinic', name: 'K1', parentId: 'c-1' },
      { id: 'k-2', kind: 'clinic', name: 'K2', parentId: 'c-1' },
      { id: 't-2', kind: 'tertiary', name: 'Elsewhere' },
      { id: 'c-2', kind: 'county', name: 'C2', parentId: 't-2' },
      { id: 'k-3', kind: 'clinic', name: 'K3', parentId: 'c-2' },
    ]);
    const [reader] = await database.db
      .insert(users)
      .values({
        username: 'r',
        displayName: 'R',
        passwordHash: 'x',
        role: 'reader',
        facilityId: 'c-1',
      })
      .returning({ id: users.id });
    const base = {
      kind: 'ecg' as const,
      examKind: 'ecg-12',
      priority: 'routine' as const,
      dueAt: now,
    };
    const inserted = await database.db
      .insert(cases)
      .values([
        { ...base, clinicId: 'k-1', hospitalId: 'c-1', status: 'awaiting_review' },
        { ...base, clinicId: 'k-1', hospitalId: 'c-1', status: 'in_review' },
        {
          ...base,
          clinicId: 'k-2',
          hospitalId: 'c-1',
          status: 'signed',
          createdAt: minutesAgo(10),
        },
        {
          ...base,
          clinicId: 'k-2',
          hospitalId: 'c-1',
          status: 'signed',
          createdAt: minutesAgo(30),
        },
        { ...base, clinicId: 'k-1', hospitalId: 'c-1', status: 'returned' },
        { ...base, clinicId: 'k-1', hospitalId: 't-1', status: 'awaiting_review' },
        { ...base, clinicId: 'k-3', hospitalId: 'c-2', status: 'awaiting_review' },
      ])
      .returning({ id: cases.id });
    const id = (i: number) => inserted[i]!.id;
    await database.db.insert(diagnoses).values([
      { caseId: id(2), conclusion: 'ok', findings: [], signedBy: reader!.id, signedAt: now },
      { caseId: id(3), conclusion: 'ok', findings: [], signedBy: reader!.id, signedAt: now },
    ]);
    await database.db.insert(caseEvents).values([
      { caseId: id(4), type: 'returned', actor: 'system:analysis' },
      { caseId: id(5), type: 'escalated', actor: reader!.id },
    ]);
    // Repeated exams: k-1 warned twice today (one went ahead, one cancelled), k-2 once
    // yesterday (not today's), k-3 once (another region).
    const [patient] = await database.db
      .insert(patients)
      .values({
        identifierKey: 'key-1',
        identifierSealed: 'k1.x',
        identifierMasked: '5001**********0017',
        documentType: 'resident_id',
        name: 'P',
        sex: 'male',
        registeredBy: 'k-1',
      })
      .returning({ id: patients.id });
    const warning = (clinicId: string, wentAhead: boolean | null, warnedAt = now) => ({
      patientId: patient!.id,
      clinicId,
      kind: 'ecg' as const,
      earlierCaseIds: [id(2)],
      warnedAt,
      wentAhead,
    });
    await database.db
      .insert(repeatExamWarnings)
      .values([
        warning('k-1', true),
        warning('k-1', false),
        warning('k-2', true, minutesAgo(60 * 30)),
        warning('k-3', null),
      ]);
    service = new StatsService(
      new FacilitiesRepository(database),
      new StatsRepository(database),
      new TestClock(now.getTime()),
    );
  }, 60_000);
  afterAll(async () => {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("counts today's work per hospital and clinic of the authority's region only", async () => {
    const stats = await service.forRegionOf(authority('t-1'));
    const byId = new Map(stats.facilities.map((f) => [f.id, f]));
    expect([...byId.keys()].sort()).toEqual(['c-1', 'k-1', 'k-2', 't-1']);
    expect(byId.get('c-1')).toMatchObject({
      waiting: 1,
      claimed: 1,
      signed: 2,
      returned: 1,
      escalated: 1,
      turnaroundSeconds: { median: 1200, p90: 1680 },
    });
    expect(byId.get('t-1')).toMatchObject({ waiting: 1, signed: 0, escalated: 1 });
    expect(byId.get('k-1')).toMatchObject({ waiting: 2, claimed: 1, returned: 1, escalated: 1 });
    expect(byId.get('k-2')).toMatchObject({ signed: 2, turnaroundSeconds: { median: 1200 } });
  });

  it('counts repeated-exam warnings and exams that went ahead at the clinic and the hospitals above it', async () => {
    const stats = await service.forRegionOf(authority('t-1'));
    const byId = new Map(stats.facilities.map((f) => [f.id, f]));
    expect(byId.get('k-1')).toMatchObject({ repeatExamWarnings: 2, repeatExamsWentAhead: 1 });
    expect(byId.get('k-2')).toMatchObject({ repeatExamWarnings: 0, repeatExamsWentAhead: 0 });
    expect(byId.get('c-1')).toMatchObject({ repeatExamWarnings: 2, repeatExamsWentAhead: 1 });
    expect(byId.get('t-1')).toMatchObject({ repeatExamWarnings: 2, repeatExamsWentAhead: 1 });
  });

  it('narrows to a county when the authority belongs to one', async () => {
    const stats = await service.forRegionOf(authority('c-2'));
    expect(stats.facilities.map((f) => [f.id, f.waiting])).toEqual([
      ['c-2', 1],
      ['k-3', 1],
    ]);
  });
});
