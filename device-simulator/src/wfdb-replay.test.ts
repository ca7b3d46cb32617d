import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecordingOpenSchema } from '#contracts';
import { analyzeEcg, decodeChunkFrame, readWfdbRecord } from '#ecg';
import { SimulatedBox } from './box.js';
import { ReplayError } from './errors.js';
import { buildRecording } from './recording-builder.js';
import { actAsHonestRelay, FakeRelay, type HeldRecording } from './testing/fake-relay.js';
import { writeFormat16Record } from './testing/wfdb-writer.js';
import {
  describeReplayRecord,
  loadReplayRecord,
  loadReplayRecords,
  ReplayCursor,
  windowCount,
  type ReplayRecord,
} from './wfdb-replay.js';

const RATE = 250;
/** 25 s: two whole 10-s windows and a 5-s tail. */
const LENGTH = 25 * RATE;
const BASELINE = 10;

/** A deterministic pseudo-ECG in ADC units, different per signal. */
function values(signal: number, length = LENGTH, scale = 300): number[] {
  return Array.from(
    { length },
    (_, i) =>
      Math.round(scale * Math.sin((2 * Math.PI * 1.2 * i) / RATE + signal)) + (i % 7) + BASELINE,
  );
}

/** Little-endian int16 bytes, written value by value (independent of the code under test). */
function int16Bytes(samples: ArrayLike<number>): Buffer {
  const bytes = Buffer.alloc(2 * samples.length);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i]!, 2 * i);
  return bytes;
}

/** The interleaved samples of `signals` for per-lead samples [from, to), baseline removed. */
function interleaved(signals: number[][], from: number, to: number, baseline = BASELINE): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) for (const signal of signals) out.push(signal[i]! - baseline);
  return out;
}

/** Sample payloads of the held chunks, in order, as int16. */
function heldSamples(held: HeldRecording, chunkCount: number): Int16Array {
  const bytes = Buffer.concat(Array.from({ length: chunkCount }, (_, s) => held.chunks.get(s)!));
  const out = new Int16Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readInt16LE(2 * i);
  return out;
}

