import { Injectable } from '@nestjs/common';
import type {
  CaseDetail,
  CaseEcg,
  CaseSummary,
  DeviceMeasurementValues,
  Diagnosis,
  SessionUser,
} from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { BlobStore } from '../infra/blobs/blob-store.js';
import { PatientsService } from '../records/patients.service.js';
import { toCaseAnalysis } from './case-analysis.js';
import { caseScope } from './case-scope.js';
import { notVisible } from './case-transitions.js';
import { CasesRepository } from './cases.repository.js';

/** The read side of the reading workflow: worklists and case details, scoped to the user. */
@Injectable()
export class WorklistQueries {
  constructor(
    private readonly cases: CasesRepository,
    private readonly blobs: BlobStore,
    private readonly patients: PatientsService,
    private readonly audit: AuditService,
  ) {}

  async worklist(user: SessionUser): Promise<CaseSummary[]> {
    if (user.role === 'clinic_staff') {
      return this.cases.summaries(caseScope(user), { order: 'newest', limit: 200 });
    }
    return this.cases.summaries(caseScope(user), { order: 'worklist', limit: 500, openOnly: true });
  }

  async getCase(user: SessionUser, caseId: string): Promise<CaseDetail> {
    const summary = await this.cases.summary(caseId, caseScope(user));
    if (!summary) throw notVisible(user, caseId);
    const diagnosis = await this.cases.diagnosisOf(caseId);
    const patient = await this.patients.byCaseId(caseId);
    if (patient) {
      // A read of the patient's data (name, masked identifier, sex, birth date): written down
      // before it is answered, and refused when it cannot be (docs/audit.md).
      await this.audit.recordPatientAccess({
        actor: `user:${user.id}`,
        role: user.role,
        facilityId: user.facilityId,
        action: 'case.patient.read',
        patientKey: patient.identifierKey,
        outcome: 'allowed',
        detail: { caseId },
      });
    }
    const { analysis, deviceMeasurements } = await this.cases.analysisOf(caseId);
    return {
      ...summary,
      patient: patient ? this.patients.summary(patient) : null,
      diagnosis: diagnosis ? withoutDevice(diagnosis) : null,
      analysis: toCaseAnalysis(analysis),
      deviceMeasurements: deviceMeasurements as DeviceMeasurementValues | null,
      transfers: await this.cases.transfersOf(caseId),
    };
  }

  async ecgOf(user: SessionUser, caseId: string): Promise<CaseEcg> {
    const recording = await this.cases.recordingOf(caseId, caseScope(user));
    if (!recording) throw notVisible(user, caseId);
    const { sha256, ...meta } = recording;
    const samples = await this.blobs.get(sha256);
    return { ...meta, samples: samples.toString('base64') };
  }

  /** The diagnosis of a signed case, as the reader and the clinic see it. */
  async diagnosisOf(caseId: string): Promise<Diagnosis> {
    const diagnosis = await this.cases.diagnosisOf(caseId);
    if (!diagnosis) throw new Error(`diagnosis of ${caseId} not found`);
    return withoutDevice(diagnosis);
  }
}

function withoutDevice(diagnosis: Diagnosis & { deviceId: string | null }): Diagnosis {
  const { deviceId: _device, ...rest } = diagnosis;
  return rest;
}
