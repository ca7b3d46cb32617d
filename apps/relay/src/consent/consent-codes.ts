import { createHmac, hkdfSync, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { CONSENT_CODE_DIGITS } from '#contracts';

/**
 * Verification codes: 6 digits from the CSPRNG (`crypto.randomInt`, uniform, no modulo
 * bias), kept only as an HMAC-SHA256 keyed from AUTH_SECRET over the request id, the patient
 * and the code. Why an HMAC and not argon2: a 6-digit code has a million values, so a slow
 * hash of it is still broken offline in minutes by anyone holding the database; a key the
 * database does not hold makes the stored hash useless on its own, and the code dies in
 * minutes anyway. Binding the request and patient into the MAC means a code can only ever
 * open the request it was sent for.
 */
export class ConsentCodes {
  private readonly key: Buffer;
  /** A hash no code can match, for the comparison made when there is nothing to compare. */
  readonly unmatchable: string;

  constructor(authSecret: string) {
    this.key = Buffer.from(
      hkdfSync('sha256', authSecret, Buffer.alloc(0), 'telerelay consent codes', 32),
    );
    this.unmatchable = this.mac('none', 'none', randomBytes(32).toString('hex'));
  }

  /** A new code and its stored hash for a request about a patient. */
  issue(requestId: string, patientId: string): { code: string; hash: string } {
    const code = String(randomInt(0, 10 ** CONSENT_CODE_DIGITS)).padStart(CONSENT_CODE_DIGITS, '0');
    return { code, hash: this.mac(requestId, patientId, code) };
  }

  /**
   * The hash stored for a request whose number matched no patient: the MAC of a random
   * 256-bit value, which no 6-digit code can match.
   */
  issueUnmatchable(requestId: string): string {
    return this.mac(requestId, 'none', randomBytes(32).toString('hex'));
  }

  /**
   * Constant-time comparison of a presented code with a stored hash; takes the same time
   * whatever the inputs, so it runs also when there was no request to check.
   */
  matches(storedHash: string, requestId: string, patientId: string, code: string): boolean {
    const presented = Buffer.from(this.mac(requestId, patientId, code), 'hex');
    const stored = Buffer.from(storedHash, 'hex');
    return stored.length === presented.length && timingSafeEqual(stored, presented);
  }

  private mac(requestId: string, patientId: string, code: string): string {
    return createHmac('sha256', this.key)
      .update(`${requestId}\u0000${patientId}\u0000${code}`)
      .digest('hex');
  }
}
