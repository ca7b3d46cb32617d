import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { RefreshTokens, refreshDecision, type RefreshDecision } from './refresh-tokens.js';
import { SessionsRepository, type RevokeReason } from './sessions.repository.js';

/**
 * How long this process trusts a "session is live" answer. A revocation made by this
 * process drops the answer at once, so logout and disable are refused here immediately;
 * another relay instance sharing the database sees a revocation within this time.
 */
const LIVE_CHECK_CACHE_MS = 5_000;
const LIVE_CHECK_CACHE_MAX = 10_000;

type RevokedListener = (sessionIds: string[]) => void;

/** Sign-in sessions: refresh-token rotation with reuse detection, revocation, liveness. */
@Injectable()
export class SessionsService {
  private readonly live = new Map<string, { checkedUntil: number; expiresAt: number }>();
  /**
   * Sessions this process revoked. A liveness check that read the database just before the
   * revocation must not cache "live" after it, so every answer is checked against this.
   */
  private readonly revokedHere = new Set<string>();
  private readonly listeners: RevokedListener[] = [];

  constructor(
    private readonly repository: SessionsRepository,
    private readonly refreshTokens: RefreshTokens,
    private readonly clock: Clock,
  ) {}

  async start(
    userId: string,
    ttlSeconds: number,
  ): Promise<{ sessionId: string; refreshToken: string; expiresAt: Date }> {
    const { token, hash } = this.refreshTokens.issue();
    const expiresAt = new Date(this.clock.now().getTime() + ttlSeconds * 1000);
    const sessionId = await this.repository.create(userId, hash, expiresAt);
    return { sessionId, refreshToken: token, expiresAt };
  }

  /**
   * Exchanges a refresh token for the next one. A token that was already exchanged revokes
   * its session: the rightful holder and whoever copied it both have to sign in again.
   */
  async rotate(refreshToken: string): Promise<
    | {
        outcome: 'rotated';
        sessionId: string;
        userId: string;
        expiresAt: Date;
        refreshToken: string;
      }
    | Exclude<RefreshDecision, { action: 'rotate' }>
  > {
    const oldHash = this.refreshTokens.hash(refreshToken);
    const now = this.clock.now();
    const decision = refreshDecision(await this.repository.lookup(oldHash), now);
    if (decision.action === 'rotate') {
      const next = this.refreshTokens.issue();
      if (await this.repository.rotate(decision.sessionId, oldHash, next.hash, now)) {
        const { sessionId, userId, expiresAt } = decision;
        return { outcome: 'rotated', sessionId, userId, expiresAt, refreshToken: next.token };
      }
      // Another request rotated this token first: it is now a retired token, used twice.
      await this.revoke(decision.sessionId, 'reuse');
      return { action: 'revoke-reuse', sessionId: decision.sessionId, userId: decision.userId };
    }
    if (decision.action === 'revoke-reuse') await this.revoke(decision.sessionId, 'reuse');
    return decision;
  }

  /** The session a refresh token (current or retired) belongs to, if any. */
  async sessionOf(refreshToken: string): Promise<{ sessionId: string; userId: string } | null> {
    const found = await this.repository.lookup(this.refreshTokens.hash(refreshToken));
    return found.kind === 'unknown' ? null : { sessionId: found.sessionId, userId: found.userId };
  }

  async revoke(sessionId: string, reason: RevokeReason): Promise<boolean> {
    const revoked = await this.repository.revoke(sessionId, reason, this.clock.now());
    this.forget([sessionId]);
    return revoked;
  }

  async revokeAllOf(userId: string, reason: RevokeReason): Promise<string[]> {
    const ids = await this.repository.revokeAllOf(userId, reason, this.clock.now());
    this.forget(ids);
    return ids;
  }

  /** Whether access tokens of this session are honoured: not revoked, not expired, user enabled. */
  async isLive(sessionId: string): Promise<boolean> {
    if (this.revokedHere.has(sessionId)) return false;
    const at = this.clock.now();
    const now = at.getTime();
    const cached = this.live.get(sessionId);
    if (cached && cached.checkedUntil > now) return cached.expiresAt > now;
    const expiresAt = await this.repository.liveUntil(sessionId, at);
    if (!expiresAt || this.revokedHere.has(sessionId)) {
      this.live.delete(sessionId);
      return false;
    }
    if (this.live.size >= LIVE_CHECK_CACHE_MAX) this.live.clear();
    this.live.set(sessionId, {
      checkedUntil: now + LIVE_CHECK_CACHE_MS,
      expiresAt: expiresAt.getTime(),
    });
    return true;
  }

  /** Called with the ids of sessions revoked by this process (the socket gateway listens). */
  onRevoked(listener: RevokedListener): void {
    this.listeners.push(listener);
  }

  private forget(sessionIds: string[]): void {
    for (const id of sessionIds) {
      this.live.delete(id);
      // Bounded: past this many, the database answers (and the cache holds only 5 s).
      if (this.revokedHere.size >= LIVE_CHECK_CACHE_MAX) this.revokedHere.clear();
      this.revokedHere.add(id);
    }
    if (sessionIds.length === 0) return;
    for (const listener of this.listeners) listener(sessionIds);
  }
}
