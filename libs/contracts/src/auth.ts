import { z } from 'zod';
import { text } from './text.js';

export const ROLES = ['clinic_staff', 'reader', 'admin', 'health_authority'] as const;
export type Role = (typeof ROLES)[number];

export const FACILITY_KINDS = ['clinic', 'county', 'tertiary'] as const;
export type FacilityKind = (typeof FACILITY_KINDS)[number];

export const LoginRequestSchema = z.strictObject({
  username: text({ min: 1, max: 64 }),
  password: text({ min: 1, max: 256 }),
});
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

/** Who an account is: the fields every view of a user starts from. */
export const USER_IDENTITY_FIELDS = {
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: z.enum(ROLES),
  facilityId: z.string(),
};

export const SessionUserSchema = z
  .object({ ...USER_IDENTITY_FIELDS, facilityKind: z.enum(FACILITY_KINDS) })
  .meta({ id: 'SessionUser' });
export type SessionUser = z.infer<typeof SessionUserSchema>;

/** Sign-in and refresh answer alike: a short access token and the next refresh token. */
export const LoginResponseSchema = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal('Bearer'),
    expiresInSeconds: z.number(),
    refreshToken: z
      .string()
      .describe('Opaque, single use: POST /api/auth/refresh exchanges it for a new pair.'),
    sessionExpiresAt: z
      .string()
      .describe('When the session ends whatever happens (ISO 8601); sign in again after it.'),
    user: SessionUserSchema,
  })
  .meta({ id: 'LoginResponse' });
export type LoginResponse = z.infer<typeof LoginResponseSchema>;

/** Body of POST /api/auth/refresh and POST /api/auth/logout. */
export const RefreshRequestSchema = z.strictObject({
  refreshToken: text({ min: 1, max: 256 }),
});
export type RefreshRequest = z.infer<typeof RefreshRequestSchema>;

/** Error body of every REST error (one currency across the API). */
export const ApiErrorSchema = z
  .object({
    statusCode: z.number(),
    code: z.string().describe('Stable machine-readable code, e.g. NOT_FOUND, CONFLICT'),
    message: z.string(),
  })
  .meta({ id: 'ApiError' });
export type ApiError = z.infer<typeof ApiErrorSchema>;

/** An ECG box as the API shows it. */
export const DeviceSummarySchema = z
  .object({
    id: z.string(),
    clinicId: z.string(),
    online: z.boolean(),
    disabled: z.boolean(),
    lastSeenAt: z.string().nullable(),
    firmware: z.string().nullable().describe('As the box last announced it on `status`.'),
    lastRecordingAt: z
      .string()
      .nullable()
      .describe('When the relay stored the newest recording the box sent.'),
  })
  .meta({ id: 'DeviceSummary' });
export type DeviceSummary = z.infer<typeof DeviceSummarySchema>;
