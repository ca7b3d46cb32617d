import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { EcgAnalysis, PatientContext } from '#ecg';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/tokens.js';
import { RecordingsRepository, type StoredRecording } from '../ingest/recordings.repository.js';
import { BlobStore } from '../infra/blobs/blob-store.js';
import { Database } from '../infra/database/database.js';
import type { Logger } from '../infra/logging/logger.js';
import { JobQueues, PermanentJobError } from '../infra/queue/job-queues.js';
import { Outbox } from '../outbox/outbox.js';
import { PatientsService } from '../records/patients.service.js';
import { EcgAnalyzer } from './ecg-analyzer.js';
import { ECG_ANALYSIS_QUEUE } from '../worklist/queues.js';
import { WorklistService } from '../worklist/worklist.service.js';

/**
 * Analyses every stored ECG (libs/ecg) as a queued job and acts on the result: a readable
 * recording enters its county queue with the priority its flags give it (a STEMI is STAT),
 * an unreadable one goes straight back to the clinic with the reason. The analysis is a
 * suggestion kept beside the recording; the reader confirms or corrects it when signing.
 */
@Injectable()
export class EcgAnalysisService implements OnApplicationBootstrap {
  constructor(
    private readonly queues: JobQueues,
    private readonly recordings: RecordingsRepository,
    private readonly blobs: BlobStore,
    private readonly database: Database,
    private readonly worklist: WorklistService,
    private readonly outbox: Outbox,
    private readonly analyzer: EcgAnalyzer,
    private readonly patients: PatientsService,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.queues.declare(ECG_ANALYSIS_QUEUE);
    this.queues.work<{ caseId: string; recordingId: string }>(
      ECG_ANALYSIS_QUEUE,
      (job) => this.analyse(job.data.caseId, job.data.recordingId),
      { concurrency: 2 },
    );
  }

  async analyse(caseId: string, recordingId: string): Promise<void> {
    const recording = await this.recordings.find(recordingId);
    if (!recording) throw new PermanentJobError(`recording ${recordingId} not found`);
    // Sex and age of the registered patient, if any (docs/patients.md): never in the job.
    const patient = await this.patients.analysisContextOfCase(caseId, this.clock.now());
    const analysis = await this.tryAnalyse(
      recording,
      await this.blobs.get(recording.sha256),
      patient,
    );
    await this.database.db.transaction(async (tx) => {
      if (!analysis) {
        // A failed analysis must never hold an ECG back from a human reader.
        await this.recordings.saveAnalysis(tx, recordingId, { error: 'analysis failed' });
        return this.worklist.queueForReview(tx, caseId, 'routine', { analysis: 'failed' });
      }
      await this.recordings.saveAnalysis(tx, recordingId, { ...analysis });
      const summary = {
        algorithmVersion: analysis.algorithmVersion,
        flags: analysis.flags.map((f) => f.code),
        patientContext: { sex: patient.sex, ageYears: patient.ageYears },
      };
      const reason = rerecordReason(analysis);
      if (reason) return this.worklist.returnToClinic(tx, caseId, reason, summary);
      return this.worklist.queueForReview(tx, caseId, analysis.priority, summary);
    });
    void this.outbox.flush();
    this.log.info(
      { caseId, recordingId, priority: analysis?.priority, readable: analysis?.quality.readable },
      'ecg analysed',
    );
  }

  private async tryAnalyse(
    recording: StoredRecording,
    bytes: Buffer,
    patient: PatientContext,
  ): Promise<EcgAnalysis | null> {
    const samples = new Int16Array(bytes.byteLength / 2);
    for (let i = 0; i < samples.length; i += 1) samples[i] = bytes.readInt16LE(i * 2);
    try {
      return await this.analyzer.analyze(
        {
          leads: recording.leads,
          sampleRateHz: recording.sampleRateHz,
          microvoltsPerLsb: recording.microvoltsPerLsb,
          samples,
        },
        patient,
      );
    } catch (error) {
      this.log.error({ err: error, recordingId: recording.id }, 'ecg analysis failed');
      return null;
    }
  }
}

/**
 * When the clinic should record again rather than send the ECG to a reader: the analysis
 * found it unreadable, or an electrode is off. The patient is usually still in the room,
 * and re-attaching a lead takes a minute where a reader could not assess that territory.
 */
export function rerecordReason(analysis: EcgAnalysis): string | null {
  if (!analysis.quality.readable)
    return analysis.quality.reasons.join('; ') || 'unreadable recording';
  const off = analysis.quality.perLead
    .filter((lead) => lead.status === 'off')
    .map((lead) => lead.lead);
  if (off.length > 0)
    return `lead${off.length > 1 ? 's' : ''} ${off.join(', ')} off or flat: check the electrode${off.length > 1 ? 's' : ''} and record again`;
  return null;
}
