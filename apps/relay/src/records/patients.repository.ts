import { Injectable } from '@nestjs/common';
import { and, asc, eq, gt, isNull } from 'drizzle-orm';
import type { DocumentType, PatientSex } from '#contracts';
import { Database, type Queryable } from '../infra/database/database.js';
import { cases, patients } from '../infra/database/schema.js';

/** A patient as the relay keeps one: the identifier only as lookup key, sealed and masked. */
export interface Patient {
  id: string;
  identifierKey: string;
  identifierMasked: string;
  documentType: DocumentType;
  name: string;
  sex: PatientSex;
  birthDate: string | null;
  registeredBy: string;
  createdAt: Date;
}

export interface NewPatient extends Omit<Patient, 'id' | 'createdAt'> {
  identifierSealed: string;
  mobileSealed: string | null;
}

/** What a patient row holds sealed (PatientIdentity.seal), for re-keying. */
export interface SealedValues {
  id: string;
  identifierSealed: string;
  mobileSealed: string | null;
}

const columns = {
  id: patients.id,
  identifierKey: patients.identifierKey,
  identifierMasked: patients.identifierMasked,
  documentType: patients.documentType,
  name: patients.name,
  sex: patients.sex,
  birthDate: patients.birthDate,
  registeredBy: patients.registeredBy,
  createdAt: patients.createdAt,
};

@Injectable()
export class PatientsRepository {
  constructor(private readonly database: Database) {}

  async byId(id: string, tx: Queryable = this.database.db): Promise<Patient | undefined> {
    const [row] = await tx.select(columns).from(patients).where(eq(patients.id, id));
    return row;
  }

  /** The patient of a case; undefined for a case without one. */
  async byCaseId(caseId: string, tx: Queryable = this.database.db): Promise<Patient | undefined> {
    const [row] = await tx
      .select(columns)
      .from(cases)
      .innerJoin(patients, eq(patients.id, cases.patientId))
      .where(eq(cases.id, caseId));
    return row;
  }

  async byIdentifierKey(
    identifierKey: string,
    tx: Queryable = this.database.db,
  ): Promise<Patient | undefined> {
    const [row] = await tx
      .select(columns)
      .from(patients)
      .where(eq(patients.identifierKey, identifierKey));
    return row;
  }

  /** The sealed mobile number of a patient, if one was given. */
  async mobileSealed(id: string): Promise<string | null> {
    const [row] = await this.database.db
      .select({ mobileSealed: patients.mobileSealed })
      .from(patients)
      .where(eq(patients.id, id));
    return row?.mobileSealed ?? null;
  }

  /** The sealed values of up to `limit` patients after `afterId` in id order (re-keying). */
  sealedBatch(afterId: string | null, limit: number): Promise<SealedValues[]> {
    return this.database.db
      .select({
        id: patients.id,
        identifierSealed: patients.identifierSealed,
        mobileSealed: patients.mobileSealed,
      })
      .from(patients)
      .where(afterId === null ? undefined : gt(patients.id, afterId))
      .orderBy(asc(patients.id))
      .limit(limit);
  }

  /**
   * Replaces a patient's sealed values if they are still the ones read (`from`): a value
   * written meanwhile (a mobile number added by a registration) is not overwritten, and the
   * answer says whether the row was changed.
   */
  async replaceSealed(from: SealedValues, to: Omit<SealedValues, 'id'>): Promise<boolean> {
    const rows = await this.database.db
      .update(patients)
      .set(to)
      .where(
        and(
          eq(patients.id, from.id),
          eq(patients.identifierSealed, from.identifierSealed),
          from.mobileSealed === null
            ? isNull(patients.mobileSealed)
            : eq(patients.mobileSealed, from.mobileSealed),
        ),
      )
      .returning({ id: patients.id });
    return rows.length === 1;
  }

  /**
   * Inserts the patient unless one with this lookup key exists, and returns the one stored:
   * two clinics registering the same person at once end with one patient.
   */
  async insertOrFind(
    patient: NewPatient,
    tx: Queryable = this.database.db,
  ): Promise<{ patient: Patient; inserted: boolean }> {
    const [inserted] = await tx
      .insert(patients)
      .values(patient)
      .onConflictDoNothing({ target: patients.identifierKey })
      .returning(columns);
    if (inserted) return { patient: inserted, inserted: true };
    if (patient.mobileSealed !== null) {
      // A later registration may add a mobile number; it never replaces one (docs/consent.md).
      await tx
        .update(patients)
        .set({ mobileSealed: patient.mobileSealed })
        .where(
          and(eq(patients.identifierKey, patient.identifierKey), isNull(patients.mobileSealed)),
        );
    }
    const existing = await this.byIdentifierKey(patient.identifierKey, tx);
    if (!existing) throw new Error('patient neither inserted nor found');
    return { patient: existing, inserted: false };
  }
}
