import type { EcgRecordingInput, ExamKindLike } from './ecg-types.js';
import type { InspectedInstance } from './types.js';

/** One channel of a DICOM waveform as it was stored (PS3.3 C.10.9.1.4). */
export interface DicomEcgChannel {
  lead: string;
  /** Physical units (µV) per stored unit: ChannelSensitivity × correction factor, in µV. */
  microvoltsPerUnit: number;
  /** ChannelBaseline, in µV. */
  baselineMicrovolts: number;
}

/**
 * A DICOM ECG as the relay's analysis takes a box's recording (EcgRecordingInput), plus what
 * a recording row needs (start time, exam kind) and the per-channel calibration it came from.
 */
export interface DicomEcgRecording extends EcgRecordingInput {
  startedAt: string | null;
  examKind: ExamKindLike;
  channels: DicomEcgChannel[];
  warnings: string[];
}

export class DicomWaveformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DicomWaveformError';
  }
}

export function decodeEcgWaveform(
  bytes: Uint8Array,
  instance: InspectedInstance,
): DicomEcgRecording {
  void bytes;
  void instance;
  throw new DicomWaveformError('ECG waveform decoding lands after the seam commit');
}
