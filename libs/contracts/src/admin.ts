import { z } from 'zod';
import { FACILITY_KINDS, ROLES, USER_IDENTITY_FIELDS } from './auth.js';
import { text } from './text.js';

/**
 * Ids of facilities and boxes end up in queue names (`review-<id>`), Socket.IO rooms and
 * MQTT topics, so they are plain: letters, digits, '.', '_' and '-', no ':' or '/'.
 */
export const ResourceIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

const name = text({ min: 1, max: 200, trim: true });

/** A facility of the referral hierarchy: clinic → county hospital → tertiary hospital. */
export const FacilitySchema = z
  .object({
    id: z.string(),
    kind: z.enum(FACILITY_KINDS),
    name: z.string(),
    parentId: z.string().nullable(),
    disabled: z
      .boolean()
      .describe(
        'Closed or suspended: its people cannot sign in, its boxes and DICOM machines cannot connect.',
      ),
  })
  .meta({ id: 'Facility' });
export type Facility = z.infer<typeof FacilitySchema>;

export const CreateFacilityRequestSchema = z.strictObject({
  id: ResourceIdSchema,
  kind: z.enum(FACILITY_KINDS),
  name,
  parentId: ResourceIdSchema.nullable().default(null),
});
export type CreateFacilityRequest = z.input<typeof CreateFacilityRequestSchema>;

/**
 * A facility's kind never changes (its children depend on it); its name and parent may, and
 * it may be disabled and enabled again (it stays in the records it is named in).
 */
export const UpdateFacilityRequestSchema = z
  .strictObject({
    name: name.optional(),
    parentId: ResourceIdSchema.nullable().optional(),
    disabled: z.boolean().optional(),
  })
  .refine(
    (body) => body.name !== undefined || body.parentId !== undefined || body.disabled !== undefined,
    { message: 'give name, parentId and/or disabled' },
  );
export type UpdateFacilityRequest = z.input<typeof UpdateFacilityRequestSchema>;

/**
 * A DICOM Application Entity title (PS3.5 §6.2, VR AE): 1-16 characters of the default
 * repertoire without backslash or control characters; surrounding spaces are not
 * significant, so they are trimmed. Case is significant, as the standard says.
 */
export const AeTitleSchema = z
  .string()
  .trim()
  .regex(/^[\x20-\x5B\x5D-\x7E]{1,16}$/, 'must be 1-16 printable ASCII characters, no backslash');

/** The calling AE titles a clinic's machines use; the DICOM listener accepts only these. */
export const AeTitlesSchema = z
  .array(AeTitleSchema)
  .max(64)
  .refine((titles) => new Set(titles).size === titles.length, 'must not repeat an AE title');

export const ClinicAeTitlesSchema = z
  .object({ facilityId: z.string(), aeTitles: z.array(z.string()) })
  .meta({ id: 'ClinicAeTitles' });
export type ClinicAeTitles = z.infer<typeof ClinicAeTitlesSchema>;

/** Replaces the clinic's list; an empty list stops its machines from sending. */
export const SetAeTitlesRequestSchema = z.strictObject({ aeTitles: AeTitlesSchema });
export type SetAeTitlesRequest = z.infer<typeof SetAeTitlesRequestSchema>;

const username = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 lowercase letters, digits, ".", "_", "-"');
const password = text({ max: 256 }).min(8, 'must be at least 8 characters');
/** An argon2id hash as SecretHasher writes it (PHC string format). */
const argon2Hash = text({ max: 1024 }).regex(
  /^\$argon2id\$/,
  'must be an argon2id hash ($argon2id$…)',
);
/** A box secret as SecretHasher stores it: salted HMAC-SHA-256, or argon2id from before. */
const deviceSecretHash = text({ max: 1024 }).regex(
  /^\$(hmac-sha256|argon2id)\$/,
  'must be a box secret hash as the relay stores it ($hmac-sha256$… or $argon2id$…)',
);

/** Box secrets are keys checked by a fast hash (docs/architecture.md), so 128 bits at least. */
export const MIN_DEVICE_SECRET_BITS = 128;

/**
 * The most random bits a secret written this way could hold: its length times the bits per
 * character of the smallest usual alphabet it fits (hex, base64url, printable ASCII). Only
 * a ceiling — no check can see whether a string was drawn at random — so it refuses what is
 * too short or too repetitive to be a 128-bit key; the secret must still come from a random
 * generator (the relay makes one when none is given).
 */
export function deviceSecretBitsCeiling(secret: string): number {
  // A secret of few distinct characters (aaaa…, abab…) is a pattern, not a key.
  if (new Set(secret).size < 8) return 0;
  const alphabet = /^([0-9a-f]*|[0-9A-F]*)$/.test(secret) ? 16 : /^[\w-]*$/.test(secret) ? 64 : 95;
  return secret.length * Math.log2(alphabet);
}

