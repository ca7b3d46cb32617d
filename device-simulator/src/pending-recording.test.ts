import { describe, expect, it } from 'vitest';
import type { DeviceError, StoredAck } from '#contracts';
import { RecordingRejectedError } from './errors.js';
import type { OutboxEntry } from './outbox.js';
import { PendingRecording, type Outbound } from './pending-recording.js';

const RECORDING_ID = '0b7e8f52-3c1d-4a9e-8f00-5d2c1b3a4e6f';

function entry(chunkCount: number, storedThrough = -1): OutboxEntry {
  return {
    open: {
      recordingId: RECORDING_ID,
      examKind: 'resting-12-lead',
      leads: ['I', 'II'],
      sampleRateHz: 500,
      microvoltsPerLsb: 2.5,
      startedAt: '2025-01-01T08:00:00.000Z',
    },
    close: {
      recordingId: RECORDING_ID,
      chunkCount,
      samplesPerLead: chunkCount * 250,
      sha256: 'ab'.repeat(32),
    },
    frames: Array.from({ length: chunkCount }, (_, s) =>
      s <= storedThrough ? null : Buffer.from([s]),
    ),
    storedThrough,
  };
}

function ack(
  storedThrough: number,
  missing: number[] = [],
  complete = false,
  caseId?: string,
): StoredAck {
  return { recordingId: RECORDING_ID, storedThrough, missing, complete, ...(caseId && { caseId }) };
}

function relayError(code: DeviceError['code'], retryable: boolean, sequence?: number): DeviceError {
  return {
    code,
    message: 'from the test relay',
    retryable,
    recordingId: RECORDING_ID,
    ...(sequence !== undefined && { sequence }),
  };
}

/** Compact form of a plan: 'open', 3, 'close'. */
const show = (items: readonly Outbound[]) =>
  items.map((item) => (item.kind === 'chunk' ? item.sequence : item.kind));

/** A recording as the box has it right after the first burst (open, all chunks, close). */
function sentRecording(chunkCount: number, now = 0): PendingRecording {
  const recording = new PendingRecording(entry(chunkCount));
  for (const item of recording.syncPlan()) recording.markSent(item, now);
  return recording;
}

