import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';

/** argon2id for passwords people choose: the library's memory-hard defaults. */
const PASSWORD_OPTIONS = { type: argon2.argon2id } as const;

/**
 * How a box secret is stored: `$hmac-sha256$<salt>$<tag>`, both base64url, the tag being
 * HMAC-SHA-256 of the secret keyed with a random salt of its own. Why not argon2 as for
 * passwords (docs/architecture.md, "Box secrets are keys, not passwords"): a box secret is
 * a random machine secret of at least 128 bits, so no slow hash makes guessing it any more
 * hopeless than it is, and argon2 at every CONNECT makes a region's reconnect storm
 * CPU-bound. The salt keeps two boxes given the same secret from showing it in a dump.
 */
const MACHINE_PREFIX = '$hmac-sha256$';
const SALT_BYTES = 16;
/** Stored before this format; still verified, and replaced at the box's next good CONNECT. */
const LEGACY_ARGON2_PREFIX = '$argon2';

/**
 * Passwords are kept as argon2id hashes (RFC 9106), box secrets as salted HMAC-SHA-256
 * (above); both are compared in constant time. An unknown user or device is checked
 * against a dummy of its kind, made the same way as real ones, so it costs the same time:
 * timing does not reveal which ids exist, and unknown device ids cannot buy a password's
 * CPU cost for the price of a CONNECT.
 */
export class SecretHasher {
  private dummyPassword: Promise<string> | undefined;
  private readonly dummyMachine = machineHash('telerelay-dummy-secret');

  hash(secret: string): Promise<string> {
    return argon2.hash(secret, PASSWORD_OPTIONS);
  }

  hashMachineSecret(secret: string): Promise<string> {
    return Promise.resolve(machineHash(secret));
  }

  /** A user's password; `hash` undefined when no such user exists. */
  async verifyPassword(hash: string | undefined, secret: string): Promise<boolean> {
    if (hash !== undefined) return this.verify(hash, secret);
    this.dummyPassword ??= this.hash('telerelay-dummy-secret');
    await this.verify(await this.dummyPassword, secret);
    return false;
  }

  /** A box's secret; `hash` undefined when no such box exists. */
  async verifyMachineSecret(hash: string | undefined, secret: string): Promise<boolean> {
    if (hash === undefined) {
      verifyMachineHash(this.dummyMachine, secret);
      return false;
    }
    if (hash.startsWith(LEGACY_ARGON2_PREFIX)) return this.verify(hash, secret);
    return verifyMachineHash(hash, secret);
  }

  /** True for a box secret stored in an older format, to be stored again after a good check. */
  machineHashIsOutdated(hash: string): boolean {
    return !hash.startsWith(MACHINE_PREFIX);
  }

  verify(hash: string, secret: string): Promise<boolean> {
    return argon2.verify(hash, secret).catch(() => false);
  }
}

function machineHash(secret: string): string {
  const salt = randomBytes(SALT_BYTES);
  return `${MACHINE_PREFIX}${salt.toString('base64url')}$${tag(salt, secret).toString('base64url')}`;
}

function tag(salt: Buffer, secret: string): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}

function verifyMachineHash(stored: string, secret: string): boolean {
  if (!stored.startsWith(MACHINE_PREFIX)) return false;
  const [salt, expected] = stored.slice(MACHINE_PREFIX.length).split('$');
  if (salt === undefined || expected === undefined) return false;
  const wanted = Buffer.from(expected, 'base64url');
  const actual = tag(Buffer.from(salt, 'base64url'), secret);
  return wanted.length === actual.length && timingSafeEqual(wanted, actual);
}
