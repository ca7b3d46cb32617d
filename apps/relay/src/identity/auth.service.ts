import { Injectable } from '@nestjs/common';
import type { LoginRequest, LoginResponse, SessionUser } from '#contracts';
import { AuditService } from '../audit/audit.service.js';
import { AttemptLimiter } from '../common/attempt-limiter.js';
import { DomainError } from '../common/domain-error.js';
import { SecretHasher } from './secret-hasher.js';
import { TokenService } from './token.service.js';
import { UsersRepository } from './users.repository.js';

/** Failed sign-ins allowed per username, and per address, in 15 minutes. */
const FAILURES_PER_USERNAME = 10;
const FAILURES_PER_ADDRESS = 50;

@Injectable()
export class AuthService {
  private readonly failuresByUsername = new AttemptLimiter(FAILURES_PER_USERNAME, 15 * 60_000);
  private readonly failuresByAddress = new AttemptLimiter(FAILURES_PER_ADDRESS, 15 * 60_000);

  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: SecretHasher,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
  ) {}

  async login(request: LoginRequest, remoteAddress: string | undefined): Promise<LoginResponse> {
    const username = request.username.toLowerCase();
    if (
      this.failuresByUsername.exhausted(username) ||
      this.failuresByAddress.exhausted(remoteAddress ?? 'unknown')
    ) {
      await this.audit.record({
        actor: 'anonymous',
        action: 'auth.login',
        outcome: 'denied',
        remoteAddress,
        detail: { reason: 'too many failed attempts' },
      });
      throw new DomainError(
        'TOO_MANY_ATTEMPTS',
        'Too many failed sign-ins; try again in 15 minutes',
      );
    }
    const stored = await this.users.findByUsername(request.username);
    const valid = await this.hasher.verify(stored?.passwordHash, request.password);
    if (!stored || !valid || stored.disabled) {
      this.failuresByUsername.tryAttempt(username);
      this.failuresByAddress.tryAttempt(remoteAddress ?? 'unknown');
      await this.audit.record({
        actor: stored ? `user:${stored.id}` : 'anonymous',
        action: 'auth.login',
        outcome: 'denied',
        remoteAddress,
        detail: { reason: stored?.disabled ? 'disabled' : 'bad credentials' },
      });
      // One message for every case, so a caller cannot probe which usernames exist.
      throw new DomainError('UNAUTHENTICATED', 'Unknown user or wrong password');
    }
    const { passwordHash: _hash, disabled: _disabled, ...user } = stored;
    await this.audit.record({
      actor: `user:${user.id}`,
      action: 'auth.login',
      outcome: 'allowed',
      remoteAddress,
    });
    return {
      accessToken: await this.tokens.issue(user),
      tokenType: 'Bearer',
      expiresInSeconds: this.tokens.ttlSeconds,
      user,
    };
  }

  /** Resolves a bearer token to its user; used by the REST guard and the socket handshake. */
  async authenticate(token: string | undefined): Promise<SessionUser | null> {
    if (!token) return null;
    return this.tokens.verify(token);
  }
}
