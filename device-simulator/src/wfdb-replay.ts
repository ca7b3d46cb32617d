import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RECORDING_LIMITS, TWELVE_LEADS, type ExamKind } from '#contracts';
import {
  readWfdbRecord,
  wfdbMicrovoltsPerPhysicalUnit as microvoltsPerUnit,
  wfdbToRecording,
  type WfdbRecord,
  type WfdbSignalSpec,
} from '#ecg';
import { ReplayError } from './errors.js';
import type { EcgSignal } from './recording-builder.js';

const INT16_MAX = 32_767;
const INT16_MIN = -32_768;
/** The relay's limit on `microvoltsPerLsb` (RecordingOpenSchema). */
const MAX_MICROVOLTS_PER_LSB = 1_000;
/** Lead names are 1..8 characters (RecordingOpenSchema). */
const MAX_LEAD_NAME = 8;

/**
 * How a record's ADC values became the int16 samples a box sends:
 * - `adc`: unchanged apart from the baseline (lossless); µV per LSB = 1000 / gain (for mV);
 * - `rescaled`: the signals have different gains, or an ADC value less its baseline does not
 *   fit int16, so the physical values are requantised to one step for every lead, the finest
 *   of the signals' own steps unless the largest value needs a coarser one to fit.
 */
export type ReplayScaling = 'adc' | 'rescaled';

/** A WFDB record converted to what a box sends, kept in memory for replaying. */
export interface ReplayRecord extends EcgSignal {
  /** The record path without extension, as given or found in a folder. */
  path: string;
  /** The record name from the header, e.g. "100". */
  name: string;
  samplesPerLead: number;
  scaling: ReplayScaling;
  /** resting-12-lead when the record has all twelve standard leads, else rhythm-strip. */
  examKind: ExamKind;
}

/** One recording's worth of a record. */
export interface ReplayWindow {
  record: ReplayRecord;
  /** 0-based window number within the record. */
  index: number;
  startSeconds: number;
  durationSeconds: number;
  /** The window's samples (a view on the record, not a copy). */
  signal: EcgSignal;
}

const STANDARD_LEADS = new Map(TWELVE_LEADS.map((lead) => [lead.toLowerCase(), lead]));

/** The record's signal description as a lead name the relay accepts. */
function leadName(spec: WfdbSignalSpec, index: number): string {
  const description = spec.description.trim();
  if (description === '') return `signal ${index}`;
  // PTB-XL and others write "i", "avr", "v1": use the standard spelling.
  return STANDARD_LEADS.get(description.toLowerCase()) ?? description.slice(0, MAX_LEAD_NAME);
}

/**
 * Converts a WFDB record to the samples a box sends. Keeps the record's own ADC values and
 * gain when they fit (see ReplayScaling); the relay's limits (1..16 leads, an integer
 * 100..2000 Hz) are checked here, as the simulator does not resample.
 */
export function replayRecordFromWfdb(
  record: Pick<WfdbRecord, 'header' | 'signals'>,
  path: string,
): ReplayRecord {
  const { header, signals } = record;
  const specs = header.signals;
  const leadCount = specs.length;
  if (leadCount < 1 || leadCount > RECORDING_LIMITS.maxLeads) {
    throw new ReplayError(
      path,
      `${leadCount} signals; a recording carries 1..${RECORDING_LIMITS.maxLeads} leads`,
    );
  }
  const rate = header.samplingFrequency;
  if (
    !Number.isInteger(rate) ||
    rate < RECORDING_LIMITS.minSampleRateHz ||
    rate > RECORDING_LIMITS.maxSampleRateHz
  ) {
    throw new ReplayError(
      path,
      `sampled at ${rate} Hz; the relay takes whole numbers in ${RECORDING_LIMITS.minSampleRateHz}..${RECORDING_LIMITS.maxSampleRateHz} Hz and the simulator does not resample`,
    );
  }
  const samplesPerLead = signals.samplesPerSignal;
  if (samplesPerLead < 1) throw new ReplayError(path, 'the record has no samples');

  const leads = specs.map(leadName);
  const base = {
    path,
    name: header.recordName,
    leads,
    sampleRateHz: rate,
    samplesPerLead,
    examKind: TWELVE_LEADS.every((lead) => leads.includes(lead))
      ? ('resting-12-lead' as const)
      : ('rhythm-strip' as const),
  };

  const first = specs[0]!;
  const adcMicrovoltsPerLsb = microvoltsPerUnit(first.units) / first.gain;
  const keepAdc =
    specs.every((spec) => spec.gain === first.gain && spec.units === first.units) &&
    adcMicrovoltsPerLsb > 0 &&
    adcMicrovoltsPerLsb <= MAX_MICROVOLTS_PER_LSB &&
    specs.every((spec, s) => fitsInt16(signals.signals[s]!, spec.baseline));
  if (keepAdc) {
    const converted = wfdbToRecording(record);
    return {
      ...base,
      microvoltsPerLsb: converted.microvoltsPerLsb,
      samples: converted.samples,
      scaling: 'adc',
    };
  }
  return { ...base, ...requantise(record, path), scaling: 'rescaled' };
}

