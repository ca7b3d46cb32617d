import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  DeviceStatusSchema,
  RECORDING_LIMITS,
  RecordingCloseSchema,
  RecordingOpenSchema,
  type DeviceError,
  type StoredAck,
} from '#contracts';
import {
  FrameDecodeError,
  frameSamplePayload,
  readChunkFrameHeader,
  type ChunkFrameHeader,
} from '#ecg';
import type { z } from 'zod';
import { AuditService } from '../audit/audit.service.js';
import { Clock } from '../common/clock.js';
import { LOGGER } from '../common/tokens.js';
import { Metrics } from '../common/metrics.js';
import type { DeviceMessage } from '../infra/broker/mqtt-broker.js';
import { withCorrelation } from '../infra/logging/correlation.js';
import type { Logger } from '../infra/logging/logger.js';
import { ExamOrdersService } from '../records/exam-orders.service.js';
import { CasesRepository } from '../worklist/cases.repository.js';
import { storedAck } from './ack-state.js';
import { chunkPositionProblem } from './chunk-layout.js';
import { DeviceGateService } from '../devices/device-gate.service.js';
import { DevicesRepository } from '../devices/devices.repository.js';
import { IngestCounters, IngestRejection } from './ingest-errors.js';
import { keptOnCommonScale } from './lead-scales.js';
import { OpenRecordings, type OpenRecording } from './open-recordings.js';
import { RecordingArchive } from './recording-archive.js';
import { RecordingStaging, type StagedRecording, type StagingLimits } from './recording-staging.js';

export type DeviceReply =
  { channel: 'ack'; body: StoredAck } | { channel: 'error'; body: DeviceError };

/**
 * Turns what a box publishes into stored recordings and cases (docs/protocol.md):
 * open → chunks (each acknowledged once durable) → close (verified, stored, queued).
 * Every step is idempotent, so a box may resend anything after a lost link or a restart.
 */
@Injectable()
export class IngestService {
  readonly counters: IngestCounters;
  /** Opens and closes under way, by box and recording: a chunk of that recording waits for them. */
  private readonly opening = new Map<string, Promise<DeviceReply>>();
  private readonly closing = new Map<string, Promise<DeviceReply>>();
  /**
   * Chunks received and not yet answered, by box and recording. A close waits for those
   * that arrived before it: a box sends its chunks and its close in one go, and a close that
   * overtook them (they wait for the open, it for the open too) found them all missing, so
   * every recording was sent twice (measured: bench:fleet, 20 chunks resent per recording).
   */
  private readonly arriving = new Map<string, Set<Promise<unknown>>>();
  private readonly inFlight: OpenRecordings;

  constructor(
    private readonly staging: RecordingStaging,
    private readonly devices: DevicesRepository,
    private readonly cases: CasesRepository,
    private readonly archive: RecordingArchive,
    private readonly gate: DeviceGateService,
    private readonly audit: AuditService,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly clock: Clock,
    private readonly orders: ExamOrdersService,
    metrics: Metrics,
  ) {
    this.counters = new IngestCounters(metrics);
    this.inFlight = new OpenRecordings(staging, () => clock.now().getTime());
  }

  /** The open-recording cap and expiry in force; reported by /health. */
  get limits(): StagingLimits {
    return this.staging.limits;
  }

  /** Handles one message from an authenticated box; never throws. */
  async receive(message: DeviceMessage): Promise<DeviceReply | null> {
    try {
      switch (message.channel) {
        case 'rec/open':
          return await this.open(message.deviceId, message.payload);
        case 'rec/chunk':
          return await this.chunk(message.deviceId, message.payload);
        case 'rec/close':
          return await this.close(message.deviceId, message.payload);
        case 'status':
          await this.status(message.deviceId, message.payload);
          return null;
        case 'stream/open':
        case 'stream/frame':
        case 'stream/close':
          return null; // live streams: streams/live-streams.service.ts
      }
    } catch (error) {
      return this.refuse(message, error);
    }
  }

