import { CommonScaleError, toCommonScale } from '#ecg';
import { parseInstance } from './inspect.js';
import type { DeviceMeasurements } from '#ecg';
import type { EcgRecordingInput, ExamKindLike } from './ecg-types.js';
import type { InspectedInstance } from './types.js';
import { readWaveformAnnotations } from './waveform-annotations.js';
import { readWaveformGroups, type WaveformChannel, type WaveformGroup } from './waveform-groups.js';

/** One channel of a DICOM waveform with the calibration it was stored with (PS3.3 C.10.9.1.4). */
export interface DicomEcgChannel {
  lead: string;
  /** Microvolts per stored unit: Channel Sensitivity × Channel Sensitivity Correction Factor. */
  microvoltsPerUnit: number;
  /** Channel Baseline, in µV. */
  baselineMicrovolts: number;
}

/**
 * A DICOM ECG in the shape the relay analyses a box's recording (EcgRecordingInput: leads,
 * sample rate, one µV-per-LSB scale, interleaved Int16 samples), plus what a recording row needs
 * (start time, exam kind) and the per-channel calibration it came from.
 */
export interface DicomEcgRecording extends EcgRecordingInput {
  startedAt: string | null;
  examKind: ExamKindLike;
  channels: DicomEcgChannel[];
  /** Which multiplex group was decoded (1-based) and how many the file holds. */
  multiplexGroup: { index: number; of: number; label: string | null };
  /** The cart's own measurements and statements (Waveform Annotation, PS3.3 C.10.10). */
  deviceMeasurements: DeviceMeasurements | null;
  warnings: string[];
}

export class DicomWaveformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DicomWaveformError';
  }
}

const STANDARD_LEADS = ['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V5', 'V6'];

/** ISO/IEEE 11073 MDC lead codes (PS3.16 CID 3001), as code value or reference id. */
const MDC: Record<string, string> = {
  '2:1': 'I',
  '2:2': 'II',
  '2:61': 'III',
  '2:62': 'aVR',
  '2:63': 'aVL',
  '2:64': 'aVF',
  '2:3': 'V1',
  '2:4': 'V2',
  '2:5': 'V3',
  '2:6': 'V4',
  '2:7': 'V5',
  '2:8': 'V6',
};
/** SCP-ECG lead codes (EN 1064), the older coding in CID 3001. */
const SCPECG: Record<string, string> = Object.fromEntries(
  Object.entries(MDC).map(([code, lead]) => [`5.6.3-9-${code.slice(2)}`, lead]),
);

function leadFromText(text: string | null): string | null {
  if (!text) return null;
  const match = /^(?:lead\s*|mdc_ecg_lead_)?(i{1,3}|avr|avl|avf|v[1-6])$/i.exec(text.trim());
  if (!match) return null;
  const found = match[1]!.toLowerCase();
  return STANDARD_LEADS.find((lead) => lead.toLowerCase() === found) ?? null;
}

/** The standard lead name of a channel: its source code, else the code meaning or label. */
export function leadName(channel: WaveformChannel, index: number): string {
  const code = channel.source?.codeValue ?? null;
  const byCode = code ? (MDC[code] ?? SCPECG[code] ?? leadFromText(code)) : null;
  return (
    byCode ??
    leadFromText(channel.source?.meaning ?? null) ??
    leadFromText(channel.label) ??
    (channel.label || channel.source?.meaning || `channel ${index + 1}`).slice(0, 8)
  );
}

/** UCUM units of Channel Sensitivity → µV. */
const MICROVOLTS_PER_UNIT: Record<string, number> = { uV: 1, µV: 1, mV: 1000, V: 1e6, nV: 1e-3 };

function microvoltsPer(units: string | null): number | null {
  return units === null ? null : (MICROVOLTS_PER_UNIT[units] ?? null);
}

function readSample(view: DataView, p: number, group: WaveformGroup, le: boolean): number {
  switch (group.interpretation) {
    case 'SS':
      return view.getInt16(p, le);
    case 'US':
      return view.getUint16(p, le);
    case 'SB':
      return view.getInt8(p);
    default:
      return view.getUint8(p);
  }
}

/** Chooses the rhythm data: the first ORIGINAL group that is not a median/average beat. */
function chooseGroup(groups: WaveformGroup[]): number {
  const rhythm = groups.findIndex(
    (g) => g.originality !== 'DERIVED' && !/median|average|beat/i.test(g.label ?? ''),
  );
  return rhythm >= 0 ? rhythm : 0;
}

