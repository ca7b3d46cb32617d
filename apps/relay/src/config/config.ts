import { join, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_THREADPOOL_SIZE, MAX_THREADPOOL_SIZE } from '../threadpool.js';

/**
 * Every setting the relay reads, with a default that works on one machine.
 * `.env.example` lists the same keys; keep the two in step.
 */
const port = z.coerce.number().int().min(0).max(65535);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export interface PatientSealKey {
  id: string;
  key: Buffer;
}

/** What an instance runs (docs/scaling.md); every instance of a region may run a different mix. */
export const ROLE_NAMES = ['broker', 'api', 'worker'] as const;
export type Role = (typeof ROLE_NAMES)[number];

/** `broker,api` → the set; null when an entry is unknown, repeated, or the list is empty. */
function parseRoles(value: string): Set<Role> | null {
  const entries = value.split(',').map((part) => part.trim());
  const roles = new Set<Role>();
  for (const entry of entries) {
    if (!(ROLE_NAMES as readonly string[]).includes(entry) || roles.has(entry as Role)) return null;
    roles.add(entry as Role);
  }
  return roles.size > 0 ? roles : null;
}

const PATIENT_KEYS_FORMAT =
  'must be keyId:base64 of 32 bytes, comma-separated, ids of 1-16 letters/digits/_/- and unique';

/** `k2:base64,k1:base64` → the keys, newest first; null when any entry is malformed. */
function parsePatientKeys(value: string): PatientSealKey[] | null {
  const keys: PatientSealKey[] = [];
  for (const entry of value.split(',').map((part) => part.trim())) {
    const match = /^([\w-]{1,16}):([A-Za-z0-9+/]+={0,2})$/.exec(entry);
    if (!match) return null;
    const key = Buffer.from(match[2]!, 'base64');
    if (key.length !== 32 || keys.some((known) => known.id === match[1])) return null;
    keys.push({ id: match[1]!, key });
  }
  return keys.length > 0 ? keys : null;
}

const ConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: port.default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    TRUST_PROXY: z
      .string()
      .regex(/^[\w.:/, -]+$/, 'a hop count, or comma-separated addresses, subnets or names')
      .default('loopback')
      .describe("whose X-Forwarded-For gives the client's address (Express 'trust proxy')"),
    SOCKET_ORIGINS: z
      .string()
      .optional()
      .describe('comma-separated origins allowed to open Socket.IO besides the relay itself'),
    MQTT_PORT: port.default(1883),
    MQTT_TLS_PORT: port
      .optional()
      .describe('mqtts listener; needs MQTT_TLS_CERT_FILE and MQTT_TLS_KEY_FILE'),
    MQTT_PROXY_PROTOCOL: flag
      .default(false)
      .describe(
        'connections on MQTT_PORT start with a PROXY protocol header naming the box address (HAProxy send-proxy-v2)',
      ),
    MQTT_TLS_CERT_FILE: z.string().min(1).optional(),
    MQTT_TLS_KEY_FILE: z.string().min(1).optional(),
    MQTT_CONNECTS_PER_DEVICE_PER_MINUTE: z.coerce.number().int().min(1).default(30),
    MQTT_CONNECTS_PER_ADDRESS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
    // The largest chunk frame is 64 KiB; the rest is room for the topic and the header.
    MQTT_MAX_PACKET_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(66_560),
    DICOM_PORT: z
      .union([z.literal('off'), port])
      .default(11112)
      .describe('DICOM listener (C-ECHO, C-STORE); 0 = any free port, off = no listener'),
    DICOM_AE_TITLE: z
      .string()
      .regex(
        /^[\x20-\x5B\x5D-\x7E]{1,16}$/,
        'must be 1-16 printable ASCII characters, no backslash',
      )
      .refine((title) => title.trim() !== '', 'must not be only spaces')
      .default('TELERELAY')
      .describe("the relay's own AE title: the called AE title modalities must use"),
    DICOM_MAX_ASSOCIATIONS: z.coerce.number().int().min(1).max(1000).default(32),
    DATA_DIR: z.string().min(1).default('./data'),
    BLOB_DIR: z
      .string()
      .min(1)
      .optional()
      .describe('ECG samples and DICOM files; unset = DATA_DIR/blobs. Shared by every instance'),
    ROLES: z
      .string()
      .refine(
        (value) => parseRoles(value) !== null,
        `must be a comma-separated list of ${ROLE_NAMES.join(', ')}, each at most once`,
      )
      .default(ROLE_NAMES.join(','))
      .describe('what this instance runs: MQTT+DICOM listeners, HTTP+Socket.IO, queue workers'),
    CLUSTER: flag
      .default(false)
      .describe('one of several instances on one DATABASE_URL and REDIS_URL (docs/scaling.md)'),
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/ })
      .optional()
      .describe('postgres://user:pass@host:5432/db; unset = embedded PGlite in DATA_DIR'),
    REDIS_URL: z
      .url({ protocol: /^rediss?$/ })
      .optional()
      .describe('redis://host:6379; unset = a private redis-server started from PATH'),
    REDIS_SERVER_BIN: z.string().min(1).default('redis-server'),
    AUTH_SECRET: z
      .string()
      .min(32, 'must be at least 32 characters')
      .optional()
      .describe('HMAC key for access tokens; unset = generated once and kept in DATA_DIR'),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
    // A session's whole life: rotation does not extend it, so a stolen one ends anyway.
    REFRESH_TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(300)
      .max(30 * 86_400)
      .default(43_200),
    REGION_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('JSON region (facilities, users, devices) applied idempotently at start'),
    DEMO: flag.default(false),
    DEMO_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    // docs/operations.md, "Metrics" and "Stopping".
    METRICS_TOKEN: z
      .string()
      .min(32, 'must be at least 32 characters')
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
      .optional()
      .describe('Bearer token Prometheus sends to scrape /metrics; unset = /metrics answers 404'),
    SHUTDOWN_GRACE_MS: z.coerce
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(10_000)
      .describe('How long SIGTERM/SIGINT waits for in-flight recordings and jobs before exiting'),
    ECG_SLA_SECONDS: z.coerce.number().int().min(10).default(180),
    ECG_STAT_SLA_SECONDS: z.coerce.number().int().min(10).default(60),
    IMAGING_SLA_SECONDS: z.coerce.number().int().min(10).default(3600),
    IMAGING_STAT_SLA_SECONDS: z.coerce.number().int().min(10).default(900),
    CLAIM_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(120),
    RECORDING_MAX_OPEN_PER_BOX: z.coerce.number().int().min(1).max(1000).default(8),
    RECORDING_OPEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(600)
      .max(7 * 86_400)
      .default(21_600),
    // Outpatient records are kept at least 15 years (医疗机构病历管理规定 Art. 29), and the
    // trail of who reached them goes with them; network logs at least six months
    // (网络安全法 Art. 21), hence the floor. docs/architecture.md, "Retention".
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(183).default(5_480),
    SESSION_RETENTION_DAYS: z.coerce.number().int().min(1).default(7),
    CLINIC_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
    RETENTION_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(60).default(3_600),
    // docs/imaging.md, "Limits".
    DICOM_MAX_REQUEST_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(4 * 1024 ** 3),
    DICOM_MAX_INSTANCE_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(2 ** 31 - 1)
      .default(512 * 1024 ** 2),
    DICOM_MIN_FREE_DISK_BYTES: z.coerce
      .number()
      .int()
      .min(0)
      .default(2 * 1024 ** 3),
    // Up to this, a received instance is held in memory instead of a scratch file (0: never).
    DICOM_IN_MEMORY_INSTANCE_BYTES: z.coerce
      .number()
      .int()
      .min(0)
      .max(256 * 1024 ** 2)
      .default(8 * 1024 ** 2),
    DICOM_PARSE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
    DICOM_PARSE_THREADS: z.coerce.number().int().min(1).max(64).default(2),
    IMAGING_QUIET_SECONDS: z.coerce.number().int().min(1).max(86_400).default(120),
    // docs/ecg-upload.md: one uploaded ECG file (SCP-ECG, HL7 aECG, DICOM); read whole.
    ECG_FILE_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(256 * 1024 ** 2)
      .default(32 * 1024 ** 2),
    UV_THREADPOOL_SIZE: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_THREADPOOL_SIZE)
      .default(DEFAULT_THREADPOOL_SIZE)
      .describe("libuv's threads for file system calls and fsyncs; set by main.js at start"),
    // docs/consent.md. Fractions of a minute are allowed so a test can watch a code or a
    // grant run out; a code never lives longer than 10 minutes (issue 13).
    CONSENT_CODE_MINUTES: z.coerce.number().min(0.05).max(10).default(5),
    CONSENT_GRANT_MINUTES: z.coerce
      .number()
      .min(0.05)
      .max(24 * 60)
      .default(30),
    // docs/consent.md, "SMS gateway": both or neither; without them no SMS is sent.
    CONSENT_SMS_URL: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .optional()
      .describe("The SMS gateway's endpoint: JSON POST {phoneNumber, message}"),
    CONSENT_SMS_TOKEN: z
      .string()
      .min(16, 'must be at least 16 characters')
      .optional()
      .describe('Bearer token for the SMS gateway'),
    CONSENT_SMS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    CONSENT_SMS_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
    CONSENT_SMS_BACKOFF_MS: z.coerce.number().int().min(1).max(60_000).default(1_000),
    // docs/patients.md, "Protected identity".
    PATIENT_ID_HMAC_KEY: z
      .base64('must be base64')
      .refine((value) => Buffer.from(value, 'base64').length >= 32, 'must be at least 32 bytes')
      .optional()
      .describe('base64 HMAC-SHA256 key for patient identifier lookup; required unless DEMO'),
    PATIENT_ID_KEYS: z
      .string()
      .refine((value) => parsePatientKeys(value) !== null, PATIENT_KEYS_FORMAT)
      .optional()
      .describe('AES-256-GCM keys sealing identifiers, newest first; required unless DEMO'),
    REPEAT_EXAM_WINDOW_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
  })
  .superRefine((c, context) => {
    // DEMO may use its demo keys, but never half of a real pair.
    const patientKeys = [c.PATIENT_ID_HMAC_KEY, c.PATIENT_ID_KEYS].filter((v) => v !== undefined);
    if (!c.DEMO || patientKeys.length === 1) {
      for (const key of ['PATIENT_ID_HMAC_KEY', 'PATIENT_ID_KEYS'] as const) {
        if (c[key] === undefined) {
          context.addIssue({
            code: 'custom',
            path: [key],
            message: 'required unless DEMO=true (then set both or neither)',
          });
        }
      }
    }
    if ((c.CONSENT_SMS_URL === undefined) !== (c.CONSENT_SMS_TOKEN === undefined)) {
      for (const key of ['CONSENT_SMS_URL', 'CONSENT_SMS_TOKEN'] as const) {
        if (c[key] === undefined) {
          context.addIssue({
            code: 'custom',
            path: [key],
            message: 'set both CONSENT_SMS_URL and CONSENT_SMS_TOKEN, or neither',
          });
        }
      }
    }
    for (const origin of originList(c.SOCKET_ORIGINS)) {
      if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
        context.addIssue({
          code: 'custom',
          path: ['SOCKET_ORIGINS'],
          message: 'each entry must be an origin such as https://console.example.org',
        });
      }
    }
    // Instances share state only through PostgreSQL and Redis: an embedded PGlite or
    // redis-server is private to the one process that started it. A token signed by one
    // instance must be good on the next, so none may generate a signing key of its own.
    if (c.CLUSTER) {
      for (const key of ['DATABASE_URL', 'REDIS_URL', 'AUTH_SECRET'] as const) {
        if (c[key] === undefined) {
          context.addIssue({
            code: 'custom',
            path: [key],
            message:
              key === 'AUTH_SECRET'
                ? 'required when CLUSTER=true: every instance signs and checks tokens with the same key'
                : 'required when CLUSTER=true: instances share PostgreSQL and Redis, never the embedded PGlite or redis-server',
          });
        }
      }
    } else if (parseRoles(c.ROLES)?.size !== ROLE_NAMES.length) {
      context.addIssue({
        code: 'custom',
        path: ['ROLES'],
        message:
          'an instance without every role needs others to run the rest: set CLUSTER=true (with DATABASE_URL and REDIS_URL)',
      });
    }
    const tls = [c.MQTT_TLS_PORT, c.MQTT_TLS_CERT_FILE, c.MQTT_TLS_KEY_FILE].filter(
      (v) => v !== undefined,
    );
    if (tls.length > 0 && tls.length < 3) {
      for (const key of ['MQTT_TLS_PORT', 'MQTT_TLS_CERT_FILE', 'MQTT_TLS_KEY_FILE'] as const) {
        if (c[key] === undefined) {
          context.addIssue({
            code: 'custom',
            path: [key],
            message: 'required when any MQTT_TLS_* key is set',
          });
        }
      }
    }
  });

