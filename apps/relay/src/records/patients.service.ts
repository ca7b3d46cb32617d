import { Injectable } from '@nestjs/common';
import {
  ageInYears,
  nationalIdBirthDate,
  nationalIdSex,
  type DocumentType,
  type PatientSex,
  type PatientSummary,
  type RegisterPatient,
} from '#contracts';
import type { Queryable } from '../infra/database/database.js';
import { PatientIdentity } from './patient-identity.js';
import { PatientsRepository, type Patient } from './patients.repository.js';

export type { Patient } from './patients.repository.js';

/** Who registers: the facility is the clinic of the signed-in staff member. */
export interface RegisteringActor {
  facilityId: string;
}

/**
 * The patients of the region (docs/patients.md). One patient per identifier across all
 * facilities, so a clinic registering someone another clinic already knows finds that record.
 */
@Injectable()
export class PatientsService {
  constructor(
    private readonly patients: PatientsRepository,
    private readonly identity: PatientIdentity,
  ) {}

  /**
   * Registers the patient, or finds the one with this identifier: then what is stored stays
   * (name, sex and date of birth are the first registration's; docs/patients.md).
   */
  async register(
    input: RegisterPatient,
    actor: RegisteringActor,
    tx?: Queryable,
  ): Promise<{ patient: Patient; registered: boolean }> {
    const number = input.idNumber;
    const fromId = input.documentType === 'resident_id';
    const { patient, inserted } = await this.patients.insertOrFind(
      {
        identifierKey: this.identity.lookupKey(input.documentType, number),
        identifierSealed: this.identity.seal(number),
        identifierMasked: this.identity.mask(number),
        documentType: input.documentType,
        name: input.name,
        sex: input.sex ?? (fromId ? nationalIdSex(number.toUpperCase()) : 'unknown'),
        birthDate: input.birthDate ?? (fromId ? nationalIdBirthDate(number) : null),
        mobileSealed: input.mobile === undefined ? null : this.identity.seal(input.mobile),
        registeredBy: actor.facilityId,
      },
      tx,
    );
    return { patient, registered: inserted };
  }

  /**
   * The patient's mobile number in clear, for the SMS notifier only: never answered,
   * logged or audited. Null when none was given.
   */
  async mobileOf(patientId: string): Promise<string | null> {
    const sealed = await this.patients.mobileSealed(patientId);
    return sealed === null ? null : this.identity.open(sealed);
  }

  byId(id: string, tx?: Queryable): Promise<Patient | undefined> {
    return this.patients.byId(id, tx);
  }

  findByIdentifier(
    documentType: DocumentType,
    number: string,
    tx?: Queryable,
  ): Promise<Patient | undefined> {
    return this.patients.byIdentifierKey(this.identity.lookupKey(documentType, number), tx);
  }

  byCaseId(caseId: string, tx?: Queryable): Promise<Patient | undefined> {
    return this.patients.byCaseId(caseId, tx);
  }

  /**
   * What the ECG analysis may know of a case's patient: sex and age at `at`, nothing that
   * identifies them; unknown for a case without a patient.
   */
  async analysisContextOfCase(
    caseId: string,
    at: Date,
  ): Promise<{ sex: PatientSex; ageYears: number | null }> {
    const patient = await this.patients.byCaseId(caseId);
    if (!patient) return { sex: 'unknown', ageYears: null };
    return { sex: patient.sex, ageYears: ageInYears(patient.birthDate, at) };
  }

  /** The lookup key of a patient: what audit rows and other modules name the patient by. */
  patientKey(patient: Patient): string {
    return patient.identifierKey;
  }

  summary(patient: Patient): PatientSummary {
    return {
      id: patient.id,
      name: patient.name,
      sex: patient.sex,
      birthDate: patient.birthDate,
      maskedIdentifier: patient.identifierMasked,
      documentType: patient.documentType,
    };
  }
}
