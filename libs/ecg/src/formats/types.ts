import type { EcgRecordingInput } from '../analysis.js';

/** The file formats electrocardiographs write that the relay reads. */
export type EcgFileFormat = 'scp-ecg' | 'hl7-aecg' | 'dicom-ecg' | 'wfdb';

/**
 * What the electrocardiograph itself measured and wrote into the file, shown beside the
 * relay's own measurements; every field is absent when the file does not carry it.
 */
export interface DeviceMeasurements {
  heartRateBpm?: number;
  rrMs?: number;
  prMs?: number;
  qrsMs?: number;
  qtMs?: number;
  qtcMs?: number;
  pAxisDeg?: number;
  qrsAxisDeg?: number;
  tAxisDeg?: number;
  /** The device's interpretation statements, in the order the file gives them. */
  statements?: string[];
}

/** A recording read from an ECG file, on the relay's common scale (see toCommonScale). */
export interface EcgFileRecording extends EcgRecordingInput {
  format: EcgFileFormat;
  /** Acquisition time as ISO 8601 (UTC when the file gives a zone), or null. */
  startedAt: string | null;
  deviceMeasurements: DeviceMeasurements | null;
  /** Non-fatal findings: leads left out, assumptions made, a coarser scale. */
  warnings: string[];
}

export type EcgFileErrorCode =
  'ECG_FILE_UNRECOGNISED' | 'ECG_FILE_TRUNCATED' | 'ECG_FILE_INVALID' | 'ECG_FILE_UNSUPPORTED';

/** A file that cannot be read as an ECG; `message` says why in words a clinic can act on. */
export class EcgFileError extends Error {
  readonly code: EcgFileErrorCode;
  readonly format: EcgFileFormat | null;

  constructor(code: EcgFileErrorCode, format: EcgFileFormat | null, message: string) {
    super(message);
    this.name = 'EcgFileError';
    this.code = code;
    this.format = format;
  }
}
