import type { SessionUser } from '#contracts';

/**
 * Which cases (and whatever belongs to a case, such as its images) a user may see, as a
 * domain value: the facility they are scoped to, or the whole region. Repositories turn it
 * into their WHERE (`scopeCondition` in cases.repository.ts); nothing else decides it.
 */
export type CaseScope =
  /** What the hospital holds now (its review queue and what it claimed). */
  | { kind: 'hospital'; hospitalId: string }
  /** What the clinic sent. */
  | { kind: 'clinic'; clinicId: string }
  /** Every case of the region (read only). */
  | { kind: 'region' };

/**
 * The one place facility scoping is decided for cases. Readers see their hospital's queue,
 * clinic staff their clinic's exams; the operator roles see every case (read only: claiming
 * and signing also require the reader role).
 */
export function caseScope(user: SessionUser): CaseScope {
  switch (user.role) {
    case 'reader':
      return { kind: 'hospital', hospitalId: user.facilityId };
    case 'clinic_staff':
      return { kind: 'clinic', clinicId: user.facilityId };
    case 'admin':
    case 'health_authority':
      return { kind: 'region' };
  }
}
