import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CreateDeviceRequestSchema, RegionFileSchema, deviceSecretBitsCeiling } from '#contracts';

const request = (secret: string) =>
  CreateDeviceRequestSchema.safeParse({ id: 'box-9', facilityId: 'clinic-1', secret });

describe('box secrets given by an administrator or a region file', () => {
  it('accepts random secrets of 128 bits or more in hex, base64url or printable ASCII', () => {
    for (const secret of [
      randomBytes(16).toString('hex'),
      randomBytes(16).toString('hex').toUpperCase(),
      randomBytes(17).toString('base64url'),
      randomBytes(32).toString('base64url'),
      'v8#Qz!m2@Lp9$Wx4^Rt7&',
    ]) {
      expect(request(secret).success, secret).toBe(true);
    }
  });

  it('refuses what is too short or too repetitive to hold 128 random bits, and says how long is enough', () => {
    for (const secret of [
      randomBytes(15).toString('hex'),
      randomBytes(15).toString('base64url').slice(0, 21),
      'a'.repeat(64),
      'abcabcabcabcabcabcabcabcabcabcabc',
      'password-1234',
    ]) {
      const result = request(secret);
      expect(result.success, secret).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/128 bits: e\.g\. 32 hex digits/);
    }
  });

  it('counts bits by the smallest usual alphabet the secret fits', () => {
    expect(deviceSecretBitsCeiling('0123456789abcdef'.repeat(2))).toBe(128);
    expect(deviceSecretBitsCeiling('0123456789abcdefghijkl')).toBe(132);
    expect(deviceSecretBitsCeiling('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).toBe(0);
  });

  it('takes a secret hash in the stored formats in a region file, and nothing else', () => {
    const region = (secretHash: string) =>
      RegionFileSchema.safeParse({
        facilities: [{ id: 'clinic-1', kind: 'clinic', name: 'Clinic', parentId: null }],
        devices: [{ id: 'box-1', facilityId: 'clinic-1', secretHash }],
      }).success;
    expect(region('$hmac-sha256$c2FsdA$dGFn')).toBe(true);
    expect(region('$argon2id$v=19$m=4096,t=2,p=1$abc$def')).toBe(true);
    expect(region('$sha1$abc')).toBe(false);
  });
});
