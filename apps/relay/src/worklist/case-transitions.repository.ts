import { Injectable } from '@nestjs/common';
import { and, eq, inArray, lte, type SQL } from 'drizzle-orm';
import type { CaseStatus } from '#contracts';
import type { Tx } from '../infra/database/database.js';
import { caseEvents, cases } from '../infra/database/schema.js';
import type { FoundCase, GuardCheck, StatusChange, StatusChanged } from './case-transitions.js';

/** A guard of the transition table as a condition on the `cases` row. */
function conditionOf(check: GuardCheck): SQL {
  switch (check.guard) {
    case 'held-by':
      return eq(cases.claimedBy, check.readerId);
    case 'lease-ended-by':
      return lte(cases.leaseExpiresAt, check.at);
    case 'at-hospital':
      return eq(cases.hospitalId, check.hospitalId);
    case 'deadline-is':
      return eq(cases.deadlineAt, check.deadlineAt);
  }
}

/**
 * The SQL of the case transition table (case-transitions.ts holds the rows and the rules):
 * a move is one conditional UPDATE … RETURNING and its case event, in the caller's
 * transaction, so the WHERE is the check and two racing callers cannot both win.
 */
@Injectable()
export class CaseTransitionsRepository {
  /** Moves the case if it is in one of `from` and every check holds; undefined when it did not. */
  async move(tx: Tx, change: StatusChange): Promise<StatusChanged | undefined> {
    // A row with several `from` statuses locks the case to know which one it leaves.
    let from: CaseStatus | undefined = change.from[0];
    if (change.from.length > 1) {
      const [locked] = await tx
        .select({ status: cases.status })
        .from(cases)
        .where(eq(cases.id, change.caseId))
        .for('update');
      from = locked?.status;
    }
    if (from === undefined) return undefined;
    const [updated] = await tx
      .update(cases)
      .set({ ...change.changes, status: change.to, updatedAt: change.at })
      .where(
        and(
          eq(cases.id, change.caseId),
          inArray(cases.status, [...change.from]),
          eq(cases.status, from),
          ...change.checks.map(conditionOf),
        ),
      )
      .returning({ id: cases.id, clinicId: cases.clinicId, hospitalId: cases.hospitalId });
    if (!updated) return undefined;
    const [event] = await tx
      .insert(caseEvents)
      .values({
        caseId: change.caseId,
        type: change.event.type,
        actor: change.event.actor,
        fromStatus: from,
        toStatus: change.to,
        detail: change.event.detail,
        at: change.at,
      })
      .returning({ id: caseEvents.id });
    if (!event) throw new Error('case event not written');
    return { case: updated, from, eventId: event.id };
  }

  /** What stands in the way of a move that did not happen (read in the same transaction). */
  async found(tx: Tx, caseId: string): Promise<FoundCase | undefined> {
    const [found] = await tx
      .select({ status: cases.status, hospitalId: cases.hospitalId, claimedBy: cases.claimedBy })
      .from(cases)
      .where(eq(cases.id, caseId));
    return found;
  }
}
