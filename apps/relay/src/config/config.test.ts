import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { TEST_PATIENT_KEYS } from './testing/patient-keys.js';

describe('loadConfig', () => {
  it('gives working single-machine defaults when nothing is set', () => {
    const config = loadConfig(TEST_PATIENT_KEYS);
    expect(config.http.port).toBe(3000);
    expect(config.mqtt.port).toBe(1883);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redis.url).toBeUndefined();
    expect(config.dataDir.endsWith('/data')).toBe(true);
    expect(config.demo.enabled).toBe(false);
  });

  it('runs every role on one instance with its own embedded stores, blobs in the data directory', () => {
    const config = loadConfig(TEST_PATIENT_KEYS);
    expect(config.roles).toEqual({ broker: true, api: true, worker: true });
    expect(config.cluster).toBe(false);
    expect(config.blobDir).toBe(`${config.dataDir}/blobs`);
    expect(loadConfig({ ...TEST_PATIENT_KEYS, BLOB_DIR: '/srv/blobs' }).blobDir).toBe('/srv/blobs');
  });

  describe('ROLES and CLUSTER (docs/scaling.md)', () => {
    const shared = {
      ...TEST_PATIENT_KEYS,
      CLUSTER: 'true',
      DATABASE_URL: 'postgres://relay@db.internal:5432/telerelay',
      REDIS_URL: 'redis://redis.internal:6379',
      AUTH_SECRET: 'a-signing-key-of-at-least-thirty-two-chars',
    };
    const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
      try {
        loadConfig(env);
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
      return [];
    };

    it('takes any mix of broker, api and worker on an instance of a cluster', () => {
      expect(loadConfig({ ...shared, ROLES: 'api' }).roles).toEqual({
        broker: false,
        api: true,
        worker: false,
      });
      expect(loadConfig({ ...shared, ROLES: ' worker , broker ' }).roles).toEqual({
        broker: true,
        api: false,
        worker: true,
      });
      expect(loadConfig(shared).cluster).toBe(true);
    });

    it('refuses an unknown, repeated or empty role, naming the key', () => {
      for (const ROLES of ['api,mqtt', 'api,api', ',', 'API']) {
        const problems = problemsOf({ ...shared, ROLES });
        expect(problems, ROLES).toHaveLength(1);
        expect(problems[0]).toMatch(
          /^ROLES: must be a comma-separated list of broker, api, worker/,
        );
      }
    });

    it('refuses a cluster on the embedded PGlite or redis-server, or without a shared signing key', () => {
      const problems = problemsOf({ ...TEST_PATIENT_KEYS, CLUSTER: 'true' });
      expect(problems).toEqual([
        expect.stringMatching(/^DATABASE_URL: required when CLUSTER=true/),
        expect.stringMatching(/^REDIS_URL: required when CLUSTER=true/),
        expect.stringMatching(/^AUTH_SECRET: required when CLUSTER=true/),
      ]);
    });

    it('refuses an instance without every role outside a cluster: nobody would run the rest', () => {
      const { CLUSTER: _, ...alone } = shared;
      expect(problemsOf({ ...alone, ROLES: 'broker,api' })).toEqual([
        expect.stringMatching(/^ROLES: .*set CLUSTER=true/),
      ]);
    });
  });

  it('lists every bad key and never echoes a value', () => {
    const secret = 'short-secret-value';
    let error: unknown;
    try {
      loadConfig({
        ...TEST_PATIENT_KEYS,
        PORT: 'eighty',
        AUTH_SECRET: secret,
        DATABASE_URL: 'mysql://x/y',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/PORT/);
    expect(problems).toMatch(/AUTH_SECRET/);
    expect(problems).toMatch(/DATABASE_URL/);
    expect((error as Error).message).not.toContain(secret);
    expect((error as Error).message).not.toContain('eighty');
  });

  it('runs the DICOM listener on 11112 as TELERELAY by default, on a free port with 0, not at all with off', () => {
    expect(loadConfig(TEST_PATIENT_KEYS).dicom).toEqual({
      port: 11112,
      aeTitle: 'TELERELAY',
      maxAssociations: 32,
    });
    expect(
      loadConfig({ ...TEST_PATIENT_KEYS, DICOM_PORT: '0', DICOM_AE_TITLE: ' RELAY_1 ' }).dicom,
    ).toMatchObject({
      port: 0,
      aeTitle: 'RELAY_1',
    });
    expect(loadConfig({ ...TEST_PATIENT_KEYS, DICOM_PORT: 'off' }).dicom).toBeUndefined();
    expect(() => loadConfig({ ...TEST_PATIENT_KEYS, DICOM_PORT: 'eleven' })).toThrow(/DICOM_PORT/);
    expect(() =>
      loadConfig({ ...TEST_PATIENT_KEYS, DICOM_AE_TITLE: 'MORE_THAN_16_CHARACTERS' }),
    ).toThrow(/DICOM_AE_TITLE: must be 1-16/);
  });

  it('reads SOCKET_ORIGINS as a list of origins and refuses anything else', () => {
    expect(loadConfig(TEST_PATIENT_KEYS).socketOrigins).toEqual([]);
    expect(
      loadConfig({
        ...TEST_PATIENT_KEYS,
        SOCKET_ORIGINS: 'https://a.example.org, http://localhost:5173',
      }).socketOrigins,
    ).toEqual(['https://a.example.org', 'http://localhost:5173']);
    expect(() =>
      loadConfig({ ...TEST_PATIENT_KEYS, SOCKET_ORIGINS: 'https://a.example.org/console' }),
    ).toThrow(/SOCKET_ORIGINS/);
  });

  it('passes TRUST_PROXY to Express as a hop count or a list of proxies', () => {
    expect(loadConfig(TEST_PATIENT_KEYS).http.trustProxy).toBe('loopback');
    expect(loadConfig({ ...TEST_PATIENT_KEYS, TRUST_PROXY: '1' }).http.trustProxy).toBe(1);
    expect(
      loadConfig({ ...TEST_PATIENT_KEYS, TRUST_PROXY: '10.0.0.0/8, loopback' }).http.trustProxy,
    ).toBe('10.0.0.0/8, loopback');
  });

  it('keeps /metrics closed without METRICS_TOKEN, and refuses a short token without echoing it', () => {
    expect(loadConfig(TEST_PATIENT_KEYS).metrics.token).toBeUndefined();
    const token = 'm'.repeat(40);
    expect(loadConfig({ ...TEST_PATIENT_KEYS, METRICS_TOKEN: token }).metrics.token).toBe(token);
    expect(() => loadConfig({ ...TEST_PATIENT_KEYS, METRICS_TOKEN: 'short-token' })).toThrow(
      /METRICS_TOKEN: must be at least 32 characters/,
    );
    expect(() => loadConfig({ ...TEST_PATIENT_KEYS, METRICS_TOKEN: 'short-token' })).not.toThrow(
      /short-token/,
    );
    expect(loadConfig(TEST_PATIENT_KEYS).shutdownGraceMs).toBe(10_000);
    expect(() => loadConfig({ ...TEST_PATIENT_KEYS, SHUTDOWN_GRACE_MS: '5' })).toThrow(
      /SHUTDOWN_GRACE_MS/,
    );
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ ...TEST_PATIENT_KEYS, REDIS_URL: '', PORT: '' }).http.port).toBe(3000);
  });
});

