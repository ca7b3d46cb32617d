import argon2 from 'argon2';

/**
 * Passwords and device secrets are kept as argon2id hashes (RFC 9106); verification is
 * constant-time inside argon2. A fixed dummy hash lets an unknown user or device cost
 * the same time as a known one, so timing does not reveal which ids exist.
 */
export class SecretHasher {
  private dummy: Promise<string> | undefined;

  hash(secret: string): Promise<string> {
    return argon2.hash(secret, { type: argon2.argon2id });
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
