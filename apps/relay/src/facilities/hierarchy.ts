import type { Facility, FacilityKind, Role } from '#contracts';

/** The kind each kind's parent must be: clinic → county → tertiary → none. */
const PARENT_KIND: Record<FacilityKind, FacilityKind | null> = {
  clinic: 'county',
  county: 'tertiary',
  tertiary: null,
};

/**
 * Why a facility of `kind` may not sit under `parent`, or null when it may. Each kind has
 * exactly one parent kind, one level up, so a cycle is impossible by construction; the
 * self-parent check only makes the message plain.
 */
export function placementProblem(
  facility: { id: string; kind: FacilityKind },
  parentId: string | null,
  parent: Pick<Facility, 'id' | 'kind'> | undefined,
): string | null {
  const wanted = PARENT_KIND[facility.kind];
  if (parentId === facility.id) return `${facility.id} cannot be its own parent`;
  if (wanted === null) {
    return parentId === null ? null : `a tertiary hospital has no parent (got ${parentId})`;
  }
  if (parentId === null) return `a ${facility.kind} needs a ${wanted} parent`;
  if (!parent) return `parent ${parentId} does not exist`;
  if (parent.kind !== wanted) {
    return `a ${facility.kind}'s parent must be a ${wanted}, and ${parentId} is a ${parent.kind}`;
  }
  return null;
}

/**
 * Where each role may belong: readers read at a hospital, clinic staff work at a clinic;
 * admins and health authorities may belong anywhere (a health authority sees its facility
 * and everything below it).
 */
export function rolePlacementProblem(role: Role, kind: FacilityKind): string | null {
  switch (role) {
    case 'reader':
      return kind === 'clinic' ? 'a reader belongs to a county or tertiary hospital' : null;
    case 'clinic_staff':
      return kind === 'clinic' ? null : 'clinic staff belong to a clinic';
    case 'admin':
    case 'health_authority':
      return null;
  }
}

/** Boxes stand in clinics. */
export function devicePlacementProblem(kind: FacilityKind): string | null {
  return kind === 'clinic' ? null : 'a box belongs to a clinic';
}

/**
 * A facility and everything below it, from a complete list of facilities. The hierarchy
 * is at most three levels deep, so this is a short walk.
 */
export function subtreeOf(rootId: string, all: readonly Facility[]): Facility[] {
  const byParent = new Map<string, Facility[]>();
  for (const facility of all) {
    if (facility.parentId === null) continue;
    const siblings = byParent.get(facility.parentId) ?? [];
    siblings.push(facility);
    byParent.set(facility.parentId, siblings);
  }
  const root = all.find((facility) => facility.id === rootId);
  if (!root) return [];
  const found: Facility[] = [];
  const pending = [root];
  const seen = new Set<string>();
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (seen.has(next.id)) continue;
    seen.add(next.id);
    found.push(next);
    pending.push(...(byParent.get(next.id) ?? []));
  }
  return found;
}

/** The facility's parent, grandparent, …, from a complete list (nearest first). */
export function ancestorsOf(facilityId: string, all: readonly Facility[]): Facility[] {
  const byId = new Map(all.map((facility) => [facility.id, facility]));
  const found: Facility[] = [];
  const seen = new Set<string>([facilityId]);
  let parentId = byId.get(facilityId)?.parentId ?? null;
  while (parentId !== null && !seen.has(parentId)) {
    const parent = byId.get(parentId);
    if (!parent) break;
    seen.add(parentId);
    found.push(parent);
    parentId = parent.parentId;
  }
  return found;
}

/**
 * Moving `facilityId` under `newParentId` must not strand an open case: every open case of
 * a clinic below the facility is held by a hospital (its county, or the tertiary after an
 * escalation), and that hospital must still be above the clinic after the move. These are
 * the hospitals that may still hold them; a case held by any other is stranded.
 */
export function holdersAfterMove(
  facilityId: string,
  newParentId: string | null,
  all: readonly Facility[],
): Set<string> {
  const below = subtreeOf(facilityId, all).filter((facility) => facility.kind !== 'clinic');
  const above =
    newParentId === null
      ? []
      : [...all.filter((f) => f.id === newParentId), ...ancestorsOf(newParentId, all)];
  return new Set([...below, ...above].map((facility) => facility.id));
}

/** A facility write: `disabled` left out keeps the facility's current state (a new one is enabled). */
export type FacilityChange = Omit<Facility, 'disabled'> & { disabled?: boolean };

/**
 * Checks a batch of facility writes (new ones and changes) against the hierarchy as it
 * stands, as if applied together. Returns the problems with the request itself, the
 * conflicts with the hierarchy's state (an enabled facility under a disabled one, a disabled
 * one above enabled ones: every enabled clinic keeps an enabled county and tertiary to read
 * and escalate its exams), the hierarchy after the batch, the facilities whose parent changes
 * (which callers check for stranded cases) and those being disabled now (checked for open
 * cases and overflow policies).
 */
export function checkChanges(
  changes: readonly FacilityChange[],
  existing: readonly Facility[],
): {
  problems: string[];
  conflicts: string[];
  after: Facility[];
  moved: Facility[];
  disabledNow: Facility[];
} {
  const before = new Map(existing.map((facility) => [facility.id, facility]));
  const afterById = new Map(before);
  const written = changes.map((change): Facility => {
    const old = before.get(change.id);
    return { ...change, disabled: change.disabled ?? old?.disabled ?? false };
  });
  for (const facility of written) afterById.set(facility.id, facility);
  const after = [...afterById.values()];
  const problems: string[] = [];
  const conflicts: string[] = [];
  const moved: Facility[] = [];
  const disabledNow: Facility[] = [];
  for (const change of written) {
    const old = before.get(change.id);
    if (old && old.kind !== change.kind) {
      problems.push(`${change.id} is a ${old.kind}; a facility's kind cannot change`);
      continue;
    }
    const parent = change.parentId === null ? undefined : afterById.get(change.parentId);
    const problem = placementProblem(change, change.parentId, parent);
    if (problem) problems.push(`${change.id}: ${problem}`);
    if (old && old.parentId !== change.parentId) moved.push(change);
    if (change.disabled && !old?.disabled) disabledNow.push(change);
    if (!change.disabled && parent?.disabled) {
      conflicts.push(
        `${change.id} cannot be enabled under ${parent.id} while ${parent.id} is disabled; ` +
          `enable ${parent.id} first`,
      );
    }
    if (change.disabled) {
      const enabledChildren = after
        .filter((facility) => facility.parentId === change.id && !facility.disabled)
        .map((facility) => facility.id);
      if (enabledChildren.length > 0) {
        conflicts.push(
          `${change.id} cannot be disabled while ${enabledChildren.join(', ')} below it ` +
            `${enabledChildren.length === 1 ? 'is' : 'are'} enabled; move or disable ` +
            `${enabledChildren.length === 1 ? 'it' : 'them'} first`,
        );
      }
    }
  }
  return { problems, conflicts, after, moved, disabledNow };
}
