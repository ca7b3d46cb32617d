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
): Promise<{ problems: string[]; stranded: string[]; after: Facility[] }> {
  const { problems, after, moved } = checkChanges(changes, await repository.all(tx));
  const stranded: string[] = [];
  for (const facility of moved) {
    const clinics = subtreeOf(facility.id, after)
      .filter((f) => f.kind === 'clinic')
      .map((f) => f.id);
    const holders = holdersAfterMove(facility.id, facility.parentId, after);
    const open = await repository.openCasesHeldOutside(clinics, holders, tx);
    if (open > 0) {
      stranded.push(
        `${facility.id} cannot move under ${facility.parentId ?? 'nothing'}: ${open} open ` +
          `case(s) below it are held by a hospital that would no longer be above their clinic; ` +
          `sign, return or escalate them first`,
      );
    }
  }
  return { problems, stranded, after };
}
