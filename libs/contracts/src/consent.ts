import { z } from 'zod';
import { CaseAnalysisSchema, CaseStudySchema, CASE_KINDS, CASE_STATUSES } from './cases.js';
import { documentTypeSchema, nationalIdSchema } from './patients.js';
import { text } from './text.js';

/** Digits of a verification code (issue 13: six). */
export const CONSENT_CODE_DIGITS = 6;
/** Wrong codes a consent request takes before it is locked for good. */
export const CONSENT_CODE_ATTEMPTS = 5;

const purpose = text({ min: 3, max: 300, trim: true });

/**
 * A doctor asks for a patient's earlier record: the patient's document type and number go
 * in the BODY (never in a URL, where proxies and browser history keep them), with the
 * purpose the patient is told and the grant records.
 */
export const ConsentCodeRequestSchema = z
  .strictObject({
    documentType: documentTypeSchema,
    idNumber: text({ min: 1, max: 32, trim: true }),
    purpose,
  })
  .superRefine((request, context) => {
    // A resident ID with a wrong check character is a typo, said at once (the check is
    // public, so this tells nothing about who is registered).
    if (request.documentType !== 'resident_id') return;
    for (const issue of nationalIdSchema.safeParse(request.idNumber).error?.issues ?? []) {
      context.addIssue({ code: 'custom', path: ['idNumber'], message: issue.message });
    }
  });
export type ConsentCodeRequest = z.output<typeof ConsentCodeRequestSchema>;

/**
 * The answer to a consent request, the same whether or not the number belongs to a
 * registered patient: whoever asks learns nothing until the patient gives them the code.
 */
export const ConsentTicketSchema = z
  .object({
    requestId: z.string(),
    expiresAt: z.string().describe('The code, if one was sent, works until then.'),
    attemptsAllowed: z.number().int(),
  })
  .meta({ id: 'ConsentTicket' });
export type ConsentTicket = z.infer<typeof ConsentTicketSchema>;

export const ConsentCodeSchema = z
  .string()
  .regex(new RegExp(`^[0-9]{${CONSENT_CODE_DIGITS}}$`), 'must be the 6-digit code');

/** The code the patient read out, for the request it was sent for. */
export const ConsentVerifyRequestSchema = z.strictObject({ code: ConsentCodeSchema });
export type ConsentVerifyRequest = z.output<typeof ConsentVerifyRequestSchema>;

/** Time-limited access to one patient's record for one doctor, for a stated purpose. */
export const AccessGrantSchema = z
  .object({
    id: z.string(),
    patientId: z.string(),
    granteeId: z.string(),
    granteeName: z.string(),
    facilityId: z.string(),
    facilityName: z.string(),
    purpose: z.string(),
    grantedAt: z.string(),
    expiresAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'AccessGrant' });
export type AccessGrant = z.infer<typeof AccessGrantSchema>;

/** One earlier exam of the patient, from whichever facility of the region made it. */
export const PriorExamSchema = z
  .object({
    caseId: z.string(),
    kind: z.enum(CASE_KINDS),
    examKind: z.string(),
    status: z.enum(CASE_STATUSES),
    clinicId: z.string(),
    clinicName: z.string(),
    hospitalName: z.string(),
    recordedAt: z.string(),
    hasEcg: z.boolean().describe('True when the samples can be fetched for the paper viewer.'),
    analysis: CaseAnalysisSchema.nullable(),
    st: z
      .array(
        z.object({
          lead: z.string(),
          stJUv: z.number().nullable(),
          st60Uv: z.number().nullable(),
        }),
      )
      .describe('ST level per lead at J and J+60 ms (µV), for serial comparison; empty if none.'),
    study: CaseStudySchema.nullable(),
    diagnosis: z
      .object({
        conclusion: z.string(),
        findings: z.array(z.string()),
        signedByName: z.string(),
        hospitalName: z.string().nullable(),
        signedAt: z.string(),
      })
      .nullable(),
  })
  .meta({ id: 'PriorExam' });
export type PriorExam = z.infer<typeof PriorExamSchema>;

/** A patient's exams across the region, newest first; only for who may read them. */
export const PatientHistorySchema = z
  .object({
    patientId: z.string(),
    access: z
      .enum(['treating', 'grant'])
      .describe("Why the caller may read it: their hospital's own case, or a consent grant."),
    grantExpiresAt: z.string().nullable(),
    exams: z.array(PriorExamSchema),
  })
  .meta({ id: 'PatientHistory' });
export type PatientHistory = z.infer<typeof PatientHistorySchema>;

/**
 * What the demo notifier shows on the page of the clinic that registered the patient,
 * standing in for the SMS a production adapter sends: masked patient, never the number.
 */
export interface ConsentCodeNotice {
  /** The relay's id of the patient (not an identifier): the clinic opens the grants list by it. */
  patientId: string;
  maskedIdentifier: string;
  patientName: string;
  code: string;
  requestedByName: string;
  facilityName: string;
  purpose: string;
  expiresAt: string;
}
