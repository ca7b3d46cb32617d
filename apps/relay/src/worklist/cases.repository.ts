import { Injectable } from '@nestjs/common';
import { and, asc, desc, eq, inArray, isNull, sql, type Column, type SQL } from 'drizzle-orm';
import type {
  AnalysisFlag,
  CaseKind,
  CasePriority,
  CaseStatus,
  CaseSummary,
  CaseTransfer,
  Diagnosis,
} from '#contracts';
import { Database, type Queryable, type Tx } from '../infra/database/database.js';
import {
  caseEvents,
  cases,
  clinicEvents,
  diagnoses,
  facilities,
  recordings,
  studies,
  users,
} from '../infra/database/schema.js';
import type { CaseScope } from './case-scope.js';

/** The columns that place a row in a facility's scope: the hospital holding it, the clinic that sent it. */
export interface ScopeColumns {
  hospitalId: Column;
  clinicId: Column;
}

/**
 * A `CaseScope` as a WHERE condition on the given columns (a case's by default; a table that
 * belongs to a case, such as its images, passes its own). The one translation of the scope.
 */
export function scopeCondition(
  scope: CaseScope,
  columns: ScopeColumns = { hospitalId: cases.hospitalId, clinicId: cases.clinicId },
): SQL | undefined {
  switch (scope.kind) {
    case 'hospital':
      return eq(columns.hospitalId, scope.hospitalId);
    case 'clinic':
      return eq(columns.clinicId, scope.clinicId);
    case 'region':
      return undefined;
  }
}

const REGION: CaseScope = { kind: 'region' };

export interface NewCase {
  kind: CaseKind;
  recordingId: string;
  examKind: string;
  clinicId: string;
  hospitalId: string;
  priority: CasePriority;
  dueAt: Date;
  patientId?: string | null;
  orderId?: string | null;
}

export interface CaseEvent {
  caseId: string;
  type: string;
  actor: string;
  fromStatus?: CaseStatus | null;
  toStatus?: CaseStatus | null;
  detail?: Record<string, unknown>;
  /** The clock's time (stats count events by it). */
  at: Date;
}

const PRIORITY_RANK = sql<number>`case ${cases.priority} when 'stat' then 0 when 'urgent' then 1 else 2 end`;

const summaryColumns = {
  id: cases.id,
  kind: cases.kind,
  status: cases.status,
  priority: cases.priority,
  clinicId: cases.clinicId,
  clinicName: facilities.name,
  hospitalId: cases.hospitalId,
  recordingId: cases.recordingId,
  examKind: cases.examKind,
  createdAt: cases.createdAt,
  dueAt: cases.dueAt,
  claimedById: cases.claimedBy,
  claimedByName: users.displayName,
  returnReason: cases.returnReason,
  analysis: recordings.analysis,
  // The event is deleted by the retention sweep some time after delivery; the case keeps a copy.
  clinicReceivedAt:
    sql<Date | null>`coalesce(${clinicEvents.acknowledgedAt}, ${cases.clinicReceivedAt})`.mapWith(
      clinicEvents.acknowledgedAt,
    ),
  deadlineAt: cases.deadlineAt,
  deadlineAlertedAt: cases.deadlineAlertedAt,
  studyInstanceUid: studies.studyInstanceUid,
  studyDescription: studies.description,
  studyModalities: studies.modalities,
  studySeriesCount: studies.seriesCount,
  studyInstanceCount: studies.instanceCount,
};

interface SummaryRow extends Omit<
  CaseSummary,
  | 'createdAt'
  | 'dueAt'
  | 'flags'
  | 'clinicReceivedAt'
  | 'deadlineAt'
  | 'deadlineAlertedAt'
  | 'study'
> {
  studyInstanceUid: string | null;
  studyDescription: string | null;
  studyModalities: string[] | null;
  studySeriesCount: number | null;
  studyInstanceCount: number | null;
  createdAt: Date;
  dueAt: Date;
  clinicReceivedAt: Date | null;
  deadlineAt: Date | null;
  deadlineAlertedAt: Date | null;
  analysis: Record<string, unknown> | null;
}

const SEVERITY_RANK = { critical: 0, major: 1, minor: 2 } as const;

