import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import type { DeviceMeasurements } from '#ecg';
import { Database, type Tx } from '../infra/database/database.js';
import { cases, recordings } from '../infra/database/schema.js';
import type { StagedRecording } from './recording-staging.js';

/**
 * A recording ready to be kept: a box's (deviceId set, source 'box') or one read from an ECG
 * file (deviceId null, source 'dicom:…' or 'upload:…', with the device's own measurements).
 */
export type ArchivedRecording = Omit<StagedRecording, 'deviceId'> & {
  deviceId: string | null;
  source?: string;
  deviceMeasurements?: DeviceMeasurements | null;
};

export interface StoredRecording {
  id: string;
  leads: string[];
  sampleRateHz: number;
  microvoltsPerLsb: number;
  samplesPerLead: number;
  sha256: string;
  deviceMeasurements: Record<string, unknown> | null;
}

@Injectable()
export class RecordingsRepository {
  constructor(private readonly database: Database) {}

  async find(id: string): Promise<StoredRecording | undefined> {
    const [row] = await this.database.db
      .select({
        id: recordings.id,
        leads: recordings.leads,
        sampleRateHz: recordings.sampleRateHz,
        microvoltsPerLsb: recordings.microvoltsPerLsb,
        samplesPerLead: recordings.samplesPerLead,
        sha256: recordings.sha256,
        deviceMeasurements: recordings.deviceMeasurements,
      })
      .from(recordings)
      .where(eq(recordings.id, id));
    return row;
  }

  /** The case of a recording (a recording has one case at most). */
  async caseIdOf(recordingId: string): Promise<string | undefined> {
    const [row] = await this.database.db
      .select({ id: cases.id })
      .from(cases)
      .where(eq(cases.recordingId, recordingId))
      .limit(1);
    return row?.id;
  }

  async saveAnalysis(tx: Tx, id: string, analysis: Record<string, unknown>): Promise<void> {
    await tx.update(recordings).set({ analysis }).where(eq(recordings.id, id));
  }

  /**
   * Idempotent: a recording already stored is left as it is, and whose it is (box and
   * sha256) is returned so the caller can tell a repeat from a colliding id.
   */
  async insert(
    tx: Tx,
    recording: ArchivedRecording,
    stored: { chunkCount: number; samplesPerLead: number; sha256: string },
  ): Promise<{ deviceId: string | null; sha256: string } | undefined> {
    const inserted = await tx
      .insert(recordings)
      .values({
        id: recording.recordingId,
        deviceId: recording.deviceId,
        source: recording.source ?? 'box',
        clinicId: recording.clinicId,
        examKind: recording.examKind,
        leads: recording.leads,
        sampleRateHz: recording.sampleRateHz,
        microvoltsPerLsb: recording.microvoltsPerLsb,
        samplesPerLead: stored.samplesPerLead,
        chunkCount: stored.chunkCount,
        sha256: stored.sha256,
        patientRef: recording.patientRef ?? null,
        deviceMeasurements: recording.deviceMeasurements
          ? { ...recording.deviceMeasurements }
          : null,
        startedAt: new Date(recording.startedAt),
      })
      .onConflictDoNothing({ target: recordings.id })
      .returning({ id: recordings.id });
    if (inserted.length > 0) return undefined;
    const [existing] = await tx
      .select({ deviceId: recordings.deviceId, sha256: recordings.sha256 })
      .from(recordings)
      .where(eq(recordings.id, recording.recordingId));
    return existing;
  }
}
