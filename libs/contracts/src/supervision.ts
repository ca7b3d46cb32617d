import { z } from 'zod';
import { FACILITY_KINDS } from './auth.js';
import { CASE_PRIORITIES, CASE_STATUSES } from './cases.js';

/**
 * The health authority's supervision (docs/supervision.md): counts and times for a period of
 * whole days in the report time zone, per facility and for the region. Nothing here names or
 * identifies a patient, and no case id is given out.
 */
export const REPORT_TIME_ZONE = 'Asia/Shanghai';

/** The longest period one request may cover, so a report stays one bounded read. */
export const MAX_PERIOD_DAYS = 92;

const day = z.iso.date();

/** GET /api/stats/supervision and …/supervision.csv: `from`/`to` are days, both included. */
export const SupervisionQuerySchema = z
  .strictObject({ from: day.optional(), to: day.optional() })
  .refine((q) => !q.from || !q.to || q.from <= q.to, {
    message: '`from` must not be after `to`',
    path: ['to'],
  })
  .refine(
    (q) =>
      !q.from || !q.to || (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 < MAX_PERIOD_DAYS,
    { message: `a period may cover at most ${MAX_PERIOD_DAYS} days`, path: ['to'] },
  );
export type SupervisionQuery = z.input<typeof SupervisionQuerySchema>;

const seconds = z.number().nullable();

/**
 * The figures of one facility (a clinic's own exams; a hospital's: the exams of every clinic
 * below it) or of the whole region. A case belongs to the period in which it was recorded.
 */
export const SupervisionFiguresSchema = z
  .object({
    exams: z.number().describe('Cases recorded in the period.'),
    examsByKind: z
      .record(z.string(), z.number())
      .describe('Those cases by exam kind (ecg-12, ct-head …).'),
    signed: z.number().describe('Of those, signed by a reader.'),
    received: z.number().describe('Of those, diagnosis received by the clinic.'),
    turnaroundSeconds: z
      .object({ p50: seconds, p90: seconds })
      .describe('From the recording stored at the relay to the diagnosis received by the clinic.'),
    breaches: z
      .number()
      .describe('Signed after the due time, or still open with the due time passed.'),
    escalated: z.number().describe('Escalated to the tertiary hospital (by a reader or deadline).'),
    overflowed: z.number().describe('Passed to another county hospital at the deadline.'),
    returned: z.number().describe('Returned to the clinic to be recorded again.'),
    repeatExamWarnings: z
      .number()
      .describe('Repeated-exam warnings given in the period (docs/patients.md).'),
    repeatExamsWentAhead: z.number().describe('Of those, exams that went ahead anyway.'),
    waiting: z.number().describe('Now: open cases waiting for a reader (any period).'),
    claimed: z.number().describe('Now: open cases claimed by a reader (any period).'),
  })
  .meta({ id: 'SupervisionFigures' });
export type SupervisionFigures = z.infer<typeof SupervisionFiguresSchema>;

export const SupervisionFacilitySchema = z
  .object({
    id: z.string(),
    kind: z.enum(FACILITY_KINDS),
    name: z.string(),
    parentId: z.string().nullable(),
    figures: SupervisionFiguresSchema,
  })
  .meta({ id: 'SupervisionFacility' });
export type SupervisionFacility = z.infer<typeof SupervisionFacilitySchema>;

/** An open case past or near its due time: where it is and how late, nothing about whom. */
export const LateCaseSchema = z
  .object({
    clinicId: z.string(),
    hospitalId: z.string(),
    examKind: z.string(),
    priority: z.enum(CASE_PRIORITIES),
    status: z.enum(CASE_STATUSES),
    recordedAt: z.string(),
    dueAt: z.string(),
    overdueSeconds: z.number().describe('Positive when past due, negative when still to come.'),
  })
  .meta({ id: 'LateCase' });
export type LateCase = z.infer<typeof LateCaseSchema>;

/** Diagnoses a hospital's reader signed in the period, and what they hold now. */
export const ReaderLoadSchema = z
  .object({
    displayName: z.string(),
    hospitalId: z.string(),
    signed: z.number(),
    claimedNow: z.number(),
  })
  .meta({ id: 'ReaderLoad' });
export type ReaderLoad = z.infer<typeof ReaderLoadSchema>;

/** Upper bounds (minutes) of the turnaround histogram's buckets; the last bucket is open. */
export const TURNAROUND_BUCKETS_MINUTES = [10, 20, 30, 60, 120, 240] as const;

export const SupervisionReportSchema = z
  .object({
    regionId: z.string(),
    timeZone: z.literal(REPORT_TIME_ZONE),
    from: day,
    to: day,
    periodStart: z.string(),
    periodEnd: z.string().describe('Exclusive: midnight after `to`.'),
    generatedAt: z.string(),
    region: SupervisionFiguresSchema,
    facilities: z.array(SupervisionFacilitySchema),
    turnaroundHistogram: z
      .array(z.number())
      .describe('Received cases per bucket of TURNAROUND_BUCKETS_MINUTES, plus one open bucket.'),
    casesPerHour: z
      .array(z.object({ hour: z.string(), exams: z.number() }))
      .describe('Cases recorded per hour of the period (hours with none are left out).'),
    readers: z.array(ReaderLoadSchema),
    lateCases: z.array(LateCaseSchema),
  })
  .meta({ id: 'SupervisionReport' });
export type SupervisionReport = z.infer<typeof SupervisionReportSchema>;

/** Socket.IO `supervision.changed` (room `region:<id>`): facilities whose figures moved. */
export interface SupervisionChanged {
  facilityIds: string[];
}
