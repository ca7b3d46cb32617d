import { Injectable } from '@nestjs/common';
import type { CaseEcg, PatientHistory, PriorExam, SessionUser } from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { BlobStore } from '../infra/blobs/blob-store.js';
import { PatientsService } from '../records/patients.service.js';
import { toCaseAnalysis } from '../worklist/case-analysis.js';
import { ConsentService, patientNotFound, type RecordAccess } from './consent.service.js';
import { SharedRecordRepository, type PriorExamRow } from './shared-record.repository.js';

/**
 * The patient's record across the region (issue 13, 4): earlier ECGs, imaging studies and
 * diagnoses from every facility, for a caller `ConsentService` lets read it; to anyone else
 * the patient does not exist (404, like a missing one). Every read is audited before it is
 * answered, and a read that cannot be audited is refused.
 */
@Injectable()
export class SharedRecordService {
  constructor(
    private readonly consent: ConsentService,
    private readonly records: SharedRecordRepository,
    private readonly patients: PatientsService,
    private readonly blobs: BlobStore,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async history(user: SessionUser, patientId: string): Promise<PatientHistory> {
    const access = await this.readable(user, patientId);
    await this.auditRead(user, patientId, access, 'records.history.read');
    const exams = await this.records.examsOf(patientId);
    return {
      patientId,
      access: access.kind,
      grantExpiresAt: access.kind === 'grant' ? access.expiresAt.toISOString() : null,
      exams: exams.map(toPriorExam),
    };
  }

  /**
   * The history of the patient a case belongs to: what the case view's prior exams panel
   * shows. A case without a patient, or whose patient the caller may not read, is 404.
   */
  async historyOfCase(user: SessionUser, caseId: string): Promise<PatientHistory> {
    const patientId = await this.records.patientOfCase(caseId);
    if (!patientId) {
      throw new DomainError('NOT_FOUND', 'Patient not found', {
        actor: `user:${user.id}`,
        subject: `case:${caseId}`,
      });
    }
    return this.history(user, patientId);
  }

  /** The samples of one of the patient's ECGs, for the paper viewer's serial comparison. */
  async ecgOf(user: SessionUser, patientId: string, caseId: string): Promise<CaseEcg> {
    const access = await this.readable(user, patientId);
    const recording = await this.records.recordingOf(patientId, caseId);
    if (!recording) throw patientNotFound(user, patientId);
    await this.auditRead(user, patientId, access, 'records.ecg.read', { caseId });
    const { sha256, ...meta } = recording;
    const samples = await this.blobs.get(sha256);
    return { ...meta, samples: samples.toString('base64') };
  }

  private async readable(user: SessionUser, patientId: string): Promise<RecordAccess> {
    const access = await this.consent.accessOf(user, patientId, this.clock.now());
    if (!access) throw patientNotFound(user, patientId);
    return access;
  }

  /**
   * Written before the answer and awaited: `recordPatientAccess` throws (503) when the row
   * cannot be written, so a read nobody could account for is refused.
   */
  private async auditRead(
    user: SessionUser,
    patientId: string,
    access: RecordAccess,
    action: string,
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    const patient = await this.patients.byId(patientId);
    if (!patient) throw patientNotFound(user, patientId);
    await this.audit.recordPatientAccess({
      actor: `user:${user.id}`,
      role: user.role,
      facilityId: user.facilityId,
      action,
      patientKey: patient.identifierKey,
      outcome: 'allowed',
      detail: {
        patientId,
        access: access.kind,
        // The purpose the patient consented to is the "why" of each read in their access log.
        ...(access.kind === 'grant' ? { grantId: access.grantId, purpose: access.purpose } : {}),
        ...detail,
      },
    });
  }
}

function toPriorExam(row: PriorExamRow): PriorExam {
  return {
    caseId: row.caseId,
    kind: row.kind,
    examKind: row.examKind,
    status: row.status,
    clinicId: row.clinicId,
    clinicName: row.clinicName,
    hospitalName: row.hospitalName,
    recordedAt: row.recordedAt.toISOString(),
    hasEcg: row.recordingId !== null,
    analysis: toCaseAnalysis(row.analysis),
    st: stLevels(row.analysis),
    study: row.study,
    diagnosis: row.diagnosis && {
      ...row.diagnosis,
      signedAt: row.diagnosis.signedAt.toISOString(),
    },
  };
}

/** ST levels per measured lead, from the stored analysis (libs/ecg LeadMeasurement). */
export function stLevels(analysis: Record<string, unknown> | null): PriorExam['st'] {
  const leads = (analysis?.['measurements'] as { leads?: unknown } | undefined)?.leads;
  if (!Array.isArray(leads)) return [];
  return leads.flatMap((entry: unknown) => {
    const lead = entry as { lead?: unknown; measured?: unknown; stJUv?: unknown; st60Uv?: unknown };
    if (typeof lead.lead !== 'string' || lead.measured !== true) return [];
    return [
      {
        lead: lead.lead,
        stJUv: typeof lead.stJUv === 'number' ? lead.stJUv : null,
        st60Uv: typeof lead.st60Uv === 'number' ? lead.st60Uv : null,
      },
    ];
  });
}