const deviceSecret = text({ max: 256 }).refine(
  (secret) => deviceSecretBitsCeiling(secret) >= MIN_DEVICE_SECRET_BITS,
  `must be a random secret of at least ${MIN_DEVICE_SECRET_BITS} bits: e.g. 32 hex digits or 22 base64url characters, not a word or a repeated pattern`,
);

export const CreateUserRequestSchema = z.strictObject({
  username,
  displayName: name,
  role: z.enum(ROLES),
  facilityId: ResourceIdSchema,
  password,
});
export type CreateUserRequest = z.infer<typeof CreateUserRequestSchema>;

/**
 * Disabling a user, setting a new password (a reset: the administrator tells the user) or
 * changing the role ends every session they have (refresh and access tokens, sockets).
 */
export const UpdateUserRequestSchema = z
  .strictObject({
    displayName: name.optional(),
    disabled: z.boolean().optional(),
    password: password.optional(),
    role: z.enum(ROLES).optional(),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), {
    message: 'give displayName, disabled, password and/or role',
  });
export type UpdateUserRequest = z.infer<typeof UpdateUserRequestSchema>;

export const AdminUserSchema = z
  .object({ ...USER_IDENTITY_FIELDS, disabled: z.boolean() })
  .meta({ id: 'AdminUser' });
export type AdminUser = z.infer<typeof AdminUserSchema>;

/**
 * Without `secret` the relay makes one (128 random bits) and answers it this once; with one
 * (a secret already set in the box's firmware) the answer does not repeat it.
 */
export const CreateDeviceRequestSchema = z.strictObject({
  id: ResourceIdSchema,
  facilityId: ResourceIdSchema,
  secret: deviceSecret.optional(),
});
export type CreateDeviceRequest = z.infer<typeof CreateDeviceRequestSchema>;

/** A box just registered at its clinic. */
export const RegisteredDeviceSchema = z
  .object({
    id: z.string(),
    clinicId: z.string(),
    secret: z
      .string()
      .optional()
      .describe(
        'Only when the relay made the secret: shown this once; the relay keeps only its hash.',
      ),
  })
  .meta({ id: 'RegisteredDevice' });
export type RegisteredDevice = z.infer<typeof RegisteredDeviceSchema>;

/** Disabling a box refuses its next connect and closes its connection now. */
export const UpdateDeviceRequestSchema = z.strictObject({ disabled: z.boolean() });
export type UpdateDeviceRequest = z.infer<typeof UpdateDeviceRequestSchema>;

/**
 * REGION_FILE: the region a relay serves, applied idempotently at start. Facilities are
 * upserted; users and devices are created when missing and never overwritten afterwards.
 * Clear-text passwords and secrets are for seeding only: keep the file private, or give
 * `passwordHash` (argon2id) / `secretHash` (as the relay stores it) instead.
 */
export const RegionFileSchema = z.strictObject({
  facilities: z.array(
    z.strictObject({
      id: ResourceIdSchema,
      kind: z.enum(FACILITY_KINDS),
      name,
      parentId: ResourceIdSchema.nullable().default(null),
      /** Clinics only: replaces the clinic's calling AE titles; absent leaves them as they are. */
      aeTitles: AeTitlesSchema.optional(),
    }),
  ),
  users: z
    .array(
      z
        .strictObject({
          username,
          displayName: name,
          role: z.enum(ROLES),
          facilityId: ResourceIdSchema,
          password: password.optional(),
          passwordHash: argon2Hash.optional(),
        })
        .refine((user) => (user.password === undefined) !== (user.passwordHash === undefined), {
          message: 'give exactly one of password and passwordHash',
        }),
    )
    .default([]),
  devices: z
    .array(
      z
        .strictObject({
          id: ResourceIdSchema,
          facilityId: ResourceIdSchema,
          secret: deviceSecret.optional(),
          secretHash: deviceSecretHash.optional(),
        })
        .refine((device) => (device.secret === undefined) !== (device.secretHash === undefined), {
          message: 'give exactly one of secret and secretHash',
        }),
    )
    .default([]),
});
export type RegionFile = z.output<typeof RegionFileSchema>;
export type RegionFacility = RegionFile['facilities'][number];
export type RegionUser = RegionFile['users'][number];
export type RegionDevice = RegionFile['devices'][number];

