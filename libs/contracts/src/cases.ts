import { z } from 'zod';
import { DeviceMeasurementsSchema } from './ecg-files.js';
import { PatientSummarySchema } from './patients.js';
import { text } from './text.js';

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
  conclusion: text({ min: 1, max: 4000, trim: true }),
  findings: z
    .array(text({ min: 1, max: 200, trim: true }))
    .max(50)
    .default([]),
  measurementReview: MeasurementReviewSchema.optional(),
});
export type SignDiagnosisRequest = z.input<typeof SignDiagnosisSchema>;

/** A signed diagnosis: what the clinic and the box receive. */
export const DiagnosisSchema = z
  .object({
    caseId: z.string(),
    recordingId: z.string().nullable(),
    clinicId: z.string(),
    conclusion: z.string(),
    findings: z.array(z.string()),
    signedBy: z.string(),
    signedByName: z.string(),
    hospitalId: z
      .string()
      .nullable()
      .describe('The hospital the case was signed at (null for diagnoses older than this field).'),
    hospitalName: z.string().nullable(),
    signedAt: z.string(),
  })
  .meta({ id: 'Diagnosis' });
export type Diagnosis = z.infer<typeof DiagnosisSchema>;

export const AnalysisFlagSchema = z
  .object({
    code: z.string(),
    severity: z.enum(['critical', 'major', 'minor']),
    text: z.string().describe('The finding in English, with its numbers.'),
    values: z
      .record(z.string(), z.union([z.string(), z.number()]))
      .optional()
      .describe(
        'The numbers and leads in `text` by name, for saying the finding in another language (absent on flags from before this field).',
      ),
  })
  .meta({ id: 'AnalysisFlag' });
export type AnalysisFlag = z.infer<typeof AnalysisFlagSchema>;

/** The study behind an imaging case: what the worklist row shows of it, no patient data. */
export const CaseStudySchema = z
  .object({
    studyInstanceUid: z.string(),
    description: z.string().nullable(),
    modalities: z.array(z.string()),
    seriesCount: z.number().int(),
    instanceCount: z.number().int(),
  })
  .meta({ id: 'CaseStudy' });
export type CaseStudy = z.infer<typeof CaseStudySchema>;

/** What a worklist row shows. Carries no patient identifier. */
export const CaseSummarySchema = z
  .object({
    id: z.string(),
    kind: z.enum(CASE_KINDS),
    status: z.enum(CASE_STATUSES),
    priority: z.enum(CASE_PRIORITIES),
    clinicId: z.string(),
    clinicName: z.string(),
    hospitalId: z.string(),
    recordingId: z.string().nullable(),
    examKind: z.string(),
    createdAt: z.string(),
    dueAt: z.string(),
    claimedById: z
      .string()
      .nullable()
      .describe(
        'The user id of the reader holding the case (in_review), else null; compare this, ' +
          'never the name, to tell whose case it is.',
      ),
    claimedByName: z
      .string()
      .nullable()
      .describe('That reader’s display name, for showing only: two readers may share one.'),
    returnReason: z
      .string()
      .nullable()
      .describe('Why it went back to the clinic, when status is `returned`.'),
    flags: z
      .array(AnalysisFlagSchema)
      .describe("The automatic analysis's flags, most severe first: suggestions for the reader."),
    clinicReceivedAt: z
      .string()
      .nullable()
      .describe('When a clinic client confirmed it had shown the signed diagnosis.'),
    deadlineAt: z
      .string()
      .nullable()
      .describe(
        "When the current hospital's policy moves the case on (escalate or overflow) unless a " +
          'reader has claimed it; null when nothing happens automatically (tertiary hospital).',
      ),
    deadlineAlertedAt: z
      .string()
      .nullable()
      .describe("When the hospital's readers were warned that the deadline is near (80 %)."),
    study: CaseStudySchema.nullable().describe(
      'The DICOM study of an imaging case; null for ECGs.',
    ),
  })
  .meta({ id: 'CaseSummary' });
export type CaseSummary = z.infer<typeof CaseSummarySchema>;

/** The automatic ECG analysis, as the reader sees it: a suggestion to confirm or correct. */
export const CaseAnalysisSchema = z
  .object({
    algorithmVersion: z.string(),
    heartRateBpm: z.number().nullable(),
    measurements: z
      .partialRecord(z.enum(MEASUREMENT_KEYS), z.number().nullable())
      .describe('Suggested values of the measurement keys (null where not measurable).'),
    flags: z.array(AnalysisFlagSchema),
    priority: z.enum(CASE_PRIORITIES),
    readable: z.boolean(),
    qualityNotes: z.array(z.string()),
  })
  .meta({ id: 'CaseAnalysis' });
export type CaseAnalysis = z.infer<typeof CaseAnalysisSchema>;

/** How a case left a hospital for another one, as the case detail shows it. */
export const CaseTransferSchema = z
  .object({
    kind: z.enum(['escalated', 'overflowed']),
    at: z.string(),
    byName: z
      .string()
      .nullable()
      .describe("The reader's name, or null when the deadline moved the case."),
    fromHospitalId: z.string(),
    fromHospitalName: z.string(),
    toHospitalId: z.string(),
    toHospitalName: z.string(),
    note: z.string().describe("The reader's note, or why the relay moved it (`deadline passed`)."),
    deadline: z
      .object({
        dueAt: z.string(),
        deadlineAt: z.string(),
        atDeadline: z.enum(['escalate', 'overflow']),
        deadlineSeconds: z.number(),
      })
      .nullable()
      .describe(
        'For a move by the deadline: the due time, the deadline and the policy that acted.',
      ),
  })
  .meta({ id: 'CaseTransfer' });
export type CaseTransfer = z.infer<typeof CaseTransferSchema>;

export const CaseDetailSchema = CaseSummarySchema.extend({
  patient: PatientSummarySchema.nullable().describe(
    'The registered patient (docs/patients.md), identifier masked; null when the exam was ' +
      'not registered. Only in the case detail: worklist rows and socket pushes carry none.',
  ),
  diagnosis: DiagnosisSchema.nullable(),
  analysis: CaseAnalysisSchema.nullable(),
  deviceMeasurements: DeviceMeasurementsSchema.nullable().describe(
    'What the electrocardiograph measured, for an ECG that came as a file (docs/ecg-upload.md); ' +
      "null for a box's recording or a file without them.",
  ),
  transfers: z
    .array(CaseTransferSchema)
    .describe("Every move between hospitals, oldest first, with the reader's note or the reason."),
}).meta({ id: 'CaseDetail' });
export type CaseDetail = z.infer<typeof CaseDetailSchema>;

/** A claim's lease after it was kept alive. */
export const ClaimLeaseSchema = z.object({ leaseExpiresAt: z.string() }).meta({ id: 'ClaimLease' });
export type ClaimLease = z.infer<typeof ClaimLeaseSchema>;

/** The samples of a case's ECG, for the console's viewer. */
export const CaseEcgSchema = z
  .object({
    recordingId: z.string(),
    leads: z.array(z.string()),
    sampleRateHz: z.number(),
    microvoltsPerLsb: z.number(),
    samplesPerLead: z.number(),
    samples: z
      .string()
      .describe(
        'base64 of int16 little-endian samples interleaved by sample (s0l0 s0l1 … s1l0 …).',
      ),
  })
  .meta({ id: 'CaseEcg' });
export type CaseEcg = z.infer<typeof CaseEcgSchema>;
