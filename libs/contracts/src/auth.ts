import { z } from 'zod';

export const ROLES = ['clinic_staff', 'reader', 'admin', 'health_authority'] as const;
export type Role = (typeof ROLES)[number];

export const FACILITY_KINDS = ['clinic', 'county', 'tertiary'] as const;
export type FacilityKind = (typeof FACILITY_KINDS)[number];

export const LoginRequestSchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

export interface SessionUser {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  facilityId: string;
  facilityKind: FacilityKind;
}

/** Sign-in and refresh answer alike: a short access token and the next refresh token. */
export interface LoginResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresInSeconds: number;
  /** Opaque, single use: POST /api/auth/refresh exchanges it for a new pair. */
  refreshToken: string;
  /** When the session ends whatever happens (ISO 8601); sign in again after it. */
  sessionExpiresAt: string;
  user: SessionUser;
}

/** Body of POST /api/auth/refresh and POST /api/auth/logout. */
export const RefreshRequestSchema = z.strictObject({
  refreshToken: z.string().min(1).max(256),
});
export type RefreshRequest = z.infer<typeof RefreshRequestSchema>;

/** Error body of every REST error (one currency across the API). */
export interface ApiError {
  statusCode: number;
  code: string;
  message: string;
}

/** An ECG box as the API shows it. */
export interface DeviceSummary {
  id: string;
  clinicId: string;
  online: boolean;
  disabled: boolean;
  lastSeenAt: string | null;
}
