import argon2 from 'argon2';

/**
 * Passwords and device secrets are kept as argon2id hashes (RFC 9106); verification is
 * constant-time inside argon2. A fixed dummy hash lets an unknown user or device cost
 * the same time as a known one, so timing does not reveal which ids exist.
 */
export class SecretHasher {
  private dummy: Promise<string> | undefined;

  /** For passwords people choose: argon2id with the library's memory-hard defaults. */
  hash(secret: string): Promise<string> {
    return argon2.hash(secret, { type: argon2.argon2id });
  }

  /**
   * For device secrets: random, at least 128 bits, so guessing is hopeless whatever the cost
   * per guess; light argon2id parameters (RFC 9106 §4 allows tuning to the threat) keep a
   * reconnect storm of a thousand boxes from costing a minute of CPU at CONNECT.
   */
  hashMachineSecret(secret: string): Promise<string> {
    return argon2.hash(secret, {
      type: argon2.argon2id,
      memoryCost: 4096,
      timeCost: 2,
      parallelism: 1,
    });
  }

  async verify(hash: string | undefined, secret: string): Promise<boolean> {
    if (hash === undefined) {
      this.dummy ??= this.hash('telerelay-dummy-secret');
      await argon2.verify(await this.dummy, secret).catch(() => false);
      return false;
    }
    return argon2.verify(hash, secret).catch(() => false);
  }
}