function fitsInt16(signal: Int16Array, baseline: number): boolean {
  for (let i = 0; i < signal.length; i++) {
    const v = signal[i]! - baseline;
    if (v > INT16_MAX || v < INT16_MIN) return false;
  }
  return true;
}

/** Physical values on one common µV/LSB step (see ReplayScaling). */
function requantise(
  record: Pick<WfdbRecord, 'header' | 'signals'>,
  path: string,
): { microvoltsPerLsb: number; samples: Int16Array } {
  const { header, signals } = record;
  const width = header.signals.length;
  const n = signals.samplesPerSignal;
  // Microvolts per ADC unit of each signal; a negative gain means an inverted signal.
  const factors = header.signals.map((spec) => microvoltsPerUnit(spec.units) / spec.gain);
  let maxAbs = 0;
  header.signals.forEach((spec, s) => {
    const signal = signals.signals[s]!;
    const factor = Math.abs(factors[s]!);
    for (let i = 0; i < n; i++)
      maxAbs = Math.max(maxAbs, Math.abs(signal[i]! - spec.baseline) * factor);
  });
  const finest = Math.min(...factors.map(Math.abs));
  const step = Math.max(finest, maxAbs / INT16_MAX);
  if (!(step > 0) || step > MAX_MICROVOLTS_PER_LSB) {
    throw new ReplayError(
      path,
      `no step of at most ${MAX_MICROVOLTS_PER_LSB} µV per LSB carries this record in 16 bits`,
    );
  }
  const samples = new Int16Array(n * width);
  header.signals.forEach((spec, s) => {
    const signal = signals.signals[s]!;
    const scale = factors[s]! / step;
    for (let i = 0, p = s; i < n; i++, p += width) {
      const v = Math.round((signal[i]! - spec.baseline) * scale);
      samples[p] = v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v;
    }
  });
  return { microvoltsPerLsb: step, samples };
}

/** Reads one record (`path` without extension; a trailing `.hea` is tolerated). */
export function loadReplayRecord(path: string): ReplayRecord {
  const base = path.endsWith('.hea') ? path.slice(0, -'.hea'.length) : path;
  if (!existsSync(`${base}.hea`)) {
    throw new ReplayError(base, 'no such WFDB record (expected a .hea file next to it)');
  }
  let record: WfdbRecord;
  try {
    record = readWfdbRecord(base);
  } catch (error) {
    throw new ReplayError(base, error instanceof Error ? error.message : String(error), {
      cause: error,
    });
  }
  return replayRecordFromWfdb(record, base);
}

/**
 * The records of `--replay`: each item is a record path without extension, or a folder,
 * which stands for every record (`*.hea`) directly in it, in name order. A record named
 * explicitly must load; a folder's records that cannot be replayed are reported to
 * `onSkip` and left out, and a folder with none left is an error.
 */
