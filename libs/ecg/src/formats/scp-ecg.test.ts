import { existsSync, readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeEcg } from '../analysis.js';
import { readScpEcg } from './scp-ecg.js';
import {
  buildScpEcg,
  resealScp,
  type HuffmanCodeSpec,
  type ScpSpec,
} from './testing/scp-encoder.js';
import { EcgFileError, type EcgFileRecording } from './types.js';

const SCP_DIR = new URL('../../../../../shared/data/ecg-other/scp-ecg/', import.meta.url).pathname;
const HL7_FILE = new URL(
  '../../../../../shared/data/ecg-other/hl7-aecg/ecg_hl7.xml',
  import.meta.url,
).pathname;
const scpFiles = existsSync(SCP_DIR) ? readdirSync(SCP_DIR).filter((f) => f.endsWith('.scp')) : [];

/** Lead `l` of an interleaved recording, in stored units. */
function lead(r: EcgFileRecording, l: number): number[] {
  const width = r.leads.length;
  const out: number[] = [];
  for (let i = l; i < r.samples.length; i += width) out.push(r.samples[i]!);
  return out;
}

function errorOf(run: () => unknown): EcgFileError {
  try {
    run();
  } catch (error) {
    if (error instanceof EcgFileError) return error;
    throw error;
  }
  throw new Error('expected an EcgFileError');
}

/** A waveform-like test signal: values that need 1-bit, short, 8-bit and 16-bit codes. */
const signal = (n: number, phase: number) =>
  Array.from({ length: n }, (_, i) => {
    const spike = i % 97 === 40 ? 900 : i % 97 === 41 ? -300 : 0;
    // `+ 0` turns Math.round's -0 into 0, which is what an integer file gives back.
    return Math.round(60 * Math.sin((i + phase) / 9) + spike + (i % 7) - 3) + 0;
  });

const base: ScpSpec = {
  leads: [
    { code: 1, values: signal(600, 0) },
    { code: 2, values: signal(600, 5) },
    { code: 3, values: signal(600, 11) },
  ],
  sampleIntervalUs: 2000,
  avmNanovolts: 5000,
  encoding: 2,
  huffman: 'default',
};

