/**
 * Messages between the benchmark orchestrator (ingest.ts) and its load-generator worker
 * processes (load-worker.ts), over the fork IPC channel with 'advanced' serialisation, so
 * typed arrays travel as they are.
 */

/**
 * How a chunk counts as acknowledged:
 * - 'stored': the relay's StoredAck on `…/ack` covers its sequence (docs/protocol.md);
 * - 'puback': the broker's PUBACK for the QoS 1 publish (all a plain broker offers).
 */
export type AckMode = 'stored' | 'puback';

export interface BenchDevice {
  id: string;
  secret: string;
  /** Position among all boxes of the step, 0..devices-1 (spreads phases and closes). */
  index: number;
}

export interface WorkerConfig {
  brokerUrl: string;
  ackMode: AckMode;
  devices: BenchDevice[];
  /** All boxes of the step, across workers. */
  totalDevices: number;
  /** Connections in flight at once while connecting. */
  connectConcurrency: number;
  connectTimeoutMs: number;
  chunkSamples: number;
  sampleRateHz: number;
  recordingSeconds: number;
  /** Resend chunks the relay refuses as retryable, and what a close reports missing. */
  retries: boolean;
}

export type ToWorker =
  /** Connect boxes of this worker's slice until `count` are connected (or all tried). */
  | { type: 'connect'; count: number }
  | { type: 'run'; startAtEpochMs: number; warmupMs: number; windowMs: number; drainMs: number }
  | { type: 'disconnect' };

export interface ConnectReport {
  type: 'connected';
  connected: number;
  failed: number;
  firstError: string | null;
  ms: number;
  /** Milliseconds from CONNECT sent to CONNACK, per box that connected. */
  connackMs: Float64Array;
}

export interface RunReport {
  type: 'result';
  /** Chunks published in every phase (warm-up, window). */
  sent: number;
  /** Chunks published during the measurement window. */
  sentInWindow: number;
  /** Chunk acknowledgements that arrived during the window (any chunk). */
  ackedDuringWindow: number;
  /** Chunks acknowledged by the end of the drain. */
  acked: number;
  /** Publish → acknowledgement, ms, for window chunks that were acknowledged. */
  latencies: Float64Array;
  /** Publish → PUBACK, ms, for window chunks (stored mode only; a diagnostic). */
  pubackLatencies: Float64Array;
  /** Relay only: rec/close → StoredAck complete, ms. */
  completeLatencies: Float64Array;
  recordingsClosed: number;
  recordingsCompleted: number;
  /** Relay refusals on `…/error`, by code. */
  errors: Record<string, number>;
  resentChunks: number;
  reopens: number;
  reCloses: number;
  disconnects: number;
  disconnectReasons: Record<string, number>;
  /** Load generator health: event-loop delay percentiles (ms) and CPU time used (s). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Largest lag of the pacing loop behind the chunk schedule, ms. */
  maxScheduleLagMs: number;
  drainMs: number;
}

export type FromWorker =
  | { type: 'ready' }
  | ConnectReport
  | RunReport
  | { type: 'disconnected' }
  | { type: 'failed'; message: string };
