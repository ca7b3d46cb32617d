import { describe, expect, it } from 'vitest';
import { StreamOpenSchema, TWELVE_LEADS } from '#contracts';
import { decodeChunkFrame, detectQrs, synthesizeEcg } from '#ecg';
import { SimulatorConfigError } from './errors.js';
import {
  buildStreamOpen,
  LiveStreamClock,
  MAX_CATCH_UP_FRAMES,
  slotFirstSample,
  SyntheticEcgSource,
} from './live-stream.js';

const LEADS = ['I', 'II', 'V5'];

/** Column `lead` of an interleaved array with `width` leads. */
function column(samples: Int16Array, width: number, lead: number): number[] {
  const out: number[] = [];
  for (let p = lead; p < samples.length; p += width) out.push(samples[p]!);
  return out;
}

describe('slotFirstSample', () => {
  it('gives every 40 ms slot its samples, exactly one second per 25 slots', () => {
    expect([0, 1, 2, 25].map((slot) => slotFirstSample(slot, 250))).toEqual([0, 10, 20, 250]);
    expect([0, 1, 25].map((slot) => slotFirstSample(slot, 500))).toEqual([0, 20, 500]);
    // 260 Hz: 10.4 samples a slot, so counts of 10 and 11 that add up to 260 a second.
    const counts = Array.from(
      { length: 25 },
      (_, slot) => slotFirstSample(slot + 1, 260) - slotFirstSample(slot, 260),
    );
    expect(new Set(counts)).toEqual(new Set([10, 11]));
    expect(counts.reduce((a, b) => a + b)).toBe(260);
  });
});

describe('buildStreamOpen', () => {
  it('defaults to I, II, V5 at 250 Hz and passes the relay schema', () => {
    const now = new Date('2026-11-27T08:00:00.000Z');
    const open = buildStreamOpen({}, now);
    expect(StreamOpenSchema.parse(open)).toEqual(open);
    expect(open).toMatchObject({
      leads: LEADS,
      sampleRateHz: 250,
      microvoltsPerLsb: 2.5,
      startedAt: '2026-11-27T08:00:00.000Z',
    });
    expect(buildStreamOpen({}).streamId).not.toBe(open.streamId);
  });

  it.each([
    [{ leads: ['I', 'II', 'V1', 'V5'] }],
    [{ leads: [] }],
    [{ leads: ['MLII'] }],
    [{ leads: ['II', 'II'] }],
    [{ sampleRateHz: 200 }],
    [{ sampleRateHz: 501 }],
    [{ sampleRateHz: 250.5 }],
  ])('refuses %j', (options) => {
    expect(() => buildStreamOpen(options)).toThrow(SimulatorConfigError);
  });
});

