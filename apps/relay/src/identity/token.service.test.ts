import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SessionUser } from '#contracts';
import { TokenService } from './token.service.js';

const reader: SessionUser = {
  id: '00000000-0000-4000-8000-000000000001',
  username: 'county1.reader',
  displayName: 'County 1 reader',
  role: 'reader',
  facilityId: 'county-1',
  facilityKind: 'county',
};

describe('TokenService', () => {
  const tokens = new TokenService('x'.repeat(32), 900);

  const sid = '00000000-0000-4000-8000-0000000000aa';

  it('round-trips the session user and the session id, and says when the token expires', async () => {
    const issuedAt = Date.now();
    const claims = await tokens.verify(await tokens.issue(reader, sid));
    expect(claims).toMatchObject({ user: reader, sessionId: sid });
    // JWT times are whole seconds (RFC 7519 §2 NumericDate).
    const expiresInMs = (claims?.expiresAt.getTime() ?? 0) - issuedAt;
    expect(expiresInMs).toBeGreaterThan(899_000);
    expect(expiresInMs).toBeLessThanOrEqual(901_000);
  });

  it('refuses a token signed with another key or tampered with', async () => {
    const other = new TokenService('y'.repeat(32), 900);
    expect(await tokens.verify(await other.issue(reader, sid))).toBeNull();
    const token = await tokens.issue(reader, sid);
    const [header, , signature] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: reader.id, role: 'admin' })).toString(
      'base64url',
    );
    expect(await tokens.verify(`${header}.${forged}.${signature}`)).toBeNull();
    expect(await tokens.verify('not-a-token')).toBeNull();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses a token it has already verified once it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const shortLived = new TokenService('z'.repeat(32), 60);
    const token = await shortLived.issue(reader, sid);
    expect(await shortLived.verify(token)).toMatchObject({ user: reader });
    // The second check is answered from what the first one verified.
    expect(await shortLived.verify(token)).toMatchObject({ user: reader, sessionId: sid });
    vi.setSystemTime(Date.now() + 61_000);
    expect(await shortLived.verify(token)).toBeNull();
  });

  it('gives each caller its own claims', async () => {
    const token = await tokens.issue(reader, sid);
    const first = await tokens.verify(token);
    first!.user.role = 'admin';
    expect((await tokens.verify(token))?.user.role).toBe('reader');
  });
});