  private open(deviceId: string, payload: Buffer): Promise<DeviceReply> {
    const request = parseJson(RecordingOpenSchema, payload);
    // A box sends its first chunks right behind the open, without waiting for its ack.
    // The recording id is the correlation id of everything it causes (docs/operations.md).
    return withCorrelation(request.recordingId, () =>
      once(this.opening, `${deviceId}/${request.recordingId}`, () =>
        this.openRecording(deviceId, request),
      ),
    );
  }

  private async openRecording(
    deviceId: string,
    request: z.infer<typeof RecordingOpenSchema>,
  ): Promise<DeviceReply> {
    // A re-open after a lost link or a reboot: answer from what is staged.
    let recording = await this.inFlight.get(request.recordingId);
    if (!recording) {
      // Older than the note, the box resends the chunks and its close finds the stored case.
      const done = await this.completedAck(deviceId, request.recordingId, { recentOnly: true });
      if (done) return done;
      const clinicId = await this.clinicOf(deviceId);
      // Told now, while the patient is still at the box, not after the whole recording.
      if (request.orderNumber && !(await this.orders.ecgOrderOf(clinicId, request.orderNumber))) {
        throw new IngestRejection(
          'UNKNOWN_ORDER',
          'no open ECG order with this number at this clinic: check the number, or record without one',
          false,
          request.recordingId,
        );
      }
      const staged = await this.staging.open({ ...request, deviceId, clinicId });
      if (!staged) {
        // Retryable: the box's own recordings finish, or expire when abandoned.
        throw new IngestRejection(
          'LIMIT_EXCEEDED',
          `box has ${this.staging.limits.maxOpenPerBox} recordings open: close one first`,
          true,
          request.recordingId,
        );
      }
      recording = await this.inFlight.get(request.recordingId);
    }
    if (!recording || recording.staged.deviceId !== deviceId) throw inUse(request.recordingId);
    this.counters.opened();
    return { channel: 'ack', body: recording.held.ack(request.recordingId) };
  }

  private chunk(deviceId: string, payload: Buffer): Promise<DeviceReply> {
    const frame = readChunkFrameHeader(payload);
    const key = `${deviceId}/${frame.recordingId}`;
    // Decided on arrival: a close already under way reads the chunks, so this one waits for
    // it; a close that comes later waits for this one instead (see `arriving`).
    const work = this.storeChunk(deviceId, frame, payload, key, this.closing.has(key));
    let pending = this.arriving.get(key);
    if (!pending) this.arriving.set(key, (pending = new Set()));
    pending.add(work);
    const forget = () => {
      pending.delete(work);
      if (pending.size === 0 && this.arriving.get(key) === pending) this.arriving.delete(key);
    };
    work.then(forget, forget);
    return work;
  }

  private async storeChunk(
    deviceId: string,
    frame: ReturnType<typeof readChunkFrameHeader>,
    payload: Buffer,
    key: string,
    afterAClose: boolean,
  ): Promise<DeviceReply> {
    const { recordingId, sequence } = frame;
    // A chunk right behind its open, or resent while its recording is being stored.
    await settled(this.opening.get(key));
    let recording: OpenRecording | null;
    do {
      if (afterAClose) await settled(this.closing.get(key));
      recording = await this.inFlight.get(recordingId);
      // A close that began meanwhile is reading the chunks: a replacement written now
      // would be acknowledged yet not be what was assembled. (A chunk that came before the
      // close is waited for by that close, so it must not wait for it.)
    } while (afterAClose && this.closing.has(key));
    if (!recording || recording.staged.deviceId !== deviceId) {
      const done = await this.completedAck(deviceId, recordingId);
      if (done) return done;
      throw new IngestRejection(
        'UNKNOWN_RECORDING',
        'no open recording with this id: publish rec/open first',
        true,
        recordingId,
        sequence,
      );
    }
    checkFrameFits(frame, recording.staged);
    const misplaced = chunkPositionProblem(
      frame,
      recording.staged.samplesPerChunk,
      recording.layout,
    );
    if (misplaced)
      throw new IngestRejection('FRAME_MISMATCH', misplaced, false, recordingId, sequence);
    const replaced = recording.layout.get(sequence);
    const span = { firstSample: frame.firstSample, sampleCount: frame.sampleCount };
    recording.layout.set(sequence, span);
    const refreshExpiry = recording.claimExpiryRefresh(this.clock.now().getTime());
    try {
      await recording.write(
        this.staging.putChunk(recording.staged, sequence, payload, refreshExpiry),
      );
    } catch (error) {
      if (refreshExpiry) recording.expiryRefreshFailed();
      // Unless another copy of the chunk took its place meanwhile.
      if (recording.layout.get(sequence) === span) {
        if (replaced) recording.layout.set(sequence, replaced);
        else recording.layout.delete(sequence);
      }
      throw error;
    }
    recording.held.add(sequence);
    this.counters.chunkStored();
    return { channel: 'ack', body: recording.held.ack(recordingId) };
  }

