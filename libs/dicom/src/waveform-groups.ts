import type dicomParser from 'dicom-parser';
import type { ParsedInstance } from './inspect.js';
import type { DicomRefusalCode } from './types.js';

/** One channel of a multiplex group (PS3.3 C.10.9.1.4 Channel Definition Sequence). */
export interface WaveformChannel {
  label: string | null;
  source: { codeValue: string | null; scheme: string | null; meaning: string | null } | null;
  sensitivity: number | null;
  /** UCUM code of the sensitivity's unit ('uV', 'mV', 'V'…). */
  units: string | null;
  correction: number;
  baseline: number;
}

/** One Waveform Sequence item (PS3.3 C.10.9 Waveform Module). */
export interface WaveformGroup {
  label: string | null;
  originality: string | null;
  channels: number;
  samples: number;
  samplingFrequency: number;
  bitsAllocated: number;
  interpretation: string;
  definitions: WaveformChannel[];
  /** Where Waveform Data's value is in ParsedInstance.bytes. */
  data: { offset: number; length: number };
}

const tag = {
  waveformSequence: 'x54000100',
  originality: 'x003a0004',
  channels: 'x003a0005',
  samples: 'x003a0010',
  samplingFrequency: 'x003a001a',
  label: 'x003a0020',
  channelDefinitions: 'x003a0200',
  channelLabel: 'x003a0203',
  channelSource: 'x003a0208',
  sensitivity: 'x003a0210',
  sensitivityUnits: 'x003a0211',
  correction: 'x003a0212',
  baseline: 'x003a0213',
  bitsAllocated: 'x54001004',
  interpretation: 'x54001006',
  data: 'x54001010',
  codeValue: 'x00080100',
  scheme: 'x00080102',
  meaning: 'x00080104',
} as const;

const INTERPRETATIONS: Record<string, number> = { SS: 16, US: 16, SB: 8, UB: 8 };

function str(dataSet: dicomParser.DataSet, t: string): string | null {
  return dataSet.string(t)?.trim() || null;
}
function ds(dataSet: dicomParser.DataSet, t: string): number | null {
  const v = dataSet.floatString(t);
  return v !== undefined && Number.isFinite(v) ? v : null;
}
function firstItem(dataSet: dicomParser.DataSet, t: string): dicomParser.DataSet | null {
  return dataSet.elements[t]?.items?.[0]?.dataSet ?? null;
}

export type WaveformProblem = { code: DicomRefusalCode; reason: string };

/** Reads the multiplex groups; a problem when the module is incomplete or inconsistent. */
export function readWaveformGroups(parsed: ParsedInstance): WaveformGroup[] | WaveformProblem {
  const items = parsed.dataSet.elements[tag.waveformSequence]?.items ?? [];
  if (items.length === 0) {
    return {
      code: 'MISSING_ATTRIBUTE',
      reason: 'Waveform Sequence (5400,0100) is missing or empty',
    };
  }
  const groups: WaveformGroup[] = [];
  for (const [index, item] of items.entries()) {
    const d = item.dataSet;
    const n = index + 1;
    if (!d) return { code: 'UNREADABLE', reason: `multiplex group ${n} cannot be read` };
    const channels = d.uint16(tag.channels);
    const samples = d.uint32(tag.samples);
    const samplingFrequency = ds(d, tag.samplingFrequency);
    const bitsAllocated = d.uint16(tag.bitsAllocated);
    const interpretation = str(d, tag.interpretation);
    const data = d.elements[tag.data];
    const definitions = d.elements[tag.channelDefinitions]?.items ?? [];
    if (!channels || !samples || !samplingFrequency || !bitsAllocated || !interpretation || !data) {
      return {
        code: 'MISSING_ATTRIBUTE',
        reason: `multiplex group ${n} lacks channel or sample counts, sampling frequency, bits allocated, sample interpretation or Waveform Data`,
      };
    }
    if (samplingFrequency <= 0) {
      return {
        code: 'PIXEL_DATA_MISMATCH',
        reason: `multiplex group ${n} has a sampling frequency of zero or less`,
      };
    }
    if (INTERPRETATIONS[interpretation] !== bitsAllocated) {
      return {
        code: 'PIXEL_DATA_MISMATCH',
        reason: `multiplex group ${n}: sample interpretation ${interpretation.slice(0, 2)} with ${bitsAllocated} bits allocated is not one the relay reads (SS, US with 16; SB, UB with 8)`,
      };
    }
    if (definitions.length !== channels) {
      return {
        code: 'PIXEL_DATA_MISMATCH',
        reason: `multiplex group ${n} defines ${definitions.length} channels but declares ${channels}`,
      };
    }
    if (definitions.some((definition) => !definition.dataSet)) {
      return {
        code: 'UNREADABLE',
        reason: `a channel definition of multiplex group ${n} cannot be read`,
      };
    }
    const expected = (channels * samples * bitsAllocated) / 8;
    if (data.length !== expected && data.length !== expected + (expected & 1)) {
      return {
        code: 'PIXEL_DATA_MISMATCH',
        reason: `Waveform Data of multiplex group ${n} holds ${data.length} bytes, but channels × samples × bits allocated needs ${expected}`,
      };
    }
    groups.push({
      label: str(d, tag.label),
      originality: str(d, tag.originality),
      channels,
      samples,
      samplingFrequency,
      bitsAllocated,
      interpretation,
      data: { offset: data.dataOffset, length: expected },
      definitions: definitions.map((definition) => {
        const c = definition.dataSet as dicomParser.DataSet;
        const source = firstItem(c, tag.channelSource);
        const units = firstItem(c, tag.sensitivityUnits);
        return {
          label: str(c, tag.channelLabel),
          source: source
            ? {
                codeValue: str(source, tag.codeValue),
                scheme: str(source, tag.scheme),
                meaning: str(source, tag.meaning),
              }
            : null,
          sensitivity: ds(c, tag.sensitivity),
          units: units ? str(units, tag.codeValue) : null,
          correction: ds(c, tag.correction) ?? 1,
          baseline: ds(c, tag.baseline) ?? 0,
        };
      }),
    });
  }
  return groups;
}

export function checkWaveform(parsed: ParsedInstance): WaveformProblem | null {
  const groups = readWaveformGroups(parsed);
  return Array.isArray(groups) ? null : groups;
}