/** One facility's day, for the health authority: counts and times only, no patient data. */
export const FacilityStatsSchema = z
  .object({
    id: z.string(),
    kind: z.enum(FACILITY_KINDS),
    name: z.string(),
    parentId: z.string().nullable(),
    waiting: z.number().describe('Now: cases waiting for a reader.'),
    claimed: z.number().describe('Now: cases claimed by a reader.'),
    signed: z.number().describe('Since `since`: signed.'),
    returned: z.number().describe('Since `since`: returned to the clinic.'),
    escalated: z.number().describe('Since `since`: escalated to the tertiary hospital.'),
    repeatExamWarnings: z
      .number()
      .describe(
        'Since `since`: exams registered (or studies arrived) when the same patient had the ' +
          'same exam within REPEAT_EXAM_WINDOW_DAYS (docs/patients.md); at a hospital, its clinics’.',
      ),
    repeatExamsWentAhead: z
      .number()
      .describe(
        'Of those warnings, how many exams went ahead anyway (the rest were cancelled or are undecided).',
      ),
    turnaroundSeconds: z
      .object({ median: z.number().nullable(), p90: z.number().nullable() })
      .describe(
        'From the recording stored to the diagnosis signed, for cases signed since `since`.',
      ),
  })
  .meta({ id: 'FacilityStats' });
export type FacilityStats = z.infer<typeof FacilityStatsSchema>;

/** GET /api/stats: the caller's facility and everything below it. */
export const RegionStatsSchema = z
  .object({
    regionId: z.string(),
    since: z.string().describe("Start of the relay's current day (its local time zone)."),
    facilities: z.array(FacilityStatsSchema),
  })
  .meta({ id: 'RegionStats' });
export type RegionStats = z.infer<typeof RegionStatsSchema>;

export const AUDIT_OUTCOMES = ['allowed', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/**
 * GET /api/admin/audit: newest first. `actor` and `action` match exactly (`user:<id>`,
 * `device:<id>`, `anonymous`; `POST /api/cases/:id/claim`, `socket.stream.watch`,
 * `mqtt.publish` …); `before` is the `nextBefore` of the previous page.
 */
export const AuditQuerySchema = z.strictObject({
  actor: text({ min: 1, max: 200 }).optional(),
  action: text({ min: 1, max: 200 }).optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AuditQuery = z.input<typeof AuditQuerySchema>;
export type AuditFilter = z.output<typeof AuditQuerySchema>;

/** One row of the audit trail: ids only, never a patient identifier, secret or token. */
export const AuditRecordSchema = z
  .object({
    id: z.number(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    outcome: z.enum(AUDIT_OUTCOMES),
    subject: z.string().nullable(),
    remoteAddress: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditRecord' });
export type AuditRecord = z.infer<typeof AuditRecordSchema>;

export const AuditPageSchema = z
  .object({
    entries: z.array(AuditRecordSchema),
    nextBefore: z
      .number()
      .nullable()
      .describe('Pass as `before` for the next (older) page; null when this was the last.'),
  })
  .meta({ id: 'AuditPage' });
export type AuditPage = z.infer<typeof AuditPageSchema>;

/**
 * One row of "who looked at my record" (GET /api/records/patients/:patientId/access-log):
 * what was done with the patient's data, when, by whom as a clinic may tell the patient
 * (name, role, facility; no user id, username or address).
 */
export const PatientAccessEntrySchema = z
  .object({
    at: z.string(),
    action: z.string(),
    outcome: z.enum(AUDIT_OUTCOMES),
    actorName: z.string().describe("The user's display name, or what acted: a device, the relay"),
    role: z.string().nullable(),
    facilityId: z.string().nullable(),
    facilityName: z.string().nullable(),
    purpose: z.string().nullable().describe('The purpose stated for a consented access'),
  })
  .meta({ id: 'PatientAccessEntry' });
export type PatientAccessEntry = z.infer<typeof PatientAccessEntrySchema>;

/** Rows of "who looked at my record" per page at most; the default page is shorter. */
export const PATIENT_ACCESS_PAGE_MAX = 500;

/**
 * GET /api/records/patients/:patientId/access-log: newest first, `limit` rows per page,
 * `before` the `nextBefore` of the previous page.
 */
export const PatientAccessQuerySchema = z.strictObject({
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(PATIENT_ACCESS_PAGE_MAX).default(50),
});
export type PatientAccessQuery = z.input<typeof PatientAccessQuerySchema>;
export type PatientAccessFilter = z.output<typeof PatientAccessQuerySchema>;

export const PatientAccessPageSchema = z
  .object({
    entries: z.array(PatientAccessEntrySchema),
    nextBefore: z
      .number()
      .nullable()
      .describe('Pass as `before` for the next (older) page; null when this was the last.'),
  })
  .meta({ id: 'PatientAccessPage' });
export type PatientAccessPage = z.infer<typeof PatientAccessPageSchema>;
