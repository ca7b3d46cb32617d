import type { DeviceError, DeviceErrorCode } from '#contracts';

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

/** Counts of what ingest accepted and refused, by reason; reported by /health. */
export class IngestCounters {
  readonly accepted = { opens: 0, chunks: 0, recordings: 0 };
  readonly rejected: Partial<Record<DeviceErrorCode, number>> = {};

  reject(code: DeviceErrorCode): void {
    this.rejected[code] = (this.rejected[code] ?? 0) + 1;
  }
}
