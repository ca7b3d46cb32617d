import { z } from 'zod';

/** The ECG file formats the clinic's upload reads (docs/ecg-upload.md), recognised by content. */
export const ECG_FILE_FORMATS = ['scp-ecg', 'hl7-aecg', 'dicom-ecg'] as const;
export type EcgFileFormatName = (typeof ECG_FILE_FORMATS)[number];

/**
 * What the electrocardiograph itself measured and wrote into the file (libs/ecg
 * DeviceMeasurements), shown beside the relay's analysis. Each field is absent when the file
 * does not carry it.
 */
export const DeviceMeasurementsSchema = z
  .object({
    heartRateBpm: z.number().optional(),
    rrMs: z.number().optional(),
    prMs: z.number().optional(),
    qrsMs: z.number().optional(),
    qtMs: z.number().optional(),
    qtcMs: z.number().optional(),
    pAxisDeg: z.number().optional(),
    qrsAxisDeg: z.number().optional(),
    tAxisDeg: z.number().optional(),
    statements: z
      .array(z.string())
      .optional()
      .describe("The device's interpretation statements, in the order the file gives them."),
  })
  .meta({ id: 'DeviceMeasurements' });
export type DeviceMeasurementValues = z.infer<typeof DeviceMeasurementsSchema>;

/** The answer to an accepted ECG file: the recording and case it became. */
export const EcgFileAcceptedSchema = z
  .object({
    outcome: z
      .enum(['created', 'already-received'])
      .describe(
        'already-received: the same file came before; its recording and case are answered.',
      ),
    format: z.enum(ECG_FILE_FORMATS),
    recordingId: z.string(),
    caseId: z.string(),
    leads: z.array(z.string()),
    sampleRateHz: z.number(),
    deviceMeasurements: z.boolean().describe('Whether the file carried the device’s measurements.'),
    warnings: z
      .array(z.string())
      .describe('What the reader left out or assumed (leads, scale); ids and counts only.'),
  })
  .meta({ id: 'EcgFileAccepted' });
export type EcgFileAccepted = z.infer<typeof EcgFileAcceptedSchema>;
