import { crcCcitt } from '../scp-ecg.js';

/*
 * A small SCP-ECG writer used only by tests, so the reader is checked against values
 * known exactly. It writes the layout of EN 1064:2005 §5 with valid CRCs; it is not a
 * general-purpose encoder.
 */

/** [prefix bits, prefix as sent (first bit most significant), extra bits, value]. */
export type HuffmanCodeSpec = readonly [number, number, number, number];

/** The default table of EN 1064 §C.2.7.4, written independently of the reader's copy. */
export const DEFAULT_CODES: readonly HuffmanCodeSpec[] = [
  [1, 0b0, 0, 0],
  [3, 0b100, 0, 1],
  [3, 0b101, 0, -1],
  [4, 0b1100, 0, 2],
  [4, 0b1101, 0, -2],
  [5, 0b11100, 0, 3],
  [5, 0b11101, 0, -3],
  [6, 0b111100, 0, 4],
  [6, 0b111101, 0, -4],
  [7, 0b1111100, 0, 5],
  [7, 0b1111101, 0, -5],
  [8, 0b11111100, 0, 6],
  [8, 0b11111101, 0, -6],
  [9, 0b111111100, 0, 7],
  [9, 0b111111101, 0, -7],
  [10, 0b1111111100, 0, 8],
  [10, 0b1111111101, 0, -8],
  [10, 0b1111111110, 8, 0],
  [10, 0b1111111111, 16, 0],
];

export interface ScpLeadSpec {
  /** Lead code of EN 1064 §5.6.3 (1 = I, 2 = II, 3–8 = V1–V6, 61–64 = III, aVR, aVL, aVF). */
  code: number;
  values: readonly number[];
}

export interface ScpSpec {
  leads: readonly ScpLeadSpec[];
  sampleIntervalUs: number;
  avmNanovolts: number;
  /** 0 original values, 1 first differences, 2 second differences. */
  encoding: 0 | 1 | 2;
  /** 'default' (section 2 = 19999), a custom table, or null (no section 2: plain Int16). */
  huffman: 'default' | readonly HuffmanCodeSpec[] | null;
  /** Section 3 flags byte (bit 0 = reference beat subtraction). Default 0b100 (simultaneous). */
  leadFlags?: number;
  bimodal?: boolean;
  acquired?: {
    year: number;
    month: number;
    day: number;
    hour: number;
    minute: number;
    second: number;
  };
  /** Minutes east of UTC (section 1 tag 34). */
  zoneMinutes?: number;
  /** Section 7: RR, P onset/offset, QRS onset/offset, T offset (ms), axes, rate, QTc. */
  global?: {
    rrMs: number;
    pOn: number;
    pOff: number;
    qrsOn: number;
    qrsOff: number;
    tOff: number;
    axes: [number, number, number];
    ventricularRate: number;
    qtcMs: number;
  };
  statements?: readonly string[];
}

class BitWriter {
  private bytes: number[] = [];
  private bits = 0;

  write(value: number, count: number): void {
    for (let b = count - 1; b >= 0; b--) {
      const bit = Math.floor(value / 2 ** b) % 2;
      if (this.bits % 8 === 0) this.bytes.push(0);
      if (bit) this.bytes[this.bytes.length - 1]! |= 0x80 >> (this.bits % 8);
      this.bits++;
    }
  }

  done(): number[] {
    return this.bytes;
  }
}

function huffmanEncode(values: readonly number[], codes: readonly HuffmanCodeSpec[]): number[] {
  const out = new BitWriter();
  for (const v of values) {
    const exact = codes.find(([, , extra, base]) => extra === 0 && base === v);
    if (exact) {
      out.write(exact[1], exact[0]);
      continue;
    }
    const wide = codes.find(
      ([, , extra]) => extra > 0 && v >= -(2 ** (extra - 1)) && v < 2 ** (extra - 1),
    );
    if (!wide) throw new Error(`no code for ${v}`);
    out.write(wide[1], wide[0]);
    out.write(v < 0 ? v + 2 ** wide[2] : v, wide[2]);
  }
  return out.done();
}

function differences(values: readonly number[], encoding: 0 | 1 | 2): number[] {
  return values.map((x, i) => {
    if (encoding === 0 || i === 0) return x;
    if (encoding === 1 || i === 1) return x - values[i - 1]!;
    return x - 2 * values[i - 1]! + values[i - 2]!;
  });
}

const u16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

function section(id: number, body: number[]): number[] {
  const length = 16 + body.length;
  const reserved = id === 0 ? ascii('SCPECG') : [0, 0, 0, 0, 0, 0];
  return [0, 0, ...u16(id), ...u32(length), 20, 20, ...reserved, ...body];
}