function toSummary(row: SummaryRow): CaseSummary {
  const {
    analysis,
    studyInstanceUid,
    studyDescription,
    studyModalities,
    studySeriesCount,
    studyInstanceCount,
    ...rest
  } = row;
  const flags = ((analysis?.['flags'] as AnalysisFlag[] | undefined) ?? [])
    .slice()
    .sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
  return {
    ...rest,
    flags,
    createdAt: row.createdAt.toISOString(),
    dueAt: row.dueAt.toISOString(),
    clinicReceivedAt: row.clinicReceivedAt?.toISOString() ?? null,
    deadlineAt: row.deadlineAt?.toISOString() ?? null,
    deadlineAlertedAt: row.deadlineAlertedAt?.toISOString() ?? null,
    study:
      studyInstanceUid === null
        ? null
        : {
            studyInstanceUid,
            description: studyDescription,
            modalities: studyModalities ?? [],
            seriesCount: studySeriesCount ?? 0,
            instanceCount: studyInstanceCount ?? 0,
          },
  };
}

/** Where a case stands, for the decisions of escalation, return and deadlines. */
export interface CaseRouting {
  kind: CaseKind;
  priority: CasePriority;
  status: CaseStatus;
  hospitalId: string;
  claimedBy: string | null;
  dueAt: Date;
  deadlineAt: Date | null;
}

const TRANSFER_TYPES = ['escalated', 'overflowed'] as const;

/** Reads of cases; a case's status only ever changes through CaseTransitions (case-transitions.ts). */
@Injectable()
export class CasesRepository {
  constructor(private readonly database: Database) {}

  /** Inserts the case unless the recording already has one; returns the case id and whether it is new. */
  async insertForRecording(tx: Tx, input: NewCase): Promise<{ caseId: string; created: boolean }> {
    const [inserted] = await tx
      .insert(cases)
      .values({ ...input, status: 'analysing' })
      .onConflictDoNothing({ target: cases.recordingId })
      .returning({ id: cases.id });
    if (inserted) return { caseId: inserted.id, created: true };
    const [existing] = await tx
      .select({ id: cases.id })
      .from(cases)
      .where(eq(cases.recordingId, input.recordingId));
    if (!existing) throw new Error(`case for recording ${input.recordingId} vanished`);
    return { caseId: existing.id, created: false };
  }

  /** Inserts an imaging case (no recording; its study points at it), in `analysing`. */
  async insertImagingCase(tx: Tx, input: Omit<NewCase, 'recordingId' | 'kind'>): Promise<string> {
    const [inserted] = await tx
      .insert(cases)
      .values({ ...input, kind: 'imaging', recordingId: null, status: 'analysing' })
      .returning({ id: cases.id });
    if (!inserted) throw new Error('imaging case not written');
    return inserted.id;
  }

  /** The case of a stored recording, how many chunks it was stored from, and whose it is. */
  async caseOfRecording(
    recordingId: string,
  ): Promise<
    { caseId: string; chunkCount: number; deviceId: string | null; sha256: string } | undefined
  > {
    const [row] = await this.database.db
      .select({
        caseId: cases.id,
        chunkCount: recordings.chunkCount,
        deviceId: recordings.deviceId,
        sha256: recordings.sha256,
      })
      .from(cases)
      .innerJoin(recordings, eq(recordings.id, cases.recordingId))
      .where(eq(cases.recordingId, recordingId));
    return row;
  }

  async appendEvent(tx: Tx, event: CaseEvent): Promise<number> {
    const [row] = await tx.insert(caseEvents).values(event).returning({ id: caseEvents.id });
    if (!row) throw new Error('case event not written');
    return row.id;
  }

  /** The cases in `scope`, as worklist rows. */
  summaries(
    scope: CaseScope,
    options: { order: 'worklist' | 'newest'; limit: number; openOnly?: boolean },
  ): Promise<CaseSummary[]> {
    const where = scopeCondition(scope);
    return this.summariesWhere(
      options.openOnly ? and(where, CasesRepository.open) : where,
      options,
    );
  }

  /** One case as a worklist row, if it is in `scope` (the relay's own pushes: the region). */
  async summary(caseId: string, scope: CaseScope = REGION): Promise<CaseSummary | undefined> {
    const [row] = await this.summariesWhere(and(eq(cases.id, caseId), scopeCondition(scope)), {
      order: 'newest',
      limit: 1,
    });
    return row;
  }

