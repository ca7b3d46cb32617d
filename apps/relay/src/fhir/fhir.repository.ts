import { Injectable } from '@nestjs/common';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { CasePriority, CaseKind, CaseStatus, MeasurementReview } from '#contracts';
import { Database } from '../infra/database/database.js';
import {
  cases,
  diagnoses,
  examOrders,
  facilities,
  recordings,
  series,
  studies,
  users,
} from '../infra/database/schema.js';
import type { CaseScope } from '../worklist/case-scope.js';
import { scopeCondition } from '../worklist/cases.repository.js';
import type { ExamOrderRow, RecordingRow, StudyRow } from './case-resources.js';

/** The case row the FHIR view starts from, found only inside the caller's scope. */
export interface FhirCaseRow {
  id: string;
  kind: CaseKind;
  status: CaseStatus;
  examKind: string;
  priority: CasePriority;
  clinicId: string;
  hospitalId: string;
  patientId: string | null;
  createdAt: Date;
}

export interface DiagnosisRow {
  conclusion: string;
  findings: string[];
  signedAt: Date;
  readerId: string;
  readerName: string;
  hospitalId: string | null;
  measurementReview: MeasurementReview | null;
}

/** Reads of a signed case for its FHIR resources (docs/fhir.md). */
@Injectable()
export class FhirRepository {
  constructor(private readonly database: Database) {}

  async caseInScope(caseId: string, scope: CaseScope): Promise<FhirCaseRow | undefined> {
    const [row] = await this.database.db
      .select({
        id: cases.id,
        kind: cases.kind,
        status: cases.status,
        examKind: cases.examKind,
        priority: cases.priority,
        clinicId: cases.clinicId,
        hospitalId: cases.hospitalId,
        patientId: cases.patientId,
        createdAt: cases.createdAt,
      })
      .from(cases)
      .where(and(eq(cases.id, caseId), scopeCondition(scope)));
    return row;
  }

  async diagnosisOf(caseId: string): Promise<DiagnosisRow | undefined> {
    const [row] = await this.database.db
      .select({
        conclusion: diagnoses.conclusion,
        findings: diagnoses.findings,
        signedAt: diagnoses.signedAt,
        readerId: diagnoses.signedBy,
        readerName: users.displayName,
        hospitalId: diagnoses.hospitalId,
        measurementReview: diagnoses.measurementReview,
      })
      .from(diagnoses)
      .innerJoin(users, eq(users.id, diagnoses.signedBy))
      .where(eq(diagnoses.caseId, caseId));
    return row && { ...row, measurementReview: row.measurementReview as MeasurementReview | null };
  }

  async orderOf(caseId: string): Promise<ExamOrderRow | undefined> {
    const [row] = await this.database.db
      .select({
        orderNumber: examOrders.orderNumber,
        indication: examOrders.indication,
        createdAt: examOrders.createdAt,
        modality: examOrders.modality,
        bodyPart: examOrders.bodyPart,
      })
      .from(cases)
      .innerJoin(examOrders, eq(examOrders.id, cases.orderId))
      .where(eq(cases.id, caseId));
    return row;
  }

  async recordingOf(
    caseId: string,
  ): Promise<
    (RecordingRow & { sha256: string; analysis: Record<string, unknown> | null }) | undefined
  > {
    const [row] = await this.database.db
      .select({
        startedAt: recordings.startedAt,
        leads: recordings.leads,
        sampleRateHz: recordings.sampleRateHz,
        microvoltsPerLsb: recordings.microvoltsPerLsb,
        samplesPerLead: recordings.samplesPerLead,
        sha256: recordings.sha256,
        analysis: recordings.analysis,
      })
      .from(cases)
      .innerJoin(recordings, eq(recordings.id, cases.recordingId))
      .where(eq(cases.id, caseId));
    return row;
  }

  /** The case's study and its series; the DICOM patient attributes are not read. */
  async studyOf(caseId: string): Promise<StudyRow | undefined> {
    const [study] = await this.database.db
      .select({
        id: studies.id,
        studyInstanceUid: studies.studyInstanceUid,
        description: studies.description,
        studyDate: studies.studyDate,
        modalities: studies.modalities,
        instanceCount: studies.instanceCount,
      })
      .from(studies)
      .where(eq(studies.caseId, caseId));
    if (!study) return undefined;
    const rows = await this.database.db
      .select({
        seriesInstanceUid: series.seriesInstanceUid,
        modality: series.modality,
        seriesNumber: series.seriesNumber,
        description: series.description,
        instanceCount: series.instanceCount,
      })
      .from(series)
      .where(eq(series.studyId, study.id))
      .orderBy(asc(series.seriesNumber), asc(series.createdAt));
    const { id: _id, ...rest } = study;
    return { ...rest, series: rows };
  }

  async facilityNames(ids: string[]): Promise<Map<string, string>> {
    const rows = await this.database.db
      .select({ id: facilities.id, name: facilities.name })
      .from(facilities)
      .where(inArray(facilities.id, ids));
    return new Map(rows.map((row) => [row.id, row.name]));
  }
}