export interface RelayConfig {
  env: 'development' | 'production' | 'test';
  /** `trustProxy` is Express's 'trust proxy' (a hop count or the proxies); it sets `req.ip`. */
  http: { host: string; port: number; trustProxy: string | number };
  /** Origins besides the relay's own that may open a Socket.IO connection. */
  socketOrigins: string[];
  mqtt: {
    port: number;
    /** Connections on `port` come through a load balancer that sends a PROXY header. */
    proxyProtocol: boolean;
    maxPacketBytes: number;
    connectsPerMinute: { device: number; address: number };
    tls: { port: number; certFile: string; keyFile: string } | undefined;
  };
  /** The DICOM listener; undefined when DICOM_PORT=off. */
  dicom: { port: number; aeTitle: string; maxAssociations: number } | undefined;
  dataDir: string;
  /** Where blobs (samples, DICOM files) live: on a directory every instance shares. */
  blobDir: string;
  /** What this instance runs; `cluster` says other instances share its database and Redis. */
  roles: Record<Role, boolean>;
  cluster: boolean;
  databaseUrl: string | undefined;
  redis: { url: string | undefined; serverBin: string };
  auth: {
    secret: string | undefined;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
  };
  regionFile: string | undefined;
  demo: { enabled: boolean; password: string | undefined };
  logLevel: z.infer<typeof ConfigSchema>['LOG_LEVEL'];
  /** The bearer token that opens /metrics; undefined keeps it closed (404). */
  metrics: { token: string | undefined };
  /** The longest a graceful stop waits for work in hand before the process exits anyway. */
  shutdownGraceMs: number;
  /** Default reading deadlines; a hospital's policy may override them (hospital_policies). */
  sla: {
    ecgSeconds: number;
    ecgStatSeconds: number;
    imagingSeconds: number;
    imagingStatSeconds: number;
  };
  claimLeaseSeconds: number;
  /** Recordings a box may have open at once, and how long an abandoned one is kept. */
  recordings: { maxOpenPerBox: number; openTtlSeconds: number };
  /** DICOM intake limits and the quiet time after which a study becomes a case. */
  imaging: {
    maxRequestBytes: number;
    maxInstanceBytes: number;
    /** An instance up to this size is received into memory, not a scratch file. */
    inMemoryInstanceBytes: number;
    minFreeDiskBytes: number;
    parseTimeoutMs: number;
    parseThreads: number;
    quietSeconds: number;
  };
  /** The largest ECG file the clinic's upload takes (docs/ecg-upload.md). */
  ecgFiles: { maxBytes: number };
  /**
   * Keys protecting patient identifiers (docs/patients.md): the HMAC key of the lookup key,
   * and the AES-256-GCM keys, the first of which seals. `demo` says the fixed demo keys are
   * in use (DEMO=true without keys of its own), which the relay warns about at start.
   */
  patientIdentity: { hmacKey: Buffer; sealKeys: PatientSealKey[]; demo: boolean };
  /** Days within which the same exam of the same patient warns the clinic. */
  repeatExamWindowDays: number;
  /** How long ended rows are kept before the retention sweep deletes them. */
  /** Verification codes and the grants they give (docs/consent.md). */
  consent: {
    codeTtlMs: number;
    grantTtlMs: number;
    /** The SMS gateway that sends codes to patients; null when none is configured. */
    sms: SmsGatewayConfig | null;
  };
  retention: {
    auditDays: number;
    sessionDays: number;
    clinicEventDays: number;
    sweepIntervalSeconds: number;
  };
}