  /** The box's clinic as of its CONNECT, so opening a recording never waits on the database. */
  private async clinicOf(deviceId: string): Promise<string> {
    const connected = this.gate.clinicOf(deviceId);
    if (connected) return connected;
    const device = await this.devices.find(deviceId);
    if (!device) throw new IngestRejection('UNKNOWN_RECORDING', 'device is not registered', false);
    return device.clinicId;
  }

  private close(deviceId: string, payload: Buffer): Promise<DeviceReply> {
    const request = parseJson(RecordingCloseSchema, payload);
    // One close per recording at a time; a resent close waits for the first and gets its answer.
    const key = `${deviceId}/${request.recordingId}`;
    const earlierChunks = [...(this.arriving.get(key) ?? [])];
    return withCorrelation(request.recordingId, () =>
      once(this.closing, key, async () => {
        await Promise.allSettled(earlierChunks);
        return this.completeRecording(deviceId, request);
      }),
    );
  }

  private async completeRecording(
    deviceId: string,
    request: z.infer<typeof RecordingCloseSchema>,
  ): Promise<DeviceReply> {
    const { recordingId, chunkCount } = request;
    // The box does not wait for acks before closing: let its open and chunk writes land.
    await settled(this.opening.get(`${deviceId}/${recordingId}`));
    const inFlight = await this.inFlight.get(recordingId);
    const staged = inFlight?.staged;
    if (!staged || staged.deviceId !== deviceId) {
      const done = await this.completedAck(deviceId, recordingId, { sha256: request.sha256 });
      if (done) return done;
      throw new IngestRejection(
        'UNKNOWN_RECORDING',
        'no open recording with this id',
        true,
        recordingId,
      );
    }
    // Still staged: stored moments ago by a close that crashed before dropping the chunks, or
    // long ago and opened again. Archiving is idempotent and answers with the existing case,
    // so the database is not asked first.
    await inFlight.writesLanded();
    const chunks = await this.staging.chunks(recordingId);
    const ack = storedAck(recordingId, chunks.keys(), chunkCount);
    if (ack.missing.length > 0) return { channel: 'ack', body: ack };
    if (chunks.size !== chunkCount) {
      throw new IngestRejection(
        'INVALID_MESSAGE',
        `relay holds ${chunks.size} chunks, close says ${chunkCount}`,
        false,
        recordingId,
      );
    }
    let samples: Buffer;
    try {
      samples = assemble(staged, chunks, request);
      const sha256 = createHash('sha256').update(samples).digest('hex');
      if (sha256 !== request.sha256) {
        throw new IngestRejection(
          'CHECKSUM_MISMATCH',
          'sha256 of the received samples differs from rec/close',
          false,
          recordingId,
        );
      }
    } catch (error) {
      if (
        error instanceof IngestRejection &&
        (error.code === 'CHECKSUM_MISMATCH' || error.code === 'FRAME_MISMATCH')
      ) {
        throw await this.startOver(staged, error);
      }
      throw error;
    }
    // A box that calibrates each lead declared its scales: the relay keeps one common scale.
    const kept = keptOnCommonScale(staged, samples);
    if (kept.warnings.length > 0)
      this.log.warn(
        { recordingId, warnings: kept.warnings },
        'recording kept on a coarser common scale',
      );
    let caseId: string;
    try {
      caseId = await this.archive.archive(kept.recording, kept.samples, chunkCount);
    } catch (error) {
      // The id belongs to a stored recording of another box or with other samples.
      if (error instanceof IngestRejection) {
        await this.staging.abandon(staged);
        this.inFlight.forget(recordingId);
      }
      throw error;
    }
    await this.staging.markStored(recordingId, {
      caseId,
      chunkCount,
      deviceId,
      sha256: request.sha256,
    });
    this.inFlight.forget(recordingId);
    this.counters.recordingStored();
    this.log.info({ recordingId, caseId, deviceId }, 'recording stored');
    return {
      channel: 'ack',
      body: { recordingId, storedThrough: chunkCount - 1, missing: [], complete: true, caseId },
    };
  }

