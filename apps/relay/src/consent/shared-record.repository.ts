import { Injectable } from '@nestjs/common';
import { and, desc, eq, or } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { Database } from '../infra/database/database.js';
import {
  cases,
  diagnoses,
  facilities,
  recordings,
  studies,
  users,
} from '../infra/database/schema.js';

const clinic = alias(facilities, 'clinic');
const hospital = alias(facilities, 'hospital');
const signingHospital = alias(facilities, 'signing_hospital');

/** One case of the patient with what the shared record shows of it. */
export interface PriorExamRow {
  caseId: string;
  kind: 'ecg' | 'imaging';
  examKind: string;
  status: 'analysing' | 'awaiting_review' | 'in_review' | 'signed' | 'returned';
  clinicId: string;
  clinicName: string;
  hospitalName: string;
  recordedAt: Date;
  recordingId: string | null;
  analysis: Record<string, unknown> | null;
  study: {
    studyInstanceUid: string;
    description: string | null;
    modalities: string[];
    seriesCount: number;
    instanceCount: number;
  } | null;
  diagnosis: {
    conclusion: string;
    findings: string[];
    signedByName: string;
    hospitalName: string | null;
    signedAt: Date;
  } | null;
}

/**
 * A patient's exams across every facility of the region. Deliberately not scoped by the
 * caller's facility: the caller has passed `ConsentService.canRead` before any of these run.
 */
@Injectable()
export class SharedRecordRepository {
  constructor(private readonly database: Database) {}

  /** True when the hospital holds a case of the patient now, or signed one. */
  async hospitalTreats(hospitalId: string, patientId: string): Promise<boolean> {
    const [row] = await this.database.db
      .select({ id: cases.id })
      .from(cases)
      .leftJoin(diagnoses, eq(diagnoses.caseId, cases.id))
      .where(
        and(
          eq(cases.patientId, patientId),
          or(eq(cases.hospitalId, hospitalId), eq(diagnoses.hospitalId, hospitalId)),
        ),
      )
      .limit(1);
    return row !== undefined;
  }

  async examsOf(patientId: string): Promise<PriorExamRow[]> {
    const rows = await this.database.db
      .select({
        caseId: cases.id,
        kind: cases.kind,
        examKind: cases.examKind,
        status: cases.status,
        clinicId: cases.clinicId,
        clinicName: clinic.name,
        hospitalName: hospital.name,
        recordedAt: cases.createdAt,
        recordingId: cases.recordingId,
        analysis: recordings.analysis,
        studyInstanceUid: studies.studyInstanceUid,
        studyDescription: studies.description,
        modalities: studies.modalities,
        seriesCount: studies.seriesCount,
        instanceCount: studies.instanceCount,
        conclusion: diagnoses.conclusion,
        findings: diagnoses.findings,
        signedByName: users.displayName,
        signingHospitalName: signingHospital.name,
        signedAt: diagnoses.signedAt,
      })
      .from(cases)
      .innerJoin(clinic, eq(clinic.id, cases.clinicId))
      .innerJoin(hospital, eq(hospital.id, cases.hospitalId))
      .leftJoin(recordings, eq(recordings.id, cases.recordingId))
      .leftJoin(studies, eq(studies.caseId, cases.id))
      .leftJoin(diagnoses, eq(diagnoses.caseId, cases.id))
      .leftJoin(users, eq(users.id, diagnoses.signedBy))
      .leftJoin(signingHospital, eq(signingHospital.id, diagnoses.hospitalId))
      .where(eq(cases.patientId, patientId))
      .orderBy(desc(cases.createdAt))
      .limit(200);
    return rows.map((row) => ({
      caseId: row.caseId,
      kind: row.kind,
      examKind: row.examKind,
      status: row.status,
      clinicId: row.clinicId,
      clinicName: row.clinicName,
      hospitalName: row.hospitalName,
      recordedAt: row.recordedAt,
      recordingId: row.recordingId,
      analysis: row.analysis,
      study:
        row.studyInstanceUid === null
          ? null
          : {
              studyInstanceUid: row.studyInstanceUid,
              description: row.studyDescription,
              modalities: row.modalities ?? [],
              seriesCount: row.seriesCount ?? 0,
              instanceCount: row.instanceCount ?? 0,
            },
      diagnosis:
        row.conclusion === null || row.signedAt === null
          ? null
          : {
              conclusion: row.conclusion,
              findings: row.findings ?? [],
              signedByName: row.signedByName ?? '',
              hospitalName: row.signingHospitalName,
              signedAt: row.signedAt,
            },
    }));
  }

  /** The patient a case belongs to, if any. */
  async patientOfCase(caseId: string): Promise<string | null> {
    const [row] = await this.database.db
      .select({ patientId: cases.patientId })
      .from(cases)
      .where(eq(cases.id, caseId));
    return row?.patientId ?? null;
  }

  /** The recording of one of the patient's cases, if it is the patient's and has one. */
  async recordingOf(patientId: string, caseId: string) {
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
      .where(and(eq(cases.id, caseId), eq(cases.patientId, patientId)));
    return row;
  }
}
