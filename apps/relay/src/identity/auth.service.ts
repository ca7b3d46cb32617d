import { Inject, Injectable } from '@nestjs/common';
import type { LoginRequest, LoginResponse, SessionUser } from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { CredentialThrottle, type CredentialRules } from '../common/credential-throttle.js';
import { DomainError } from '../common/domain-error.js';
import { CONFIG } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { AttemptLimits, type AttemptRule } from '../infra/limits/attempt-limits.js';
import { SecretHasher } from './secret-hasher.js';
import { SessionsService } from './sessions.service.js';
import { TokenService, type AccessClaims } from './token.service.js';
import { UsersRepository } from './users.repository.js';

/**
 * Sign-in budgets. Waits double on every strike, so a patient guesser loses ever more time
 * while the user signing in from an address they used before is not refused for them.
 */
const LOGIN_RULES: CredentialRules = {
  pair: rule('login:user-address', 10),
  address: rule('login:address', 50),
  identity: rule('login:user', 10),
  knownForSeconds: 14 * 86_400,
};

function rule(name: string, freeAttempts: number): AttemptRule {
  return {
    name,
    freeAttempts,
    windowSeconds: 15 * 60,
    firstBlockSeconds: 60,
    maxBlockSeconds: 3600,
    strikeMemorySeconds: 86_400,
  };
}

@Injectable()
export class AuthService {
  private readonly throttle: CredentialThrottle;

  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: SecretHasher,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly sessions: SessionsService,
    @Inject(CONFIG) private readonly config: RelayConfig,
    limits: AttemptLimits,
  ) {
    this.throttle = new CredentialThrottle(limits, LOGIN_RULES);
  }

  async login(request: LoginRequest, remoteAddress: string | undefined): Promise<LoginResponse> {
    const username = request.username.toLowerCase();
    // Counted before the password is checked, so parallel guesses cannot all get through.
    const admission = await this.throttle.admit(username, remoteAddress);
    if (!admission.admitted) {
      const seconds = Math.ceil(admission.retryAfterMs / 1000);
      throw new DomainError(
        'TOO_MANY_ATTEMPTS',
        `Too many failed sign-ins; try again in ${seconds} seconds`,
        {
          action: 'auth.login',
          detail: { reason: 'too many failed attempts', retryAfterSeconds: seconds },
        },
      );
    }
    const stored = await this.users.findByUsername(request.username);
    const valid = await this.hasher.verifyPassword(stored?.passwordHash, request.password);
    if (!stored || !valid || stored.disabled || stored.facilityDisabled) {
      // One message for every case, so a caller cannot probe which usernames exist.
      throw new DomainError('UNAUTHENTICATED', 'Unknown user or wrong password', {
        actor: stored ? `user:${stored.id}` : 'anonymous',
        action: 'auth.login',
        detail: {
          reason: stored?.disabled
            ? 'disabled'
            : stored?.facilityDisabled
              ? 'facility disabled'
              : 'bad credentials',
        },
      });
    }
    await this.throttle.succeeded(username, remoteAddress, admission);
    const {
      passwordHash: _hash,
      disabled: _disabled,
      facilityDisabled: _facilityDisabled,
      ...user
    } = stored;
    const session = await this.sessions.start(user.id, this.config.auth.refreshTokenTtlSeconds);
    await this.audit.record({
      actor: `user:${user.id}`,
      action: 'auth.login',
      outcome: 'allowed',
      remoteAddress,
      detail: { sessionId: session.sessionId },
    });
    return this.tokenPair(user, session.sessionId, session.refreshToken, session.expiresAt);
  }

  /** Rotates the refresh token; a reused one ends its session (see SessionsService). */
  async refresh(refreshToken: string, remoteAddress: string | undefined): Promise<LoginResponse> {
    const result = await this.sessions.rotate(refreshToken);
    if ('outcome' in result) {
      const user = await this.users.sessionUserById(result.userId);
      if (!user) {
        throw new DomainError('UNAUTHENTICATED', 'This session has ended', {
          action: 'auth.refresh',
          detail: { reason: 'user disabled or removed', sessionId: result.sessionId },
        });
      }
      await this.audit.record({
        actor: `user:${user.id}`,
        action: 'auth.refresh',
        outcome: 'allowed',
        remoteAddress,
        detail: { sessionId: result.sessionId },
      });
      return this.tokenPair(user, result.sessionId, result.refreshToken, result.expiresAt);
    }
    throw new DomainError(
      'UNAUTHENTICATED',
      'This session has ended; sign in again',
      result.action === 'revoke-reuse'
        ? {
            actor: `user:${result.userId}`,
            action: 'auth.refresh-reuse',
            detail: { sessionId: result.sessionId, consequence: 'session revoked' },
          }
        : {
            action: 'auth.refresh',
            detail: { reason: result.reason, sessionId: result.sessionId },
          },
    );
  }

  /** Ends the session of this refresh token: its refresh and access tokens, and its sockets. */
  async logout(refreshToken: string, remoteAddress: string | undefined): Promise<void> {
    const session = await this.sessions.sessionOf(refreshToken);
    if (!session) {
      throw new DomainError('UNAUTHENTICATED', 'Unknown session', {
        action: 'auth.logout',
        detail: { reason: 'unknown refresh token' },
      });
    }
    const revoked = await this.sessions.revoke(session.sessionId, 'logout');
    await this.audit.record({
      actor: `user:${session.userId}`,
      action: 'auth.logout',
      outcome: 'allowed',
      remoteAddress,
      detail: { sessionId: session.sessionId, alreadyEnded: !revoked },
    });
  }

  /**
   * Resolves a bearer token to its user and session, if the session is still live; used by
   * the REST guard and the socket handshake.
   */
  async authenticate(token: string | undefined): Promise<AccessClaims | null> {
    if (!token) return null;
    const claims = await this.tokens.verify(token);
    if (!claims || !(await this.sessions.isLive(claims.sessionId))) return null;
    return claims;
  }

  private async tokenPair(
    user: SessionUser,
    sessionId: string,
    refreshToken: string,
    sessionExpiresAt: Date,
  ): Promise<LoginResponse> {
    return {
      accessToken: await this.tokens.issue(user, sessionId),
      tokenType: 'Bearer',
      expiresInSeconds: this.tokens.ttlSeconds,
      refreshToken,
      sessionExpiresAt: sessionExpiresAt.toISOString(),
      user,
    };
  }
}
