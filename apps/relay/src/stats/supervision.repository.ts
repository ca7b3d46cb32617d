import { Injectable } from '@nestjs/common';
import { and, asc, count, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { ReaderLoad } from '#contracts';
import { Database } from '../infra/database/database.js';
import { caseEvents, cases, clinicEvents, diagnoses, users } from '../infra/database/schema.js';
import { repeatWarningsByClinic } from './stats.repository.js';
import type { ClinicTally, CohortCase } from './supervision-figures.js';

export interface OpenLateCase {
  clinicId: string;
  hospitalId: string;
  examKind: string;
  priority: 'stat' | 'urgent' | 'routine';
  status: 'awaiting_review' | 'in_review';
  createdAt: Date;
  dueAt: Date;
}

const OPEN_STATUSES = ['awaiting_review', 'in_review'] as const;
/** How many late cases the list shows at most, most overdue first. */
const LATE_CASES_LIMIT = 200;

const hadEvent = (type: string) =>
  sql<boolean>`exists (select 1 from ${caseEvents} where ${caseEvents.caseId} = ${cases.id} and ${caseEvents.type} = ${type})`;

/**
 * The supervision's reads. Each selects counts, times and facility or reader ids only: no
 * patient column, no case id leaves this file.
 */
@Injectable()
export class SupervisionRepository {
  constructor(private readonly database: Database) {}

  /** The cases these clinics recorded in [start, end). */
  async cohort(clinicIds: string[], start: Date, end: Date): Promise<CohortCase[]> {
    if (clinicIds.length === 0) return [];
    // The clinic has the diagnosis when its console acknowledged it or its box did (PUBACK),
    // whichever came first; after the retention sweep only the copy on the case is left.
    const receivedAt = sql<Date | null>`coalesce(least(${clinicEvents.acknowledgedAt}, ${clinicEvents.deviceReceivedAt}), ${cases.clinicReceivedAt})`;
    const rows = await this.database.db
      .select({
        clinicId: cases.clinicId,
        examKind: cases.examKind,
        status: cases.status,
        createdAt: cases.createdAt,
        dueAt: cases.dueAt,
        signedAt: diagnoses.signedAt,
        receivedAt: sql<string | null>`${receivedAt}`,
        escalated: hadEvent('escalated'),
        overflowed: hadEvent('overflowed'),
        returned: hadEvent('returned'),
      })
      .from(cases)
      .leftJoin(diagnoses, eq(diagnoses.caseId, cases.id))
      .leftJoin(
        clinicEvents,
        and(eq(clinicEvents.caseId, cases.id), eq(clinicEvents.kind, 'diagnosis.signed')),
      )
      .where(
        and(
          inArray(cases.clinicId, clinicIds),
          gte(cases.createdAt, start),
          lt(cases.createdAt, end),
        ),
      );
    return rows.map((row) => ({
      ...row,
      // Only a diagnosis that exists can have been received.
      receivedAt: row.signedAt && row.receivedAt ? new Date(row.receivedAt) : null,
    }));
  }

  /** Per clinic: repeated-exam warnings of [start, end), and open cases now. */
  async tallies(clinicIds: string[], start: Date, end: Date): Promise<Map<string, ClinicTally>> {
    const result = new Map<string, ClinicTally>();
    if (clinicIds.length === 0) return result;
    const entry = (id: string) => {
      let tally = result.get(id);
      if (!tally) {
        tally = { repeatExamWarnings: 0, repeatExamsWentAhead: 0, waiting: 0, claimed: 0 };
        result.set(id, tally);
      }
      return tally;
    };
    const db = this.database.db;
    const warnings = await repeatWarningsByClinic(db, clinicIds, start, end);
    for (const row of warnings) {
      entry(row.id).repeatExamWarnings = row.n;
      entry(row.id).repeatExamsWentAhead = row.wentAhead;
    }
    const open = await db
      .select({ id: cases.clinicId, status: cases.status, n: count() })
      .from(cases)
      .where(and(inArray(cases.clinicId, clinicIds), inArray(cases.status, [...OPEN_STATUSES])))
      .groupBy(cases.clinicId, cases.status);
    for (const row of open) {
      if (row.status === 'awaiting_review') entry(row.id).waiting = row.n;
      else entry(row.id).claimed = row.n;
    }
    return result;
  }

  /** Per reader of these hospitals: diagnoses signed in [start, end) and cases held now. */
  async readerLoad(hospitalIds: string[], start: Date, end: Date): Promise<ReaderLoad[]> {
    if (hospitalIds.length === 0) return [];
    const db = this.database.db;
    // Keyed by the reader's id, which stays in here: a name is what the authority reads.
    const byReader = new Map<string, ReaderLoad>();
    const signed = await db
      .select({
        readerId: diagnoses.signedBy,
        displayName: users.displayName,
        hospitalId: users.facilityId,
        n: count(),
      })
      .from(diagnoses)
      .innerJoin(users, eq(users.id, diagnoses.signedBy))
      .where(
        and(
          inArray(users.facilityId, hospitalIds),
          gte(diagnoses.signedAt, start),
          lt(diagnoses.signedAt, end),
        ),
      )
      .groupBy(diagnoses.signedBy, users.displayName, users.facilityId);
    for (const row of signed) {
      const { displayName, hospitalId } = row;
      byReader.set(row.readerId, { displayName, hospitalId, signed: row.n, claimedNow: 0 });
    }
    const held = await db
      .select({
        readerId: users.id,
        displayName: users.displayName,
        hospitalId: users.facilityId,
        n: count(),
      })
      .from(cases)
      .innerJoin(users, eq(users.id, cases.claimedBy))
      .where(and(inArray(users.facilityId, hospitalIds), eq(cases.status, 'in_review')))
      .groupBy(users.id, users.displayName, users.facilityId);
    for (const row of held) {
      const known = byReader.get(row.readerId);
      if (known) known.claimedNow = row.n;
      else {
        const { displayName, hospitalId } = row;
        byReader.set(row.readerId, { displayName, hospitalId, signed: 0, claimedNow: row.n });
      }
    }
    return [...byReader.values()].sort(
      (a, b) => b.signed - a.signed || a.displayName.localeCompare(b.displayName),
    );
  }

  /**
   * Open cases of these clinics past their due time or in its last fifth (the readers'
   * deadline warning comes at 80 % as well), whenever they were recorded.
   */
  async lateCases(clinicIds: string[], now: Date): Promise<OpenLateCase[]> {
    if (clinicIds.length === 0) return [];
    const nearFrom = sql`${cases.dueAt} - (${cases.dueAt} - ${cases.createdAt}) * 0.2`;
    const rows = await this.database.db
      .select({
        clinicId: cases.clinicId,
        hospitalId: cases.hospitalId,
        examKind: cases.examKind,
        priority: cases.priority,
        status: cases.status,
        createdAt: cases.createdAt,
        dueAt: cases.dueAt,
      })
      .from(cases)
      .where(
        and(
          inArray(cases.clinicId, clinicIds),
          inArray(cases.status, [...OPEN_STATUSES]),
          sql`${nearFrom} <= ${now.toISOString()}::timestamptz`,
        ),
      )
      .orderBy(asc(cases.dueAt))
      .limit(LATE_CASES_LIMIT);
    return rows.filter((row): row is OpenLateCase =>
      (OPEN_STATUSES as readonly string[]).includes(row.status),
    );
  }
}
