import {
  CASE_KINDS,
  CASE_PRIORITIES,
  type CaseKind,
  type CasePriority,
  type DeadlineOverrides,
  type HospitalPolicy,
} from '#contracts';
import type { RelayConfig } from '../config/config.js';

/**
 * Pure rules of reading deadlines: which deadline a case gets, when its readers are warned,
 * and where it goes when nobody has claimed it in time. No I/O, so every rule is tested
 * without a database or a queue.
 */

/** Share of the deadline after which a hospital's readers are warned about an unclaimed case. */
export const NEAR_SHARE = 0.8;

export interface StoredPolicy {
  deadlines: DeadlineOverrides;
  atDeadline: HospitalPolicy['atDeadline'];
  overflowHospitalId: string | null;
  updatedAt: Date;
}

/** The relay's defaults (config): STAT has its own deadline, urgent and routine share one. */
export function defaultDeadlines(sla: RelayConfig['sla']): HospitalPolicy['deadlines'] {
  return {
    ecg: { stat: sla.ecgStatSeconds, urgent: sla.ecgSeconds, routine: sla.ecgSeconds },
    imaging: {
      stat: sla.imagingStatSeconds,
      urgent: sla.imagingSeconds,
      routine: sla.imagingSeconds,
    },
  };
}

/** The policy in force: the hospital's overrides over the defaults; escalate when none is set. */
export function effectivePolicy(
  hospitalId: string,
  stored: StoredPolicy | undefined,
  sla: RelayConfig['sla'],
): HospitalPolicy {
  const deadlines = defaultDeadlines(sla);
  const overrides = stored?.deadlines ?? {};
  for (const kind of CASE_KINDS) {
    for (const priority of CASE_PRIORITIES) {
      const own = overrides[kind]?.[priority];
      if (own !== undefined) deadlines[kind][priority] = own;
    }
  }
  return {
    hospitalId,
    deadlines,
    overrides,
    atDeadline: stored?.atDeadline ?? 'escalate',
    overflowHospitalId: stored?.overflowHospitalId ?? null,
    updatedAt: stored?.updatedAt.toISOString() ?? null,
  };
}

export function deadlineAfter(
  policy: HospitalPolicy,
  kind: CaseKind,
  priority: CasePriority,
  from: Date,
): Date {
  return new Date(from.getTime() + policy.deadlines[kind][priority] * 1000);
}

/** When the readers are warned: 80 % of the way from `from` (queued here) to the deadline. */
export function nearTime(from: Date, deadline: Date): Date {
  const span = Math.max(0, deadline.getTime() - from.getTime());
  return new Date(from.getTime() + Math.floor(span * NEAR_SHARE));
}

export interface DeadlineMove {
  kind: 'escalated' | 'overflowed';
  toHospitalId: string;
}

/**
 * Where an unclaimed case goes at this hospital's deadline, or null if it stays (a hospital
 * with nobody above it). A case overflows at most once: a hospital that received it by
 * overflow escalates it at its own deadline, so two county hospitals never pass a case back
 * and forth.
 */
export function deadlineMove(
  policy: HospitalPolicy,
  hospital: { id: string; parentId: string | null },
  overflowedBefore: boolean,
): DeadlineMove | null {
  if (
    policy.atDeadline === 'overflow' &&
    policy.overflowHospitalId !== null &&
    policy.overflowHospitalId !== hospital.id &&
    !overflowedBefore
  ) {
    return { kind: 'overflowed', toHospitalId: policy.overflowHospitalId };
  }
  return hospital.parentId ? { kind: 'escalated', toHospitalId: hospital.parentId } : null;
}