describe('replaying WFDB records the test writes itself', () => {
  let dir: string;
  let relay: FakeRelay | undefined;
  let box: SimulatedBox | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sim-replay-'));
  });
  afterEach(async () => {
    await box?.stop();
    await relay?.close();
    box = undefined;
    relay = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  function threeLeadRecord(): { path: string; signals: number[][] } {
    const signals = [values(0), values(1), values(2)];
    const path = writeFormat16Record(
      dir,
      'rec3',
      RATE,
      ['i', 'ii', 'v2'].map((description, s) => ({
        description,
        gain: 200,
        baseline: BASELINE,
        values: signals[s]!,
      })),
    );
    return { path, signals };
  }

  it('keeps the ADC values and gain of a format-16 record, baseline removed', () => {
    const { path, signals } = threeLeadRecord();
    const record = loadReplayRecord(path);
    expect(record).toMatchObject({
      path,
      name: 'rec3',
      // PTB-style lower-case names come out in the standard spelling.
      leads: ['I', 'II', 'V2'],
      sampleRateHz: RATE,
      microvoltsPerLsb: 5, // 1000 µV per mV / 200 ADC units per mV
      samplesPerLead: LENGTH,
      scaling: 'adc',
      examKind: 'rhythm-strip',
    });
    expect([...record.samples]).toEqual(interleaved(signals, 0, LENGTH));
    expect(loadReplayRecord(`${path}.hea`).samples).toEqual(record.samples);
    expect(describeReplayRecord(record)).toBe(
      `${path}: 3 leads I, II, V2 at 250 Hz, 5 µV/LSB (ADC values kept), rhythm-strip, 2 windows of 10 s`,
    );
  });

  it('sends consecutive 10 s windows, round and round, hashing the bytes it sends', () => {
    const { path, signals } = threeLeadRecord();
    const record = loadReplayRecord(path);
    expect(windowCount(record, 10)).toBe(2);
    const cursor = new ReplayCursor([record]);
    const windows = [cursor.next(10), cursor.next(10), cursor.next(10)];
    expect(windows.map((w) => [w.index, w.startSeconds, w.durationSeconds])).toEqual([
      [0, 0, 10],
      [1, 10, 10],
      [0, 0, 10],
    ]);

    const second = windows[1]!;
    const { entry, sha256 } = buildRecording(
      { signal: second.signal, examKind: record.examKind },
      250,
    );
    expect(RecordingOpenSchema.parse(entry.open)).toEqual(entry.open);
    expect(entry.open).toMatchObject({
      examKind: 'rhythm-strip',
      leads: ['I', 'II', 'V2'],
      sampleRateHz: RATE,
      microvoltsPerLsb: 5,
    });
    expect(entry.close).toMatchObject({ chunkCount: 10, samplesPerLead: 2_500 });
    const expected = interleaved(signals, 2_500, 5_000);
    expect(sha256).toBe(createHash('sha256').update(int16Bytes(expected)).digest('hex'));
    const sent = entry.frames.flatMap((bytes, sequence) => {
      const frame = decodeChunkFrame(bytes!);
      expect(frame).toMatchObject({ sequence, firstSample: sequence * 250, leadCount: 3 });
      return [...frame.samples];
    });
    expect(sent).toEqual(expected);
  });

  it('starts box n at record n, n div R windows in', () => {
    const a = loadReplayRecord(threeLeadRecord().path);
    const b: ReplayRecord = { ...a, path: 'b', name: 'b' };
    const starts = [0, 1, 2, 3, 4].map((box) => {
      const w = new ReplayCursor([a, b], box).next(10);
      return `${w.record.name}#${w.index}`;
    });
    expect(starts).toEqual(['rec3#0', 'b#0', 'rec3#1', 'b#1', 'rec3#0']);
    // A record shorter than a window is sent whole, again and again.
    const short = { ...a, samplesPerLead: 1_000, samples: a.samples.subarray(0, 3_000) };
    const cursor = new ReplayCursor([short]);
    expect([cursor.next(10), cursor.next(10)].map((w) => w.durationSeconds)).toEqual([4, 4]);
  });

  it('requantises signals with different gains to the finest of their steps', () => {
    const fine = values(0, 2_500);
    const coarse = values(1, 2_500);
    const path = writeFormat16Record(dir, 'mixed', RATE, [
      { description: 'II', gain: 200, baseline: BASELINE, values: coarse }, // 5 µV a unit
      { description: 'V5', gain: 1_000, baseline: BASELINE, values: fine }, // 1 µV a unit
    ]);
    const record = loadReplayRecord(path);
    expect(record.scaling).toBe('rescaled');
    expect(record.microvoltsPerLsb).toBe(1);
    expect([...record.samples]).toEqual(
      coarse.flatMap((value, i) => [(value - BASELINE) * 5, fine[i]! - BASELINE]),
    );
  });

  it('rescales a record whose values do not fit 16 bits once the baseline is removed', () => {
    const ramp = Array.from(
      { length: 2_500 },
      (_, i) => -32_768 + Math.round((i * 65_535) / 2_499),
    );
    const path = writeFormat16Record(dir, 'wide', RATE, [
      { description: 'II', gain: 200, baseline: -32_768, values: ramp },
    ]);
    const record = loadReplayRecord(path);
    expect(record.scaling).toBe('rescaled');
    const step = record.microvoltsPerLsb;
    expect(step).toBeGreaterThan(5);
    expect(step).toBeLessThan(10.01);
    ramp.forEach((value, i) => {
      const microvolts = ((value + 32_768) / 200) * 1_000;
      expect(Math.abs(record.samples[i]! * step - microvolts)).toBeLessThanOrEqual(step / 2);
    });
    expect(Math.max(...record.samples)).toBe(32_767);
  });

  it.each([
    ['a sample rate above the relay’s limit', 3_000, 1, 16],
    ['a fractional sample rate', 360.5, 1, 16],
    ['more signals than a recording carries', RATE, 17, 16],
    ['a format the reader does not decode', RATE, 1, 80],
  ])('refuses %s with a ReplayError naming the record', (_, rate, signalCount, format) => {
    const path = writeFormat16Record(
      dir,
      'bad',
      rate,
      Array.from({ length: signalCount }, (_, s) => ({
        description: `s${s}`,
        gain: 200,
        values: values(s, 100),
      })),
      format,
    );
    expect(() => loadReplayRecord(path)).toThrow(ReplayError);
    expect(() => loadReplayRecord(path)).toThrow(path);
  });

  it('reads a folder in name order, skipping records it cannot replay', async () => {
    writeFormat16Record(dir, 'b', RATE, [{ description: 'II', gain: 200, values: values(0, 500) }]);
    writeFormat16Record(dir, 'a', RATE, [{ description: 'I', gain: 200, values: values(1, 500) }]);
    writeFormat16Record(
      dir,
      'c',
      RATE,
      [{ description: 'I', gain: 200, values: values(1, 50) }],
      80,
    );
    const skipped: ReplayError[] = [];
    const records = loadReplayRecords([dir], (error) => skipped.push(error));
    expect(records.map((r) => r.name)).toEqual(['a', 'b']);
    expect(skipped.map((e) => e.path)).toEqual([join(dir, 'c')]);

    // Named explicitly, a bad record is an error; so is a folder with nothing to replay.
    expect(() => loadReplayRecords([join(dir, 'c')])).toThrow(ReplayError);
    expect(() => loadReplayRecords([join(dir, 'missing')])).toThrow(/no such WFDB record/);
    const empty = join(dir, 'empty');
    await mkdir(empty);
    expect(() => loadReplayRecords([empty])).toThrow(/no WFDB records/);
  });

  it('delivers a replayed window to the relay byte for byte', async () => {
    const { path, signals } = threeLeadRecord();
    const record = loadReplayRecord(path);
    relay = await FakeRelay.start({ 'box-replay-1': 's3cret' });
    const held = actAsHonestRelay(relay);
    box = new SimulatedBox({ brokerUrl: relay.url, deviceId: 'box-replay-1', secret: 's3cret' });
    const connected = once(box, 'connected');
    await box.start();
    await connected;

    const window = new ReplayCursor([record], 1).next(10);
    const result = await box.record({ signal: window.signal, examKind: record.examKind });
    const stored = held.get(result.recordingId)!;
    expect(stored.sha256(10)).toBe(result.sha256);
    expect([...heldSamples(stored, 10)]).toEqual(interleaved(signals, 2_500, 5_000));
    expect(relay.of('rec/open')[0]!.open).toMatchObject({
      leads: ['I', 'II', 'V2'],
      sampleRateHz: RATE,
      microvoltsPerLsb: 5,
      examKind: 'rhythm-strip',
    });
  });
});

