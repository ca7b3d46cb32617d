import argon2 from 'argon2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditService } from '../audit/audit.service.js';
import type { RelayConfig } from '../config/config.js';
import { AttemptLimits } from '../infra/limits/attempt-limits.js';
import { AuthService } from './auth.service.js';
import { SecretHasher } from './secret-hasher.js';
import type { SessionsService } from './sessions.service.js';
import type { TokenService } from './token.service.js';
import type { StoredUser, UsersRepository } from './users.repository.js';

/** Passwords hashed with light argon2id parameters, so a test can try hundreds. */
class QuickHasher extends SecretHasher {
  override hash(secret: string): Promise<string> {
    return argon2.hash(secret, {
      type: argon2.argon2id,
      memoryCost: 4096,
      timeCost: 2,
      parallelism: 1,
    });
  }
}

/** The argon2 parameters (m, t, p) of every hash the service verified against. */
function verifiedParameters(spy: { mock: { calls: unknown[][] } }): string[] {
  return spy.mock.calls.map((call) => String(call[0]).split('$')[3] ?? '');
}

async function signInService(hasher: SecretHasher) {
  const user: StoredUser = {
    id: 'u-1',
    username: 'c1.reader',
    displayName: 'Reader',
    role: 'reader',
    facilityId: 'county-1',
    facilityKind: 'county',
    passwordHash: await hasher.hash('right-password'),
    disabled: false,
    facilityDisabled: false,
  };
  const users = {
    findByUsername: (name: string) =>
      Promise.resolve(name.toLowerCase() === user.username ? user : undefined),
  } as unknown as UsersRepository;
  const tokens = {
    issue: () => Promise.resolve('access'),
    ttlSeconds: 900,
  } as unknown as TokenService;
  const audit = { record: () => Promise.resolve() } as unknown as AuditService;
  const sessions = {
    start: () => Promise.resolve({ sessionId: 's-1', refreshToken: 'r', expiresAt: new Date(0) }),
  } as unknown as SessionsService;
  const config = { auth: { refreshTokenTtlSeconds: 3600 } } as RelayConfig;
  const service = new AuthService(
    users,
    hasher,
    tokens,
    audit,
    sessions,
    config,
    AttemptLimits.inMemory(),
  );
  const login = (password: string, address: string, username = user.username) =>
    service.login({ username, password }, address);
  return { login };
}

const refusedWith = (code: string) => expect.objectContaining({ code });

describe('AuthService sign-in limits', () => {
  afterEach(() => vi.restoreAllMocks());

  it('keeps the guesser out, not the user: after a flood of wrong passwords from elsewhere the user still signs in from their usual address', async () => {
    const { login } = await signInService(new QuickHasher());
    const home = '198.51.100.7';
    const attacker = '203.0.113.9';
    await login('right-password', home);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      await expect(login(`guess-${attempt}`, attacker)).rejects.toEqual(
        refusedWith('UNAUTHENTICATED'),
      );
    }
    await expect(login('guess-10', attacker)).rejects.toEqual(refusedWith('TOO_MANY_ATTEMPTS'));
    await expect(login('right-password', home)).resolves.toMatchObject({ accessToken: 'access' });
  });

  it('refuses the flood from a shared address (one hospital NAT), but not a user known there', async () => {
    const { login } = await signInService(new QuickHasher());
    const hospital = '192.0.2.10';
    await login('right-password', hospital);
    for (let attempt = 0; attempt < 50; attempt += 1) {
      await expect(login('guess', hospital, `made-up-${attempt}`)).rejects.toEqual(
        refusedWith('UNAUTHENTICATED'),
      );
    }
    await expect(login('guess', hospital, 'made-up-50')).rejects.toEqual(
      refusedWith('TOO_MANY_ATTEMPTS'),
    );
    await expect(login('right-password', hospital)).resolves.toMatchObject({
      accessToken: 'access',
    });
  });

  it('counts parallel guesses before checking any password: of 30 at once, at most 10 are checked', async () => {
    const { login } = await signInService(new QuickHasher());
    const verify = vi.spyOn(argon2, 'verify');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, attempt) => login(`guess-${attempt}`, '203.0.113.9')),
    );
    expect(verify.mock.calls.length).toBeLessThanOrEqual(10);
    const codes = outcomes.map((o) =>
      o.status === 'rejected' ? (o.reason as { code: string }).code : 'signed in',
    );
    expect(codes.filter((code) => code === 'TOO_MANY_ATTEMPTS')).toHaveLength(20);
  });

  it('checks an unknown username against a hash with the same parameters as a real password', async () => {
    const { login } = await signInService(new SecretHasher());
    const verify = vi.spyOn(argon2, 'verify');
    await expect(login('wrong', '192.0.2.1')).rejects.toEqual(refusedWith('UNAUTHENTICATED'));
    await expect(login('wrong', '192.0.2.1', 'nobody')).rejects.toEqual(
      refusedWith('UNAUTHENTICATED'),
    );
    const [known, unknown] = verifiedParameters(verify);
    expect(known).toMatch(/m=\d+/);
    expect(unknown).toBe(known);
  });
});
