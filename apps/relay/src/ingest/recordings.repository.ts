import { Injectable } from '@nestjs/common';
import type { Tx } from '../infra/database/database.js';
import { recordings } from '../infra/database/schema.js';
import type { StagedRecording } from './recording-staging.js';

@Injectable()
export class RecordingsRepository {
  /** Idempotent: a recording already stored is left as it is. */
  async insert(
    tx: Tx,
    recording: StagedRecording,
    stored: { chunkCount: number; samplesPerLead: number; sha256: string },
  ): Promise<void> {
    await tx
      .insert(recordings)
      .values({
        id: recording.recordingId,
        deviceId: recording.deviceId,
        clinicId: recording.clinicId,
        examKind: recording.examKind,
        leads: recording.leads,
        sampleRateHz: recording.sampleRateHz,
        microvoltsPerLsb: recording.microvoltsPerLsb,
        samplesPerLead: stored.samplesPerLead,
        chunkCount: stored.chunkCount,
        sha256: stored.sha256,
        patientRef: recording.patientRef ?? null,
        startedAt: new Date(recording.startedAt),
      })
      .onConflictDoNothing({ target: recordings.id });
  }
}