export function loadReplayRecords(
  items: readonly string[],
  onSkip: (error: ReplayError) => void = () => undefined,
): ReplayRecord[] {
  const records: ReplayRecord[] = [];
  for (const item of items) {
    if (!isDirectory(item)) {
      records.push(loadReplayRecord(item));
      continue;
    }
    const names = readdirSync(item)
      .filter((file) => file.endsWith('.hea'))
      .map((file) => file.slice(0, -'.hea'.length))
      .sort();
    let loaded = 0;
    for (const name of names) {
      try {
        records.push(loadReplayRecord(join(item, name)));
        loaded++;
      } catch (error) {
        if (!(error instanceof ReplayError)) throw error;
        onSkip(error);
      }
    }
    if (loaded === 0) {
      throw new ReplayError(
        item,
        names.length === 0
          ? 'the folder holds no WFDB records (.hea files)'
          : 'none of its records can be replayed',
      );
    }
  }
  if (records.length === 0) throw new ReplayError('--replay', 'no records given');
  return records;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Samples per lead of one window: `windowSeconds` of the record, or all of a shorter one. */
export function windowSamples(record: ReplayRecord, windowSeconds: number): number {
  const wanted = Math.round(windowSeconds * record.sampleRateHz);
  if (wanted < 1) throw new RangeError(`a ${windowSeconds} s window holds no sample`);
  return Math.min(wanted, record.samplesPerLead, RECORDING_LIMITS.maxSamplesPerLead);
}

/** Whole windows in the record (at least one); a tail shorter than a window is not sent. */
export function windowCount(record: ReplayRecord, windowSeconds: number): number {
  return Math.floor(record.samplesPerLead / windowSamples(record, windowSeconds));
}

export function replayWindow(
  record: ReplayRecord,
  index: number,
  windowSeconds: number,
): ReplayWindow {
  const length = windowSamples(record, windowSeconds);
  const count = windowCount(record, windowSeconds);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new RangeError(`window ${index} of ${record.path}: it has ${count}`);
  }
  const width = record.leads.length;
  const start = index * length;
  return {
    record,
    index,
    startSeconds: start / record.sampleRateHz,
    durationSeconds: length / record.sampleRateHz,
    signal: {
      leads: record.leads,
      sampleRateHz: record.sampleRateHz,
      microvoltsPerLsb: record.microvoltsPerLsb,
      samples: record.samples.subarray(start * width, (start + length) * width),
    },
  };
}

/**
 * Which window a box sends next: consecutive windows of one record, then the next record,
 * round and round. Box n starts at record n mod R, n div R windows in, so a fleet does not
 * send the same stretch at the same time.
 */
export class ReplayCursor {
  private recordIndex: number;
  private windowIndex: number;

  constructor(
    private readonly records: readonly ReplayRecord[],
    start = 0,
  ) {
    if (records.length === 0) throw new RangeError('nothing to replay');
    this.recordIndex = start % records.length;
    this.windowIndex = Math.floor(start / records.length);
  }

  next(windowSeconds: number): ReplayWindow {
    const record = this.records[this.recordIndex]!;
    const count = windowCount(record, windowSeconds);
    const window = replayWindow(record, this.windowIndex % count, windowSeconds);
    this.windowIndex = window.index + 1;
    if (this.windowIndex >= count) {
      this.windowIndex = 0;
      this.recordIndex = (this.recordIndex + 1) % this.records.length;
    }
    return window;
  }
}

/** One line for the simulator's start-up: "100: 2 leads MLII, V5 at 360 Hz, 5 µV/LSB …". */
export function describeReplayRecord(record: ReplayRecord, windowSeconds = 10): string {
  const windows = windowCount(record, windowSeconds);
  const seconds = windowSamples(record, windowSeconds) / record.sampleRateHz;
  return [
    `${record.path}: ${record.leads.length} lead${record.leads.length === 1 ? '' : 's'} ${record.leads.join(', ')} at ${record.sampleRateHz} Hz`,
    `${Number(record.microvoltsPerLsb.toPrecision(4))} µV/LSB (${record.scaling === 'adc' ? 'ADC values kept' : 'requantised'})`,
    `${record.examKind}`,
    `${windows} window${windows === 1 ? '' : 's'} of ${Number(seconds.toFixed(3))} s`,
  ].join(', ');
}
