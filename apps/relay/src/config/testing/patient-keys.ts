/**
 * Patient identity keys for tests that load the configuration without DEMO (which would
 * otherwise refuse to start without them). Test-only values, never used by a relay.
 */
export const TEST_PATIENT_KEYS = {
  PATIENT_ID_HMAC_KEY: Buffer.alloc(32, 0x11).toString('base64'),
  PATIENT_ID_KEYS: `t1:${Buffer.alloc(32, 0x22).toString('base64')}`,
} as const;