describe('readScpEcg on files built in the test', () => {
  it('default Huffman table with second differences gives back the exact samples', () => {
    const r = readScpEcg(buildScpEcg(base));
    expect(r.format).toBe('scp-ecg');
    expect(r.leads).toEqual(['I', 'II', 'V1']);
    expect(r.sampleRateHz).toBe(500);
    expect(r.microvoltsPerLsb).toBe(5);
    expect(r.samples.length).toBe(3 * 600);
    base.leads.forEach((l, i) => expect(lead(r, i)).toEqual(l.values));
    expect(r.warnings).toEqual([]);
  });

  it('first differences, original values and unencoded Int16 (no section 2) also round-trip', () => {
    for (const [encoding, huffman] of [
      [1, 'default'],
      [0, 'default'],
      [2, null],
      [0, null],
    ] as const) {
      const r = readScpEcg(buildScpEcg({ ...base, encoding, huffman }));
      base.leads.forEach((l, i) => expect(lead(r, i)).toEqual(l.values));
    }
  });

  it('reads a Huffman table the file defines itself (section 2), codes sent bit-reversed', () => {
    const custom: HuffmanCodeSpec[] = [
      [1, 0b0, 0, 0],
      [2, 0b10, 0, 1],
      [3, 0b110, 0, -1],
      [3, 0b111, 16, 0],
    ];
    const r = readScpEcg(buildScpEcg({ ...base, huffman: custom, encoding: 1 }));
    base.leads.forEach((l, i) => expect(lead(r, i)).toEqual(l.values));
  });

  it('puts leads of different AVM on the µV scale (AVM is in nV)', () => {
    const r = readScpEcg(buildScpEcg({ ...base, avmNanovolts: 1000, sampleIntervalUs: 1000 }));
    expect(r.microvoltsPerLsb).toBe(1);
    expect(r.sampleRateHz).toBe(1000);
  });

  it('keeps exactly the leads the file stores: eight leads stay eight, none derived', () => {
    const codes = [1, 2, 3, 4, 5, 6, 7, 8];
    const r = readScpEcg(
      buildScpEcg({ ...base, leads: codes.map((code, i) => ({ code, values: signal(300, i) })) }),
    );
    expect(r.leads).toEqual(['I', 'II', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6']);
    expect(r.samples.length).toBe(8 * 300);
  });

  it('names III, aVR, aVL, aVF from their lead codes (61–64)', () => {
    const r = readScpEcg(
      buildScpEcg({
        ...base,
        leads: [61, 62, 63, 64].map((code) => ({ code, values: signal(50, code) })),
      }),
    );
    expect(r.leads).toEqual(['III', 'aVR', 'aVL', 'aVF']);
  });

  it('takes the acquisition time from section 1 (UTC with a zone) and no patient identifier', () => {
    const acquired = { year: 2026, month: 3, day: 4, hour: 8, minute: 30, second: 15 };
    const zoned = readScpEcg(buildScpEcg({ ...base, acquired, zoneMinutes: 480 }));
    expect(zoned.startedAt).toBe('2026-03-04T00:30:15Z');
    const local = readScpEcg(buildScpEcg({ ...base, acquired }));
    expect(local.startedAt).toBe('2026-03-04T08:30:15');
    expect(readScpEcg(buildScpEcg(base)).startedAt).toBeNull();
    // The encoder writes a patient name (tag 0); it must appear nowhere in the result.
    expect(JSON.stringify({ ...zoned, samples: null })).not.toContain('Zhang');
  });

  it('turns section 7 into PR, QRS, QT, QTc, rate and axes, and section 8 into statements', () => {
    const r = readScpEcg(
      buildScpEcg({
        ...base,
        global: {
          rrMs: 857,
          pOn: 100,
          pOff: 196,
          qrsOn: 262,
          qrsOff: 356,
          tOff: 650,
          axes: [45, -30, 60],
          ventricularRate: 70,
          qtcMs: 419,
        },
        statements: ['Sinus rhythm', 'Left axis deviation'],
      }),
    );
    expect(r.deviceMeasurements).toEqual({
      rrMs: 857,
      heartRateBpm: 70,
      prMs: 162,
      qrsMs: 94,
      qtMs: 388,
      qtcMs: 419,
      pAxisDeg: 45,
      qrsAxisDeg: -30,
      tAxisDeg: 60,
      statements: ['Sinus rhythm', 'Left axis deviation'],
    });
    expect(readScpEcg(buildScpEcg(base)).deviceMeasurements).toBeNull();
  });

  it('reads section 11 statements when there is no section 8, leaving out statement logic', () => {
    const r = readScpEcg(
      buildScpEcg({
        ...base,
        universalStatements: [
          [1, ['SR', 'LAD']],
          [3, ['1&2']],
          [2, ['Abnormal ECG']],
        ],
      }),
    );
    expect(r.deviceMeasurements).toEqual({ statements: ['SR; LAD', 'Abnormal ECG'] });
    const both = readScpEcg(
      buildScpEcg({ ...base, statements: ['Sinus rhythm'], universalStatements: [[2, ['other']]] }),
    );
    expect(both.deviceMeasurements?.statements).toEqual(['Sinus rhythm']);
  });

  it('reads the signal of a file whose section 1 is malformed, saying section 1 was cut short', () => {
    const acquired = { year: 2026, month: 3, day: 4, hour: 8, minute: 30, second: 15 };
    const bytes = buildScpEcg({ ...base, acquired });
    const name = Buffer.from(bytes).indexOf('Zhang S');
    bytes.set([0xff, 0xff], name - 2); // the patient-name tag now claims 65535 bytes
    const r = readScpEcg(resealScp(bytes));
    expect(r.warnings.join()).toMatch(/section 1 tag 0 runs past the section/);
    expect(r.startedAt).toBe('2026-03-04T08:30:15');
    base.leads.forEach((l, i) => expect(lead(r, i)).toEqual(l.values));
  });

  it('refuses reference-beat subtraction and bimodal compression as unsupported', () => {
    expect(errorOf(() => readScpEcg(buildScpEcg({ ...base, leadFlags: 0b101 }))).code).toBe(
      'ECG_FILE_UNSUPPORTED',
    );
    const bimodal = errorOf(() => readScpEcg(buildScpEcg({ ...base, bimodal: true })));
    expect(bimodal.code).toBe('ECG_FILE_UNSUPPORTED');
    expect(bimodal.message).toMatch(/bimodal/);
  });

  it('refuses a file whose signal section fails its CRC, and only warns on the record CRC', () => {
    const bytes = buildScpEcg(base);
    const damaged = bytes.slice();
    damaged[damaged.length - 5]! ^= 0x10; // inside section 6, the last section written
    const error = errorOf(() => readScpEcg(damaged));
    expect(error.code).toBe('ECG_FILE_INVALID');
    expect(error.message).toMatch(/section 6 fails its CRC/);

    const recordOnly = bytes.slice();
    recordOnly[0]! ^= 0xff;
    const r = readScpEcg(recordOnly);
    expect(r.warnings.join()).toMatch(/record CRC/);
    base.leads.forEach((l, i) => expect(lead(r, i)).toEqual(l.values));
  });

  it('reports a cut file as truncated, at every length', () => {
    const bytes = buildScpEcg({
      ...base,
      leads: base.leads.map((l) => ({ ...l, values: l.values.slice(0, 40) })),
    });
    for (let length = 0; length < bytes.length; length++) {
      expect(errorOf(() => readScpEcg(bytes.subarray(0, length))).code).toBe('ECG_FILE_TRUNCATED');
    }
  });
});

describe('readScpEcg never throws anything but EcgFileError and never hangs (fast-check)', () => {
  const seeds = [
    buildScpEcg({
      ...base,
      leads: base.leads.map((l) => ({ ...l, values: l.values.slice(0, 120) })),
    }),
    buildScpEcg({
      ...base,
      huffman: [
        [1, 0, 0, 0],
        [2, 0b10, 0, 1],
        [3, 0b110, 0, -1],
        [3, 0b111, 16, 0],
      ],
      encoding: 1,
      leads: base.leads.map((l) => ({ ...l, values: l.values.slice(0, 120) })),
      global: {
        rrMs: 800,
        pOn: 1,
        pOff: 2,
        qrsOn: 3,
        qrsOff: 4,
        tOff: 5,
        axes: [1, 2, 3],
        ventricularRate: 75,
        qtcMs: 400,
      },
      statements: ['x'],
    }),
    buildScpEcg({
      ...base,
      huffman: null,
      leads: base.leads.map((l) => ({ ...l, values: l.values.slice(0, 60) })),
    }),
  ];

  const mutation = fc.record({
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
    cut: fc.boolean(),
  });

  it('answers byte flips (CRCs resealed so the structure is parsed) and truncations', () => {
    let slowest = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (seed, mutations, reseal) => {
          let bytes = seeds[seed]!.slice();
          for (const m of mutations) {
            const at = m.at % bytes.length;
            if (m.cut) bytes = bytes.slice(0, at);
            else bytes[at] = m.value;
            if (bytes.length === 0) break;
          }
          if (reseal) resealScp(bytes);
          const started = performance.now();
          try {
            const r = readScpEcg(bytes);
            expect(r.samples.length % r.leads.length).toBe(0);
          } catch (error) {
            if (!(error instanceof EcgFileError)) throw error;
          }
          slowest = Math.max(slowest, performance.now() - started);
        },
      ),
      { numRuns: 2000, seed: 20261208 },
    );
    expect(slowest).toBeLessThan(1000);
  });
});