  private async summariesWhere(
    where: SQL | undefined,
    options: { order: 'worklist' | 'newest'; limit: number },
  ): Promise<CaseSummary[]> {
    const rows = await this.database.db
      .select(summaryColumns)
      .from(cases)
      .innerJoin(facilities, eq(facilities.id, cases.clinicId))
      .leftJoin(users, eq(users.id, cases.claimedBy))
      .leftJoin(recordings, eq(recordings.id, cases.recordingId))
      .leftJoin(studies, eq(studies.caseId, cases.id))
      .leftJoin(
        clinicEvents,
        and(eq(clinicEvents.caseId, cases.id), eq(clinicEvents.kind, 'diagnosis.signed')),
      )
      .where(where)
      .orderBy(
        ...(options.order === 'worklist'
          ? [PRIORITY_RANK, asc(cases.dueAt)]
          : [desc(cases.createdAt)]),
      )
      .limit(options.limit);
    return rows.map(toSummary);
  }

  async routingOf(
    caseId: string,
    tx: Queryable = this.database.db,
  ): Promise<CaseRouting | undefined> {
    const [row] = await tx
      .select({
        kind: cases.kind,
        priority: cases.priority,
        status: cases.status,
        hospitalId: cases.hospitalId,
        claimedBy: cases.claimedBy,
        dueAt: cases.dueAt,
        deadlineAt: cases.deadlineAt,
      })
      .from(cases)
      .where(eq(cases.id, caseId));
    return row;
  }

  /** Records the 80 % warning once per stay at a hospital; false if already warned or moved on. */
  async markDeadlineAlerted(
    tx: Tx,
    caseId: string,
    hospitalId: string,
    deadlineAt: Date,
    at: Date,
  ): Promise<boolean> {
    const rows = await tx
      .update(cases)
      .set({ deadlineAlertedAt: at })
      .where(
        and(
          eq(cases.id, caseId),
          eq(cases.hospitalId, hospitalId),
          eq(cases.status, 'awaiting_review'),
          eq(cases.deadlineAt, deadlineAt),
          isNull(cases.deadlineAlertedAt),
        ),
      )
      .returning({ id: cases.id });
    return rows.length === 1;
  }

  async setDeadline(tx: Tx, caseId: string, deadlineAt: Date): Promise<void> {
    await tx.update(cases).set({ deadlineAt }).where(eq(cases.id, caseId));
  }

  async hasEvent(caseId: string, type: string, tx: Queryable = this.database.db): Promise<boolean> {
    const [row] = await tx
      .select({ id: caseEvents.id })
      .from(caseEvents)
      .where(and(eq(caseEvents.caseId, caseId), eq(caseEvents.type, type)))
      .limit(1);
    return row !== undefined;
  }

  /** The case's moves between hospitals, oldest first, with who moved it. */
  async transfersOf(caseId: string): Promise<CaseTransfer[]> {
    const rows = await this.database.db
      .select({
        type: caseEvents.type,
        at: caseEvents.at,
        detail: caseEvents.detail,
        byName: users.displayName,
      })
      .from(caseEvents)
      .leftJoin(users, sql`${users.id}::text = ${caseEvents.actor}`)
      .where(and(eq(caseEvents.caseId, caseId), inArray(caseEvents.type, [...TRANSFER_TYPES])))
      .orderBy(asc(caseEvents.id));
    if (rows.length === 0) return [];
    const names = new Map(
      (
        await this.database.db.select({ id: facilities.id, name: facilities.name }).from(facilities)
      ).map((row) => [row.id, row.name]),
    );
    return rows.map((row) => {
      const detail = (row.detail ?? {}) as {
        fromHospitalId?: string;
        toHospitalId?: string;
        note?: string;
        reason?: string;
        dueAt?: string;
        deadlineAt?: string;
        policy?: { atDeadline: 'escalate' | 'overflow'; deadlineSeconds: number };
      };
      const from = detail.fromHospitalId ?? '';
      const to = detail.toHospitalId ?? '';
      return {
        kind: row.type as CaseTransfer['kind'],
        at: row.at.toISOString(),
        byName: row.byName,
        fromHospitalId: from,
        fromHospitalName: names.get(from) ?? from,
        toHospitalId: to,
        toHospitalName: names.get(to) ?? to,
        note: detail.note ?? detail.reason ?? '',
        deadline:
          detail.dueAt && detail.deadlineAt && detail.policy
            ? {
                dueAt: detail.dueAt,
                deadlineAt: detail.deadlineAt,
                atDeadline: detail.policy.atDeadline,
                deadlineSeconds: detail.policy.deadlineSeconds,
              }
            : null,
      };
    });
  }

  async stateOf(caseId: string) {
    const [row] = await this.database.db
      .select({ status: cases.status, hospitalId: cases.hospitalId, claimedBy: cases.claimedBy })
      .from(cases)
      .where(eq(cases.id, caseId));
    return row;
  }

