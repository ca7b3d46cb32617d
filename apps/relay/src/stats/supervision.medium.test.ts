import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionUser, SupervisionReport } from '#contracts';
import { TestClock } from '../common/testing/test-clock.js';
import { FacilitiesRepository } from '../facilities/facilities.repository.js';
import type { Database } from '../infra/database/database.js';
import {
  caseEvents,
  cases,
  clinicEvents,
  diagnoses,
  facilities,
  patients,
  repeatExamWarnings,
  users,
} from '../infra/database/schema.js';
import { DRIVERS, openTestDatabase } from '../infra/database/testing/test-database.js';
import { supervisionCsv } from './supervision-csv.js';
import { SupervisionService } from './supervision.service.js';
import { SupervisionRepository } from './supervision.repository.js';

/** 16:00 in Shanghai on 2 March 2026; that day began at 2026-03-01T16:00Z. */
const NOW = Date.parse('2026-03-02T08:00:00Z');
const minutes = (m: number) => new Date(NOW + m * 60_000);
const at = (iso: string) => new Date(iso);

describe.each(DRIVERS)('SupervisionService (real %s, injected clock)', (driver) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let service: SupervisionService;
  const authority = (facilityId: string): SessionUser => ({
    id: '00000000-0000-4000-8000-000000000009',
    username: 'ha',
    displayName: 'HA',
    role: 'health_authority',
    facilityId,
    facilityKind: 'tertiary',
  });

  beforeAll(async () => {
    ({ database, dispose } = await openTestDatabase(driver));
    const db = database.db;
    await db.insert(facilities).values([
      { id: 't-1', kind: 'tertiary', name: 'T1' },
      { id: 'c-1', kind: 'county', name: 'C1', parentId: 't-1' },
      { id: 'k-1', kind: 'clinic', name: 'K1', parentId: 'c-1' },
      { id: 'k-2', kind: 'clinic', name: 'K2', parentId: 'c-1' },
      // A name an administrator typed that a spreadsheet would run.
      { id: 'k-4', kind: 'clinic', name: '=HYPERLINK("http://x")', parentId: 'c-1' },
      { id: 't-2', kind: 'tertiary', name: 'Elsewhere' },
      { id: 'c-2', kind: 'county', name: 'C2', parentId: 't-2' },
      { id: 'k-3', kind: 'clinic', name: 'K3', parentId: 'c-2' },
    ]);
    const [reader] = await db
      .insert(users)
      .values({
        username: 'r',
        displayName: 'Dr R',
        passwordHash: 'x',
        role: 'reader',
        facilityId: 'c-1',
      })
      .returning({ id: users.id });
    const readerId = reader!.id;
    const ecg = { kind: 'ecg' as const, examKind: 'ecg-12', priority: 'routine' as const };
    const rows = await db
      .insert(cases)
      .values([
        // A: signed within its due time, the clinic's console had it 15 minutes after recording.
        {
          ...ecg,
          clinicId: 'k-1',
          hospitalId: 'c-1',
          status: 'signed',
          createdAt: minutes(-60),
          dueAt: minutes(-30),
        },
        // B: signed after its due time; the box had it first (62 minutes), the console later.
        {
          ...ecg,
          clinicId: 'k-1',
          hospitalId: 'c-1',
          status: 'signed',
          createdAt: minutes(-120),
          dueAt: minutes(-90),
        },
        // C: a CT waiting, well before its due time.
        {
          kind: 'imaging',
          examKind: 'ct-head',
          priority: 'urgent',
          clinicId: 'k-2',
          hospitalId: 'c-1',
          status: 'awaiting_review',
          createdAt: minutes(-30),
          dueAt: minutes(30),
        },
        // D: escalated, still waiting at the tertiary hospital 10 minutes past due.
        {
          ...ecg,
          clinicId: 'k-2',
          hospitalId: 't-1',
          status: 'awaiting_review',
          createdAt: minutes(-100),
          dueAt: minutes(-10),
        },
        // E: returned to be recorded again.
        {
          ...ecg,
          clinicId: 'k-1',
          hospitalId: 'c-1',
          status: 'returned',
          createdAt: minutes(-20),
          dueAt: minutes(40),
        },
        // F: 23:59 in Shanghai on 1 March: yesterday's, signed and received in 10 minutes.
        {
          ...ecg,
          clinicId: 'k-1',
          hospitalId: 'c-1',
          status: 'signed',
          createdAt: at('2026-03-01T15:59:00Z'),
          dueAt: at('2026-03-01T17:00:00Z'),
        },
        // G: 00:30 in Shanghai on 2 March (still 1 March in UTC): today's, claimed, due tonight.
        {
          ...ecg,
          clinicId: 'k-1',
          hospitalId: 'c-1',
          status: 'in_review',
          claimedBy: readerId,
          createdAt: at('2026-03-01T16:30:00Z'),
          dueAt: minutes(600),
        },
        // H: another region's.
        {
          ...ecg,
          clinicId: 'k-3',
          hospitalId: 'c-2',
          status: 'awaiting_review',
          createdAt: minutes(-100),
          dueAt: minutes(-10),
        },
      ])
      .returning({ id: cases.id });
    const [a, b, , d, e, f] = rows.map((row) => row.id);
    const signed = (caseId: string, signedAt: Date) => ({
      caseId,
      conclusion: 'ok',
      findings: [],
      signedBy: readerId,
      hospitalId: 'c-1',
      signedAt,
    });
    await db
      .insert(diagnoses)
      .values([
        signed(a!, minutes(-50)),
        signed(b!, minutes(-60)),
        signed(f!, at('2026-03-01T16:05:00Z')),
      ]);
    await db.insert(clinicEvents).values([
      { clinicId: 'k-1', caseId: a!, kind: 'diagnosis.signed', acknowledgedAt: minutes(-45) },
      {
        clinicId: 'k-1',
        caseId: b!,
        kind: 'diagnosis.signed',
        acknowledgedAt: minutes(-55),
        deviceReceivedAt: minutes(-58),
      },
      {
        clinicId: 'k-1',
        caseId: f!,
        kind: 'diagnosis.signed',
        acknowledgedAt: at('2026-03-01T16:09:00Z'),
      },
    ]);
    await db.insert(caseEvents).values([
      { caseId: d!, type: 'escalated', actor: readerId, at: minutes(-70) },
      { caseId: e!, type: 'returned', actor: 'system:analysis', at: minutes(-19) },
    ]);
    const [patient] = await db
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
    await db.insert(repeatExamWarnings).values([
      {
        patientId: patient!.id,
        clinicId: 'k-1',
        kind: 'ecg',
        earlierCaseIds: [f!],
        warnedAt: minutes(-60),
        wentAhead: true,
      },
      {
        patientId: patient!.id,
        clinicId: 'k-3',
        kind: 'ecg',
        earlierCaseIds: [f!],
        warnedAt: minutes(-60),
        wentAhead: null,
      },
    ]);
    service = new SupervisionService(
      new FacilitiesRepository(database),
      new SupervisionRepository(database),
      new TestClock(NOW),
    );
  }, 60_000);
  afterAll(async () => dispose());

  const facility = (report: SupervisionReport, id: string) =>
    report.facilities.find((f) => f.id === id)!.figures;

  it("counts today's exams in Shanghai days: by kind, turnaround to the clinic, breaches, escalations, returns", async () => {
    const report = await service.report(authority('t-1'), {});
    expect(report).toMatchObject({
      from: '2026-03-02',
      to: '2026-03-02',
      periodStart: '2026-03-01T16:00:00.000Z',
      periodEnd: '2026-03-02T16:00:00.000Z',
    });
    expect(report.facilities.map((f) => f.id).sort()).toEqual(['c-1', 'k-1', 'k-2', 'k-4', 't-1']);
    expect(report.region).toEqual({
      exams: 6,
      examsByKind: { 'ecg-12': 5, 'ct-head': 1 },
      signed: 2,
      received: 2,
      // 900 s and 3720 s (the box's receipt, before the console's).
      turnaroundSeconds: { p50: 2310, p90: 3438 },
      breaches: 2,
      escalated: 1,
      overflowed: 0,
      returned: 1,
      repeatExamWarnings: 1,
      repeatExamsWentAhead: 1,
      waiting: 2,
      claimed: 1,
    });
    expect(facility(report, 't-1')).toEqual(report.region);
    expect(facility(report, 'k-1')).toMatchObject({
      exams: 4,
      breaches: 1,
      returned: 1,
      escalated: 0,
    });
    expect(facility(report, 'k-2')).toMatchObject({
      exams: 2,
      breaches: 1,
      escalated: 1,
      waiting: 2,
    });
    expect(facility(report, 'k-4')).toMatchObject({ exams: 0, turnaroundSeconds: { p50: null } });
    // 15 min (< 20) and 62 min (< 120).
    expect(report.turnaroundHistogram).toEqual([0, 1, 0, 0, 1, 0, 0]);
    expect(report.casesPerHour.reduce((sum, h) => sum + h.exams, 0)).toBe(6);
    expect(report.casesPerHour[0]).toEqual({ hour: '2026-03-01T16:00:00.000Z', exams: 1 });
  });

  it('lists the open cases past or near their due time, with no patient or case id', async () => {
    const report = await service.report(authority('t-1'), {});
    expect(report.lateCases).toEqual([
      {
        clinicId: 'k-2',
        hospitalId: 't-1',
        examKind: 'ecg-12',
        priority: 'routine',
        status: 'awaiting_review',
        recordedAt: minutes(-100).toISOString(),
        dueAt: minutes(-10).toISOString(),
        overdueSeconds: 600,
      },
    ]);
    expect(JSON.stringify(report)).not.toMatch(/5001|key-1|"P"|[0-9a-f]{8}-[0-9a-f]{4}-4/);
  });

  it("counts readers' workload: signed in the period (yesterday's case signed after midnight too) and held now", async () => {
    const report = await service.report(authority('t-1'), {});
    expect(report.readers).toEqual([
      expect.objectContaining({ displayName: 'Dr R', hospitalId: 'c-1', signed: 3, claimedNow: 1 }),
    ]);
  });

  it('covers a chosen period of several days', async () => {
    const report = await service.report(authority('t-1'), { from: '2026-03-01', to: '2026-03-02' });
    expect(report.periodStart).toBe('2026-02-28T16:00:00.000Z');
    expect(report.region).toMatchObject({ exams: 7, received: 3, turnaroundSeconds: { p50: 900 } });
    expect(report.readers[0]).toMatchObject({ signed: 3 });
  });

  it("narrows to a county authority's region", async () => {
    const report = await service.report(authority('c-2'), {});
    expect(report.facilities.map((f) => f.id)).toEqual(['c-2', 'k-3']);
    expect(report.region).toMatchObject({ exams: 1, breaches: 1, repeatExamWarnings: 1 });
  });

  it('exports the period as CSV whose cells a spreadsheet will not run', async () => {
    const csv = supervisionCsv(await service.report(authority('t-1'), {}));
    const lines = csv
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe(
      'from,to,facility_id,facility_kind,facility_name,parent_id,exams,exams_ct-head,exams_ecg-12,signed,received,turnaround_p50_s,turnaround_p90_s,breaches,escalated,overflowed,returned,repeat_exam_warnings,repeat_exams_went_ahead',
    );
    expect(lines).toContain(
      '2026-03-02,2026-03-02,k-1,clinic,K1,c-1,4,0,4,2,2,2310,3438,1,0,0,1,1,1',
    );
    expect(lines).toContain(
      '2026-03-02,2026-03-02,region,region,,,6,1,5,2,2,2310,3438,2,1,0,1,1,1',
    );
    const hostile = lines.find((line) => line.includes(',k-4,'))!;
    expect(hostile).toContain(`"'=HYPERLINK(""http://x"")"`);
  });
});
