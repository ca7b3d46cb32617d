import { Injectable } from '@nestjs/common';
import type { PatientAccessFilter, PatientAccessPage, SessionUser } from '#contracts';
import { DomainError } from '../common/domain-error.js';
import { PatientsService } from '../records/patients.service.js';
import { AuditService } from './audit.service.js';

/**
 * "Who looked at my record" (docs/audit.md): the clinic that registered the patient, or an
 * administrator, shows the patient what was done with their data and by whom.
 */
@Injectable()
export class PatientAccessLog {
  constructor(
    private readonly patients: PatientsService,
    private readonly audit: AuditService,
  ) {}

  async forPatient(
    user: SessionUser,
    patientId: string,
    page: PatientAccessFilter,
  ): Promise<PatientAccessPage> {
    const patient = await this.patients.byId(patientId);
    const mayRead =
      user.role === 'admin' ||
      (user.role === 'clinic_staff' && patient?.registeredBy === user.facilityId);
    if (!patient || !mayRead) {
      // One answer whether the patient is unknown or another clinic's: ids are not probed.
      throw new DomainError('NOT_FOUND', 'No such patient at your clinic', {
        subject: `patient:${patientId}`,
        detail: { reason: patient ? 'not the registering clinic' : 'unknown patient' },
      });
    }
    const patientKey = this.patients.patientKey(patient);
    const found = await this.audit.accessLogFor(patientKey, page);
    // Looking at the log is itself an access the patient will see; nothing is answered
    // unless it is written down.
    await this.audit.recordPatientAccess({
      actor: `user:${user.id}`,
      role: user.role,
      facilityId: user.facilityId,
      action: 'records.access-log.read',
      patientKey,
      outcome: 'allowed',
      detail: { patientId, returned: found.entries.length },
    });
    return found;
  }
}
