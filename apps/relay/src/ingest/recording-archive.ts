import { Inject, Injectable } from '@nestjs/common';
import { LOGGER } from '../common/tokens.js';
import { BlobStore } from '../infra/blobs/blob-store.js';
import { Database } from '../infra/database/database.js';
import type { Logger } from '../infra/logging/logger.js';
import { Outbox } from '../outbox/outbox.js';
import { ExamOrdersService } from '../records/exam-orders.service.js';
import { WorklistService } from '../worklist/worklist.service.js';
import { IngestRejection } from './ingest-errors.js';
import { RecordingsRepository, type ArchivedRecording } from './recordings.repository.js';

/**
 * Makes a complete recording permanent: the samples as a content-addressed blob (fsynced
 * first), then the recording, its case and the case's first job in one transaction. Safe to
 * repeat: the blob is keyed by content and a recording never gets a second case.
 */
@Injectable()
export class RecordingArchive {
  constructor(
    private readonly blobs: BlobStore,
    private readonly database: Database,
    private readonly recordings: RecordingsRepository,
    private readonly worklist: WorklistService,
    private readonly outbox: Outbox,
    private readonly orders: ExamOrdersService,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Returns the case id. `samples` are int16 LE interleaved, exactly as they will be kept. */
  async archive(
    recording: ArchivedRecording,
    samples: Buffer,
    chunkCount: number,
  ): Promise<string> {
    const sha256 = await this.blobs.put(samples);
    const samplesPerLead = samples.byteLength / 2 / recording.leads.length;
    const caseId = await this.database.db.transaction(async (tx) => {
      const existing = await this.recordings.insert(tx, recording, {
        chunkCount,
        samplesPerLead,
        sha256,
      });
      // Stored long ago under the same id by another box (cloned firmware, a weak random
      // source) or with other samples: never hand this box that recording's case. A DICOM
      // waveform has no box (null on both sides), so there only the samples must match.
      if (existing && (existing.deviceId !== recording.deviceId || existing.sha256 !== sha256)) {
        throw new IngestRejection(
          'INVALID_MESSAGE',
          'recording id already in use',
          false,
          recording.recordingId,
        );
      }
      // The order the operator entered gives the case its patient (docs/patients.md); a
      // recording without one makes a case without a patient, as before orders existed.
      const order = recording.orderNumber
        ? await this.orders.ecgOrderOf(recording.clinicId, recording.orderNumber, tx)
        : undefined;
      const caseId = await this.worklist.openCase(tx, {
        kind: 'ecg',
        recordingId: recording.recordingId,
        examKind: recording.examKind,
        clinicId: recording.clinicId,
        priority: 'routine',
        patientId: order?.patientId ?? null,
        orderId: order?.id ?? null,
      });
      if (order?.status === 'open') await this.orders.markRecorded(tx, order.id);
      return caseId;
    });
    void this.outbox.flush();
    // The box's "stored" ack must not wait for the clinic's live view: under load the query
    // behind it queued for a database connection so long that, at 1000 boxes on
    // PostgreSQL, not one box heard its recording was complete while 2,047 were stored.
    this.worklist
      .caseOpened(caseId)
      .catch((error: unknown) =>
        this.log.warn({ err: error, caseId }, 'clinic not told of its new case'),
      );
    return caseId;
  }
}
