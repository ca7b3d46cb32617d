import { jwtVerify, SignJWT } from 'jose';
import { FACILITY_KINDS, ROLES, type SessionUser } from '#contracts';
import { z } from 'zod';
import { SystemClock, type Clock } from '../common/clock.js';

const Claims = z.object({
  sub: z.string(),
  usr: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  fac: z.string(),
  fk: z.enum(FACILITY_KINDS),
  sid: z.string(),
  exp: z.number(),
});

/** A verified access token: who, and which session (sign-in) it belongs to. */
export interface AccessClaims {
  user: SessionUser;
  sessionId: string;
  /** When the token stops being accepted; an open socket is closed then. */
  expiresAt: Date;
}

/**
 * How many verified tokens are remembered. A client sends the same token with every request
 * until it expires, so a few per signed-in user cover every caller; past this the cache is
 * emptied and refilled (as SessionsService's liveness cache is).
 */
const VERIFIED_CACHE_MAX = 10_000;

/**
 * Short-lived HS256 access tokens (RFC 7519) carrying the user's role, facility and session
 * id; the guard also checks the session is live, so a logout refuses them at once.
 */
export class TokenService {
  private readonly key: Uint8Array;
  /**
   * Tokens whose signature and claims were checked, by their exact text, until they expire.
   * jose verifies HS256 through WebCrypto, whose jobs run on libuv's thread pool: under
   * concurrent DICOM uploads every request's check waited behind the pool's fsyncs and cost
   * the relay's thread about 5 % of its time (docs/imaging.md, "Speed and durability").
   * The same bytes verify the same way, so only the expiry is checked again.
   */
  private readonly verified = new Map<string, AccessClaims>();

  constructor(
    secret: string,
    readonly ttlSeconds: number,
    private readonly clock: Clock = new SystemClock(),
  ) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(user: SessionUser, sessionId: string): Promise<string> {
    return new SignJWT({
      sid: sessionId,
      usr: user.username,
      name: user.displayName,
      role: user.role,
      fac: user.facilityId,
      fk: user.facilityKind,
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setIssuer('telerelay')
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.key);
  }

  /** Returns null for anything that is not a valid, unexpired token of ours. */
  async verify(token: string): Promise<AccessClaims | null> {
    const known = this.verified.get(token);
    if (known) {
      // jose's rule (RFC 7519 §4.1.4): refused once the current whole second reaches exp.
      if (Math.floor(this.clock.now().getTime() / 1000) < known.expiresAt.getTime() / 1000) {
        // A copy: what a caller does to its claims must not reach the next request.
        return { ...known, user: { ...known.user } };
      }
      this.verified.delete(token);
      return null;
    }
    const claims = await this.check(token);
    if (claims) {
      if (this.verified.size >= VERIFIED_CACHE_MAX) this.verified.clear();
      this.verified.set(token, claims);
    }
    return claims;
  }

  private async check(token: string): Promise<AccessClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: 'telerelay',
        algorithms: ['HS256'],
        // The same time as the cache's expiry check.
        currentDate: this.clock.now(),
      });
      const claims = Claims.parse(payload);
      return {
        user: {
          id: claims.sub,
          username: claims.usr,
          displayName: claims.name,
          role: claims.role,
          facilityId: claims.fac,
          facilityKind: claims.fk,
        },
        sessionId: claims.sid,
        expiresAt: new Date(claims.exp * 1000),
      };
    } catch {
      return null;
    }
  }
}
