import { z } from 'zod';

/**
 * analysing → awaiting_review → in_review → signed; or analysing → returned when the
 * recording cannot be read and the clinic must record again, or in_review → returned when
 * the reader sends it back. Escalation and overflow move a case to another hospital's
 * awaiting_review (docs/architecture.md, "Deadlines, escalation and overflow").
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
  /**
   * When the current hospital's policy moves the case on (escalate or overflow) unless a
   * reader has claimed it; null when nothing happens automatically (tertiary hospital).
   */
  deadlineAt: string | null;
  /** When the hospital's readers were warned that the deadline is near (80 %). */
  deadlineAlertedAt: string | null;
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
  /** Every move between hospitals, oldest first, with the reader's note or the reason. */
  transfers: CaseTransfer[];
}

/** How a case left a hospital for another one, as the case detail shows it. */
export interface CaseTransfer {
  kind: 'escalated' | 'overflowed';
  at: string;
  /** The reader's name, or null when the deadline moved the case. */
  byName: string | null;
  fromHospitalId: string;
  fromHospitalName: string;
  toHospitalId: string;
  toHospitalName: string;
  /** The reader's note, or why the relay moved it (`deadline passed`). */
  note: string;
  /** For a move by the deadline: the due time, the deadline and the policy that acted. */
  deadline: {
    dueAt: string;
    deadlineAt: string;
    atDeadline: 'escalate' | 'overflow';
    deadlineSeconds: number;
  } | null;
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
  /** The hospital the case was signed at (null for diagnoses older than this field). */
  hospitalId: string | null;
  hospitalName: string | null;
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
