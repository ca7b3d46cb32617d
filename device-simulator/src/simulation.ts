import { randomInt } from 'node:crypto';
import type { EcgFinding } from '#ecg';
import type { BackoffRange } from './backoff.js';
import { SimulatedBox, type RecordOptions } from './box.js';
import { pickFinding, RECORDING_SECONDS, type FindingMode, type StreamArgs } from './cli-args.js';
import type { DeviceCredential } from './credentials.js';
import { BoxStoppedError, RecordingRejectedError } from './errors.js';
import { FileOutboxStore } from './file-outbox.js';
import { FLAKY_DROP_PROBABILITY, FlakyLink } from './flaky-link.js';
import { SimStats } from './stats.js';
import { ReplayCursor, type ReplayRecord } from './wfdb-replay.js';

export interface SimulationOptions {
  url: string;
  devices: readonly DeviceCredential[];
  intervalSeconds: number;
  count: number | null;
  finding: FindingMode;
  chunkSamples: number;
  quiet: boolean;
  /** Where lines go; stdout and stderr in the CLI. */
  print: (line: string) => void;
  printError: (line: string) => void;
  summaryEveryMs?: number;
  recordingSeconds?: number;
  random?: () => number;
  /** Passed through to every box (tests shorten timeouts). */
  ackTimeoutMs?: number;
  reconnect?: BackoffRange;
  /** Each box keeps its pending recordings in a directory under this one (`--buffer-dir`). */
  bufferDir?: string | null;
  /** Cut each box's link at random (`--flaky`); probability defaults to 1/2 per roll. */
  flaky?: { minMs: number; maxMs: number; probability?: number } | null;
  /** Record windows of these WFDB records instead of synthetic ECGs (`--replay`). */
  replay?: readonly ReplayRecord[] | null;
  /** Each box streams live instead of recording (`--stream`). */
  stream?: StreamArgs | null;
  /** The exam order number every recording carries (`--order`). */
  orderNumber?: string | null;
}

/** One box and its recording schedule. */
interface Unit {
  readonly box: SimulatedBox;
  readonly flaky: FlakyLink | undefined;
  /** Which record window the box sends next, with --replay. */
  readonly replay: ReplayCursor | undefined;
  /** What the box's live stream shows, with --stream. */
  streamFinding?: EcgFinding;
  started: number;
  timer?: NodeJS.Timeout;
}

/**
 * A fleet of simulated boxes recording on a schedule (synthetic ECGs, or windows of WFDB
 * records with --replay) or streaming live (--stream), with event lines and the running
 * summary. `finished` resolves once every box has made --count recordings and each of them
 * is stored or failed, or when --stream-seconds are over; otherwise it never resolves and
 * the CLI stops it on a signal.
 */
export class Simulation {
  readonly stats = new SimStats();
  readonly finished: Promise<void>;
  private readonly units: Unit[];
  private readonly random: () => number;
  private summaryTimer: NodeJS.Timeout | undefined;
  private streamTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private markFinished: () => void = () => undefined;

  constructor(private readonly options: SimulationOptions) {
    this.random = options.random ?? Math.random;
    this.finished = new Promise((resolve) => {
      this.markFinished = resolve;
    });
    const replay = options.replay && options.replay.length > 0 ? options.replay : null;
    this.units = options.devices.map((device, index) => {
      const box = new SimulatedBox({
        brokerUrl: options.url,
        deviceId: device.deviceId,
        secret: device.secret,
        chunkSamples: options.chunkSamples,
        ...(options.ackTimeoutMs !== undefined && { ackTimeoutMs: options.ackTimeoutMs }),
        ...(options.reconnect !== undefined && { reconnect: options.reconnect }),
        ...(options.bufferDir && {
          store: new FileOutboxStore(
            FileOutboxStore.directoryFor(options.bufferDir, device.deviceId),
            {
              onCorrupt: (error) => options.printError(`${timestamp()} ${error.message}`),
            },
          ),
        }),
      });
      const flaky =
        options.flaky &&
        new FlakyLink(box, {
          minMs: options.flaky.minMs,
          maxMs: options.flaky.maxMs,
          probability: options.flaky.probability ?? FLAKY_DROP_PROBABILITY,
          random: this.random,
          onDrop: () => this.stats.linkDropped(),
        });
      return {
        box,
        flaky: flaky || undefined,
        replay: replay ? new ReplayCursor(replay, index) : undefined,
        started: 0,
      };
    });
  }

  async start(): Promise<void> {
    const stream = this.options.stream;
    if (stream) this.stats.streamingStarted();
    for (const unit of this.units) {
      this.wire(unit);
      await unit.box.start();
      unit.flaky?.start();
      if (stream) {
        unit.streamFinding = pickFinding(this.options.finding, this.random);
        unit.box.startStream({
          leads: stream.leads,
          sampleRateHz: stream.sampleRateHz,
          finding: unit.streamFinding,
          seed: randomInt(1, 2 ** 31),
        });
      } else {
        // Spread the boxes over the first interval instead of all recording at once.
        this.schedule(unit, this.random() * this.options.intervalSeconds * 1_000);
      }
    }
    if (stream?.seconds != null) {
      this.streamTimer = setTimeout(() => this.markFinished(), stream.seconds * 1_000);
    }
    this.summaryTimer = setInterval(
      () => this.options.print(this.summaryLine(false)),
      this.options.summaryEveryMs ?? 10_000,
    );
  }

