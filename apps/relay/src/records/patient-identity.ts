import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { maskIdentifier, type DocumentType } from '#contracts';
import type { PatientSealKey } from '../config/config.js';

/** NIST SP 800-38D §8.2: a 96-bit IV, random per seal (a key seals far fewer than 2^32). */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEALED_FORMAT = /^([\w-]{1,16})\.([A-Za-z0-9_-]+)$/;

export class SealedIdentifierError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedIdentifierError';
  }
}

/**
 * Everything the relay does with a patient's identifier number (docs/patients.md,
 * "Protected identity"): find it by a keyed hash, keep it sealed, show it masked. The number
 * itself goes nowhere else: not in logs, URLs, Redis, job data, socket payloads or audit rows.
 */
export class PatientIdentity {
  private readonly sealKeys: ReadonlyMap<string, Buffer>;
  private readonly currentKeyId: string;

  constructor(keys: { hmacKey: Buffer; sealKeys: PatientSealKey[] }) {
    const [current] = keys.sealKeys;
    if (!current) throw new Error('PatientIdentity needs at least one seal key');
    this.hmacKey = keys.hmacKey;
    this.currentKeyId = current.id;
    this.sealKeys = new Map(keys.sealKeys.map((key) => [key.id, key.key]));
  }

  private readonly hmacKey: Buffer;

  /**
   * The lookup key: HMAC-SHA256 (RFC 2104) of the document type and the number, hex. Without
   * the key, a table of all 10^17 possible national IDs cannot be matched against it.
   */
  lookupKey(documentType: DocumentType, number: string): string {
    return createHmac('sha256', this.hmacKey)
      .update(`${documentType}\u0000${normalise(number)}`)
      .digest('hex');
  }

  /**
   * AES-256-GCM under the newest key: `<keyId>.<base64url(iv ‖ tag ‖ ciphertext)>`. The key
   * id is bound as additional data, so a value cannot be moved under another key's name.
   */
  seal(number: string): string {
    const key = this.sealKeys.get(this.currentKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(this.currentKeyId));
    const ciphertext = Buffer.concat([cipher.update(normalise(number), 'utf8'), cipher.final()]);
    const body = Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
    return `${this.currentKeyId}.${body}`;
  }

  /** Opens a value sealed under any configured key (old keys stay until re-sealed). */
  open(sealed: string): string {
    const match = SEALED_FORMAT.exec(sealed);
    if (!match) throw new SealedIdentifierError('not a sealed identifier');
    const [, keyId, body] = match as unknown as [string, string, string];
    const key = this.sealKeys.get(keyId);
    if (!key)
      throw new SealedIdentifierError(`sealed with key "${keyId}", which is not configured`);
    const bytes = Buffer.from(body, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES)
      throw new SealedIdentifierError('sealed value too short');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(keyId));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SealedIdentifierError(`sealed value does not authenticate under key "${keyId}"`);
    }
  }

  /** True when `sealed` is under an older key and should be sealed again (rotation). */
  needsReseal(sealed: string): boolean {
    return !sealed.startsWith(`${this.currentKeyId}.`);
  }

  mask(number: string): string {
    return maskIdentifier(normalise(number));
  }
}

/** One spelling per number: surrounding space dropped, letters upper case (`x` → `X`). */
function normalise(number: string): string {
  return number.trim().toUpperCase();
}