describe('loadConfig for mqtts', () => {
  it('switches TLS on only with a port, a certificate and a key', () => {
    expect(loadConfig(TEST_PATIENT_KEYS).mqtt.tls).toBeUndefined();
    const tls = loadConfig({
      ...TEST_PATIENT_KEYS,
      MQTT_TLS_PORT: '8883',
      MQTT_TLS_CERT_FILE: 'c.pem',
      MQTT_TLS_KEY_FILE: 'k.pem',
    }).mqtt.tls;
    expect(tls).toEqual({ port: 8883, certFile: 'c.pem', keyFile: 'k.pem' });
  });

  it('names the missing TLS keys when only some are set', () => {
    expect(() => loadConfig({ ...TEST_PATIENT_KEYS, MQTT_TLS_PORT: '8883' })).toThrow(
      /MQTT_TLS_CERT_FILE[\s\S]*MQTT_TLS_KEY_FILE/,
    );
  });
});

describe('loadConfig for patient identity keys', () => {
  it('refuses to start without both keys unless DEMO, naming the keys but not their values', () => {
    expect(() => loadConfig({})).toThrow(/PATIENT_ID_HMAC_KEY[\s\S]*PATIENT_ID_KEYS/);
    const half = { PATIENT_ID_HMAC_KEY: TEST_PATIENT_KEYS.PATIENT_ID_HMAC_KEY, DEMO: 'true' };
    expect(() => loadConfig(half)).toThrow(/PATIENT_ID_KEYS/);
    const short = `k1:${Buffer.alloc(16, 1).toString('base64')}`;
    let message = '';
    try {
      loadConfig({ ...TEST_PATIENT_KEYS, PATIENT_ID_KEYS: short });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/PATIENT_ID_KEYS/);
    expect(message).not.toContain(short);
  });

  it('uses the demo keys under DEMO only, and says so', () => {
    const demo = loadConfig({ DEMO: 'true' }).patientIdentity;
    expect(demo.demo).toBe(true);
    const real = loadConfig(TEST_PATIENT_KEYS).patientIdentity;
    expect(real.demo).toBe(false);
    expect(real.sealKeys.map((key) => key.id)).toEqual(['t1']);
    expect(real.hmacKey.equals(demo.hmacKey)).toBe(false);
  });

  it('keeps the seal keys newest first and refuses a repeated key id', () => {
    const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
    const keys = loadConfig({
      ...TEST_PATIENT_KEYS,
      PATIENT_ID_KEYS: `k2:${key(2)}, k1:${key(1)}`,
    }).patientIdentity.sealKeys;
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(() =>
      loadConfig({ ...TEST_PATIENT_KEYS, PATIENT_ID_KEYS: `k1:${key(2)},k1:${key(1)}` }),
    ).toThrow(/PATIENT_ID_KEYS/);
  });
});