  /** Stops every box, prints the final summary and returns the exit code. */
  async stop(): Promise<number> {
    if (!this.stopping) {
      this.stopping = true;
      clearInterval(this.summaryTimer);
      clearTimeout(this.streamTimer);
      for (const unit of this.units) {
        clearTimeout(unit.timer);
        unit.flaky?.stop();
      }
      // Stopping a box sends stream/close for its stream before it goes offline.
      await Promise.all(this.units.map((unit) => unit.box.stop()));
      this.options.print(this.summaryLine(true));
    }
    if (this.options.stream) {
      return this.units.every((unit) => unit.box.streamedFrames > 0) ? 0 : 1;
    }
    return this.stats.failed === 0 && this.stats.unsettled === 0 ? 0 : 1;
  }

  private summaryLine(final: boolean): string {
    if (this.options.stream) {
      const streaming = this.units.filter(
        (unit) => unit.box.connected && unit.box.activeStreamId !== null,
      ).length;
      return this.stats.streamSummaryLine(this.units.length, streaming, final, {
        linkDrops: Boolean(this.options.flaky),
      });
    }
    return this.stats.summaryLine(this.units.length, final, {
      kept: Boolean(this.options.bufferDir),
      linkDrops: Boolean(this.options.flaky),
    });
  }

  private schedule(unit: Unit, delayMs: number): void {
    unit.timer = setTimeout(() => {
      if (this.stopping) return;
      this.recordOnce(unit);
      if (this.options.count === null || unit.started < this.options.count) {
        this.schedule(unit, this.options.intervalSeconds * 1_000);
      }
    }, delayMs);
  }

  private recordOnce(unit: Unit): void {
    unit.started++;
    this.stats.recordingSent();
    const seconds = this.options.recordingSeconds ?? RECORDING_SECONDS;
    let request: RecordOptions;
    if (unit.replay) {
      const window = unit.replay.next(seconds);
      const end = window.startSeconds + window.durationSeconds;
      if (!this.options.quiet) {
        this.options.print(
          `${timestamp()} ${unit.box.deviceId} replaying ${window.record.name} ${formatSeconds(window.startSeconds)}–${formatSeconds(end)} s`,
        );
      }
      request = { signal: window.signal, examKind: window.record.examKind };
    } else {
      request = {
        finding: pickFinding(this.options.finding, this.random),
        durationSeconds: seconds,
        seed: randomInt(1, 2 ** 31),
      };
    }
    if (this.options.orderNumber) request = { ...request, orderNumber: this.options.orderNumber };
    unit.box.record(request).catch((error: unknown) => {
      // Rejections by the relay arrive as 'failed' events and stop() leaves the rest as
      // lost; anything else never reached the outbox, so it is a failure of its own.
      if (error instanceof RecordingRejectedError || error instanceof BoxStoppedError) return;
      this.stats.recordingFailed();
      this.options.printError(
        `${timestamp()} ${unit.box.deviceId} could not record: ${describe(error)}`,
      );
      this.checkFinished();
    });
  }

  private wire(unit: Unit): void {
    const { box } = unit;
    const id = box.deviceId;
    const event = (text: string) => {
      if (!this.options.quiet) this.options.print(`${timestamp()} ${id} ${text}`);
    };
    box.on('connected', () => event('connected'));
    box.on('resumed', ({ recordingId, storedThrough, chunkCount }) => {
      this.stats.recordingResumed();
      event(
        `resumed ${recordingId} from the buffer (${storedThrough + 1} of ${chunkCount} chunks stored)`,
      );
    });
    box.on('disconnected', ({ error, reconnectInMs }) =>
      event(`offline${error ? ` (${error.message})` : ''}, retrying in ${reconnectInMs} ms`),
    );
    box.on('stored', ({ recordingId, caseId, ackLatencyMs }) => {
      this.stats.recordingStored(ackLatencyMs);
      event(`stored ${recordingId} case ${caseId ?? '-'} ack ${ackLatencyMs} ms`);
      this.checkFinished();
    });
    box.on('diagnosis', (d) =>
      event(
        `diagnosis for ${d.recordingId} case ${d.caseId}: ${JSON.stringify(d.conclusion)} signed by ${d.signedBy} at ${d.signedAt}`,
      ),
    );
    box.on('returned', ({ recordingId, reason }) =>
      event(`RECORD AGAIN ${recordingId}: ${reason}`),
    );
    box.on('failed', ({ recordingId, error }) => {
      this.stats.recordingFailed();
      event(`FAILED ${recordingId}: ${error.message}`);
      this.checkFinished();
    });
    box.on('streamOpened', ({ streamId, reopened }) => {
      const stream = this.options.stream;
      event(
        reopened
          ? `stream ${streamId} opened again after reconnecting`
          : `stream ${streamId} opened${stream ? ` (${stream.leads.join(',')} at ${stream.sampleRateHz} Hz, ${unit.streamFinding ?? 'normal'})` : ''}`,
      );
    });
    box.on('streamed', () => this.stats.frameStreamed());
    box.on('streamClosed', ({ streamId }) => event(`stream ${streamId} closed`));
    // Errors (refused credentials, malformed relay messages) go to stderr even with --quiet.
    box.on('error', (error) =>
      this.options.printError(`${timestamp()} ${id} error: ${describe(error)}`),
    );
  }

  private checkFinished(): void {
    const { count } = this.options;
    if (count === null || this.stats.unsettled > 0) return;
    if (this.units.every((unit) => unit.started >= count)) this.markFinished();
  }
}

function formatSeconds(seconds: number): string {
  return Number.isInteger(seconds) ? String(seconds) : seconds.toFixed(2);
}

function timestamp(): string {
  return new Date().toISOString().slice(11, 23);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
