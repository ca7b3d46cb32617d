import { z } from 'zod';

/**
 * analysing → awaiting_review → in_review → signed; or analysing → returned when the
 * recording cannot be read and the clinic must record again.
 */
export const CASE_STATUSES = [
  'analysing',
  'awaiting_review',
  'in_review',
  'signed',
  'returned',
] as const;
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
  /** Why it went back to the clinic, when status is `returned`. */
  returnReason: string | null;
  /** The automatic analysis's flags, most severe first: suggestions for the reader. */
  flags: AnalysisFlag[];
  /** When a clinic client confirmed it had shown the signed diagnosis. */
  clinicReceivedAt: string | null;
}

/** The automatic ECG analysis, as the reader sees it: a suggestion to confirm or correct. */
export interface CaseAnalysis {
  algorithmVersion: string;
  heartRateBpm: number | null;
  /** Suggested values of MEASUREMENT_KEYS (null where not measurable). */
  measurements: Partial<Record<(typeof MEASUREMENT_KEYS)[number], number | null>>;
  flags: AnalysisFlag[];
  priority: CasePriority;
  readable: boolean;
  qualityNotes: string[];
}

export interface CaseDetail extends CaseSummary {
  diagnosis: Diagnosis | null;
  analysis: CaseAnalysis | null;
}

export interface AnalysisFlag {
  code: string;
  severity: 'critical' | 'major' | 'minor';
  text: string;
}

/** Measurements the automatic analysis suggests and a reader may correct. */
export const MEASUREMENT_KEYS = [
  'heartRateBpm',
  'prMs',
  'qrsMs',
  'qtMs',
  'qtcMs',
  'axisDegrees',
] as const;

/** The reader's word on the automatic analysis, stored beside it. */
export const MeasurementReviewSchema = z.strictObject({
  confirmed: z.boolean(),
  corrections: z.partialRecord(z.enum(MEASUREMENT_KEYS), z.number().finite()).default({}),
});
export type MeasurementReview = z.output<typeof MeasurementReviewSchema>;

export const SignDiagnosisSchema = z.strictObject({
  conclusion: z.string().trim().min(1).max(4000),
  findings: z.array(z.string().trim().min(1).max(200)).max(50).default([]),
  measurementReview: MeasurementReviewSchema.optional(),
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
