import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  WfdbError,
  decodeWfdbSignals,
  isBeatAnnotation,
  parseWfdbAnnotations,
  parseWfdbHeader,
  toPhysical,
  wfdbToRecording,
} from './wfdb.js';
import { readWfdbRecord } from './wfdb-node.js';

const MITDB = new URL('../../../../shared/data/mitdb/', import.meta.url).pathname;
const PTBXL = new URL('../../../../shared/data/ecg-other/ptb-xl/', import.meta.url).pathname;

/** Packs samples (12-bit two's complement) into format 212. */
function pack212(samples: number[]): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < samples.length; i += 2) {
    const a = samples[i]! & 0xfff;
    const b = (samples[i + 1] ?? 0) & 0xfff;
    out.push(a & 0xff, ((a >> 8) & 0x0f) | ((b >> 4) & 0xf0), b & 0xff);
  }
  return Uint8Array.from(out);
}

function pack16(samples: number[]): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  samples.forEach((s, i) => view.setInt16(2 * i, s, true));
  return out;
}

/** MIT annotation word: code in the top 6 bits, argument in the low 10. */
const word = (code: number, argument: number) => [
  ((code << 10) | argument) & 0xff,
  ((code << 10) | argument) >> 8,
];

function checksum(samples: number[]): number {
  return (samples.reduce((a, b) => a + b, 0) << 16) >> 16;
}

describe('parseWfdbHeader', () => {
  it('reads the record line and signal lines with all fields', () => {
    const header = parseWfdbHeader(
      [
        '# a comment before the record line',
        '100 2 360 650000 12:00:00 01/01/2000',
        '100.dat 212 200 11 1024 995 -22131 0 MLII',
        '100.dat 212 200(1000)/uV 11 1024 1011 20052 0 V5 chest lead',
        '# 69 M 1085 1629 x1',
        '# Aldomet, Inderal',
      ].join('\n'),
    );
    expect(header.recordName).toBe('100');
    expect(header.signalCount).toBe(2);
    expect(header.samplingFrequency).toBe(360);
    expect(header.samplesPerSignal).toBe(650000);
    expect(header.baseTime).toBe('12:00:00');
    expect(header.baseDate).toBe('01/01/2000');
    expect(header.comments).toEqual(['69 M 1085 1629 x1', 'Aldomet, Inderal']);
    const [mlii, v5] = header.signals;
    expect(mlii).toMatchObject({
      fileName: '100.dat',
      format: 212,
      gain: 200,
      baseline: 1024, // defaults to ADC zero
      units: 'mV',
      adcResolution: 11,
      adcZero: 1024,
      initialValue: 995,
      checksum: -22131,
      blockSize: 0,
      description: 'MLII',
    });
    expect(v5).toMatchObject({
      gain: 200,
      baseline: 1000,
      units: 'uV',
      description: 'V5 chest lead',
    });
  });

  it('applies the header(5) defaults', () => {
    const header = parseWfdbHeader('rec 1\nrec.dat 16\n');
    expect(header.samplingFrequency).toBe(250);
    expect(header.samplesPerSignal).toBeUndefined();
    expect(header.signals[0]).toMatchObject({
      gain: 200,
      baseline: 0,
      units: 'mV',
      adcResolution: 16,
    });
  });

  it('reads byte offsets, a sampling frequency with counter frequency, and gain 0', () => {
    const header = parseWfdbHeader('r 1 500/1000(0) 10\nr.dat 16+24 0 16 0 0 0 0 I\n');
    expect(header.samplingFrequency).toBe(500);
    expect(header.signals[0]).toMatchObject({ byteOffset: 24, gain: 200, description: 'I' });
  });

  it('rejects multi-segment records, a missing signal line and garbage', () => {
    const error = (text: string) => {
      try {
        parseWfdbHeader(text);
      } catch (e) {
        return e;
      }
      return undefined;
    };
    expect(error('multi/3 2 360 100')).toMatchObject({ code: 'WFDB_MULTISEGMENT_UNSUPPORTED' });
    expect(error('r 2 360\nr.dat 212\n')).toMatchObject({ code: 'WFDB_HEADER_INVALID' });
    expect(error('r two 360')).toMatchObject({ code: 'WFDB_HEADER_INVALID' });
    expect(error('r 1\nr.dat 2x12z\n')).toMatchObject({ code: 'WFDB_HEADER_INVALID' });
    expect(error('# only comments')).toBeInstanceOf(WfdbError);
  });
});

