import { randomInt, randomUUID } from 'node:crypto';
import { STREAM_LIMITS, StreamOpenSchema, TWELVE_LEADS, type StreamOpen } from '#contracts';
import { encodeChunkFrame, synthesizeEcg, type EcgFinding } from '#ecg';
import { SimulatorConfigError } from './errors.js';

/** A live stream sends one frame per slot of this length (docs/protocol.md §Live streams). */
export const STREAM_FRAME_MS = 40;
export const DEFAULT_STREAM_LEADS: readonly string[] = ['I', 'II', 'V5'];
export const DEFAULT_STREAM_RATE_HZ = 250;
/** The synthesiser's scale; 2.5 µV per LSB covers ±82 mV, far beyond any ECG. */
const STREAM_MICROVOLTS_PER_LSB = 2.5;
/** Seconds of ECG synthesised at a time; each block is spliced onto the previous one. */
const BLOCK_SECONDS = 20;
/** Blocks are cut this long before an R peak, in the quiet stretch before the P wave. */
const SPLICE_BEFORE_R_SECONDS = 0.25;
/** The baseline step left at a splice is faded out over this long. */
const SPLICE_RAMP_SECONDS = 0.2;
/**
 * A box that fell behind (its event loop stalled) sends the frames it owes in a burst, but
 * never more than a second's worth: older samples are no use to a live view.
 */
export const MAX_CATCH_UP_FRAMES = 1_000 / STREAM_FRAME_MS;
const INT16_MAX = 32_767;
const INT16_MIN = -32_768;

export interface StreamOptions {
  /** Lead names from the standard twelve, 1..3 of them; default I, II, V5. */
  leads?: readonly string[];
  /** 250..500 Hz; default 250. */
  sampleRateHz?: number;
  /** What the ECG shows; default normal. */
  finding?: EcgFinding;
  /** Same seed, same samples; default random. */
  seed?: number;
}

/** Per lead, the first sample of the 40 ms slot `slot` of a stream: ⌊slot · rate · 40 ms⌋. */
export function slotFirstSample(slot: number, sampleRateHz: number): number {
  return Math.floor((slot * sampleRateHz * STREAM_FRAME_MS) / 1_000);
}

/** Validates stream options against the protocol's limits and builds the `stream/open`. */
export function buildStreamOpen(options: StreamOptions, now: Date = new Date()): StreamOpen {
  const leads = [...(options.leads ?? DEFAULT_STREAM_LEADS)];
  const sampleRateHz = options.sampleRateHz ?? DEFAULT_STREAM_RATE_HZ;
  if (leads.length < 1 || leads.length > STREAM_LIMITS.maxLeads) {
    throw new SimulatorConfigError(
      `a stream carries 1..${STREAM_LIMITS.maxLeads} leads, got ${leads.length}`,
    );
  }
  const unknown = leads.filter((lead) => !(TWELVE_LEADS as readonly string[]).includes(lead));
  if (unknown.length > 0) {
    throw new SimulatorConfigError(
      `unknown lead ${unknown.join(', ')}: expected some of ${TWELVE_LEADS.join(', ')}`,
    );
  }
  if (new Set(leads).size !== leads.length) {
    throw new SimulatorConfigError(`a stream names each lead once, got ${leads.join(', ')}`);
  }
  if (
    !Number.isInteger(sampleRateHz) ||
    sampleRateHz < STREAM_LIMITS.minSampleRateHz ||
    sampleRateHz > STREAM_LIMITS.maxSampleRateHz
  ) {
    throw new SimulatorConfigError(
      `stream sample rate must be an integer in ${STREAM_LIMITS.minSampleRateHz}..${STREAM_LIMITS.maxSampleRateHz} Hz, got ${sampleRateHz}`,
    );
  }
  return StreamOpenSchema.parse({
    streamId: randomUUID(),
    leads,
    sampleRateHz,
    microvoltsPerLsb: STREAM_MICROVOLTS_PER_LSB,
    startedAt: now.toISOString(),
  });
}

/**
 * An endless synthetic ECG for a few leads, made of blocks from synthesizeEcg. Each block
 * (after the first) starts and the previous one ends the same time before an R peak, so
 * the rhythm runs on across a splice; the small baseline step that remains is faded out.
 */
export class SyntheticEcgSource {
  readonly leadCount: number;
  /** Per lead, the index of the first sample of each block after the first. */
  readonly splices: number[] = [];
  private readonly columns: number[];
  private readonly seed: number;
  private block: Int16Array = new Int16Array(0);
  private position = 0;
  private blockIndex = 0;
  private consumed = 0;

  constructor(
    readonly leads: readonly string[],
    readonly sampleRateHz: number,
    private readonly finding: EcgFinding = 'normal',
    seed: number = randomInt(1, 2 ** 31),
    private readonly blockSeconds: number = BLOCK_SECONDS,
  ) {
    this.columns = leads.map((lead) => (TWELVE_LEADS as readonly string[]).indexOf(lead));
    if (this.columns.some((column) => column < 0)) {
      throw new SimulatorConfigError(`leads must be among ${TWELVE_LEADS.join(', ')}`);
    }
    if (!Number.isInteger(seed)) throw new SimulatorConfigError('seed must be an integer');
    this.leadCount = leads.length;
    this.seed = seed;
  }

