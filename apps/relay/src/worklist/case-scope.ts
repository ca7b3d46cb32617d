import { eq, type SQL } from 'drizzle-orm';
import type { SessionUser } from '#contracts';
import { cases } from '../infra/database/schema.js';

/**
 * Which cases a user may see: the one place facility scoping is decided for cases.
 * Readers see their hospital's queue, clinic staff their clinic's exams; the operator
 * roles see every case (read only: claiming and signing also require the reader role).
 */
export function caseScope(user: SessionUser): SQL | undefined {
  switch (user.role) {
    case 'reader':
      return eq(cases.hospitalId, user.facilityId);
    case 'clinic_staff':
      return eq(cases.clinicId, user.facilityId);
    case 'admin':
    case 'health_authority':
      return undefined;
  }
}
