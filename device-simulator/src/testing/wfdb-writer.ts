import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One signal of a test record: its header fields and its ADC values. */
export interface TestSignal {
  description: string;
  /** ADC units per physical unit. */
  gain: number;
  baseline?: number;
  units?: string;
  values: readonly number[];
}

/**
 * Writes a single-segment WFDB record in format 16 (`<name>.hea` and `<name>.dat`, signals
 * interleaved in one file) as header(5) and signal(5) describe it, and returns its path
 * without extension. Test support: lets tests replay a record they made themselves.
 */
export function writeFormat16Record(
  folder: string,
  name: string,
  sampleRateHz: number,
  signals: readonly TestSignal[],
  format = 16,
): string {
  const length = signals[0]?.values.length ?? 0;
  const dat = Buffer.alloc(2 * length * signals.length);
  for (let i = 0; i < length; i++) {
    signals.forEach((signal, s) => {
      dat.writeInt16LE(signal.values[i]!, 2 * (i * signals.length + s));
    });
  }
  const lines = [`${name} ${signals.length} ${sampleRateHz} ${length}`];
  for (const signal of signals) {
    let checksum = 0;
    for (const value of signal.values) checksum = (checksum + value) | 0;
    const gain = `${signal.gain}${signal.baseline === undefined ? '' : `(${signal.baseline})`}/${signal.units ?? 'mV'}`;
    lines.push(
      `${name}.dat ${format} ${gain} 16 0 ${signal.values[0] ?? 0} ${(checksum << 16) >> 16} 0 ${signal.description}`,
    );
  }
  writeFileSync(join(folder, `${name}.hea`), `${lines.join('\n')}\n`);
  writeFileSync(join(folder, `${name}.dat`), dat);
  return join(folder, name);
}
