import type { DeviceErrorCode } from '#contracts';

/** The relay refused a recording for good (e.g. CHECKSUM_MISMATCH): resending cannot help. */
export class RecordingRejectedError extends Error {
  override readonly name = 'RecordingRejectedError';
  constructor(
    readonly recordingId: string,
    readonly code: DeviceErrorCode,
    message: string,
    readonly sequence?: number,
  ) {
    super(`relay rejected recording ${recordingId}: ${code}: ${message}`);
  }
}

/** record() was still waiting for the relay when the box was stopped. */
export class BoxStoppedError extends Error {
  override readonly name = 'BoxStoppedError';
  constructor(readonly recordingId?: string) {
    super(
      recordingId
        ? `box stopped before the relay stored recording ${recordingId}`
        : 'box is stopped',
    );
  }
}

/** A downlink message the box cannot understand (bad JSON, wrong shape, foreign topic). */
export class DownlinkProtocolError extends Error {
  override readonly name = 'DownlinkProtocolError';
  constructor(
    readonly topic: string,
    message: string,
  ) {
    super(`${topic}: ${message}`);
  }
}

/** The relay reported an error the box cannot attribute to one of its pending recordings. */
export class RelayReportedError extends Error {
  override readonly name = 'RelayReportedError';
  constructor(
    readonly code: DeviceErrorCode,
    message: string,
    readonly retryable: boolean,
  ) {
    super(`relay error ${code}: ${message}`);
  }
}

/** The broker refused the CONNECT (bad credentials, not authorised). */
export class ConnectionRefusedError extends Error {
  override readonly name = 'ConnectionRefusedError';
  constructor(
    readonly deviceId: string,
    readonly returnCode: number,
    cause: Error,
  ) {
    super(`broker refused ${deviceId} (return code ${returnCode}): ${cause.message}`, { cause });
  }
}

/** Options or a recording that the protocol limits cannot carry. */
export class SimulatorConfigError extends Error {
  override readonly name = 'SimulatorConfigError';
}

/** The broker did not grant a downlink subscription; without it acks would never arrive. */
export class SubscriptionRefusedError extends Error {
  override readonly name = 'SubscriptionRefusedError';
  constructor(readonly topics: readonly string[]) {
    super(`broker refused subscription to ${topics.join(', ')}`);
  }
}

/** A --replay path that is no WFDB record the simulator can send. */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}
