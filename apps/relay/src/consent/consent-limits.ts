/** Requests a user made within the window, for the request limits. */
export interface RecentRequests {
  byUser: number;
  bySubject: number;
  /** A request for this number was locked (five wrong codes) and not used. */
  subjectLocked: boolean;
}

/**
 * How often a doctor may ask for codes (docs/consent.md, "Limits"). A request gives 5 tries
 * at a million codes; without a limit on requests, asking again forever would make the
 * lock meaningless. Counted per requesting user over a rolling day, by the keyed HMAC of the
 * number asked for, never by whether a patient matched it, so a refusal says nothing about
 * the patient either.
 */
export const CONSENT_LIMITS = {
  windowMs: 24 * 60 * 60 * 1000,
  /** Requests for one number by one user per window. */
  perSubject: 3,
  /** Requests of one user per window, whatever the number (trawling many numbers). */
  perUser: 30,
} as const;

export type RequestRefusal = 'subject-locked' | 'subject-limit' | 'user-limit';

/** Why a new request is refused, or null when it may go ahead. */
export function requestRefusal(recent: RecentRequests): RequestRefusal | null {
  // A locked request means five wrong codes: the pair waits out the window, so at most
  // 5 + 2 × 4 wrong codes a day can ever be tried for one number by one user.
  if (recent.subjectLocked) return 'subject-locked';
  if (recent.bySubject >= CONSENT_LIMITS.perSubject) return 'subject-limit';
  if (recent.byUser >= CONSENT_LIMITS.perUser) return 'user-limit';
  return null;
}
