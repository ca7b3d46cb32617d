import {
  TURNAROUND_BUCKETS_MINUTES,
  type Facility,
  type SupervisionFacility,
  type SupervisionFigures,
} from '#contracts';

/** One case recorded in the period, as the figures need it: times and places, no patient. */
export interface CohortCase {
  clinicId: string;
  examKind: string;
  status: string;
  createdAt: Date;
  dueAt: Date;
  signedAt: Date | null;
  /** When the clinic first had the diagnosis (its console or its box), null until then. */
  receivedAt: Date | null;
  escalated: boolean;
  overflowed: boolean;
  returned: boolean;
}

export interface ClinicTally {
  repeatExamWarnings: number;
  repeatExamsWentAhead: number;
  waiting: number;
  claimed: number;
}

export const EMPTY_TALLY: Readonly<ClinicTally> = {
  repeatExamWarnings: 0,
  repeatExamsWentAhead: 0,
  waiting: 0,
  claimed: 0,
};

const OPEN = new Set(['awaiting_review', 'in_review']);

/** Signed after its due time, or still open with the due time passed. */
export function isBreach(item: CohortCase, now: Date): boolean {
  if (item.signedAt) return item.signedAt > item.dueAt;
  return OPEN.has(item.status) && now > item.dueAt;
}

export function turnaroundSeconds(item: CohortCase): number | null {
  return item.receivedAt ? (item.receivedAt.getTime() - item.createdAt.getTime()) / 1000 : null;
}

/** Linear interpolation between the closest ranks, as PostgreSQL's percentile_cont. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = p * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (rank - below);
}

/** The figures of a set of clinics' cases. */
export function figuresOf(
  items: readonly CohortCase[],
  tallies: readonly ClinicTally[],
  now: Date,
): SupervisionFigures {
  const examsByKind: Record<string, number> = {};
  const times: number[] = [];
  let signed = 0;
  let breaches = 0;
  let escalated = 0;
  let overflowed = 0;
  let returned = 0;
  for (const item of items) {
    examsByKind[item.examKind] = (examsByKind[item.examKind] ?? 0) + 1;
    if (item.signedAt) signed += 1;
    const seconds = turnaroundSeconds(item);
    if (seconds !== null) times.push(seconds);
    if (isBreach(item, now)) breaches += 1;
    if (item.escalated) escalated += 1;
    if (item.overflowed) overflowed += 1;
    if (item.returned) returned += 1;
  }
  times.sort((a, b) => a - b);
  const rounded = (value: number | null) => (value === null ? null : Math.round(value));
  const sum = (key: keyof ClinicTally) => tallies.reduce((total, t) => total + t[key], 0);
  return {
    exams: items.length,
    examsByKind,
    signed,
    received: times.length,
    turnaroundSeconds: {
      p50: rounded(percentile(times, 0.5)),
      p90: rounded(percentile(times, 0.9)),
    },
    breaches,
    escalated,
    overflowed,
    returned,
    repeatExamWarnings: sum('repeatExamWarnings'),
    repeatExamsWentAhead: sum('repeatExamsWentAhead'),
    waiting: sum('waiting'),
    claimed: sum('claimed'),
  };
}

/**
 * Every facility of the region with the figures of the clinics at or below it: a clinic its
 * own exams, a county hospital those of its clinics, the tertiary hospital the region's.
 */
export function facilityFigures(
  region: readonly Facility[],
  items: readonly CohortCase[],
  tallies: ReadonlyMap<string, ClinicTally>,
  now: Date,
): SupervisionFacility[] {
  const children = new Map<string, Facility[]>();
  for (const facility of region) {
    if (facility.parentId === null) continue;
    children.set(facility.parentId, [...(children.get(facility.parentId) ?? []), facility]);
  }
  const clinicsUnder = (facility: Facility): Set<string> => {
    if (facility.kind === 'clinic') return new Set([facility.id]);
    const found = new Set<string>();
    for (const child of children.get(facility.id) ?? []) {
      for (const id of clinicsUnder(child)) found.add(id);
    }
    return found;
  };
  return region.map((facility) => {
    const clinics = clinicsUnder(facility);
    return {
      id: facility.id,
      kind: facility.kind,
      name: facility.name,
      parentId: facility.parentId,
      figures: figuresOf(
        items.filter((item) => clinics.has(item.clinicId)),
        [...clinics].map((id) => tallies.get(id) ?? EMPTY_TALLY),
        now,
      ),
    };
  });
}

/** Received cases per turnaround bucket (TURNAROUND_BUCKETS_MINUTES, then one open bucket). */
export function turnaroundHistogram(items: readonly CohortCase[]): number[] {
  const counts: number[] = new Array<number>(TURNAROUND_BUCKETS_MINUTES.length + 1).fill(0);
  for (const item of items) {
    const seconds = turnaroundSeconds(item);
    if (seconds === null) continue;
    const bucket = TURNAROUND_BUCKETS_MINUTES.findIndex((limit) => seconds < limit * 60);
    counts[bucket === -1 ? TURNAROUND_BUCKETS_MINUTES.length : bucket]! += 1;
  }
  return counts;
}

/**
 * Cases recorded per hour. The report time zone's offset is whole hours, so UTC hours are
 * its hours too.
 */
export function casesPerHour(items: readonly CohortCase[]): { hour: string; exams: number }[] {
  const counts = new Map<number, number>();
  for (const item of items) {
    const hour = Math.floor(item.createdAt.getTime() / 3_600_000) * 3_600_000;
    counts.set(hour, (counts.get(hour) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([hour, exams]) => ({ hour: new Date(hour).toISOString(), exams }));
}