describe('decodeWfdbSignals', () => {
  it('decodes format 212 with two interleaved signals, negative values and checksums', () => {
    const a = [0, 1, -1, 2047, -2048, 100, -100];
    const b = [5, -5, 1000, -1000, 0, 7, 3];
    const interleaved = a.flatMap((x, i) => [x, b[i]!]);
    const header = parseWfdbHeader(
      `r 2 360 7\nr.dat 212 200 12 0 0 ${checksum(a)} 0 A\nr.dat 212 200 12 0 5 ${checksum(b)} 0 B\n`,
    );
    const decoded = decodeWfdbSignals(header, { 'r.dat': pack212(interleaved) });
    expect(Array.from(decoded.signals[0]!)).toEqual(a);
    expect(Array.from(decoded.signals[1]!)).toEqual(b);
    expect(decoded.checksumOk).toEqual([true, true]);
    expect(decoded.samplesPerSignal).toBe(7);
  });

  it('decodes an odd number of 212 samples (half-filled last triplet)', () => {
    const samples = [1, -2, 3];
    const header = parseWfdbHeader('r 1 100 3\nr.dat 212\n');
    expect(
      Array.from(decodeWfdbSignals(header, { 'r.dat': pack212(samples) }).signals[0]!),
    ).toEqual(samples);
  });

  it('decodes format 16, signals in separate files, a byte offset, and flags a bad checksum', () => {
    const one = [-32768, 32767, 0, -1];
    const two = [10, 20, 30, 40];
    const header = parseWfdbHeader(
      `r 2 500\none.dat 16+4 1000 16 0 0 ${checksum(one)} 0 I\ntwo.dat 16 1000 16 0 0 ${checksum(two) + 1} 0 II\n`,
    );
    const decoded = decodeWfdbSignals(header, {
      'one.dat': Uint8Array.from([9, 9, 9, 9, ...pack16(one)]),
      'two.dat': pack16(two),
    });
    expect(Array.from(decoded.signals[0]!)).toEqual(one);
    expect(Array.from(decoded.signals[1]!)).toEqual(two);
    expect(decoded.samplesPerSignal).toBe(4); // from the file length, the header has none
    expect(decoded.checksumOk).toEqual([true, false]);
  });

  it('refuses other formats, short files and missing files with clear errors', () => {
    const attempt = (headerText: string, files: Record<string, Uint8Array>) => {
      try {
        decodeWfdbSignals(parseWfdbHeader(headerText), files);
      } catch (e) {
        return e as WfdbError;
      }
      throw new Error('expected an error');
    };
    const unsupported = attempt('r 1\nr.dat 80\n', { 'r.dat': new Uint8Array(4) });
    expect(unsupported.code).toBe('WFDB_FORMAT_UNSUPPORTED');
    expect(unsupported.message).toMatch(/format 80.*212 and 16/);
    expect(attempt('r 1 250 10\nr.dat 16\n', { 'r.dat': new Uint8Array(8) }).code).toBe(
      'WFDB_SIGNAL_TRUNCATED',
    );
    expect(attempt('r 1\nr.dat 16\n', {}).code).toBe('WFDB_SIGNAL_MISSING');
    expect(attempt('r 1\nr.dat 16x2\n', { 'r.dat': new Uint8Array(8) }).code).toBe(
      'WFDB_FORMAT_UNSUPPORTED',
    );
  });

  it('converts to physical units and to an interleaved recording', () => {
    const header = parseWfdbHeader(
      'r 2 360 2\nr.dat 212 200 11 1024 0 0 0 MLII\nr.dat 212 200 11 1024 0 0 0 V1\n',
    );
    const signals = decodeWfdbSignals(header, { 'r.dat': pack212([1024, 1224, 824, 1024]) });
    expect(Array.from(toPhysical(header.signals[0]!, signals.signals[0]!))).toEqual([0, -1]);
    const recording = wfdbToRecording({ header, signals });
    expect(recording).toMatchObject({
      leads: ['MLII', 'V1'],
      sampleRateHz: 360,
      microvoltsPerLsb: 5,
    });
    expect(Array.from(recording.samples)).toEqual([0, 200, -200, 0]);
  });

  it('takes signals with different gains and baselines, on the finest common scale', () => {
    // A 12-lead cardiograph calibrates each lead (LUDB writes gains of 430–1836 per mV in
    // one record): 1000 units/mV with baseline 3, 400 units/mV with baseline −2, and a lead
    // in µV. Same physical values: 0, +1 mV, −0.5 mV.
    const header = parseWfdbHeader(
      'r 3 500 3\n' +
        'r.dat 16 1000(3)/mV 16 0 0 0 0 i\n' +
        'r.dat 16 400(-2)/mV 16 0 0 0 0 v1\n' +
        'r.dat 16 2/uV 16 0 0 0 0 v6\n',
    );
    const values = [3, -2, 0, 1003, 398, 2000, -497, -202, -1000];
    const bytes = new Uint8Array(values.length * 2);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setInt16(2 * i, v, true));
    const signals = decodeWfdbSignals(header, { 'r.dat': bytes });
    const recording = wfdbToRecording({ header, signals });
    // The finest step is lead v6's 0.5 µV; 1 µV of lead i and 2.5 µV of v1 are multiples.
    expect(recording.microvoltsPerLsb).toBe(0.5);
    expect(recording.leads).toEqual(['i', 'v1', 'v6']);
    expect(Array.from(recording.samples)).toEqual([0, 0, 0, 2000, 2000, 2000, -1000, -1000, -1000]);
    expect(recording.warnings).toEqual([]);
  });
});

