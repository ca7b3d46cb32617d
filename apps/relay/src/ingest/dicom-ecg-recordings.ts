import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { RECORDING_LIMITS, RecordingOpenSchema } from '#contracts';
import type { DicomEcgRecording } from '#dicom';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/tokens.js';
import type { Logger } from '../infra/logging/logger.js';
import { RecordingArchive } from './recording-archive.js';
import { RecordingsRepository } from './recordings.repository.js';

/** What the imaging store path hands over: a decoded waveform and where it came from. */
export interface DicomEcgArrival {
  clinicId: string;
  sopInstanceUid: string;
  /** 'dicom:stow' or 'dicom:c-store:<calling AE>'. */
  source: string;
  recording: DicomEcgRecording;
}

/** Namespace of the recording ids made from SOP Instance UIDs (a fixed random UUID). */
const DICOM_ECG_NAMESPACE = '6f1c7a52-3c1e-4b8e-9a57-0d6a2f4c9b13';

/**
 * RFC 9562 §5.5 (UUIDv5): the recording id of a clinic's SOP instance, the same on every
 * re-send, so a waveform never becomes a second recording or case. The clinic is part of the
 * name because the imaging store keeps SOP Instance UIDs per clinic.
 */
export function dicomEcgRecordingId(clinicId: string, sopInstanceUid: string): string {
  const namespace = Buffer.from(DICOM_ECG_NAMESPACE.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1')
    .update(namespace)
    .update(`${clinicId}\n${sopInstanceUid}`, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class DicomEcgUnusable extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DicomEcgUnusable';
  }
}

/**
 * ECG recordings from DICOM waveforms (12-lead / General ECG from a hospital ECG cart): the
 * same archive a box's recording goes through, so the same case, analysis, deadline, paper
 * viewer and worklist. The imaging store path calls it; ingest owns the recordings.
 */
@Injectable()
export class DicomEcgRecordings {
  constructor(
    private readonly archive: RecordingArchive,
    private readonly recordings: RecordingsRepository,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Whether this clinic's instance is already a recording (re-sends need no decoding). */
  async has(clinicId: string, sopInstanceUid: string): Promise<boolean> {
    return (
      (await this.recordings.find(dicomEcgRecordingId(clinicId, sopInstanceUid))) !== undefined
    );
  }

  /**
   * Checks a decoded waveform against the limits a box's recording is held to; throws
   * DicomEcgUnusable with the reason. Called before the instance is stored, so a waveform
   * that could never be a recording is refused rather than kept half-used.
   */
  check(arrival: DicomEcgArrival): void {
    const { recording } = arrival;
    const opened = RecordingOpenSchema.safeParse(this.openOf(arrival));
    if (!opened.success) {
      const issue = opened.error.issues[0];
      throw new DicomEcgUnusable(
        `the waveform is outside what the relay analyses: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      );
    }
    const samplesPerLead = recording.samples.length / recording.leads.length;
    if (samplesPerLead < 1) throw new DicomEcgUnusable('the waveform has no samples');
    if (samplesPerLead > RECORDING_LIMITS.maxSamplesPerLead) {
      throw new DicomEcgUnusable(
        `the waveform has ${samplesPerLead} samples per lead; at most ${RECORDING_LIMITS.maxSamplesPerLead} are analysed`,
      );
    }
  }

  /** Archives the waveform as a recording with its case; returns the case id (again on a repeat). */
  async archiveWaveform(arrival: DicomEcgArrival): Promise<string> {
    this.check(arrival);
    const { recording } = arrival;
    const samples = Buffer.alloc(recording.samples.length * 2);
    for (let i = 0; i < recording.samples.length; i++)
      samples.writeInt16LE(recording.samples[i]!, i * 2);
    const caseId = await this.archive.archive(
      {
        ...this.openOf(arrival),
        deviceId: null,
        clinicId: arrival.clinicId,
        source: arrival.source,
      },
      samples,
      1,
    );
    this.log.info(
      {
        caseId,
        clinicId: arrival.clinicId,
        source: arrival.source,
        leads: recording.leads.length,
        multiplexGroup: recording.multiplexGroup.index,
        warnings: recording.warnings.length,
      },
      'dicom ecg waveform archived as a recording',
    );
    return caseId;
  }

  private openOf(arrival: DicomEcgArrival) {
    const { recording } = arrival;
    return {
      recordingId: dicomEcgRecordingId(arrival.clinicId, arrival.sopInstanceUid),
      examKind: recording.examKind,
      leads: recording.leads,
      sampleRateHz: recording.sampleRateHz,
      microvoltsPerLsb: recording.microvoltsPerLsb,
      // A cart without Acquisition DateTime: the time the relay received it.
      startedAt: recording.startedAt ?? this.clock.now().toISOString(),
    };
  }
}
