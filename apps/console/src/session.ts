import type { LoginResponse, SessionUser } from '#contracts';
import type { MeasurementKey } from './measurements.js';

/**
 * What the console keeps for the tab: sessionStorage, so closing the tab forgets it (and
 * Log out revokes it at the relay).
 */
export interface StoredSession {
  accessToken: string;
  /** Epoch milliseconds after which the relay no longer accepts the access token. */
  expiresAt: number;
  /** Single use: exchanged for a new pair before the access token expires. */
  refreshToken: string;
  /** Epoch milliseconds at which the session ends whatever happens. */
  sessionExpiresAt: number;
  user: SessionUser;
}

const KEY = 'telerelay.session';

export function saveSession(login: LoginResponse): StoredSession {
  const session: StoredSession = {
    accessToken: login.accessToken,
    expiresAt: Date.now() + login.expiresInSeconds * 1000,
    refreshToken: login.refreshToken,
    sessionExpiresAt: Date.parse(login.sessionExpiresAt),
    user: login.user,
  };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

export function loadSession(): StoredSession | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as StoredSession;
    // An expired access token is fine: the refresh token may still get a new one.
    if (
      typeof session.accessToken !== 'string' ||
      typeof session.refreshToken !== 'string' ||
      session.sessionExpiresAt <= Date.now()
    ) {
      clearSession();
      return null;
    }
    return session;
  } catch {
    clearSession();
    return null;
  }
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

/**
 * An unsigned diagnosis, kept for the tab so that an expired session or a reload does not
 * lose what the reader wrote. Cleared on signing and on logging out.
 */
export interface Draft {
  conclusion: string;
  findings: string[];
  /** The measurement fields the reader changed from the analysis's suggestion, as typed. */
  measurements?: Partial<Record<MeasurementKey, string>>;
  measurementsConfirmed?: boolean;
}

const DRAFT_PREFIX = 'telerelay.draft.';

export function loadDraft(caseId: string): Draft | null {
  try {
    const draft = JSON.parse(
      sessionStorage.getItem(DRAFT_PREFIX + caseId) ?? 'null',
    ) as Draft | null;
    return draft && typeof draft.conclusion === 'string' && Array.isArray(draft.findings)
      ? draft
      : null;
  } catch {
    return null;
  }
}

export function saveDraft(caseId: string, draft: Draft): void {
  const empty =
    !draft.conclusion.trim() &&
    draft.findings.length === 0 &&
    !draft.measurementsConfirmed &&
    Object.keys(draft.measurements ?? {}).length === 0;
  if (empty) {
    sessionStorage.removeItem(DRAFT_PREFIX + caseId);
  } else {
    sessionStorage.setItem(DRAFT_PREFIX + caseId, JSON.stringify(draft));
  }
}

export function clearDraft(caseId: string): void {
  sessionStorage.removeItem(DRAFT_PREFIX + caseId);
}

export function clearAllDrafts(): void {
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith(DRAFT_PREFIX)) sessionStorage.removeItem(key);
  }
}
