import { z } from 'zod';
import { ResourceIdSchema } from './admin.js';
import { text } from './text.js';
import { CASE_KINDS, CASE_PRIORITIES, type CaseKind, type CasePriority } from './cases.js';

/** A reader holding a case sends it to the tertiary hospital above their own. */
export const EscalateCaseSchema = z.strictObject({
  note: text({ min: 1, max: 1000, trim: true }),
});
export type EscalateCaseRequest = z.input<typeof EscalateCaseSchema>;

/** A reader holding a case sends it back to the clinic (record again, wrong patient, …). */
export const ReturnCaseSchema = z.strictObject({
  reason: text({ min: 1, max: 500, trim: true }),
});
export type ReturnCaseRequest = z.input<typeof ReturnCaseSchema>;

/** Sent to the readers of a hospital at 80 % of an unclaimed case's deadline. */
export interface DeadlineNearAlert {
  caseId: string;
  hospitalId: string;
  /** When the hospital's policy acts on the case unless a reader claims it. */
  deadlineAt: string;
  action: DeadlineAction;
}

// ---- reusable phrases ----------------------------------------------------------------------

export const NewPhraseSchema = z.strictObject({
  text: text({ min: 1, max: 500, trim: true }),
});
export type NewPhraseRequest = z.input<typeof NewPhraseSchema>;

export const PhraseSchema = z
  .object({ id: z.string(), text: z.string(), createdAt: z.string() })
  .meta({ id: 'Phrase' });
export type Phrase = z.infer<typeof PhraseSchema>;

// ---- hospital deadline policies ------------------------------------------------------------

/** What happens to an unclaimed case at its deadline. */
export const DEADLINE_ACTIONS = ['escalate', 'overflow'] as const;
export type DeadlineAction = (typeof DEADLINE_ACTIONS)[number];

/** Bounds of a deadline: long enough to read an ECG, at most a week. */
export const DEADLINE_SECONDS_MIN = 5;
export const DEADLINE_SECONDS_MAX = 7 * 24 * 3600;

const seconds = z.number().int().min(DEADLINE_SECONDS_MIN).max(DEADLINE_SECONDS_MAX);
const perPriority = z.strictObject(
  Object.fromEntries(CASE_PRIORITIES.map((p) => [p, seconds.optional()])) as Record<
    CasePriority,
    z.ZodOptional<typeof seconds>
  >,
);

/** Deadline seconds per kind × priority; what is left out takes the relay's default. */
export const DeadlineOverridesSchema = z.strictObject(
  Object.fromEntries(CASE_KINDS.map((k) => [k, perPriority.optional()])) as Record<
    CaseKind,
    z.ZodOptional<typeof perPriority>
  >,
);
export type DeadlineOverrides = z.output<typeof DeadlineOverridesSchema>;

/** PUT /api/admin/hospitals/:id/policy */
export const HospitalPolicyRequestSchema = z
  .strictObject({
    deadlines: DeadlineOverridesSchema.default({}),
    atDeadline: z.enum(DEADLINE_ACTIONS),
    /** The other county hospital that takes the case, with `atDeadline: overflow`. */
    overflowHospitalId: ResourceIdSchema.nullable().default(null),
  })
  .superRefine((policy, context) => {
    if (policy.atDeadline === 'overflow' && policy.overflowHospitalId === null) {
      context.addIssue({
        code: 'custom',
        path: ['overflowHospitalId'],
        message: 'required when atDeadline is overflow',
      });
    }
    if (policy.atDeadline === 'escalate' && policy.overflowHospitalId !== null) {
      context.addIssue({
        code: 'custom',
        path: ['overflowHospitalId'],
        message: 'only with atDeadline overflow',
      });
    }
  });
export type HospitalPolicyRequest = z.input<typeof HospitalPolicyRequestSchema>;
export type HospitalPolicyInput = z.output<typeof HospitalPolicyRequestSchema>;

/** A hospital's policy as in force: every kind × priority has its deadline. */
export const HospitalPolicySchema = z
  .object({
    hospitalId: z.string(),
    deadlines: z.record(z.enum(CASE_KINDS), z.record(z.enum(CASE_PRIORITIES), z.number())),
    overrides: DeadlineOverridesSchema.describe(
      "What the hospital set itself (the rest are the relay's defaults).",
    ),
    atDeadline: z.enum(DEADLINE_ACTIONS),
    overflowHospitalId: z.string().nullable(),
    updatedAt: z
      .string()
      .nullable()
      .describe("null while the hospital runs on the relay's defaults."),
  })
  .meta({ id: 'HospitalPolicy' });
export type HospitalPolicy = z.infer<typeof HospitalPolicySchema>;
