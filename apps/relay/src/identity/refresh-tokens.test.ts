import { describe, expect, it } from 'vitest';
import { RefreshTokens, refreshDecision, type RefreshLookup } from './refresh-tokens.js';

const now = new Date('2026-03-01T12:00:00Z');
const live: RefreshLookup = {
  kind: 'current',
  sessionId: 's-1',
  userId: 'u-1',
  expiresAt: new Date('2026-03-01T20:00:00Z'),
  revokedAt: null,
  userDisabled: false,
};

describe('refresh tokens', () => {
  it('are random and stored as a keyed hash that depends on AUTH_SECRET', () => {
    const tokens = new RefreshTokens('a'.repeat(32));
    const first = tokens.issue();
    const second = tokens.issue();
    expect(first.token).not.toBe(second.token);
    expect(first.token).toHaveLength(43); // 256 bits, base64url
    expect(first.hash).not.toContain(first.token);
    expect(tokens.hash(first.token)).toBe(first.hash);
    expect(new RefreshTokens('b'.repeat(32)).hash(first.token)).not.toBe(first.hash);
  });

  it('rotate the current token of a live session', () => {
    expect(refreshDecision(live, now)).toEqual({
      action: 'rotate',
      sessionId: 's-1',
      userId: 'u-1',
      expiresAt: live.expiresAt,
    });
  });

  it('treat a rotated-away token as reuse that ends the session', () => {
    expect(refreshDecision({ ...live, kind: 'retired' }, now)).toEqual({
      action: 'revoke-reuse',
      sessionId: 's-1',
      userId: 'u-1',
    });
  });

  it('refuse unknown, revoked, expired and disabled', () => {
    expect(refreshDecision({ kind: 'unknown' }, now)).toEqual({
      action: 'refuse',
      reason: 'unknown',
    });
    expect(refreshDecision({ ...live, revokedAt: now }, now)).toMatchObject({ reason: 'revoked' });
    // A retired token of an already revoked session changes nothing more.
    expect(refreshDecision({ ...live, kind: 'retired', revokedAt: now }, now)).toMatchObject({
      reason: 'revoked',
    });
    expect(refreshDecision({ ...live, expiresAt: now }, now)).toMatchObject({ reason: 'expired' });
    expect(refreshDecision({ ...live, userDisabled: true }, now)).toMatchObject({
      reason: 'disabled',
    });
  });
});
