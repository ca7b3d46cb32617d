import { z } from 'zod';
import { text } from './text.js';

/**
 * Patients and exam orders (docs/patients.md). A national ID travels only in request bodies
 * and is answered masked; the relay keeps it sealed and finds it by a keyed hash.
 */

export const DOCUMENT_TYPES = ['resident_id', 'passport', 'other'] as const;
export const documentTypeSchema = z.enum(DOCUMENT_TYPES);
export type DocumentType = z.infer<typeof documentTypeSchema>;

export const PATIENT_SEXES = ['female', 'male', 'unknown'] as const;
export type PatientSex = (typeof PATIENT_SEXES)[number];

/** GB 11643-1999 §7.2: weights of the 17 digits, 2^(18-i) mod 11 (ISO 7064 MOD 11-2). */
const CHECK_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** GB 11643-1999 §7.2: the check character for each remainder 0…10 of the weighted sum. */
const CHECK_CHARACTERS = '10X98765432';

/** The GB 11643 check character of the first 17 digits of a citizen identity number. */
export function nationalIdCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * CHECK_WEIGHTS[i]!;
  return CHECK_CHARACTERS[sum % 11]!;
}

/** The date of birth a citizen identity number carries (GB 11643 §6.2), or null if none. */
export function nationalIdBirthDate(id: string): string | null {
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  const date = new Date(Date.UTC(year, month - 1, day));
  if (
    year < 1800 ||
    date.getUTCFullYear() !== year ||
    date.getUTCMonth() !== month - 1 ||
    date.getUTCDate() !== day
  ) {
    return null;
  }
  return `${id.slice(6, 10)}-${id.slice(10, 12)}-${id.slice(12, 14)}`;
}

/** GB 11643 §6.3: the order code's last digit is odd for men, even for women. */
export function nationalIdSex(id: string): 'female' | 'male' {
  return Number(id[16]) % 2 === 1 ? 'male' : 'female';
}

/**
 * An 18-character citizen identity number (公民身份号码, GB 11643-1999): 6-digit area code,
 * 8-digit date of birth, 3-digit order code, check character (MOD 11-2, `X` for 10; a
 * lower-case `x` is taken as `X`).
 */
export const nationalIdSchema = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^\d{17}[\dX]$/, 'must be 18 characters: 17 digits and a digit or X')
  .refine((id) => nationalIdCheckCharacter(id) === id[17], 'check character does not match')
  .refine((id) => nationalIdBirthDate(id) !== null, 'date of birth inside is not a valid date');

/** Whole years from a `YYYY-MM-DD` date of birth to `at` (UTC); null without a date. */
export function ageInYears(birthDate: string | null, at: Date): number | null {
  if (!birthDate) return null;
  const [year, month, day] = birthDate.split('-').map(Number) as [number, number, number];
  let age = at.getUTCFullYear() - year;
  const beforeBirthday =
    at.getUTCMonth() + 1 < month || (at.getUTCMonth() + 1 === month && at.getUTCDate() < day);
  if (beforeBirthday) age -= 1;
  return age >= 0 ? age : null;
}

/**
 * How an identifier is shown everywhere: a quarter at each end at most, four characters each
 * for a national ID (`5001**********1234`), the rest as `*`.
 */
export function maskIdentifier(value: string): string {
  const chars = [...value];
  const keep = Math.min(4, Math.floor(chars.length / 4));
  if (keep === 0) return '*'.repeat(chars.length);
  return (
    chars.slice(0, keep).join('') +
    '*'.repeat(chars.length - 2 * keep) +
    chars.slice(-keep).join('')
  );
}

/** A human-enterable order number: 8 characters without 0/O/1/I/L, shown as `XXXX-XXXX`. */
export const ORDER_NUMBER_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const orderNumberSchema = z
  .string()
  .max(16)
  .trim()
  .toUpperCase()
  .transform((value) => value.replace(/[\s-]/g, ''))
  .pipe(z.string().regex(/^[2-9A-HJKMNP-Z]{8}$/, 'must be an 8-character order number'));

/**
 * A mainland China mobile number: 11 digits starting 13–19 (MIIT numbering plan), written
 * with or without +86 / 0086 and spaces or dashes; kept as the 11 digits.
 */
export const mobileNumberSchema = z
  .string()
  .max(24)
  .transform((value) => value.replace(/[\s-]/g, '').replace(/^(?:\+86|0086)/, ''))
  .pipe(z.string().regex(/^1[3-9][0-9]{9}$/, 'must be a mainland mobile number (11 digits)'));

