import { z } from 'zod';

export const CASE_STATUSES = ['awaiting_review', 'in_review', 'signed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const CASE_PRIORITIES = ['stat', 'urgent', 'routine'] as const;
export type CasePriority = (typeof CASE_PRIORITIES)[number];

export const CASE_KINDS = ['ecg', 'imaging'] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

/** What a worklist row shows. Carries no patient identifier. */
export interface CaseSummary {
  id: string;
  kind: CaseKind;
  status: CaseStatus;
  priority: CasePriority;
  clinicId: string;
  clinicName: string;
  hospitalId: string;
  recordingId: string | null;
  examKind: string;
  createdAt: string;
  dueAt: string;
  claimedBy: string | null;
}

export const SignDiagnosisSchema = z.strictObject({
  conclusion: z.string().trim().min(1).max(4000),
  findings: z.array(z.string().trim().min(1).max(200)).max(50).default([]),
});
export type SignDiagnosisRequest = z.input<typeof SignDiagnosisSchema>;

export interface Diagnosis {
  caseId: string;
  recordingId: string | null;
  clinicId: string;
  conclusion: string;
  findings: string[];
  signedBy: string;
  signedByName: string;
  signedAt: string;
}

/** The samples of a case's ECG, for the console's viewer. */
export interface CaseEcg {
  recordingId: string;
  leads: string[];
  sampleRateHz: number;
  microvoltsPerLsb: number;
  samplesPerLead: number;
  /** base64 of int16 little-endian samples interleaved by sample (s0l0 s0l1 … s1l0 …). */
  samples: string;
}
