import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  RECORDING_LIMITS,
  RecordingOpenSchema,
  REPORT_TIME_ZONE,
  TWELVE_LEADS,
  type ExamKind,
} from '#contracts';
import type { DeviceMeasurements, EcgRecordingInput } from '#ecg';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/tokens.js';
import type { Logger } from '../infra/logging/logger.js';
import { offsetMs } from '../stats/report-period.js';
import { RecordingArchive } from './recording-archive.js';
import { RecordingsRepository } from './recordings.repository.js';

/** A recording read from an ECG file (a DICOM waveform, SCP-ECG, HL7 aECG) on the common scale. */
export interface EcgFileContent extends EcgRecordingInput {
  /** Acquisition time (ISO 8601), or null: the relay then uses the time it received the file. */
  startedAt: string | null;
  /** As the reader decided it; else from the leads (all twelve: resting 12-lead). */
  examKind?: ExamKind;
  deviceMeasurements: DeviceMeasurements | null;
  warnings: string[];
}

/** An ECG file on its way to becoming a recording: what it held and where it came from. */
export interface EcgFileArrival {
  clinicId: string;
  /**
   * What names the file for good within its clinic: a DICOM SOP Instance UID, or
   * `sha256:<hex>` of the file as received for formats without a UID the relay keys on
   * (docs/ecg-upload.md, "Same file twice").
   */
  key: string;
  /** 'dicom:stow', 'dicom:c-store:<calling AE>', 'dicom:upload', 'upload:scp-ecg', 'upload:hl7-aecg'. */
  source: string;
  recording: EcgFileContent;
}

/** Namespace of the recording ids made from file keys (a fixed random UUID). */
const ECG_FILE_NAMESPACE = '6f1c7a52-3c1e-4b8e-9a57-0d6a2f4c9b13';

/**
 * RFC 9562 §5.5 (UUIDv5): the recording id of a clinic's ECG file, the same on every re-send,
 * so a file never becomes a second recording or case. The clinic is part of the name because
 * the imaging store keeps SOP Instance UIDs per clinic (and two clinics may hold one file).
 */
export function ecgFileRecordingId(clinicId: string, key: string): string {
  const namespace = Buffer.from(ECG_FILE_NAMESPACE.replaceAll('-', ''), 'hex');
  const hash = createHash('sha1').update(namespace).update(`${clinicId}\n${key}`, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A file read as an ECG that still cannot be a recording (outside the analysed limits). */
export class EcgFileUnusable extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'EcgFileUnusable';
  }
}

/**
 * ECG recordings from files hospital electrocardiographs write (a DICOM waveform from an ECG
 * cart through the imaging store, SCP-ECG or HL7 aECG uploaded by the clinic): the same
 * archive a box's recording goes through, so the same case, analysis, deadline, paper viewer
 * and worklist. The imaging store path and the upload route call it; ingest owns recordings.
 */
