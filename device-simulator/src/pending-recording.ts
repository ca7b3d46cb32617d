import type { DeviceError, RecordingClose, RecordingOpen, StoredAck } from '#contracts';
import { RecordingRejectedError } from './errors.js';
import type { OutboxEntry } from './outbox.js';

/** One message the box has to (re)publish for a recording. */
export type Outbound =
  | { readonly kind: 'open' }
  | { readonly kind: 'chunk'; readonly sequence: number }
  | { readonly kind: 'close' };

export type RecordingState = 'sending' | 'complete' | 'failed';

export type AckOutcome =
  /** The recording is already settled: a duplicate or late ack. */
  | { readonly kind: 'ignored' }
  /** Bookkeeping only; `released` lists chunks the box may now forget. */
  | { readonly kind: 'progress'; readonly released: readonly number[] }
  /** The relay is missing chunks after our close: send `items` (the chunks, then close). */
  | {
      readonly kind: 'resend';
      readonly items: readonly Outbound[];
      readonly released: readonly number[];
    }
  | { readonly kind: 'complete'; readonly caseId: string | null };

export type ErrorOutcome =
  | { readonly kind: 'ignored' }
  | { readonly kind: 'retry'; readonly items: readonly Outbound[] }
  | { readonly kind: 'failed'; readonly error: RecordingRejectedError };

export interface PendingRecordingOptions {
  /**
   * A chunk resent because of a `missing` list is not resent again for this long. The
   * relay answers both our original close and our re-close, and acks already on their way
   * still name the chunk we just resent; without this window every such ack would trigger
   * another copy. A resend that really got lost is picked up by the ack timeout.
   */
  resendWindowMs?: number;
}

/**
 * A close the relay could not verify (docs/protocol.md §Close): it dropped every chunk it
 * held and the box sends them all again. Any other code without a sequence repeats the step.
 */
const RESTARTING_CODES: ReadonlySet<DeviceError['code']> = new Set([
  'CHECKSUM_MISMATCH',
  'FRAME_MISMATCH',
]);

const REOPENING_CODES: ReadonlySet<DeviceError['code']> = new Set([
  'UNKNOWN_RECORDING',
  'LIMIT_EXCEEDED',
]);

const OPEN: Outbound = { kind: 'open' };
const CLOSE: Outbound = { kind: 'close' };
const chunk = (sequence: number): Outbound => ({ kind: 'chunk', sequence });

/**
 * The box's bookkeeping for one recording, free of MQTT and timers so tests can drive it
 * directly. It answers two questions: what has the relay durably stored (so what may be
 * forgotten), and what must go on the air again after an ack, an error, a timeout or a
 * reconnect. A PUBACK never enters here: only the relay's StoredAck counts.
 */
export class PendingRecording {
  readonly open: RecordingOpen;
  readonly close: RecordingClose;
  private readonly frames: (Buffer | null)[];
  private readonly resendWindowMs: number;
  private storedThroughValue: number;
  private stateValue: RecordingState = 'sending';
  private caseIdValue: string | null = null;
  private heardFromRelay = false;
  private closeFirstSentAtValue: number | null = null;
  private readonly missingResentAt = new Map<number, number>();
  private restarted = false;

  constructor(entry: OutboxEntry, options: PendingRecordingOptions = {}) {
    if (entry.frames.length !== entry.close.chunkCount) {
      throw new RangeError(
        `recording ${entry.open.recordingId}: ${entry.frames.length} frames but close says ${entry.close.chunkCount}`,
      );
    }
    this.open = entry.open;
    this.close = entry.close;
    this.frames = [...entry.frames];
    this.storedThroughValue = Math.min(entry.storedThrough, this.chunkCount - 1);
    this.resendWindowMs = options.resendWindowMs ?? 1_000;
    // A resumed entry whose frames were freed was acknowledged before, so the relay knows it.
    this.heardFromRelay = this.storedThroughValue >= 0;
  }

  get recordingId(): string {
    return this.open.recordingId;
  }
  get chunkCount(): number {
    return this.close.chunkCount;
  }
  get storedThrough(): number {
    return this.storedThroughValue;
  }
  get state(): RecordingState {
    return this.stateValue;
  }
  get caseId(): string | null {
    return this.caseIdValue;
  }
  /** When rec/close first went on the air; ack latency is measured from here. */
  get closeFirstSentAt(): number | null {
    return this.closeFirstSentAtValue;
  }

  /** Sequences the box still has to keep (and may have to resend). */
  get unacknowledged(): number[] {
    if (this.stateValue !== 'sending') return [];
    const sequences: number[] = [];
    for (let s = this.storedThroughValue + 1; s < this.chunkCount; s++) sequences.push(s);
    return sequences;
  }

  /**
   * The frame to publish. Frames stay in memory until the recording is settled, even once
   * acknowledged, so that a close the relay cannot verify can be answered by sending every
   * chunk again; only a recording resumed from the store lacks the acknowledged ones.
   * Throws for a frame not held, which would be a box bug.
   */
  frame(sequence: number): Buffer {
    const frame = this.frames[sequence];
    if (!frame) {
      throw new RangeError(`recording ${this.recordingId}: chunk ${sequence} is not held any more`);
    }
    return frame;
  }