/** The patient's part of a registration: the identifier, name, sex, date of birth, mobile. */
export const RegisterPatientSchema = z
  .strictObject({
    documentType: documentTypeSchema,
    idNumber: text({ min: 1, max: 32, trim: true }).describe(
      'The document number; never sent in a URL, answered only masked.',
    ),
    name: text({ min: 1, max: 100, trim: true }),
    sex: z
      .enum(PATIENT_SEXES)
      .optional()
      .describe('Taken from a resident ID when left out; must agree with it when given.'),
    birthDate: z.iso
      .date()
      .optional()
      .describe('YYYY-MM-DD; taken from a resident ID when left out; must agree when given.'),
    mobile: mobileNumberSchema
      .optional()
      .describe(
        'Mainland mobile number the verification codes are sent to by SMS; kept sealed, ' +
          'never answered or logged.',
      ),
  })
  .superRefine((patient, context) => {
    if (patient.documentType !== 'resident_id') return;
    const id = nationalIdSchema.safeParse(patient.idNumber);
    if (!id.success) {
      for (const issue of id.error.issues) {
        context.addIssue({ code: 'custom', path: ['idNumber'], message: issue.message });
      }
      return;
    }
    if (patient.birthDate !== undefined && patient.birthDate !== nationalIdBirthDate(id.data)) {
      context.addIssue({
        code: 'custom',
        path: ['birthDate'],
        message: 'does not match the date of birth in the resident ID',
      });
    }
    if (patient.sex !== undefined && patient.sex !== nationalIdSex(id.data)) {
      context.addIssue({
        code: 'custom',
        path: ['sex'],
        message: 'does not match the sex in the resident ID',
      });
    }
  });
export type RegisterPatient = z.output<typeof RegisterPatientSchema>;

export const EXAM_ORDER_KINDS = ['ecg', 'imaging'] as const;
export type ExamOrderKind = (typeof EXAM_ORDER_KINDS)[number];
export const EXAM_URGENCIES = ['stat', 'urgent', 'routine'] as const;
export type ExamUrgency = (typeof EXAM_URGENCIES)[number];
export const EXAM_ORDER_STATUSES = ['open', 'recorded', 'cancelled'] as const;
export type ExamOrderStatus = (typeof EXAM_ORDER_STATUSES)[number];

/** DICOM modality (0008,0060) and body part (0018,0015) are CS: upper case, ≤ 16 characters. */
const codeString = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z0-9_ ]{1,16}$/, 'must be a DICOM code string (A-Z, 0-9, _ and space, ≤ 16)');

/** A clinic registers an exam: the patient (found by identifier, or registered) and the order. */
export const CreateExamOrderSchema = z
  .strictObject({
    patient: RegisterPatientSchema,
    kind: z.enum(EXAM_ORDER_KINDS),
    modality: codeString.optional().describe('Imaging only: CT, DX, MR, US …'),
    bodyPart: codeString.optional().describe('Imaging only: CHEST, HEAD …'),
    indication: text({ min: 1, max: 500, trim: true }),
    urgency: z.enum(EXAM_URGENCIES).default('routine'),
  })
  .superRefine((order, context) => {
    if (order.kind === 'imaging') {
      for (const key of ['modality', 'bodyPart'] as const) {
        if (order[key] === undefined) {
          context.addIssue({ code: 'custom', path: [key], message: 'required for imaging' });
        }
      }
    } else {
      for (const key of ['modality', 'bodyPart'] as const) {
        if (order[key] !== undefined) {
          context.addIssue({ code: 'custom', path: [key], message: 'only for imaging' });
        }
      }
    }
  });
export type CreateExamOrder = z.input<typeof CreateExamOrderSchema>;

/** What anyone who may see the patient sees: the identifier only masked. */
export const PatientSummarySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    sex: z.enum(PATIENT_SEXES),
    birthDate: z.string().nullable(),
    maskedIdentifier: z.string().describe('e.g. `5001**********1234`; never the number.'),
    documentType: documentTypeSchema,
  })
  .meta({ id: 'PatientSummary' });
export type PatientSummary = z.infer<typeof PatientSummarySchema>;

export const ExamOrderSchema = z
  .object({
    id: z.string(),
    orderNumber: z.string().describe('What the box operator enters: 8 characters, no 0/O/1/I/L.'),
    clinicId: z.string(),
    patient: PatientSummarySchema,
    kind: z.enum(EXAM_ORDER_KINDS),
    modality: z.string().nullable(),
    bodyPart: z.string().nullable(),
    indication: z.string(),
    urgency: z.enum(EXAM_URGENCIES),
    status: z.enum(EXAM_ORDER_STATUSES),
    accessionNumber: z
      .string()
      .nullable()
      .describe('Imaging: the Accession Number (0008,0050) the modality is to send.'),
    createdAt: z.string(),
    recordedAt: z.string().nullable(),
  })
  .meta({ id: 'ExamOrder' });
export type ExamOrder = z.infer<typeof ExamOrderSchema>;

/** An earlier exam of the same kind: where and when only; seeing it needs a consent code. */
export const RepeatExamWarningSchema = z
  .object({
    id: z.string(),
    earlierExams: z.array(
      z.object({
        facilityName: z.string(),
        at: z.string(),
        kind: z.enum(EXAM_ORDER_KINDS),
        modality: z.string().nullable(),
        bodyPart: z.string().nullable(),
      }),
    ),
    windowDays: z.number().int(),
    message: z.string(),
    wentAhead: z.boolean().nullable(),
  })
  .meta({ id: 'RepeatExamWarning' });
export type RepeatExamWarning = z.infer<typeof RepeatExamWarningSchema>;

export const CreatedExamOrderSchema = z
  .object({
    order: ExamOrderSchema,
    patientRegistered: z.boolean().describe('True when this request registered the patient.'),
    warning: RepeatExamWarningSchema.nullable().describe(
      'Set when the same exam was done within the window: go ahead or cancel the order.',
    ),
  })
  .meta({ id: 'CreatedExamOrder' });
export type CreatedExamOrder = z.infer<typeof CreatedExamOrderSchema>;