  /**
   * The chunks held are not the recording the box closed: drop them, so the box can send
   * them all again, rather than refuse a close that can never match (docs/protocol.md,
   * Close). Only for a box that declared samplesPerChunk, which marks firmware that knows
   * this recovery; an older box would take a retryable error as "close again" and loop, so
   * it is refused for good as before.
   */
  private async startOver(
    staged: StagedRecording,
    mismatch: IngestRejection,
  ): Promise<IngestRejection> {
    if (staged.samplesPerChunk === undefined) return mismatch;
    await this.staging.discardChunks(staged.recordingId);
    this.inFlight.forget(staged.recordingId);
    return new IngestRejection(
      mismatch.code,
      `${mismatch.message}: the relay dropped every chunk; send them all again from 0, then close`,
      true,
      staged.recordingId,
    );
  }

  private async status(deviceId: string, payload: Buffer): Promise<void> {
    const status = parseJson(DeviceStatusSchema, payload);
    await this.devices.markSeen(deviceId, this.clock.now(), status.firmware);
  }

  /**
   * The acknowledgement for a recording that is already stored, if it is: from Redis's note
   * when the recording was stored recently, otherwise from the database. `recentOnly` skips
   * the database where a miss is harmless, so a busy database never delays an open.
   * Only the box that stored it hears it is complete, and on a close only with the same
   * sha256; anyone else is refused without the case id, which belongs to another clinic.
   */
  private async completedAck(
    deviceId: string,
    recordingId: string,
    { recentOnly = false, sha256 }: { recentOnly?: boolean; sha256?: string } = {},
  ): Promise<DeviceReply | null> {
    const stored =
      (await this.staging.stored(recordingId)) ??
      (recentOnly ? undefined : await this.cases.caseOfRecording(recordingId));
    if (!stored) return null;
    if (stored.deviceId !== deviceId || (sha256 !== undefined && sha256 !== stored.sha256)) {
      throw inUse(recordingId);
    }
    const body: StoredAck = {
      recordingId,
      storedThrough: stored.chunkCount - 1,
      missing: [],
      complete: true,
      caseId: stored.caseId,
    };
    return { channel: 'ack', body };
  }

  private refuse(message: DeviceMessage, error: unknown): DeviceReply {
    const rejection =
      error instanceof IngestRejection
        ? error
        : error instanceof FrameDecodeError
          ? // A damaged frame on a weak link is worth resending; a malformed one is not.
            new IngestRejection(error.code, error.message, error.code === 'CRC_MISMATCH')
          : undefined;
    if (!rejection) {
      this.log.error(
        { err: error, deviceId: message.deviceId, channel: message.channel },
        'ingest failed',
      );
      this.counters.reject('TEMPORARILY_UNAVAILABLE');
      return {
        channel: 'error',
        body: {
          code: 'TEMPORARILY_UNAVAILABLE',
          message: 'relay storage unavailable, resend later',
          retryable: true,
        },
      };
    }
    this.counters.reject(rejection.code);
    this.log.warn(
      {
        deviceId: message.deviceId,
        channel: message.channel,
        code: rejection.code,
        reason: rejection.message,
      },
      'device message rejected',
    );
    this.audit.recordLater({
      actor: `device:${message.deviceId}`,
      action: `mqtt.${message.channel}`,
      outcome: 'denied',
      subject: rejection.recordingId && `recording:${rejection.recordingId}`,
      detail: { code: rejection.code, reason: rejection.message },
    });
    return { channel: 'error', body: rejection.toDeviceError() };
  }
}

