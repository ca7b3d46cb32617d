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

export interface LoginResponse {
  accessToken: string;
  tokenType: 'Bearer';
  expiresInSeconds: number;
  user: SessionUser;
}

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