const MITDB = fileURLToPath(new URL('../../../shared/data/mitdb/', import.meta.url));
const MITDB_100 = join(MITDB, '100');

const HAS_MITDB_100 = existsSync(`${MITDB_100}.hea`);

describe.skipIf(!HAS_MITDB_100)(
  HAS_MITDB_100
    ? `replaying MIT-BIH record 100 from ${MITDB_100}`
    : `replaying MIT-BIH record 100 (skipped: ${MITDB_100}.hea is not there; shared data absent)`,
  () => {
    let relay: FakeRelay | undefined;
    let box: SimulatedBox | undefined;
    afterEach(async () => {
      await box?.stop();
      await relay?.close();
    });

    it('keeps the record’s 11-bit ADC values at 5 µV per LSB, 180 windows of 10 s', () => {
      const record = loadReplayRecord(MITDB_100);
      expect(record).toMatchObject({
        name: '100',
        leads: ['MLII', 'V5'],
        sampleRateHz: 360,
        microvoltsPerLsb: 5,
        samplesPerLead: 650_000,
        scaling: 'adc',
        examKind: 'rhythm-strip',
      });
      expect(windowCount(record, 10)).toBe(180);
      const wfdb = readWfdbRecord(MITDB_100);
      const window = new ReplayCursor([record], 0).next(10).signal.samples;
      for (let i = 0; i < 3_600; i++) {
        expect(window[2 * i]).toBe(wfdb.signals.signals[0]![i]! - 1024);
        expect(window[2 * i + 1]).toBe(wfdb.signals.signals[1]![i]! - 1024);
      }
    });

    it('lists 100, 100s and 104 for the folder', () => {
      expect(loadReplayRecords([MITDB]).map((r) => r.name)).toEqual(['100', '100s', '104']);
    });

    it('delivers a 10 s window the relay’s analysis reads as sinus rhythm', async () => {
      const record = loadReplayRecord(MITDB_100);
      relay = await FakeRelay.start({ 'box-mitdb': 'secret' });
      const held = actAsHonestRelay(relay);
      box = new SimulatedBox({ brokerUrl: relay.url, deviceId: 'box-mitdb', secret: 'secret' });
      const connected = once(box, 'connected');
      await box.start();
      await connected;

      const window = new ReplayCursor([record], 60).next(10); // 10:00–10:10
      expect(window.startSeconds).toBe(600);
      const result = await box.record({ signal: window.signal, examKind: record.examKind });
      const open = relay.of('rec/open')[0]!.open;
      const close = relay.of('rec/close')[0]!.close;
      const samples = heldSamples(held.get(result.recordingId)!, close.chunkCount);
      expect(samples).toEqual(window.signal.samples);
      const analysis = analyzeEcg({ ...open, samples });
      expect(analysis.quality.readable).toBe(true);
      expect(analysis.heartRateBpm!).toBeGreaterThan(60);
      expect(analysis.heartRateBpm!).toBeLessThan(90);
    });
  },
);