/** What the file itself declares, read here independently of the reader. */
function declared(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const find = (id: number) => {
    for (let pos = 22; pos < 6 + view.getUint32(10, true); pos += 10) {
      if (view.getUint16(pos, true) === id) return view.getUint32(pos + 6, true) - 1 + 16;
    }
    throw new Error(`no section ${id}`);
  };
  const s3 = find(3);
  const first = view.getUint32(s3 + 2, true);
  const last = view.getUint32(s3 + 6, true);
  return {
    leadCount: bytes[s3]!,
    // 1-based inclusive per EN 1064; a writer counting from 0 uses an exclusive end.
    samplesPerLead: first === 0 ? last : last - first + 1,
    sampleRateHz: 1e6 / view.getUint16(find(6) + 2, true),
  };
}

describe.skipIf(scpFiles.length === 0)(
  'SCP-ECG files from ../shared/data/ecg-other/scp-ecg (skipped when that folder is absent)',
  () => {
    it.each(scpFiles)(
      '%s: leads, samples and rate as declared; plausible amplitude and rate',
      (file) => {
        const bytes = new Uint8Array(readFileSync(`${SCP_DIR}${file}`));
        const r = readScpEcg(bytes);
        const d = declared(bytes);
        expect(r.leads.length).toBe(d.leadCount);
        expect(r.samples.length / r.leads.length).toBe(d.samplesPerLead);
        expect(r.sampleRateHz).toBe(d.sampleRateHz);
        const ii = lead(r, r.leads.indexOf('II'));
        const peakToPeakMv = ((Math.max(...ii) - Math.min(...ii)) * r.microvoltsPerLsb) / 1000;
        expect(peakToPeakMv).toBeGreaterThan(0.3);
        expect(peakToPeakMv).toBeLessThan(5);
        const rate = analyzeEcg(r).heartRateBpm;
        expect(rate).toBeGreaterThan(40);
        expect(rate).toBeLessThan(150);
      },
    );

    it.skipIf(!scpFiles.includes('ecgtoolkit-Example.scp') || !existsSync(HL7_FILE))(
      'the ECG Toolkit example holds the same ECG as the aECG example: identical samples and device measurements',
      async () => {
        const { readHl7Aecg } = await import('./hl7-aecg.js');
        const scp = readScpEcg(new Uint8Array(readFileSync(`${SCP_DIR}ecgtoolkit-Example.scp`)));
        const xml = readHl7Aecg(new Uint8Array(readFileSync(HL7_FILE)));
        expect(scp.leads).toEqual(xml.leads);
        expect(scp.microvoltsPerLsb).toBe(xml.microvoltsPerLsb);
        expect(scp.samples).toEqual(xml.samples);
        expect(scp.startedAt).toBe(xml.startedAt);
        const { statements: _, ...xmlIntervals } = xml.deviceMeasurements ?? {};
        expect(scp.deviceMeasurements).toEqual(xmlIntervals);
      },
    );
  },
);
