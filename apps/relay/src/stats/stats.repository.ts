import { Injectable } from '@nestjs/common';
import { and, count, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { Database, type Queryable } from '../infra/database/database.js';
import { caseEvents, cases, diagnoses, repeatExamWarnings } from '../infra/database/schema.js';

export interface FacilityCounts {
  waiting: number;
  claimed: number;
  signed: number;
  returned: number;
  escalated: number;
  repeatExamWarnings: number;
  repeatExamsWentAhead: number;
  median: number | null;
  p90: number | null;
}

/** A facility with no cases in the period. */
export const NO_CASES: Readonly<FacilityCounts> = {
  waiting: 0,
  claimed: 0,
  signed: 0,
  returned: 0,
  escalated: 0,
  repeatExamWarnings: 0,
  repeatExamsWentAhead: 0,
  median: null,
  p90: null,
};

const seconds = sql`extract(epoch from ${diagnoses.signedAt} - ${cases.createdAt})`;

/** Aggregates over cases for the statistics; never selects a patient field. */
@Injectable()
export class StatsRepository {
  constructor(private readonly database: Database) {}

  /** Counts per facility id, grouping cases by the hospital holding them or by their clinic. */
  async countsBy(
    by: 'hospital' | 'clinic',
    ids: string[],
    since: Date,
  ): Promise<Map<string, FacilityCounts>> {
    const result = new Map<string, FacilityCounts>();
    if (ids.length === 0) return result;
    const key = by === 'hospital' ? cases.hospitalId : cases.clinicId;
    const entry = (id: string) => {
      let counts = result.get(id);
      if (!counts) {
        counts = { ...NO_CASES };
        result.set(id, counts);
      }
      return counts;
    };
    const db = this.database.db;
    const open = await db
      .select({ id: key, status: cases.status, n: count() })
      .from(cases)
      .where(and(inArray(key, ids), inArray(cases.status, ['awaiting_review', 'in_review'])))
      .groupBy(key, cases.status);
    for (const row of open) {
      if (row.status === 'awaiting_review') entry(row.id).waiting = row.n;
      else entry(row.id).claimed = row.n;
    }
    const signed = await db
      .select({
        id: key,
        n: count(),
        median: sql<number | null>`percentile_cont(0.5) within group (order by ${seconds})`,
        p90: sql<number | null>`percentile_cont(0.9) within group (order by ${seconds})`,
      })
      .from(diagnoses)
      .innerJoin(cases, eq(cases.id, diagnoses.caseId))
      .where(and(inArray(key, ids), gte(diagnoses.signedAt, since)))
      .groupBy(key);
    for (const row of signed) {
      const counts = entry(row.id);
      counts.signed = row.n;
      counts.median = row.median === null ? null : Math.round(Number(row.median));
      counts.p90 = row.p90 === null ? null : Math.round(Number(row.p90));
    }
    // 'escalated' is the case event of an escalation to the tertiary hospital.
    const events = await db
      .select({ id: key, type: caseEvents.type, n: count() })
      .from(caseEvents)
      .innerJoin(cases, eq(cases.id, caseEvents.caseId))
      .where(
        and(
          inArray(key, ids),
          inArray(caseEvents.type, ['returned', 'escalated']),
          gte(caseEvents.at, since),
        ),
      )
      .groupBy(key, caseEvents.type);
    for (const row of events) {
      if (row.type === 'returned') entry(row.id).returned = row.n;
      else entry(row.id).escalated = row.n;
    }
    // Repeated-exam warnings belong to the clinic that was warned (docs/patients.md).
    if (by === 'clinic') {
      const warnings = await repeatWarningsByClinic(db, ids, since);
      for (const row of warnings) {
        entry(row.id).repeatExamWarnings = row.n;
        entry(row.id).repeatExamsWentAhead = row.wentAhead;
      }
    }
    return result;
  }
}

/**
 * Repeated-exam warnings per warned clinic (docs/patients.md) since `since` (and before
 * `until`), with how many exams went ahead anyway: the statistics and the supervision both
 * count them this way.
 */
export function repeatWarningsByClinic(
  db: Queryable,
  clinicIds: string[],
  since: Date,
  until?: Date,
): Promise<{ id: string; n: number; wentAhead: number }[]> {
  return db
    .select({
      id: repeatExamWarnings.clinicId,
      n: count(),
      wentAhead: sql<number>`count(*) filter (where ${repeatExamWarnings.wentAhead})`.mapWith(
        Number,
      ),
    })
    .from(repeatExamWarnings)
    .where(
      and(
        inArray(repeatExamWarnings.clinicId, clinicIds),
        gte(repeatExamWarnings.warnedAt, since),
        until === undefined ? undefined : lt(repeatExamWarnings.warnedAt, until),
      ),
    )
    .groupBy(repeatExamWarnings.clinicId);
}