  /** The next `count` samples per lead, interleaved by sample in the order of `leads`. */
  read(count: number): Int16Array {
    const out = new Int16Array(count * this.leadCount);
    let filled = 0;
    while (filled < count) {
      const available = this.block.length / this.leadCount - this.position;
      if (available <= 0) {
        this.block = this.nextBlock();
        this.position = 0;
        if (this.blockIndex > 1) this.splices.push(this.consumed);
        continue;
      }
      const take = Math.min(available, count - filled);
      out.set(
        this.block.subarray(
          this.position * this.leadCount,
          (this.position + take) * this.leadCount,
        ),
        filled * this.leadCount,
      );
      this.position += take;
      this.consumed += take;
      filled += take;
    }
    return out;
  }

  private nextBlock(): Int16Array {
    const index = this.blockIndex++;
    const ecg = synthesizeEcg({
      durationSeconds: this.blockSeconds,
      sampleRateHz: this.sampleRateHz,
      finding: this.finding,
      microvoltsPerLsb: STREAM_MICROVOLTS_PER_LSB,
      seed: (this.seed + index) % 2 ** 31,
    });
    const before = Math.round(SPLICE_BEFORE_R_SECONDS * this.sampleRateHz);
    let start = 0;
    if (index > 0) {
      const first = ecg.rPeaks.find((peak) => peak - before >= 0);
      if (first !== undefined) start = first - before;
    }
    let end = ecg.samplesPerLead;
    const last = ecg.rPeaks.at(-1);
    if (last !== undefined && last - before > start) end = last - before;

    const width = ecg.leads.length;
    const leadCount = this.leadCount;
    const block = new Int16Array((end - start) * leadCount);
    for (let i = start, row = 0; i < end; i++, row += leadCount) {
      for (let l = 0; l < leadCount; l++)
        block[row + l] = ecg.samples[i * width + this.columns[l]!]!;
    }
    // The previous block is used up to its last sample when the next one is made.
    if (this.block.length > 0) {
      this.fadeSplice(this.block.subarray(this.block.length - leadCount), block);
    }
    return block;
  }

  /** Removes the baseline step between the previous block's last row and this block. */
  private fadeSplice(lastRow: Int16Array, block: Int16Array): void {
    const samples = block.length / this.leadCount;
    const ramp = Math.min(
      samples,
      Math.max(1, Math.round(SPLICE_RAMP_SECONDS * this.sampleRateHz)),
    );
    for (let l = 0; l < this.leadCount; l++) {
      const before = lastRow[l]!;
      const after = block[l]!;
      // A lead-off trace sits on a rail: there is no baseline to join.
      if (isRail(before) || isRail(after)) continue;
      const step = before - after;
      for (let i = 0; i < ramp; i++) {
        const p = i * this.leadCount + l;
        block[p] = clampInt16(block[p]! + Math.round(step * (1 - i / ramp)));
      }
    }
  }
}

/** One frame a stream produced for its slot. */
export interface StreamFrame {
  sequence: number;
  firstSample: number;
  sampleCount: number;
  bytes: Buffer;
}

/**
 * The clock and sample counter of one live stream, free of MQTT and timers. Time is cut
 * into 40 ms slots from `startedAtMs`; frame n carries the samples of slot n, so a frame's
 * sequence and first sample always say when it was measured, also after frames were
 * skipped (link down, stalled process): the stream never backfills.
 */
export class LiveStreamClock {
  private nextSlot = 0;
  private skippedValue = 0;

  constructor(
    readonly open: StreamOpen,
    private readonly source: SyntheticEcgSource,
    readonly startedAtMs: number,
  ) {
    if (source.leadCount !== open.leads.length || source.sampleRateHz !== open.sampleRateHz) {
      throw new RangeError('the ECG source does not match the stream');
    }
  }

  get streamId(): string {
    return this.open.streamId;
  }

  /** Frames that fell due but were never produced (more than a second behind). */
  get skipped(): number {
    return this.skippedValue;
  }

  /** When the slot of the next frame ends, i.e. when that frame is due. */
  get nextDueAtMs(): number {
    return this.startedAtMs + (this.nextSlot + 1) * STREAM_FRAME_MS;
  }

  /**
   * The frames whose slots have ended by `nowMs` (at most a second's worth; older ones
   * are skipped, their samples drawn and dropped so the signal stays in real time).
   */
  due(nowMs: number): StreamFrame[] {
    const dueSlots = Math.floor((nowMs - this.startedAtMs) / STREAM_FRAME_MS);
    const rate = this.open.sampleRateHz;
    if (dueSlots - this.nextSlot > MAX_CATCH_UP_FRAMES) {
      const resumeAt = dueSlots - MAX_CATCH_UP_FRAMES;
      this.source.read(slotFirstSample(resumeAt, rate) - slotFirstSample(this.nextSlot, rate));
      this.skippedValue += resumeAt - this.nextSlot;
      this.nextSlot = resumeAt;
    }
    const frames: StreamFrame[] = [];
    for (; this.nextSlot < dueSlots; this.nextSlot++) {
      const sequence = this.nextSlot;
      const firstSample = slotFirstSample(sequence, rate);
      const sampleCount = slotFirstSample(sequence + 1, rate) - firstSample;
      const samples = this.source.read(sampleCount);
      frames.push({
        sequence,
        firstSample,
        sampleCount,
        bytes: encodeChunkFrame({
          recordingId: this.open.streamId,
          sequence,
          firstSample,
          sampleCount,
          leadCount: this.source.leadCount,
          samples,
        }),
      });
    }
    return frames;
  }
}

function isRail(value: number): boolean {
  return value >= INT16_MAX || value <= INT16_MIN;
}

function clampInt16(value: number): number {
  return Math.min(INT16_MAX, Math.max(INT16_MIN, value));
}