  /**
   * What a fresh link needs: the open (a repeat is a no-op on the relay), every chunk not
   * covered by storedThrough, then the close. Used for the first send and after reconnects.
   */
  syncPlan(): Outbound[] {
    if (this.stateValue !== 'sending') return [];
    return [OPEN, ...this.unacknowledged.map(chunk), CLOSE];
  }

  /**
   * No ack came for a while: resend what is not covered, then close again. The open is
   * repeated only while the relay has never answered, as it may never have seen it.
   */
  timeoutPlan(): Outbound[] {
    if (this.stateValue !== 'sending') return [];
    return this.heardFromRelay ? [...this.unacknowledged.map(chunk), CLOSE] : this.syncPlan();
  }

  /** Drops items that became pointless while they waited (chunk stored, recording settled). */
  stillNeeded(items: readonly Outbound[]): Outbound[] {
    if (this.stateValue !== 'sending') return [];
    return items.filter((item) => item.kind !== 'chunk' || item.sequence > this.storedThroughValue);
  }

  markSent(item: Outbound, now: number): void {
    if (item.kind === 'close' && this.closeFirstSentAtValue === null) {
      this.closeFirstSentAtValue = now;
    }
  }

  applyAck(ack: StoredAck, now: number): AckOutcome {
    if (this.stateValue !== 'sending') return { kind: 'ignored' };
    this.heardFromRelay = true;
    if (ack.caseId) this.caseIdValue = ack.caseId;
    if (ack.complete) {
      this.stateValue = 'complete';
      this.frames.fill(null);
      this.missingResentAt.clear();
      return { kind: 'complete', caseId: this.caseIdValue };
    }
    const released = this.advanceTo(ack.storedThrough);
    const items = this.closeFirstSentAtValue === null ? [] : this.missingToResend(ack.missing, now);
    if (items.length === 0) return { kind: 'progress', released };
    return { kind: 'resend', items: [...items, CLOSE], released };
  }

  applyError(error: DeviceError): ErrorOutcome {
    if (this.stateValue !== 'sending') return { kind: 'ignored' };
    this.heardFromRelay = true;
    if (!error.retryable) return this.fail(error);
    if (
      error.sequence === undefined &&
      this.closeFirstSentAtValue !== null &&
      RESTARTING_CODES.has(error.code)
    ) {
      return this.restart(error);
    }
    // The relay lost, never saw or (LIMIT_EXCEEDED: the box had too many open) refused the
    // open: chunks cannot land until it is repeated.
    const reopen = REOPENING_CODES.has(error.code) ? [OPEN] : [];
    if (error.sequence !== undefined) {
      if (!this.isValidSequence(error.sequence) || error.sequence <= this.storedThroughValue) {
        return { kind: 'ignored' };
      }
      // Once the close is out, the relay may only re-check completeness on a close.
      const reclose = this.closeFirstSentAtValue === null ? [] : [CLOSE];
      return { kind: 'retry', items: [...reopen, chunk(error.sequence), ...reclose] };
    }
    // Without a sequence the error is about the open or the close; we cannot tell which,
    // so repeat the step we are at. Repeats are idempotent on the relay.
    if (this.closeFirstSentAtValue === null) return { kind: 'retry', items: [OPEN] };
    return { kind: 'retry', items: [...reopen, ...this.unacknowledged.map(chunk), CLOSE] };
  }

  /**
   * The relay dropped what it held of this recording: send every chunk again, then close.
   * Once only: a second mismatch means the box's own checksum or frames are wrong, and a
   * box resumed from its store no longer has the chunks it had acknowledged.
   */
  private restart(error: DeviceError): ErrorOutcome {
    if (this.restarted || this.frames.some((frame) => frame === null)) {
      return this.fail({ ...error, retryable: false });
    }
    this.restarted = true;
    this.storedThroughValue = -1;
    this.missingResentAt.clear();
    return { kind: 'retry', items: this.syncPlan() };
  }

  private fail(error: DeviceError): ErrorOutcome {
    this.stateValue = 'failed';
    this.frames.fill(null);
    return {
      kind: 'failed',
      error: new RecordingRejectedError(
        this.recordingId,
        error.code,
        error.message,
        error.sequence,
      ),
    };
  }

  /** Returns the newly covered sequences. Acks may arrive out of order: never move back. */
  private advanceTo(storedThrough: number): number[] {
    const target = Math.min(Math.trunc(storedThrough), this.chunkCount - 1);
    const released: number[] = [];
    for (let s = this.storedThroughValue + 1; s <= target; s++) {
      this.missingResentAt.delete(s);
      released.push(s);
    }
    if (target > this.storedThroughValue) this.storedThroughValue = target;
    return released;
  }

  private missingToResend(missing: readonly number[], now: number): Outbound[] {
    const wanted = [...new Set(missing)]
      .filter((s) => this.isValidSequence(s) && s > this.storedThroughValue)
      .filter((s) => {
        const last = this.missingResentAt.get(s);
        return last === undefined || now - last >= this.resendWindowMs;
      })
      .sort((a, b) => a - b);
    for (const s of wanted) this.missingResentAt.set(s, now);
    return wanted.map(chunk);
  }

  private isValidSequence(sequence: number): boolean {
    return Number.isInteger(sequence) && sequence >= 0 && sequence < this.chunkCount;
  }
}