/** DT (PS3.5 §6.2) with an optional UTC offset → ISO 8601 in UTC. */
function isoDateTime(
  dt: string | null,
  fallbackOffset: string | null,
  warnings: string[],
): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?([+-]\d{4})?$/.exec(
    dt?.trim() ?? '',
  );
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '0', ownOffset] = m;
  const offset =
    ownOffset ?? (fallbackOffset && /^[+-]\d{4}$/.test(fallbackOffset) ? fallbackOffset : null);
  if (!offset) warnings.push('Acquisition DateTime has no UTC offset; read as UTC');
  const sign = offset?.startsWith('-') ? -1 : 1;
  const minutes = offset
    ? sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(3, 5)))
    : 0;
  const ms =
    Date.UTC(
      Number(y),
      Number(mo) - 1,
      Number(d),
      Number(h),
      Number(mi),
      Number(s),
      Math.round(Number(`0.${frac}`) * 1000),
    ) -
    minutes * 60_000;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/**
 * Decodes a 12-lead or General ECG Waveform Storage instance (PS3.3 A.34, C.10.9) into the
 * relay's recording shape. Each channel keeps its own sensitivity, correction factor and
 * baseline: physical value = stored × sensitivity × correction + baseline (C.10.9.1.4.3);
 * toCommonScale then writes the values on one common scale, the finest channel's step, so no
 * channel loses resolution. Throws DicomWaveformError when the file is not a readable ECG.
 */
export function decodeEcgWaveform(
  bytes: Uint8Array,
  instance: InspectedInstance,
): DicomEcgRecording {
  if (!instance.isEcgWaveform) throw new DicomWaveformError('the instance is not an ECG waveform');
  const parsed = parseInstance(bytes);
  if ('code' in parsed) throw new DicomWaveformError(parsed.reason);
  const groups = readWaveformGroups(parsed);
  if (!Array.isArray(groups)) throw new DicomWaveformError(groups.reason);
  const warnings: string[] = [];
  const index = chooseGroup(groups);
  const group = groups[index]!;
  if (groups.length > 1) {
    warnings.push(
      `multiplex group ${index + 1} of ${groups.length} decoded; the others are left out`,
    );
  }

  const channels: DicomEcgChannel[] = group.definitions.map((definition, c) => {
    let unit = microvoltsPer(definition.units);
    if (unit === null) {
      warnings.push(
        `channel ${c + 1}: sensitivity unit ${definition.units ?? 'missing'}; read as µV`,
      );
      unit = 1;
    }
    let sensitivity = definition.sensitivity;
    if (sensitivity === null || sensitivity === 0) {
      warnings.push(`channel ${c + 1}: no Channel Sensitivity; 1 µV per unit assumed`);
      sensitivity = 1;
    }
    return {
      lead: leadName(definition, c),
      microvoltsPerUnit: sensitivity * definition.correction * unit,
      baselineMicrovolts: definition.baseline * unit,
    };
  });

  // Stored values per channel; toCommonScale (libs/ecg) applies each channel's calibration
  // and writes all of them on the finest channel's step, the one way the relay does this for
  // every source (WFDB, DICOM, SCP-ECG, HL7 aECG).
  const { channels: width, samples: n } = group;
  const view = new DataView(
    parsed.bytes.buffer,
    parsed.bytes.byteOffset + group.data.offset,
    group.data.length,
  );
  const step = group.bitsAllocated / 8;
  const stored = channels.map(() => new Float64Array(n));
  for (let i = 0, p = 0; i < width * n; i++, p += step) {
    stored[i % width]![Math.floor(i / width)] = readSample(view, p, group, parsed.littleEndian);
  }
  let scaled;
  try {
    scaled = toCommonScale(
      channels.map((channel, c) => ({
        name: channel.lead,
        values: stored[c]!,
        microvoltsPerUnit: channel.microvoltsPerUnit,
        baselineMicrovolts: channel.baselineMicrovolts,
      })),
      group.samplingFrequency,
    );
  } catch (error) {
    if (error instanceof CommonScaleError) throw new DicomWaveformError(error.message);
    throw error;
  }
  warnings.push(...scaled.warnings);
  const { microvoltsPerLsb, samples } = scaled;

  const twelveLead = STANDARD_LEADS.every((lead) => channels.some((c) => c.lead === lead));
  const acquisition = parsed.dataSet.string('x0008002a') ?? null;
  const offset = parsed.dataSet.string('x00080201') ?? null;
  return {
    leads: channels.map((c) => c.lead),
    sampleRateHz: group.samplingFrequency,
    microvoltsPerLsb,
    samples,
    startedAt: isoDateTime(acquisition, offset, warnings),
    examKind: twelveLead ? 'resting-12-lead' : 'rhythm-strip',
    channels,
    multiplexGroup: { index: index + 1, of: groups.length, label: group.label },
    deviceMeasurements: readWaveformAnnotations(parsed.dataSet, warnings),
    warnings,
  };
}