@Injectable()
export class EcgFileRecordings {
  constructor(
    private readonly archive: RecordingArchive,
    private readonly recordings: RecordingsRepository,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Whether this clinic's file is already a recording (re-sends need no decoding). */
  async has(clinicId: string, key: string): Promise<boolean> {
    return (await this.recordings.find(ecgFileRecordingId(clinicId, key))) !== undefined;
  }

  /** The recording and case a clinic's file already became, if it did. */
  async caseOf(
    clinicId: string,
    key: string,
  ): Promise<{ caseId: string; recordingId: string } | undefined> {
    const recordingId = ecgFileRecordingId(clinicId, key);
    const caseId = await this.recordings.caseIdOf(recordingId);
    return caseId ? { caseId, recordingId } : undefined;
  }

  /** What an archived file's recording holds, for answering a re-send without reading it. */
  async contentOf(
    recordingId: string,
  ): Promise<{ leads: string[]; sampleRateHz: number; deviceMeasurements: boolean }> {
    const stored = await this.recordings.find(recordingId);
    if (!stored) throw new Error(`recording ${recordingId} not found`);
    return {
      leads: stored.leads,
      sampleRateHz: stored.sampleRateHz,
      deviceMeasurements: stored.deviceMeasurements !== null,
    };
  }

  /**
   * Checks a decoded file against the limits a box's recording is held to; throws
   * EcgFileUnusable with the reason. Called before the file is kept, so a file that could
   * never be a recording is refused rather than kept half-used.
   */
  check(arrival: EcgFileArrival): void {
    const { recording } = arrival;
    const opened = RecordingOpenSchema.safeParse(this.openOf(arrival));
    if (!opened.success) {
      const issue = opened.error.issues[0];
      throw new EcgFileUnusable(
        `the ECG is outside what the relay analyses: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      );
    }
    const samplesPerLead = recording.samples.length / recording.leads.length;
    if (samplesPerLead < 1) throw new EcgFileUnusable('the ECG has no samples');
    if (samplesPerLead > RECORDING_LIMITS.maxSamplesPerLead) {
      throw new EcgFileUnusable(
        `the ECG has ${samplesPerLead} samples per lead; at most ${RECORDING_LIMITS.maxSamplesPerLead} are analysed`,
      );
    }
  }

  /** Archives the file's ECG as a recording with its case; returns the ids (again on a repeat). */
  async archiveFile(arrival: EcgFileArrival): Promise<{ caseId: string; recordingId: string }> {
    this.check(arrival);
    const { recording } = arrival;
    const samples = Buffer.alloc(recording.samples.length * 2);
    for (let i = 0; i < recording.samples.length; i++)
      samples.writeInt16LE(recording.samples[i]!, i * 2);
    const opened = this.openOf(arrival);
    const caseId = await this.archive.archive(
      {
        ...opened,
        deviceId: null,
        clinicId: arrival.clinicId,
        source: arrival.source,
        deviceMeasurements: recording.deviceMeasurements,
      },
      samples,
      1,
    );
    // Ids, counts and the source only: never a patient attribute of the file.
    this.log.info(
      {
        caseId,
        recordingId: opened.recordingId,
        clinicId: arrival.clinicId,
        source: arrival.source,
        leads: recording.leads.length,
        deviceMeasurements: recording.deviceMeasurements !== null,
        warnings: recording.warnings.length,
      },
      'ecg file archived as a recording',
    );
    return { caseId, recordingId: opened.recordingId };
  }

  private openOf(arrival: EcgFileArrival) {
    const { recording } = arrival;
    return {
      recordingId: ecgFileRecordingId(arrival.clinicId, arrival.key),
      examKind: recording.examKind ?? examKindOf(recording.leads),
      leads: recording.leads,
      sampleRateHz: recording.sampleRateHz,
      microvoltsPerLsb: recording.microvoltsPerLsb,
      // A file without an acquisition time: the time the relay received it.
      startedAt: recording.startedAt ?? this.clock.now().toISOString(),
    };
  }
}

/** All twelve standard leads: a resting 12-lead ECG; fewer: a rhythm strip. */
export function examKindOf(leads: readonly string[]): ExamKind {
  return TWELVE_LEADS.every((lead) => leads.includes(lead)) ? 'resting-12-lead' : 'rhythm-strip';
}

const ZONED = /(Z|[+-]\d{2}:?\d{2})$/i;
const LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/**
 * A file's acquisition time as the UTC instant a recording keeps. SCP-ECG (section 1 tags 25
 * and 26) and many aECG files give the cart's wall-clock time without a zone: it is read in
 * the region's time zone (Asia/Shanghai, where the clinics' carts stand) and said in
 * `warnings`. A time that cannot be read is left out (null: the time of receipt is used).
 */
export function startedAtOf(
  value: string | null,
  warnings: string[],
  timeZone = REPORT_TIME_ZONE,
): string | null {
  if (value === null) return null;
  if (ZONED.test(value)) {
    const at = Date.parse(value);
    return Number.isFinite(at) ? new Date(at).toISOString() : null;
  }
  if (!LOCAL.test(value)) {
    warnings.push('the acquisition time cannot be read; the time of receipt is used');
    return null;
  }
  const asUtc = Date.parse(`${value}Z`);
  if (!Number.isFinite(asUtc)) return null;
  warnings.push(`the acquisition time has no time zone; read as ${timeZone}`);
  return new Date(asUtc - offsetMs(new Date(asUtc), timeZone)).toISOString();
}
