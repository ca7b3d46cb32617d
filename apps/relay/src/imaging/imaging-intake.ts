import { readFile, statfs } from 'node:fs/promises';
import { Inject, Injectable } from '@nestjs/common';
import {
  decodeEcgWaveform,
  DicomWaveformError,
  type DicomRefusal,
  type InspectedInstance,
} from '#dicom';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { CONFIG, LOGGER } from '../common/tokens.js';
import type { RelayConfig } from '../config/config.js';
import { BlobStore, type StagedFile } from '../infra/blobs/blob-store.js';
import type { Logger } from '../infra/logging/logger.js';
import {
  EcgFileRecordings,
  EcgFileUnusable,
  type EcgFileArrival,
} from '../ingest/ecg-file-recordings.js';
import { DicomInspector } from './dicom-inspector.js';
import { ImagingCases } from './imaging-cases.js';
import { ImagingRepository, type RecordOutcome } from './imaging.repository.js';

/** Where an instance came from (docs/imaging.md): the one store path for STOW-RS and C-STORE. */
export interface StoreSource {
  /** 'upload': an ECG cart's file through the clinic's ECG upload (docs/ecg-upload.md). */
  via: 'stow' | 'c-store' | 'upload';
  clinicId: string;
  /** A user id, or `ae:<AETITLE>` for a modality sending by C-STORE. */
  actor: string;
  callingAe?: string;
}

/** A refusal by the relay itself, beside libs/dicom's reasons for a file it cannot take. */
export type IntakeRefusal = Omit<DicomRefusal, 'code'> & {
  code: DicomRefusal['code'] | 'STUDY_UID_MISMATCH' | 'ECG_WAVEFORM_UNUSABLE' | 'NOT_ECG_WAVEFORM';
};

export type StoreOutcome =
  | {
      outcome: 'stored' | 'already-stored';
      sopClassUid: string;
      sopInstanceUid: string;
      studyInstanceUid: string;
      /** Path of the instance's WADO-RS resource, from `/dicomweb`. */
      retrieveUrl: string;
      /** An ECG waveform's case (the ECG recording made from it; docs/imaging.md). */
      ecgCaseId?: string;
    }
  | { outcome: 'refused'; refusal: IntakeRefusal }
  | { outcome: 'conflict'; reason: string; sopClassUid: string; sopInstanceUid: string };

/** PS3.7 C.4.2: "Duplicate SOP Instance". */
export const DUPLICATE_SOP_INSTANCE = 0x0111;
/** PS3.7 C.4.2 "Data Set does not match SOP Class" family: the instance is not the target's. */
export const STUDY_MISMATCH = 0xa900;
/** PS3.4 Annex GG / PS3.18 "Referenced SOP Class not supported". */
export const SOP_CLASS_NOT_SUPPORTED = 0x0122;

/** How old a reading of the data disk's free space may be (hasRoomFor). */
const FREE_DISK_MAX_AGE_MS = 500;

export function instancePath(study: string, series: string, sop: string): string {
  return `/dicomweb/studies/${study}/series/${series}/instances/${sop}`;
}

/**
 * Stores received DICOM files: inspected on a parser thread (bounded), content-addressed into
 * the blob store, recorded once. Every file ends here whichever way it came, and the file
 * at the given path is consumed: moved into the blob store or deleted.
 */
/** What the caller knows the instance must be: of the study in its URL, an ECG waveform. */
interface StoreExpectation {
  studyInstanceUid?: string;
  ecgWaveform?: boolean;
}