describe('SyntheticEcgSource', () => {
  it('picks the named leads of the synthesiser, in the order asked', () => {
    const source = new SyntheticEcgSource(['V5', 'I'], 250, 'normal', 9);
    const got = source.read(1_000);
    const ecg = synthesizeEcg({ durationSeconds: 20, sampleRateHz: 250, seed: 9 });
    const v5 = TWELVE_LEADS.indexOf('V5');
    expect(column(got, 2, 0)).toEqual(column(ecg.samples, 12, v5).slice(0, 1_000));
    expect(column(got, 2, 1)).toEqual(column(ecg.samples, 12, 0).slice(0, 1_000));
  });

  it('gives the same samples however the reads are cut', () => {
    const whole = new SyntheticEcgSource(LEADS, 250, 'pvc', 4, 3).read(2_000);
    const pieces = new SyntheticEcgSource(LEADS, 250, 'pvc', 4, 3);
    const parts: number[] = [];
    for (const count of [7, 10, 600, 1, 1_382]) parts.push(...pieces.read(count));
    expect(parts).toEqual([...whole]);
  });

  it('splices blocks without a step and keeps the heart beating regularly across them', () => {
    const rate = 250;
    // 4-second blocks: a minute of stream crosses about 17 splices.
    const source = new SyntheticEcgSource(LEADS, rate, 'normal', 21, 4);
    const samples = source.read(60 * rate);
    expect(source.splices.length).toBeGreaterThanOrEqual(15);
    // Where two blocks meet, no lead jumps: the step between them is faded out.
    for (const splice of source.splices) {
      for (let lead = 0; lead < 3; lead++) {
        const jump = samples[splice * 3 + lead]! - samples[(splice - 1) * 3 + lead]!;
        expect(Math.abs(jump)).toBeLessThanOrEqual(2);
      }
    }
    const leadII = column(samples, 3, 1);
    const peaks = detectQrs(leadII, rate);
    // 72 bpm with breathing: about 72 beats, and no dropped or doubled beat at a splice.
    expect(peaks.length).toBeGreaterThanOrEqual(68);
    expect(peaks.length).toBeLessThanOrEqual(76);
    const rr = peaks.slice(1).map((peak, i) => (peak - peaks[i]!) / rate);
    expect(Math.min(...rr)).toBeGreaterThan(0.6);
    expect(Math.max(...rr)).toBeLessThan(1.1);
    // The biggest sample-to-sample change anywhere is a QRS slope, not a baseline jump:
    // it stays within that of one long synthesised trace.
    const reference = column(
      synthesizeEcg({ durationSeconds: 60, sampleRateHz: rate, seed: 21 }).samples,
      12,
      1,
    );
    const maxStep = (values: number[]) =>
      Math.max(...values.slice(1).map((v, i) => Math.abs(v - values[i]!)));
    expect(maxStep(leadII)).toBeLessThan(1.5 * maxStep(reference));
  });
});

describe('LiveStreamClock', () => {
  const T0 = 1_000_000;

  function clock(sampleRateHz = 250) {
    const open = buildStreamOpen({ sampleRateHz }, new Date(T0));
    const clock = new LiveStreamClock(
      open,
      new SyntheticEcgSource(open.leads, sampleRateHz, 'normal', 3),
      T0,
    );
    return {
      open,
      clock,
      reference: new SyntheticEcgSource(open.leads, sampleRateHz, 'normal', 3),
    };
  }

  it('releases a frame when its 40 ms slot has passed, with the slot’s samples', () => {
    const { open, clock: c, reference } = clock();
    expect(c.nextDueAtMs).toBe(T0 + 40);
    expect(c.due(T0 + 39)).toEqual([]);
    const first = c.due(T0 + 40);
    expect(first.map((f) => f.sequence)).toEqual([0]);
    expect(c.nextDueAtMs).toBe(T0 + 80);
    const more = c.due(T0 + 419);
    expect(more.map((f) => f.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const frame of [...first, ...more]) {
      const decoded = decodeChunkFrame(frame.bytes);
      expect(decoded).toMatchObject({
        recordingId: open.streamId,
        sequence: frame.sequence,
        firstSample: frame.sequence * 10,
        sampleCount: 10,
        leadCount: 3,
      });
      expect([...decoded.samples]).toEqual([...reference.read(10)]);
    }
  });

  it('never sends more than a second of backlog, and stays in real time', () => {
    const { clock: c, reference } = clock(500);
    c.due(T0 + 80); // slots 0 and 1
    // The process stalled for 10 s: only the last second's frames go out.
    const frames = c.due(T0 + 10_080);
    expect(frames).toHaveLength(MAX_CATCH_UP_FRAMES);
    expect(frames[0]!.sequence).toBe(252 - MAX_CATCH_UP_FRAMES);
    expect(frames.at(-1)!.sequence).toBe(251);
    expect(c.skipped).toBe(250 - MAX_CATCH_UP_FRAMES);
    // The signal moved on with the clock: the samples are those of the stream's own time.
    const first = decodeChunkFrame(frames[0]!.bytes);
    expect(first.firstSample).toBe(frames[0]!.sequence * 20);
    reference.read(first.firstSample);
    expect([...first.samples]).toEqual([...reference.read(20)]);
  });
});
