import type { DeviceError, DeviceErrorCode } from '#contracts';
import type { Metrics } from '../common/metrics.js';

/** A refusal the box should hear about: its code, a reason, and whether resending can help. */
export class IngestRejection extends Error {
  constructor(
    readonly code: DeviceErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly recordingId?: string,
    readonly sequence?: number,
  ) {
    super(message);
    this.name = 'IngestRejection';
  }

  toDeviceError(): DeviceError {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.recordingId !== undefined && { recordingId: this.recordingId }),
      ...(this.sequence !== undefined && { sequence: this.sequence }),
    };
  }
}

/**
 * Counts of what ingest accepted and refused, by reason: kept here for /health/details, and
 * recorded as metrics for /metrics.
 */
export class IngestCounters {
  readonly accepted = { opens: 0, chunks: 0, recordings: 0 };
  readonly rejected: Partial<Record<DeviceErrorCode, number>> = {};

  constructor(private readonly metrics: Metrics) {}

  opened(): void {
    this.accepted.opens += 1;
    this.metrics.count('telerelay_ingest_recordings_opened_total', {});
  }

  chunkStored(): void {
    this.accepted.chunks += 1;
    this.metrics.count('telerelay_ingest_chunks_stored_total', {});
  }

  recordingStored(): void {
    this.accepted.recordings += 1;
    this.metrics.count('telerelay_ingest_recordings_stored_total', {});
  }

  reject(code: DeviceErrorCode): void {
    this.rejected[code] = (this.rejected[code] ?? 0) + 1;
    this.metrics.count('telerelay_refusals_total', { edge: 'mqtt', code });
  }
}