/** Builds a complete SCP-ECG record from `spec`, with every CRC valid. */
export function buildScpEcg(spec: ScpSpec): Uint8Array {
  const bodies = new Map<number, number[]>();
  const s1: number[] = [];
  if (spec.acquired) {
    const a = spec.acquired;
    s1.push(
      25,
      ...u16(4),
      ...u16(a.year),
      a.month,
      a.day,
      26,
      ...u16(3),
      a.hour,
      a.minute,
      a.second,
    );
  }
  if (spec.zoneMinutes !== undefined)
    s1.push(34, ...u16(4), ...u16(spec.zoneMinutes & 0xffff), ...u16(0));
  // Patient name (tag 0) is written so tests can check that it goes nowhere.
  s1.push(0, ...u16(8), ...ascii('Zhang S'), 0, 255, 0, 0);
  bodies.set(1, s1);

  const codes = spec.huffman === 'default' ? DEFAULT_CODES : spec.huffman;
  if (spec.huffman === 'default') bodies.set(2, u16(19999));
  else if (codes) {
    const table: number[] = [...u16(1), ...u16(codes.length)];
    for (const [prefixBits, prefix, extra, value] of codes) {
      let reversed = 0;
      for (let b = 0; b < prefixBits; b++) reversed |= ((prefix >> (prefixBits - 1 - b)) & 1) << b;
      table.push(prefixBits, prefixBits + extra, 1, ...u16(value & 0xffff), ...u32(reversed));
    }
    bodies.set(2, table);
  }

  const n = Math.min(...spec.leads.map((l) => l.values.length));
  const s3: number[] = [spec.leads.length, spec.leadFlags ?? 0b100];
  for (const lead of spec.leads) s3.push(...u32(1), ...u32(n), lead.code);
  bodies.set(3, s3);

  const data = spec.leads.map((lead) => {
    const d = differences(lead.values, spec.encoding);
    return codes ? huffmanEncode(d, codes) : d.flatMap((v) => u16(v & 0xffff));
  });
  bodies.set(6, [
    ...u16(spec.avmNanovolts),
    ...u16(spec.sampleIntervalUs),
    spec.encoding,
    spec.bimodal ? 1 : 0,
    ...data.flatMap((d) => u16(d.length)),
    ...data.flat(),
  ]);

  if (spec.global) {
    const g = spec.global;
    bodies.set(7, [
      1,
      0,
      ...u16(g.rrMs),
      ...u16(0),
      ...u16(g.pOn),
      ...u16(g.pOff),
      ...u16(g.qrsOn),
      ...u16(g.qrsOff),
      ...u16(g.tOff),
      ...g.axes.flatMap((a) => u16(a & 0xffff)),
      ...u16(0), // no QRS types
      ...u16(g.ventricularRate),
      ...u16(0),
      ...u16(g.qtcMs),
      1,
      ...u16(0),
    ]);
  }
  if (spec.statements) {
    const s8 = [0, ...u16(2024), 1, 2, 3, 4, 5, spec.statements.length];
    spec.statements.forEach((text, i) =>
      s8.push(i + 1, ...u16(text.length + 1), ...ascii(text), 0),
    );
    bodies.set(8, s8);
  }

  // Section 0 points to sections 0–11 (§5.4: the first twelve are always listed).
  const ids = [...Array(12).keys()];
  const section0Length = 16 + 10 * ids.length;
  let index = 6 + section0Length + 1;
  const pointers: number[] = [];
  const rest: number[] = [];
  for (const id of ids) {
    if (id === 0) {
      pointers.push(...u16(0), ...u32(section0Length), ...u32(7));
      continue;
    }
    const body = bodies.get(id);
    if (!body) {
      pointers.push(...u16(id), ...u32(0), ...u32(0));
      continue;
    }
    const bytes = section(id, body);
    pointers.push(...u16(id), ...u32(bytes.length), ...u32(index));
    rest.push(...bytes);
    index += bytes.length;
  }
  const record = [0, 0, 0, 0, 0, 0, ...section(0, pointers), ...rest];
  const out = Uint8Array.from(record);
  out.set(u32(out.length), 2);
  return resealScp(out);
}

/**
 * Recomputes every section CRC and the record CRC in place (sections found through
 * section 0; pointers out of range are left alone), so tests can damage structure and
 * still reach the parser past the CRC checks.
 */
export function resealScp(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 22) return bytes;
  const s0Length = view.getUint32(10, true);
  const seal = (start: number, length: number) => {
    if (length >= 16 && start + length <= bytes.length) {
      view.setUint16(start, crcCcitt(bytes, start + 2, start + length), true);
    }
  };
  for (let pos = 22; pos + 10 <= Math.min(6 + s0Length, bytes.length); pos += 10) {
    const length = view.getUint32(pos + 2, true);
    const index = view.getUint32(pos + 6, true);
    if (length > 0 && index > 0 && view.getUint16(pos, true) !== 0) seal(index - 1, length);
  }
  seal(6, s0Length);
  const recordLength = Math.min(view.getUint32(2, true), bytes.length);
  view.setUint16(0, crcCcitt(bytes, 2, recordLength), true);
  return bytes;
}
