import { toCommonScale } from '#ecg';
import type { StagedRecording } from './recording-staging.js';

/**
 * A recording whose box declared a scale per lead (`leadMicrovoltsPerLsb` in rec/open),
 * written on the one scale the relay keeps and analyses: toCommonScale, the finest lead's
 * step, so no lead loses resolution. The box's sha256 has already been checked against the
 * bytes it sent; what is kept is the converted recording. A recording with one scale is
 * returned as it came. Samples are Int16 little-endian, interleaved by sample (frame layout,
 * docs/protocol.md).
 */
export function keptOnCommonScale(
  staged: StagedRecording,
  samples: Buffer,
): { recording: StagedRecording; samples: Buffer; warnings: string[] } {
  const scales = staged.leadMicrovoltsPerLsb;
  if (scales === undefined) return { recording: staged, samples, warnings: [] };
  const width = staged.leads.length;
  const n = samples.byteLength / 2 / width;
  const leads = staged.leads.map((name, l) => {
    const values = new Int16Array(n);
    for (let i = 0; i < n; i++) values[i] = samples.readInt16LE(2 * (i * width + l));
    return { name, values, microvoltsPerUnit: scales[l]! };
  });
  const common = toCommonScale(leads, staged.sampleRateHz);
  const kept = Buffer.alloc(common.samples.length * 2);
  for (let i = 0; i < common.samples.length; i++) kept.writeInt16LE(common.samples[i]!, 2 * i);
  return {
    recording: { ...staged, microvoltsPerLsb: common.microvoltsPerLsb },
    samples: kept,
    warnings: common.warnings,
  };
}
