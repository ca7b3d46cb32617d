import argon2 from 'argon2';

/** argon2id for passwords people choose: the library's memory-hard defaults. */
const PASSWORD_OPTIONS = { type: argon2.argon2id } as const;

/**
 * argon2id for device secrets: random, at least 128 bits, so guessing is hopeless whatever
 * the cost per guess; light parameters (RFC 9106 §4 allows tuning to the threat) keep a
 * reconnect storm of a thousand boxes from costing a minute of CPU at CONNECT.
 */
const MACHINE_SECRET_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 4096,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * Passwords and device secrets are kept as argon2id hashes (RFC 9106); verification is
 * constant-time inside argon2. An unknown user or device is checked against a dummy hash
 * made with the same parameters as the real ones of its kind, so it costs the same time:
 * timing does not reveal which ids exist, and unknown device ids cannot buy a password's
 * CPU cost for the price of a CONNECT.
 */
export class SecretHasher {
  private readonly dummies = new Map<'password' | 'machine', Promise<string>>();

  hash(secret: string): Promise<string> {
    return argon2.hash(secret, PASSWORD_OPTIONS);
  }

  hashMachineSecret(secret: string): Promise<string> {
    return argon2.hash(secret, MACHINE_SECRET_OPTIONS);
  }

  /** A user's password; `hash` undefined when no such user exists. */
  verifyPassword(hash: string | undefined, secret: string): Promise<boolean> {
    return this.verifyOrDummy(hash, secret, 'password');
  }

  /** A box's secret; `hash` undefined when no such box exists. */
  verifyMachineSecret(hash: string | undefined, secret: string): Promise<boolean> {
    return this.verifyOrDummy(hash, secret, 'machine');
  }

  verify(hash: string, secret: string): Promise<boolean> {
    return argon2.verify(hash, secret).catch(() => false);
  }

  private async verifyOrDummy(
    hash: string | undefined,
    secret: string,
    kind: 'password' | 'machine',
  ): Promise<boolean> {
    if (hash !== undefined) return this.verify(hash, secret);
    let dummy = this.dummies.get(kind);
    if (!dummy) {
      dummy =
        kind === 'password'
          ? this.hash('telerelay-dummy-secret')
          : this.hashMachineSecret('telerelay-dummy-secret');
      this.dummies.set(kind, dummy);
    }
    await this.verify(await dummy, secret);
    return false;
  }
}
