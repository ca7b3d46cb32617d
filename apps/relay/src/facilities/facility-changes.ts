import type { Facility } from '#contracts';
import type { Queryable } from '../infra/database/database.js';
import type { FacilitiesRepository } from './facilities.repository.js';
import { checkChanges, holdersAfterMove, subtreeOf } from './hierarchy.js';

/**
 * Every rule a facility write must pass, for the admin API and REGION_FILE alike: the
 * hierarchy rules (hierarchy.ts) and, for a move, that no open case is stranded with a
 * hospital that would no longer be above its clinic. Run it in the writing transaction.
 */
export async function facilityChangeProblems(
  repository: FacilitiesRepository,
  changes: readonly Facility[],
  tx: Queryable,
): Promise<{ problems: string[]; after: Facility[] }> {
  const { problems, after, moved } = checkChanges(changes, await repository.all(tx));
  for (const facility of moved) {
    const clinics = subtreeOf(facility.id, after)
      .filter((f) => f.kind === 'clinic')
      .map((f) => f.id);
    const holders = holdersAfterMove(facility.id, facility.parentId, after);
    const stranded = await repository.openCasesHeldOutside(clinics, holders, tx);
    if (stranded > 0) {
      problems.push(
        `${facility.id} cannot move under ${facility.parentId ?? 'nothing'}: ${stranded} open ` +
          `case(s) below it are held by a hospital that would no longer be above their clinic; ` +
          `sign, return or escalate them first`,
      );
    }
  }
  return { problems, after };
}