describe('parseWfdbAnnotations', () => {
  it('follows times, SKIP, NUM, SUB, CHN and AUX, and stops at the end word', () => {
    const bytes = Uint8Array.from([
      ...word(28, 18), // '+' at 18
      ...word(63, 3), // AUX of 3 bytes, padded to 4
      ...[0x28, 0x4e, 0x00, 0x00], // "(N\0"
      ...word(1, 59), // 'N' at 77
      ...word(59, 0), // SKIP: 32-bit interval, high word first
      ...[0x01, 0x00, 0x00, 0x00], // high word = 1 → 65536
      ...word(5, 3), // 'V' at 77 + 65536 + 3
      ...word(61, 2), // SUB 2 for that V
      ...word(62, 1), // CHN 1 from here on
      ...word(60, 7), // NUM 7 from here on
      ...word(12, 10), // '/' at +10
      ...word(0, 0), // end of file
      ...word(1, 5), // after the end: ignored
    ]);
    const annotations = parseWfdbAnnotations(bytes);
    expect(annotations.map((a) => [a.sample, a.symbol])).toEqual([
      [18, '+'],
      [77, 'N'],
      [65616, 'V'],
      [65626, '/'],
    ]);
    expect(annotations[0]!.aux).toBe('(N');
    expect(annotations[2]).toMatchObject({ code: 5, subtype: 2, channel: 1, num: 7 });
    expect(annotations[3]).toMatchObject({ code: 12, channel: 1, num: 7, subtype: 0 });
  });

  it('knows which codes are beats', () => {
    for (const beat of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 25, 30, 34, 35, 38, 41]) {
      expect(isBeatAnnotation(beat)).toBe(true);
    }
    for (const other of [0, 14, 16, 18, 19, 22, 28, 32, 33, 37, 39, 40]) {
      expect(isBeatAnnotation(other)).toBe(false);
    }
  });

  it('reports a cut-short SKIP', () => {
    expect(() => parseWfdbAnnotations(Uint8Array.from([...word(59, 0), 0, 0]))).toThrow(WfdbError);
  });
});