describe('PendingRecording', () => {
  it('plans open, every chunk and close for the first send', () => {
    const recording = new PendingRecording(entry(4));
    expect(show(recording.syncPlan())).toEqual(['open', 0, 1, 2, 3, 'close']);
    expect(recording.state).toBe('sending');
    expect(recording.storedThrough).toBe(-1);
  });

  it('releases chunks only once storedThrough covers them and never moves back', () => {
    const recording = sentRecording(5);
    expect(recording.applyAck(ack(1), 10)).toEqual({ kind: 'progress', released: [0, 1] });
    // Released to the store; kept in memory in case the close cannot be verified.
    expect(recording.frame(1)).toEqual(Buffer.from([1]));
    expect(recording.frame(2)).toEqual(Buffer.from([2]));

    // An ack overtaken by a newer one changes nothing.
    expect(recording.applyAck(ack(0), 20)).toEqual({ kind: 'progress', released: [] });
    expect(recording.storedThrough).toBe(1);

    expect(recording.applyAck(ack(3), 30)).toEqual({ kind: 'progress', released: [2, 3] });
    expect(recording.unacknowledged).toEqual([4]);
  });

  it('is not settled by progress acks, even when every chunk is stored', () => {
    const recording = sentRecording(3);
    recording.applyAck(ack(2), 10);
    expect(recording.state).toBe('sending');
    // The close still has to be confirmed, so a timeout repeats it.
    expect(show(recording.timeoutPlan())).toEqual(['close']);
  });

  it('resends exactly the missing chunks and then closes again', () => {
    const recording = sentRecording(6);
    const outcome = recording.applyAck(ack(1, [4, 2, 2]), 10);
    expect(outcome.kind).toBe('resend');
    if (outcome.kind !== 'resend') return;
    expect(show(outcome.items)).toEqual([2, 4, 'close']);
    expect(outcome.released).toEqual([0, 1]);
  });

  it('ignores missing chunks that are already covered, out of range or not integers', () => {
    const recording = sentRecording(4);
    recording.applyAck(ack(2), 10);
    // A late ack still listing chunk 1 as missing: covered since, so nothing to send.
    expect(recording.applyAck(ack(0, [1, 7, -1, 1.5]), 20)).toEqual({
      kind: 'progress',
      released: [],
    });
  });

  it('does not act on missing chunks before the close was sent', () => {
    const recording = new PendingRecording(entry(4));
    recording.markSent({ kind: 'open' }, 0);
    recording.markSent({ kind: 'chunk', sequence: 0 }, 0);
    expect(recording.applyAck(ack(-1, [0]), 5).kind).toBe('progress');
  });

  it('does not resend the same missing chunk twice for duplicate acks inside the window', () => {
    const recording = new PendingRecording(entry(4), { resendWindowMs: 1_000 });
    for (const item of recording.syncPlan()) recording.markSent(item, 0);
    const first = recording.applyAck(ack(0, [2]), 100);
    expect(first.kind).toBe('resend');
    // The relay's answer to our first close, and a duplicate delivery, still say missing [2].
    expect(recording.applyAck(ack(0, [2]), 150).kind).toBe('progress');
    expect(recording.applyAck(ack(0, [2]), 900).kind).toBe('progress');
    // A new chunk missing is still resent at once.
    const other = recording.applyAck(ack(0, [2, 3]), 950);
    expect(other.kind === 'resend' && show(other.items)).toEqual([3, 'close']);
    // Past the window the relay really did not get it: send it again.
    const again = recording.applyAck(ack(0, [2]), 1_200);
    expect(again.kind === 'resend' && show(again.items)).toEqual([2, 'close']);
  });

  it('completes on complete:true whatever came before and ignores everything after', () => {
    const recording = sentRecording(4);
    expect(recording.applyAck(ack(-1, [], true, 'case-1'), 10)).toEqual({
      kind: 'complete',
      caseId: 'case-1',
    });
    expect(recording.state).toBe('complete');
    expect(recording.unacknowledged).toEqual([]);
    expect(recording.syncPlan()).toEqual([]);
    // Duplicate complete, and a late non-complete ack, are both no-ops.
    expect(recording.applyAck(ack(3, [], true, 'case-1'), 20)).toEqual({ kind: 'ignored' });
    expect(recording.applyAck(ack(1, [2]), 30)).toEqual({ kind: 'ignored' });
    expect(recording.applyError(relayError('CRC_MISMATCH', true, 2))).toEqual({ kind: 'ignored' });
  });

  it('keeps a caseId from an earlier ack when the complete one omits it', () => {
    const recording = sentRecording(2);
    recording.applyAck(ack(1, [], false, 'case-7'), 10);
    expect(recording.applyAck(ack(1, [], true), 20)).toEqual({
      kind: 'complete',
      caseId: 'case-7',
    });
  });

  it('repeats the open on timeout only while the relay has never answered', () => {
    const recording = sentRecording(3);
    expect(show(recording.timeoutPlan())).toEqual(['open', 0, 1, 2, 'close']);
    recording.applyAck(ack(0), 10);
    expect(show(recording.timeoutPlan())).toEqual([1, 2, 'close']);
  });

  it('plans open, uncovered chunks and close after a reconnect', () => {
    const recording = sentRecording(5);
    recording.applyAck(ack(2, [4]), 10);
    expect(show(recording.syncPlan())).toEqual(['open', 3, 4, 'close']);
  });

  it('resumes from a stored outbox entry without the chunks already stored', () => {
    const recording = new PendingRecording(entry(4, 1));
    expect(show(recording.syncPlan())).toEqual(['open', 2, 3, 'close']);
    expect(show(recording.timeoutPlan())).toEqual([2, 3, 'close']);
  });

  it('retries a chunk after a retryable error and re-opens for UNKNOWN_RECORDING', () => {
    const recording = sentRecording(4);
    const corrupted = recording.applyError(relayError('CRC_MISMATCH', true, 2));
    expect(corrupted.kind === 'retry' && show(corrupted.items)).toEqual([2, 'close']);
    expect(recording.state).toBe('sending');
    const unknown = recording.applyError(relayError('UNKNOWN_RECORDING', true, 3));
    expect(unknown.kind === 'retry' && show(unknown.items)).toEqual(['open', 3, 'close']);

    // Still streaming (no close yet): just the chunk.
    const streaming = new PendingRecording(entry(4));
    streaming.markSent({ kind: 'open' }, 0);
    const early = streaming.applyError(relayError('CRC_MISMATCH', true, 0));
    expect(early.kind === 'retry' && show(early.items)).toEqual([0]);
    recording.applyAck(ack(2), 10);
    // The chunk got stored meanwhile: the error is stale.
    expect(recording.applyError(relayError('CRC_MISMATCH', true, 1))).toEqual({ kind: 'ignored' });
  });

  it('repeats the close (with what is uncovered) for a retryable error without a sequence', () => {
    const recording = sentRecording(3);
    recording.applyAck(ack(1), 10);
    const outcome = recording.applyError(relayError('TEMPORARILY_UNAVAILABLE', true));
    expect(outcome.kind === 'retry' && show(outcome.items)).toEqual([2, 'close']);

    const early = new PendingRecording(entry(3));
    early.markSent({ kind: 'open' }, 0);
    const beforeClose = early.applyError(relayError('TEMPORARILY_UNAVAILABLE', true));
    expect(beforeClose.kind === 'retry' && show(beforeClose.items)).toEqual(['open']);
  });

  it('opens again with everything uncovered after a retryable LIMIT_EXCEEDED on its open', () => {
    const recording = sentRecording(3);
    const outcome = recording.applyError(relayError('LIMIT_EXCEEDED', true));
    expect(outcome.kind === 'retry' && show(outcome.items)).toEqual(['open', 0, 1, 2, 'close']);
  });

  it('sends every chunk again when the relay could not verify the close, once', () => {
    const recording = sentRecording(3);
    recording.applyAck(ack(2), 10);
    const mismatch = relayError('CHECKSUM_MISMATCH', true);
    const outcome = recording.applyError(mismatch);
    expect(outcome.kind === 'retry' && show(outcome.items)).toEqual(['open', 0, 1, 2, 'close']);
    expect(recording.storedThrough).toBe(-1);
    expect(recording.stillNeeded([{ kind: 'chunk', sequence: 0 }])).toHaveLength(1);

    recording.applyAck(ack(2), 20);
    const again = recording.applyError(relayError('FRAME_MISMATCH', true));
    expect(again.kind).toBe('failed');
    expect(recording.state).toBe('failed');
  });

  it('cannot send chunks again that an earlier run of the box released', () => {
    const resumed = new PendingRecording(entry(3, 1));
    for (const item of resumed.syncPlan()) resumed.markSent(item, 0);
    const outcome = resumed.applyError(relayError('CHECKSUM_MISMATCH', true));
    expect(outcome.kind === 'failed' && outcome.error.code).toBe('CHECKSUM_MISMATCH');
  });

  it('fails for good on a non-retryable error', () => {
    const recording = sentRecording(3);
    const outcome = recording.applyError(relayError('CHECKSUM_MISMATCH', false));
    expect(outcome.kind).toBe('failed');
    if (outcome.kind !== 'failed') return;
    expect(outcome.error).toBeInstanceOf(RecordingRejectedError);
    expect(outcome.error.code).toBe('CHECKSUM_MISMATCH');
    expect(recording.state).toBe('failed');
    expect(recording.timeoutPlan()).toEqual([]);
    expect(recording.applyAck(ack(2, [], true), 10)).toEqual({ kind: 'ignored' });
  });

  it('drops queued retries that an ack made pointless', () => {
    const recording = sentRecording(4);
    const queued: Outbound[] = [
      { kind: 'open' },
      { kind: 'chunk', sequence: 1 },
      { kind: 'chunk', sequence: 3 },
    ];
    recording.applyAck(ack(2), 10);
    expect(show(recording.stillNeeded(queued))).toEqual(['open', 3]);
  });

  it('records when the close first went out, for the ack latency', () => {
    const recording = new PendingRecording(entry(1));
    expect(recording.closeFirstSentAt).toBeNull();
    recording.markSent({ kind: 'close' }, 1_000);
    recording.markSent({ kind: 'close' }, 2_000);
    expect(recording.closeFirstSentAt).toBe(1_000);
  });

  it('rejects an outbox entry whose frames do not match its close', () => {
    const broken = { ...entry(3), frames: [Buffer.from([0])] };
    expect(() => new PendingRecording(broken)).toThrow(RangeError);
  });
});