/** Where and how verification codes are sent by SMS (docs/consent.md, "SMS gateway"). */
export interface SmsGatewayConfig {
  url: string;
  token: string;
  /** Per attempt, from the request to the whole answer. */
  timeoutMs: number;
  /** Attempts in all, the first included. */
  attempts: number;
  /** The wait before the second attempt; it doubles for each one after. */
  backoffMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once at boot. Names the bad keys, never echoes their values. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const relevant = Object.fromEntries(
    Object.keys(ConfigSchema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = ConfigSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  const c = parsed.data;
  return {
    env: c.NODE_ENV,
    http: {
      host: c.HOST,
      port: c.PORT,
      trustProxy: /^\d+$/.test(c.TRUST_PROXY) ? Number(c.TRUST_PROXY) : c.TRUST_PROXY,
    },
    socketOrigins: originList(c.SOCKET_ORIGINS),
    mqtt: {
      port: c.MQTT_PORT,
      proxyProtocol: c.MQTT_PROXY_PROTOCOL,
      maxPacketBytes: c.MQTT_MAX_PACKET_BYTES,
      connectsPerMinute: {
        device: c.MQTT_CONNECTS_PER_DEVICE_PER_MINUTE,
        address: c.MQTT_CONNECTS_PER_ADDRESS_PER_MINUTE,
      },
      tls:
        c.MQTT_TLS_PORT !== undefined && c.MQTT_TLS_CERT_FILE && c.MQTT_TLS_KEY_FILE
          ? { port: c.MQTT_TLS_PORT, certFile: c.MQTT_TLS_CERT_FILE, keyFile: c.MQTT_TLS_KEY_FILE }
          : undefined,
    },
    dicom:
      c.DICOM_PORT === 'off'
        ? undefined
        : {
            port: c.DICOM_PORT,
            aeTitle: c.DICOM_AE_TITLE.trim(),
            maxAssociations: c.DICOM_MAX_ASSOCIATIONS,
          },
    dataDir: resolve(c.DATA_DIR),
    blobDir: resolve(c.BLOB_DIR ?? join(c.DATA_DIR, 'blobs')),
    roles: rolesOf(parseRoles(c.ROLES)!),
    cluster: c.CLUSTER,
    databaseUrl: c.DATABASE_URL,
    redis: { url: c.REDIS_URL, serverBin: c.REDIS_SERVER_BIN },
    auth: {
      secret: c.AUTH_SECRET,
      accessTokenTtlSeconds: c.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: c.REFRESH_TOKEN_TTL_SECONDS,
    },
    regionFile: c.REGION_FILE === undefined ? undefined : resolve(c.REGION_FILE),
    demo: { enabled: c.DEMO, password: c.DEMO_PASSWORD },
    logLevel: c.LOG_LEVEL,
    metrics: { token: c.METRICS_TOKEN },
    shutdownGraceMs: c.SHUTDOWN_GRACE_MS,
    sla: {
      ecgSeconds: c.ECG_SLA_SECONDS,
      ecgStatSeconds: c.ECG_STAT_SLA_SECONDS,
      imagingSeconds: c.IMAGING_SLA_SECONDS,
      imagingStatSeconds: c.IMAGING_STAT_SLA_SECONDS,
    },
    claimLeaseSeconds: c.CLAIM_LEASE_SECONDS,
    recordings: {
      maxOpenPerBox: c.RECORDING_MAX_OPEN_PER_BOX,
      openTtlSeconds: c.RECORDING_OPEN_TTL_SECONDS,
    },
    imaging: {
      maxRequestBytes: c.DICOM_MAX_REQUEST_BYTES,
      maxInstanceBytes: c.DICOM_MAX_INSTANCE_BYTES,
      inMemoryInstanceBytes: c.DICOM_IN_MEMORY_INSTANCE_BYTES,
      minFreeDiskBytes: c.DICOM_MIN_FREE_DISK_BYTES,
      parseTimeoutMs: c.DICOM_PARSE_TIMEOUT_MS,
      parseThreads: c.DICOM_PARSE_THREADS,
      quietSeconds: c.IMAGING_QUIET_SECONDS,
    },
    ecgFiles: { maxBytes: c.ECG_FILE_MAX_BYTES },
    consent: {
      codeTtlMs: Math.round(c.CONSENT_CODE_MINUTES * 60_000),
      grantTtlMs: Math.round(c.CONSENT_GRANT_MINUTES * 60_000),
      sms:
        c.CONSENT_SMS_URL !== undefined && c.CONSENT_SMS_TOKEN !== undefined
          ? {
              url: c.CONSENT_SMS_URL,
              token: c.CONSENT_SMS_TOKEN,
              timeoutMs: c.CONSENT_SMS_TIMEOUT_MS,
              attempts: c.CONSENT_SMS_ATTEMPTS,
              backoffMs: c.CONSENT_SMS_BACKOFF_MS,
            }
          : null,
    },
    patientIdentity: patientIdentityConfig(c.PATIENT_ID_HMAC_KEY, c.PATIENT_ID_KEYS),
    repeatExamWindowDays: c.REPEAT_EXAM_WINDOW_DAYS,
    retention: {
      auditDays: c.AUDIT_RETENTION_DAYS,
      sessionDays: c.SESSION_RETENTION_DAYS,
      clinicEventDays: c.CLINIC_EVENT_RETENTION_DAYS,
      sweepIntervalSeconds: c.RETENTION_SWEEP_INTERVAL_SECONDS,
    },
  };
}

/**
 * Fixed, published keys for DEMO only: a demo's data is fictitious, and a demo must start
 * with nothing to configure. The relay logs a warning when it uses them.
 */
const DEMO_PATIENT_HMAC_KEY = Buffer.from('telerelay-demo-patient-lookup-key-not-secret');
const DEMO_PATIENT_SEAL_KEY: PatientSealKey = {
  id: 'demo',
  key: Buffer.from('telerelay-demo-seal-key-32-bytes'),
};

function patientIdentityConfig(
  hmacKey: string | undefined,
  sealKeys: string | undefined,
): RelayConfig['patientIdentity'] {
  // Both are set, or DEMO is on (the schema refused anything else).
  if (hmacKey === undefined || sealKeys === undefined) {
    return { hmacKey: DEMO_PATIENT_HMAC_KEY, sealKeys: [DEMO_PATIENT_SEAL_KEY], demo: true };
  }
  return {
    hmacKey: Buffer.from(hmacKey, 'base64'),
    sealKeys: parsePatientKeys(sealKeys)!,
    demo: false,
  };
}

function rolesOf(roles: Set<Role>): Record<Role, boolean> {
  return { broker: roles.has('broker'), api: roles.has('api'), worker: roles.has('worker') };
}

function originList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
}

/** Nest injection token for the typed config (a class token, never a bare string). */
export abstract class RelayConfigToken {}
