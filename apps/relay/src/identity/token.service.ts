import { jwtVerify, SignJWT } from 'jose';
import { FACILITY_KINDS, ROLES, type SessionUser } from '#contracts';
import { z } from 'zod';

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
 * Short-lived HS256 access tokens (RFC 7519) carrying the user's role, facility and session
 * id; the guard also checks the session is live, so a logout refuses them at once.
 */
export class TokenService {
  private readonly key: Uint8Array;

  constructor(
    secret: string,
    readonly ttlSeconds: number,
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
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: 'telerelay',
        algorithms: ['HS256'],
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
