import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import type { EcgFileAccepted, EcgFileFormatName, SessionUser } from '#contracts';
import { CommonScaleError, EcgFileError, type EcgFileRecording } from '#ecg';
import { AuditService } from '../audit/audit.service.js';
import { DomainError, type DomainErrorCode } from '../common/domain-error.js';
import { CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { ImagingIntake, type IntakeRefusal } from '../imaging/imaging-intake.js';
import { SizeLimit } from './size-limit.js';
import { BlobStore } from '../infra/blobs/blob-store.js';
import type { Logger } from '../infra/logging/logger.js';
import {
  EcgFileRecordings,
  EcgFileUnusable,
  startedAtOf,
  type EcgFileArrival,
} from '../ingest/ecg-file-recordings.js';
import { readEcgFile, recogniseEcgFile } from './ecg-file-readers.js';

/** The audit action of every refused upload. */
const ACTION = 'POST /api/ecg-files';

/**
 * Body types Express reads before a handler sees the request (Nest's JSON and form parsers),
 * or that wrap the file (multipart): an ECG file comes as the raw body, whatever its type.
 */
const NOT_A_RAW_FILE = /^(application\/json|application\/x-www-form-urlencoded|multipart\/)/i;

/** DICOM refusals that say the file is not an ECG the relay reads, rather than a broken one. */
const NOT_AN_ECG: ReadonlySet<IntakeRefusal['code']> = new Set([
  'NOT_DICOM',
  'SOP_CLASS_NOT_ACCEPTED',
  'TRANSFER_SYNTAX_NOT_ACCEPTED',
  'NOT_ECG_WAVEFORM',
]);

/**
 * The clinic's ECG file upload (docs/ecg-upload.md): one file as the request body, bounded
 * before and while it is read, recognised by its content, and made a recording and a case
 * exactly like a box's. A DICOM waveform goes through the imaging store (ImagingIntake), so
 * a file sent here and by STOW or C-STORE is one instance and one recording; SCP-ECG and
 * HL7 aECG files are read by libs/ecg and kept as received in the blob store.
 */
@Injectable()
export class EcgFileIntake {
  constructor(
    private readonly imaging: ImagingIntake,
    private readonly recordings: EcgFileRecordings,
    private readonly blobs: BlobStore,
    private readonly audit: AuditService,
    @Inject(CONFIG) private readonly config: RelayConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Reads the request's body to a scratch file and takes it in; refusals are DomainErrors. */
  async receive(user: SessionUser, request: IncomingMessage): Promise<EcgFileAccepted> {
    const { maxBytes } = this.config.ecgFiles;
    const contentType = request.headers['content-type'] ?? '';
    if (NOT_A_RAW_FILE.test(contentType)) {
      throw this.refuse(user, 'UNSUPPORTED_MEDIA_TYPE', null, {
        code: 'NOT_A_FILE_BODY',
        reason: 'send the ECG file itself as the request body (application/octet-stream)',
      });
    }
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      throw this.refuse(user, 'PAYLOAD_TOO_LARGE', null, {
        code: 'TOO_LARGE',
        reason: `the file is larger than ${maxBytes} bytes`,
      });
    }
    if (!(await this.imaging.hasRoomFor(Number.isFinite(declared) ? declared : maxBytes))) {
      throw new DomainError('INSUFFICIENT_STORAGE', 'The relay is short of disk space; send later');
    }
    const path = await this.blobs.scratchPath();
    const limit = new SizeLimit(maxBytes);
    try {
      await pipeline(request, limit, createWriteStream(path));
    } catch (error) {
      await rm(path, { force: true });
      // A client that dropped the line mid-file: nothing was taken, and it is not our fault.
      if (request.destroyed || (error as { code?: string }).code === 'ECONNRESET') {
        throw new DomainError('INVALID_INPUT', 'The upload was cut off before the end of the file');
      }
      throw error;
    }
    if (limit.exceeded) {
      await rm(path, { force: true });
      throw this.refuse(user, 'PAYLOAD_TOO_LARGE', null, {
        code: 'TOO_LARGE',
        reason: `the file is larger than ${maxBytes} bytes`,
      });
    }
    return this.takeFile(user, path);
  }

  /**
   * Takes in a file already written at `path` (consumed: kept in the blob store, or
   * deleted). The medium test calls it with a file of its own.
   */
  async takeFile(user: SessionUser, path: string): Promise<EcgFileAccepted> {
    let handedOver = false;
    try {
      const bytes = await readFile(path);
      const format = recogniseEcgFile(bytes);
      if (format === null) {
        throw this.refuse(user, 'UNSUPPORTED_MEDIA_TYPE', null, {
          code: 'ECG_FILE_UNRECOGNISED',
          reason:
            'the file is not an ECG file the relay reads (SCP-ECG, HL7 aECG or a DICOM ECG waveform)',
        });
      }
      if (format === 'dicom-ecg') {
        handedOver = true;
        return await this.takeDicom(user, path);
      }
      const staged = this.blobs.stage(path);
      handedOver = true;
      let kept = false;
      try {
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const key = `sha256:${sha256}`;
        // The same file again: its recording and case, without reading it a second time.
        const earlier = await this.recordings.caseOf(user.facilityId, key);
        if (earlier) {
          return {
            outcome: 'already-received',
            format,
            ...earlier,
            ...(await this.recordings.contentOf(earlier.recordingId)),
            warnings: [],
          };
        }
        const read = this.read(user, format, bytes);
        const recording = { ...read, startedAt: startedAtOf(read.startedAt, read.warnings) };
        const arrival: EcgFileArrival = {
          clinicId: user.facilityId,
          key,
          source: `upload:${format}`,
          recording,
        };
        try {
          this.recordings.check(arrival);
        } catch (error) {
          if (!(error instanceof EcgFileUnusable)) throw error;
          throw this.refuse(user, 'UNPROCESSABLE', format, {
            code: 'ECG_FILE_UNUSABLE',
            reason: error.reason,
          });
        }
        // The file as received, content-addressed beside the DICOM instances, before any
        // row names the recording it became.
        await staged.keep(sha256);
        kept = true;
        const made = await this.recordings.archiveFile(arrival);
        return {
          outcome: 'created',
          format,
          ...made,
          leads: recording.leads,
          sampleRateHz: recording.sampleRateHz,
          deviceMeasurements: recording.deviceMeasurements !== null,
          warnings: recording.warnings,
        };
      } finally {
        if (!kept) await staged.discard();
      }
    } finally {
      if (!handedOver) await rm(path, { force: true });
    }
  }

  private async takeDicom(user: SessionUser, path: string): Promise<EcgFileAccepted> {
    const outcome = await this.imaging.storeFile(
      path,
      { via: 'upload', clinicId: user.facilityId, actor: `user:${user.id}` },
      { ecgWaveform: true },
    );
    if (outcome.outcome === 'refused') {
      // ImagingIntake has audited and logged it (action dicom.upload); the answer says why.
      const { code, reason } = outcome.refusal;
      throw new DomainError(
        NOT_AN_ECG.has(code) ? 'UNSUPPORTED_MEDIA_TYPE' : 'UNPROCESSABLE',
        reason,
      );
    }
    if (outcome.outcome === 'conflict') throw new DomainError('CONFLICT', outcome.reason);
    const made = await this.recordings.caseOf(user.facilityId, outcome.sopInstanceUid);
    if (!made) throw new Error('a stored ECG waveform has no case');
    const content = await this.recordings.contentOf(made.recordingId);
    return {
      outcome: outcome.outcome === 'stored' ? 'created' : 'already-received',
      format: 'dicom-ecg',
      ...made,
      ...content,
      warnings: [],
    };
  }

  /** libs/ecg's reader; what it cannot read is refused with its reason, never a crash. */
  private read(
    user: SessionUser,
    format: Exclude<EcgFileFormatName, 'dicom-ecg'>,
    bytes: Uint8Array,
  ): EcgFileRecording {
    try {
      return readEcgFile(format, bytes);
    } catch (error) {
      if (error instanceof EcgFileError || error instanceof CommonScaleError) {
        throw this.refuse(user, 'UNPROCESSABLE', format, {
          code: error.code,
          reason: error.message,
        });
      }
      // A reader's own fault on a file nobody foresaw: still an answer, and the trace logged.
      this.log.error({ err: error, format, clinicId: user.facilityId }, 'ecg file reader failed');
      throw this.refuse(user, 'UNPROCESSABLE', format, {
        code: 'ECG_FILE_INVALID',
        reason: `the file could not be read as ${format}`,
      });
    }
  }

  /**
   * A refusal, audited and logged with the clinic, user, format and code: never the file's
   * patient fields (the reason names structure, not content).
   */
  private refuse(
    user: SessionUser,
    status: DomainErrorCode,
    format: EcgFileFormatName | null,
    detail: { code: string; reason: string },
  ): DomainError {
    this.audit.recordLater({
      actor: `user:${user.id}`,
      action: ACTION,
      outcome: 'denied',
      subject: `clinic:${user.facilityId}`,
      detail: { format, ...detail },
    });
    this.log.warn({ clinicId: user.facilityId, format, code: detail.code }, 'ecg file refused');
    return new DomainError(status, detail.reason);
  }
}