/** The id names another recording: another box's, or this box's with other samples. */
function inUse(recordingId: string): IngestRejection {
  return new IngestRejection('INVALID_MESSAGE', 'recording id already in use', false, recordingId);
}

/** Runs `work` unless the same key is already running; callers share the one answer. */
function once<T>(
  running: Map<string, Promise<T>>,
  key: string,
  work: () => Promise<T>,
): Promise<T> {
  const current = running.get(key);
  if (current) return current;
  const attempt = work().finally(() => running.delete(key));
  running.set(key, attempt);
  return attempt;
}

async function settled(promise: Promise<unknown> | undefined): Promise<void> {
  await promise?.catch(() => undefined);
}

function parseJson<S extends z.ZodType>(schema: S, payload: Buffer): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new IngestRejection('INVALID_MESSAGE', 'payload is not JSON', false);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const fields = result.error.issues.map(
      (issue) => `${issue.path.join('.') || 'message'}: ${issue.message}`,
    );
    throw new IngestRejection('INVALID_MESSAGE', fields.join('; '), false, recordingIdIn(value));
  }
  return result.data;
}

/**
 * The recording a refused `rec/open` or `rec/close` is about, when it names one validly:
 * the box can then drop that recording, where an error without an id would leave it
 * resending its chunks and re-opening for ever.
 */
function recordingIdIn(value: unknown): string | undefined {
  const id = (value as { recordingId?: unknown } | null)?.recordingId;
  return RecordingOpenSchema.shape.recordingId.safeParse(id).success ? (id as string) : undefined;
}

function checkFrameFits(frame: ChunkFrameHeader, staged: StagedRecording): void {
  const { recordingId, sequence } = frame;
  if (frame.leadCount !== staged.leads.length) {
    throw new IngestRejection(
      'FRAME_MISMATCH',
      `frame has ${frame.leadCount} leads, recording has ${staged.leads.length}`,
      false,
      recordingId,
      sequence,
    );
  }
  if (sequence >= RECORDING_LIMITS.maxChunksPerRecording) {
    throw new IngestRejection(
      'LIMIT_EXCEEDED',
      'too many chunks in one recording',
      false,
      recordingId,
      sequence,
    );
  }
  if (frame.firstSample + frame.sampleCount > RECORDING_LIMITS.maxSamplesPerLead) {
    throw new IngestRejection(
      'LIMIT_EXCEEDED',
      'recording longer than the relay accepts',
      false,
      recordingId,
      sequence,
    );
  }
}

/** Concatenates the chunks' sample bytes in sequence order, checking they tile the recording. */
function assemble(
  staged: StagedRecording,
  chunks: Map<number, Buffer>,
  close: z.infer<typeof RecordingCloseSchema>,
): Buffer {
  const parts: Uint8Array[] = [];
  let nextSample = 0;
  for (let sequence = 0; sequence < close.chunkCount; sequence += 1) {
    const bytes = chunks.get(sequence);
    if (!bytes) throw new Error(`chunk ${sequence} disappeared during assembly`);
    const frame = readChunkFrameHeader(bytes);
    if (frame.firstSample !== nextSample) {
      throw new IngestRejection(
        'FRAME_MISMATCH',
        `chunk ${sequence} starts at sample ${frame.firstSample}, expected ${nextSample}`,
        false,
        staged.recordingId,
        sequence,
      );
    }
    nextSample += frame.sampleCount;
    parts.push(frameSamplePayload(bytes));
  }
  if (nextSample !== close.samplesPerLead) {
    throw new IngestRejection(
      'INVALID_MESSAGE',
      `chunks hold ${nextSample} samples per lead, close says ${close.samplesPerLead}`,
      false,
      staged.recordingId,
    );
  }
  return Buffer.concat(parts);
}