@Injectable()
export class ImagingIntake {
  constructor(
    private readonly inspector: DicomInspector,
    private readonly repository: ImagingRepository,
    private readonly blobs: BlobStore,
    private readonly audit: AuditService,
    private readonly imagingCases: ImagingCases,
    private readonly ecgRecordings: EcgFileRecordings,
    private readonly clock: Clock,
    @Inject(CONFIG) private readonly config: RelayConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Whether the data disk keeps DICOM_MIN_FREE_DISK_BYTES free after `bytes` more. */
  async hasRoomFor(bytes: number): Promise<boolean> {
    return (await this.freeDiskBytes()) - bytes >= this.config.imaging.minFreeDiskBytes;
  }

  private freeDisk: { at: number; bytes: Promise<number> } | undefined;

  /**
   * The data disk's free bytes, read at most every FREE_DISK_MAX_AGE_MS: every request and
   * part asks, and a statfs each time queued behind the fsyncs on libuv's threads. What
   * was written since the reading is at most that long's intake, far below any sensible
   * DICOM_MIN_FREE_DISK_BYTES.
   */
  private freeDiskBytes(): Promise<number> {
    const now = this.clock.now().getTime();
    if (!this.freeDisk || now - this.freeDisk.at >= FREE_DISK_MAX_AGE_MS) {
      const bytes = statfs(this.config.blobDir).then((disk) => disk.bavail * disk.bsize);
      const reading = { at: now, bytes };
      this.freeDisk = reading;
      // A failed reading is not kept: the next caller asks the disk again.
      bytes.catch(() => {
        if (this.freeDisk === reading) this.freeDisk = undefined;
      });
    }
    return this.freeDisk.bytes;
  }

  /** A fresh path for a file being received, on the blob store's file system. */
  scratchPath(): Promise<string> {
    return this.blobs.scratchPath();
  }

  async storeFile(
    tempFilePath: string,
    source: StoreSource,
    expect: StoreExpectation = {},
  ): Promise<StoreOutcome> {
    // The file's fsync runs while it is inspected and looked up, off the critical path; it
    // is moved into place only once both are done and the instance is a new one.
    return this.store(
      this.blobs.stage(tempFilePath),
      this.inspector.inspect(tempFilePath),
      () => readFile(tempFilePath),
      source,
      expect,
    );
  }

  /**
   * The same for an instance received into memory (a STOW-RS part below
   * DICOM_IN_MEMORY_INSTANCE_BYTES, or a C-STORE as small): its scratch file is written and fsynced while the parser
   * thread reads a copy of the bytes, so nothing is read back from disk. The bytes must not
   * change until this resolves.
   */
  async storeBytes(
    bytes: Uint8Array,
    source: StoreSource,
    expect: StoreExpectation = {},
  ): Promise<StoreOutcome> {
    return this.store(
      this.blobs.stageBytes(bytes),
      this.inspector.inspectBytes(bytes),
      () => Promise.resolve(bytes),
      source,
      expect,
    );
  }

  private async store(
    staged: StagedFile,
    inspecting: ReturnType<DicomInspector['inspect']>,
    bytesOf: () => Promise<Uint8Array>,
    source: StoreSource,
    expect: StoreExpectation,
  ): Promise<StoreOutcome> {
    let consumed = false;
    try {
      const inspection = await inspecting;
      if (!inspection.ok) return this.refuse(source, inspection.refusal);
      const { instance, sha256, sizeBytes } = inspection;
      const ids = { sopClassUid: instance.sopClassUid, sopInstanceUid: instance.sopInstanceUid };
      if (expect.studyInstanceUid && expect.studyInstanceUid !== instance.studyInstanceUid) {
        return this.refuse(source, {
          code: 'STUDY_UID_MISMATCH',
          reason: 'the instance belongs to another study than the one in the request URL',
          failureReason: STUDY_MISMATCH,
          ...ids,
        });
      }
      if (expect.ecgWaveform && !instance.isEcgWaveform) {
        return this.refuse(source, {
          code: 'NOT_ECG_WAVEFORM',
          reason:
            'the DICOM file is not an ECG waveform (12-lead or General ECG); images go through the imaging upload',
          failureReason: SOP_CLASS_NOT_SUPPORTED,
          ...ids,
        });
      }
      const stored = await this.repository.storedSha256(source.clinicId, instance.sopInstanceUid);
      // An ECG waveform is decoded before it is stored: one that cannot become a recording
      // is refused with the reason instead of being kept as an image nobody reads. A re-send
      // is decoded again only when its recording is missing (a crash between the two steps).
      let ecg: EcgFileArrival | undefined;
      if (
        instance.isEcgWaveform &&
        (stored === undefined ||
          (stored === sha256 &&
            !(await this.ecgRecordings.has(source.clinicId, instance.sopInstanceUid))))
      ) {
        const decoded = await this.decodeEcg(bytesOf, instance, source);
        if ('refusal' in decoded) return this.refuse(source, decoded.refusal);
        ecg = decoded.arrival;
      }
      let recorded: RecordOutcome;
      if (stored !== undefined) {
        recorded = { outcome: stored === sha256 ? 'already-stored' : 'conflict' };
      } else {
        // The blob is in place (fsynced, its directory too) before any row names it.
        await staged.keep(sha256);
        consumed = true;
        recorded = await this.repository.recordInstance(
          {
            clinicId: source.clinicId,
            via: source.via,
            sha256,
            sizeBytes,
            instance,
            at: this.clock.now(),
          },
          // A study an ECG cart opens is not an imaging case: its waveforms are read as
          // ECG recordings (docs/imaging.md, "ECG waveforms").
          instance.isEcgWaveform
            ? () => Promise.resolve()
            : (tx, studyId, at) => this.imagingCases.scheduleQuietCheck(tx, studyId, at),
        );
      }
      if (recorded.outcome === 'conflict') {
        const reason = 'another file is already stored under this SOP Instance UID';
        this.auditRefusal(source, 'conflict', { ...ids, reason });
        return { outcome: 'conflict', reason, ...ids };
      }
      if (recorded.outcome === 'stored') {
        this.log.info(
          { via: source.via, clinicId: source.clinicId, studyId: recorded.studyId, sha256 },
          'dicom instance stored',
        );
      }
      // After the instance is durably recorded; archiving is idempotent (the recording id
      // comes from the SOP Instance UID), so a race of two identical sends makes one case.
      const ecgCaseId = ecg ? (await this.ecgRecordings.archiveFile(ecg)).caseId : undefined;
      return {
        outcome: recorded.outcome,
        ...(ecgCaseId ? { ecgCaseId } : {}),
        ...ids,
        studyInstanceUid: instance.studyInstanceUid,
        retrieveUrl: instancePath(
          instance.studyInstanceUid,
          instance.seriesInstanceUid,
          instance.sopInstanceUid,
        ),
      };
    } finally {
      if (!consumed) await staged.discard();
    }
  }

  private async decodeEcg(
    bytesOf: () => Promise<Uint8Array>,
    instance: InspectedInstance,
    source: StoreSource,
  ): Promise<{ arrival: EcgFileArrival } | { refusal: IntakeRefusal }> {
    try {
      // The file was bounded by DICOM_MAX_INSTANCE_BYTES and parsed safely on the pool first.
      const recording = decodeEcgWaveform(await bytesOf(), instance);
      const arrival: EcgFileArrival = {
        clinicId: source.clinicId,
        key: instance.sopInstanceUid,
        source: source.callingAe
          ? `dicom:${source.via}:${source.callingAe}`
          : `dicom:${source.via}`,
        recording,
      };
      this.ecgRecordings.check(arrival);
      return { arrival };
    } catch (error) {
      if (!(error instanceof DicomWaveformError) && !(error instanceof EcgFileUnusable)) {
        throw error;
      }
      return {
        refusal: {
          code: 'ECG_WAVEFORM_UNUSABLE',
          reason: `ECG waveform not usable as a recording: ${error.message}`,
          failureReason: STUDY_MISMATCH,
          sopClassUid: instance.sopClassUid,
          sopInstanceUid: instance.sopInstanceUid,
        },
      };
    }
  }

  private refuse(source: StoreSource, refusal: IntakeRefusal): StoreOutcome {
    this.auditRefusal(source, 'refused', {
      code: refusal.code,
      reason: refusal.reason,
      failureReason: refusal.failureReason,
      sopClassUid: refusal.sopClassUid,
      sopInstanceUid: refusal.sopInstanceUid,
    });
    return { outcome: 'refused', refusal };
  }

  /** Refusals are audited with ids and the reason only: never a patient attribute. */
  private auditRefusal(source: StoreSource, kind: string, detail: Record<string, unknown>): void {
    this.audit.recordLater({
      actor: source.actor.includes(':') ? source.actor : `user:${source.actor}`,
      action: `dicom.${source.via}`,
      outcome: 'denied',
      subject: `clinic:${source.clinicId}`,
      detail: { kind, callingAe: source.callingAe, ...detail },
    });
    this.log.warn(
      { via: source.via, clinicId: source.clinicId, kind, code: detail['code'] },
      'dicom instance refused',
    );
  }
}
