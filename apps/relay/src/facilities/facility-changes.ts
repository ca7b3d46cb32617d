import type { Facility } from '#contracts';
import type { Queryable } from '../infra/database/database.js';
import type { FacilitiesRepository } from './facilities.repository.js';
import { checkChanges, holdersAfterMove, subtreeOf, type FacilityChange } from './hierarchy.js';

/**
 * Every rule a facility write must pass, for the admin API and REGION_FILE alike: the
 * hierarchy rules (hierarchy.ts); for a move, that no open case is stranded with a hospital
 * that would no longer be above its clinic; for a facility being disabled, that it has no
 * open case and is no hospital's overflow. Run it in the writing transaction. `problems`
 * are faults of the request, `conflicts` clash with the region's current state.
 */
export async function facilityChangeProblems(
  repository: FacilitiesRepository,
  changes: readonly FacilityChange[],
  tx: Queryable,
): Promise<{ problems: string[]; conflicts: string[]; after: Facility[] }> {
  const { problems, conflicts, after, moved, disabledNow } = checkChanges(
    changes,
    await repository.all(tx),
  );
  for (const facility of moved) {
    const clinics = subtreeOf(facility.id, after)
      .filter((f) => f.kind === 'clinic')
      .map((f) => f.id);
    const holders = holdersAfterMove(facility.id, facility.parentId, after);
    const open = await repository.openCasesHeldOutside(clinics, holders, tx);
    if (open > 0) {
      conflicts.push(
        `${facility.id} cannot move under ${facility.parentId ?? 'nothing'}: ${open} open ` +
          `case(s) below it are held by a hospital that would no longer be above their clinic; ` +
          `sign, return or escalate them first`,
      );
    }
  }
  for (const facility of disabledNow) {
    // A clinic's open exams still owe the patient a reading and the clinic a diagnosis; a
    // hospital's open cases would have no reader left.
    const open = await repository.openCasesOf(facility, tx);
    if (open > 0) {
      conflicts.push(
        `${facility.id} cannot be disabled while ${open} open case(s) ` +
          `${facility.kind === 'clinic' ? 'of it wait for a reading' : 'are held by it'}; ` +
          `sign, return or escalate them first`,
      );
    }
    const overflowOf = await repository.hospitalsOverflowingTo(facility.id, tx);
    if (overflowOf.length > 0) {
      conflicts.push(
        `${facility.id} cannot be disabled while it takes the overflow of ` +
          `${overflowOf.join(', ')}; change ${overflowOf.length === 1 ? 'that' : 'those'} ` +
          `hospital polic${overflowOf.length === 1 ? 'y' : 'ies'} first`,
      );
    }
  }
  return { problems, conflicts, after };
}