describe.skipIf(!existsSync(`${MITDB}100.hea`))(
  'MIT-BIH records from ../shared/data/mitdb (skipped when that folder is absent)',
  () => {
    const count = (annotations: { symbol: string }[]) => {
      const counts: Record<string, number> = {};
      for (const a of annotations) counts[a.symbol] = (counts[a.symbol] ?? 0) + 1;
      return counts;
    };

    it('reads record 100: header, checksums and the published annotation counts', () => {
      const record = readWfdbRecord(`${MITDB}100`);
      expect(record.header.signals.map((s) => s.description)).toEqual(['MLII', 'V5']);
      expect(record.signals.samplesPerSignal).toBe(650000);
      expect(record.signals.checksumOk).toEqual([true, true]);
      expect(record.signals.signals[0]![0]).toBe(record.header.signals[0]!.initialValue);
      expect(count(record.annotations!)).toEqual({ '+': 1, N: 2239, A: 33, V: 1 });
      expect(record.annotations![1]).toMatchObject({ sample: 77, symbol: 'N' });
    });

    it('reads record 104 (paced) with its noise and fusion labels', () => {
      const record = readWfdbRecord(`${MITDB}104`);
      expect(record.signals.checksumOk).toEqual([true, true]);
      expect(count(record.annotations!)).toEqual({
        '/': 1380,
        f: 666,
        N: 163,
        '+': 45,
        '~': 37,
        Q: 18,
        V: 2,
      });
      expect(record.annotations![0]!.aux).toBe('(P');
    });

    it('agrees byte for byte between the 60-s excerpt 100s and record 100', () => {
      const full = readWfdbRecord(`${MITDB}100`);
      const excerpt = readWfdbRecord(`${MITDB}100s`);
      expect(excerpt.signals.checksumOk).toEqual([true, true]);
      expect(Array.from(excerpt.signals.signals[1]!)).toEqual(
        Array.from(full.signals.signals[1]!.subarray(0, 21600)),
      );
    });
  },
);

describe.skipIf(!existsSync(`${PTBXL}00001_lr.hea`))(
  'PTB-XL format-16 records from ../shared/data/ecg-other/ptb-xl (skipped when that folder is absent)',
  () => {
    it('reads 12 leads at 100 Hz with valid checksums', () => {
      for (const name of ['00001_lr', '00002_lr', '00003_lr']) {
        const record = readWfdbRecord(`${PTBXL}${name}`);
        expect(record.header.signalCount).toBe(12);
        expect(record.header.samplingFrequency).toBe(100);
        expect(record.signals.checksumOk.every((ok) => ok === true)).toBe(true);
        expect(record.annotations).toBeUndefined();
        const header = readFileSync(`${PTBXL}${name}.hea`, 'latin1');
        expect(header).toContain('1000.0(0)/mV');
        // One gain for all twelve leads: the ADC values are carried unchanged.
        const recording = wfdbToRecording(record);
        expect(recording.microvoltsPerLsb).toBe(1);
        expect(recording.warnings).toEqual([]);
        const width = record.header.signalCount;
        for (const s of [0, 6, 11]) {
          const baseline = record.header.signals[s]!.baseline;
          for (const i of [0, 123, 999]) {
            expect(recording.samples[i * width + s]).toBe(
              record.signals.signals[s]![i]! - baseline,
            );
          }
        }
      }
    });
  },
);
