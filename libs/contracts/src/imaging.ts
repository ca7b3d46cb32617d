import { z } from 'zod';
import { CASE_PRIORITIES } from './cases.js';

/** A study on the clinic's upload page: ids, counts and state, no patient data. */
export const ImagingStudySchema = z
  .object({
    studyInstanceUid: z.string(),
    description: z.string().nullable(),
    modalities: z.array(z.string()),
    seriesCount: z.number().int(),
    instanceCount: z.number().int(),
    state: z
      .enum(['receiving', 'queued'])
      .describe('receiving: instances may still come; queued: its case is on the worklist.'),
    caseId: z.string().nullable(),
    lastInstanceAt: z.string(),
  })
  .meta({ id: 'ImagingStudy' });
export type ImagingStudy = z.infer<typeof ImagingStudySchema>;

/** The clinic says a study is complete; it may ask for an urgent or STAT reading. */
export const CompleteStudySchema = z
  .strictObject({
    priority: z.enum(CASE_PRIORITIES).default('routine'),
  })
  .meta({ id: 'CompleteStudy' });

/** A DICOM UID (PS3.5 §9.1): digits and dots, at most 64 characters. */
export const DicomUidSchema = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)*$/, 'a DICOM UID: digits and dots')
  .max(64);

/** One data set in PS3.18 §F.2 DICOM JSON: tag (8 hex digits) → { vr, Value | BulkDataURI }. */
export const DicomJsonDatasetSchema = z
  .record(
    z.string(),
    z.object({
      vr: z.string(),
      Value: z.array(z.unknown()).optional(),
      BulkDataURI: z.string().optional(),
      InlineBinary: z.string().optional(),
    }),
  )
  .meta({ id: 'DicomJsonDataset' });