  /** Extends the claimer's lease; false if the case is no longer theirs. */
  async extendLease(caseId: string, userId: string, until: Date): Promise<boolean> {
    const rows = await this.database.db
      .update(cases)
      .set({ leaseExpiresAt: until })
      .where(and(eq(cases.id, caseId), eq(cases.claimedBy, userId), eq(cases.status, 'in_review')))
      .returning({ id: cases.id });
    return rows.length === 1;
  }

  async leaseOf(
    caseId: string,
  ): Promise<
    { status: CaseStatus; leaseExpiresAt: Date | null; claimedBy: string | null } | undefined
  > {
    const [row] = await this.database.db
      .select({
        status: cases.status,
        leaseExpiresAt: cases.leaseExpiresAt,
        claimedBy: cases.claimedBy,
      })
      .from(cases)
      .where(eq(cases.id, caseId));
    return row;
  }

  async insertDiagnosis(
    tx: Tx,
    diagnosis: {
      measurementReview?: Record<string, unknown>;
      caseId: string;
      conclusion: string;
      findings: string[];
      hospitalId: string;
      signedBy: string;
      signedAt: Date;
    },
  ) {
    await tx.insert(diagnoses).values(diagnosis);
  }

  /** The recording's analysis and, for an ECG from a file, the device's own measurements. */
  async analysisOf(caseId: string): Promise<{
    analysis: Record<string, unknown> | null;
    deviceMeasurements: Record<string, unknown> | null;
  }> {
    const [row] = await this.database.db
      .select({
        analysis: recordings.analysis,
        deviceMeasurements: recordings.deviceMeasurements,
      })
      .from(cases)
      .innerJoin(recordings, eq(recordings.id, cases.recordingId))
      .where(eq(cases.id, caseId));
    return {
      analysis: row?.analysis ?? null,
      deviceMeasurements: row?.deviceMeasurements ?? null,
    };
  }

  async recordingOf(caseId: string, scope: CaseScope) {
    const [row] = await this.database.db
      .select({
        recordingId: recordings.id,
        leads: recordings.leads,
        sampleRateHz: recordings.sampleRateHz,
        microvoltsPerLsb: recordings.microvoltsPerLsb,
        samplesPerLead: recordings.samplesPerLead,
        sha256: recordings.sha256,
      })
      .from(cases)
      .innerJoin(recordings, eq(recordings.id, cases.recordingId))
      .where(and(eq(cases.id, caseId), scopeCondition(scope)));
    return row;
  }

  async returnedNotice(caseId: string) {
    const [row] = await this.database.db
      .select({
        caseId: cases.id,
        clinicId: cases.clinicId,
        recordingId: cases.recordingId,
        reason: cases.returnReason,
        deviceId: recordings.deviceId,
      })
      .from(cases)
      .leftJoin(recordings, eq(recordings.id, cases.recordingId))
      .where(and(eq(cases.id, caseId), eq(cases.status, 'returned')));
    return row;
  }

  /** Marks the case as shown on its hospital's worklist (first time only). */
  async markListed(caseId: string, at: Date): Promise<void> {
    await this.database.db
      .update(cases)
      .set({ listedAt: sql`coalesce(${cases.listedAt}, ${at.toISOString()}::timestamptz)` })
      .where(eq(cases.id, caseId));
  }

  async diagnosisOf(
    caseId: string,
  ): Promise<(Diagnosis & { deviceId: string | null }) | undefined> {
    const [row] = await this.database.db
      .select({
        caseId: diagnoses.caseId,
        recordingId: cases.recordingId,
        clinicId: cases.clinicId,
        conclusion: diagnoses.conclusion,
        findings: diagnoses.findings,
        signedBy: diagnoses.signedBy,
        signedByName: users.displayName,
        hospitalId: diagnoses.hospitalId,
        hospitalName: facilities.name,
        signedAt: diagnoses.signedAt,
        deviceId: recordings.deviceId,
      })
      .from(diagnoses)
      .innerJoin(cases, eq(cases.id, diagnoses.caseId))
      .innerJoin(users, eq(users.id, diagnoses.signedBy))
      .leftJoin(facilities, eq(facilities.id, diagnoses.hospitalId))
      .leftJoin(recordings, eq(recordings.id, cases.recordingId))
      .where(eq(diagnoses.caseId, caseId));
    return row && { ...row, signedAt: row.signedAt.toISOString() };
  }

  /** Cases still waiting for or under review. */
  static readonly open = inArray(cases.status, ['awaiting_review', 'in_review']);
}
