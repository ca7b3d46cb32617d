import { Inject, Injectable } from '@nestjs/common';
import type { Bundle, DiagnosticReport } from '@medplum/fhirtypes';
import type { SessionUser } from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { LOGGER } from '../common/tokens.js';
import { BlobStore } from '../infra/blobs/blob-store.js';
import type { Logger } from '../infra/logging/logger.js';
import { PatientsService } from '../records/patients.service.js';
import { toCaseAnalysis } from '../worklist/case-analysis.js';
import { caseScope } from '../worklist/case-scope.js';
import { notVisible } from '../worklist/case-transitions.js';
import { CasesRepository } from '../worklist/cases.repository.js';
import { caseBundle, caseReport, type RecordingRow, type SignedCase } from './case-resources.js';
import { FhirRepository } from './fhir.repository.js';

/** Who reads, from where, and how the answer's URLs begin. */
export interface FhirReader {
  user: SessionUser;
  remoteAddress: string | undefined;
  baseUrl: string;
}

/**
 * A signed case as FHIR R4 (docs/fhir.md), under the case routes' own scope: a case another
 * facility holds, an unsigned one and a missing one all answer the same 404. Every read is
 * audited before it is answered, and refused when it cannot be.
 */
@Injectable()
export class FhirService {
  constructor(
    private readonly fhir: FhirRepository,
    private readonly cases: CasesRepository,
    private readonly patients: PatientsService,
    private readonly blobs: BlobStore,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async report(reader: FhirReader, caseId: string): Promise<DiagnosticReport> {
    const { record, patientKey } = await this.signedCase(reader.user, caseId);
    await this.audited(reader, caseId, { resource: 'DiagnosticReport', patientKey });
    return caseReport(record);
  }

  async bundle(
    reader: FhirReader,
    caseId: string,
    options: { waveform: boolean },
  ): Promise<Bundle> {
    const { record, patientKey, sha256 } = await this.signedCase(reader.user, caseId);
    const withWaveform = options.waveform && sha256 !== null;
    await this.audited(reader, caseId, { resource: 'Bundle', patientKey, waveform: withWaveform });
    const samples = withWaveform ? await this.samplesOf(sha256) : undefined;
    return caseBundle(record, { baseUrl: reader.baseUrl, at: this.clock.now(), samples });
  }

  private async signedCase(
    user: SessionUser,
    caseId: string,
  ): Promise<{ record: SignedCase; patientKey: string | null; sha256: string | null }> {
    const row = await this.fhir.caseInScope(caseId, caseScope(user));
    if (!row) throw notVisible(user, caseId);
    const diagnosis = row.status === 'signed' ? await this.fhir.diagnosisOf(caseId) : undefined;
    if (!diagnosis) {
      // The report exists once it is signed; before that there is nothing to hand on.
      throw new DomainError('NOT_FOUND', 'No signed report for this case', {
        subject: `case:${caseId}`,
        detail: { reason: 'not signed', facilityId: user.facilityId },
      });
    }
    const [patient, order, recording, study, transfers] = await Promise.all([
      row.patientId ? this.patients.byId(row.patientId) : undefined,
      this.fhir.orderOf(caseId),
      this.fhir.recordingOf(caseId),
      row.kind === 'imaging' ? this.fhir.studyOf(caseId) : undefined,
      this.cases.transfersOf(caseId),
    ]);
    const signingHospitalId = diagnosis.hospitalId ?? row.hospitalId;
    const firstHospitalId = transfers[0]?.fromHospitalId ?? row.hospitalId;
    const names = await this.fhir.facilityNames([row.clinicId, signingHospitalId, firstHospitalId]);
    const facility = (id: string) => ({ id, name: names.get(id) ?? id });
    let recordingRow: RecordingRow | null = null;
    if (recording) {
      const { sha256: _sha256, analysis: _analysis, ...rest } = recording;
      recordingRow = rest;
    }
    return {
      patientKey: patient ? this.patients.patientKey(patient) : null,
      sha256: recording?.sha256 ?? null,
      record: {
        caseId: row.id,
        kind: row.kind,
        examKind: row.examKind,
        priority: row.priority,
        createdAt: row.createdAt,
        clinic: facility(row.clinicId),
        firstHospital: facility(firstHospitalId),
        diagnosis: {
          conclusion: diagnosis.conclusion,
          findings: diagnosis.findings,
          signedAt: diagnosis.signedAt,
          reader: { id: diagnosis.readerId, name: diagnosis.readerName },
          hospital: facility(signingHospitalId),
          measurementReview: diagnosis.measurementReview,
        },
        patient: patient ? this.patients.summary(patient) : null,
        order: order ?? null,
        recording: recordingRow,
        analysis: toCaseAnalysis(recording?.analysis ?? null),
        study: study ?? null,
        transfers,
      },
    };
  }

  /** The read is written down first (patient by lookup key only); no row, no answer. */
  private async audited(
    reader: FhirReader,
    caseId: string,
    detail: { resource: string; patientKey: string | null; waveform?: boolean },
  ): Promise<void> {
    const { patientKey, ...rest } = detail;
    try {
      await this.audit.record({
        actor: `user:${reader.user.id}`,
        action: 'fhir.read',
        outcome: 'allowed',
        subject: `case:${caseId}`,
        remoteAddress: reader.remoteAddress,
        // In its column, so the read is in the patient's "who looked at my record".
        ...(patientKey ? { patientKey } : {}),
        detail: { ...rest, role: reader.user.role, facilityId: reader.user.facilityId },
      });
    } catch (error) {
      this.log.error({ err: error, caseId }, 'FHIR read refused: its audit row was not written');
      throw new DomainError('UNAVAILABLE', 'The read could not be audited, so it was refused');
    }
  }

  private async samplesOf(sha256: string): Promise<Int16Array> {
    const bytes = await this.blobs.get(sha256);
    // Stored as sent: int16 little-endian, interleaved (docs/protocol.md); copied so the
    // view is aligned whatever the buffer's offset.
    const samples = new Int16Array(bytes.length / 2);
    for (let i = 0; i < samples.length; i += 1) samples[i] = bytes.readInt16LE(i * 2);
    return samples;
  }
}
