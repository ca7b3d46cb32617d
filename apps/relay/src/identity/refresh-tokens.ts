import { createHmac, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Opaque refresh tokens: 256 random bits, base64url. The database keeps only an
 * HMAC-SHA256 of each (keyed from AUTH_SECRET): a token this random needs no slow hash,
 * and a copy of the database alone cannot be turned back into working tokens.
 */
export class RefreshTokens {
  private readonly key: Buffer;

  constructor(authSecret: string) {
    this.key = Buffer.from(
      hkdfSync('sha256', authSecret, Buffer.alloc(0), 'telerelay refresh tokens', 32),
    );
  }

  issue(): { token: string; hash: string } {
    const token = randomBytes(32).toString('base64url');
    return { token, hash: this.hash(token) };
  }

  hash(token: string): string {
    return createHmac('sha256', this.key).update(token).digest('base64url');
  }
}

/** What the database knows about a presented refresh token. */
export type RefreshLookup =
  | { kind: 'unknown' }
  | {
      kind: 'current' | 'retired';
      sessionId: string;
      userId: string;
      expiresAt: Date;
      revokedAt: Date | null;
      userDisabled: boolean;
    };

export type RefreshDecision =
  | { action: 'rotate'; sessionId: string; userId: string; expiresAt: Date }
  /** A rotated-away token came back: someone holds a copy, so the session dies. */
  | { action: 'revoke-reuse'; sessionId: string; userId: string }
  | {
      action: 'refuse';
      reason: 'unknown' | 'revoked' | 'expired' | 'disabled';
      sessionId?: string;
    };

/** The rotation rules, apart from the database (RFC 9700 §4.14.2, refresh token rotation). */
export function refreshDecision(found: RefreshLookup, now: Date): RefreshDecision {
  if (found.kind === 'unknown') return { action: 'refuse', reason: 'unknown' };
  const { sessionId, userId } = found;
  if (found.revokedAt !== null) return { action: 'refuse', reason: 'revoked', sessionId };
  if (found.kind === 'retired') return { action: 'revoke-reuse', sessionId, userId };
  if (found.userDisabled) return { action: 'refuse', reason: 'disabled', sessionId };
  if (found.expiresAt.getTime() <= now.getTime()) {
    return { action: 'refuse', reason: 'expired', sessionId };
  }
  return { action: 'rotate', sessionId, userId, expiresAt: found.expiresAt };
}
