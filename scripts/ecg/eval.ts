import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  MITDB_PACED_RECORDS,
  addStressNoise,
  detectQrsMultiLead,
  grossScore,
  isBeatAnnotation,
  parseWfdbAnnotations,
  qrsPeakToPeak,
  readWfdbRecord,
  referenceBeatsFromAnnotations,
  scoreDetections,
  type Ec57RecordScore,
  type Ec57Score,
  type StressNoiseKind,
} from '#ecg';
import { DATA_DIR, manifestRecords, readManifest, type Split } from './validation-set.js';

/**
 * Scores the QRS detector on every WFDB record in a folder that has a reference .atr file,
 * by the ANSI/AAMI EC57:2012 beat-by-beat rules (see libs/ecg/src/ec57.ts).
 *
 *   node dist/scripts/ecg/eval.js <dir> [--json] [--lead <n>]
 *   node dist/scripts/ecg/eval.js --set tuning|test|all [--data <dir>] [--annotator <ext>] [--json]
 *
 * --lead n scores detection on signal n alone instead of all signals fused.
 * --set scores the records of bench/ecg-validation/manifest.json (files in
 *   data/ecg-validation/, see docs/ecg-validation.md) of one split, adds gross figures per
 *   database and writes bench/results/ecg-eval-<set>.json.
 * --annotator ext scores an existing annotation file <record>.<ext> (another detector's
 *   output, e.g. gqrs's .qrs) instead of running ours, with the same EC57 rules; its
 *   results go to bench/results/ecg-eval-<set>-<ext>.json.
 * --noise muscle:6 (or motion:0, …) adds seeded synthetic noise at that SNR in dB to every
 *   signal from minute 5 on (libs/ecg/src/noise-stress.ts, after the NSTDB protocol);
 *   results go to bench/results/ecg-eval-<set>-<kind><snr>dB.json.
 */

interface RecordResult extends Omit<Ec57RecordScore, 'falseNegatives' | 'falsePositives'> {
  record: string;
  database?: string;
  sampleRateHz: number;
  paced: boolean;
  seconds: number;
  signals: string[];
  falseNegatives: number[];
  falsePositives: number[];
}

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write(
    'usage: node dist/scripts/ecg/eval.js <dir> [--json] [--lead <n>]\n' +
      '       node dist/scripts/ecg/eval.js --set tuning|test|all [--data <dir>] [--annotator <ext>] [--noise muscle|motion:<dB>] [--json]\n',
  );
  process.exit(2);
}

const SETS = ['tuning', 'test', 'all'] as const;

interface Noise {
  kind: StressNoiseKind;
  snrDb: number;
}

/** NSTDB leaves the first 5 minutes clean; EC57 does not score them either. */
const NOISE_FROM_SECONDS = 300;

/** A seed fixed by what is being stressed, so a run can be repeated exactly. */
const noiseSeed = (key: string) =>
  Number.parseInt(createHash('sha256').update(key).digest('hex').slice(0, 8), 16);

function parseArgs(argv: string[]) {
  let dir: string | undefined;
  let json = false;
  let lead: number | undefined;
  let set: Split | 'all' | undefined;
  let data = DATA_DIR;
  let annotator: string | undefined;
  let noise: Noise | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--lead') {
      lead = Number(argv[++i]);
      if (!Number.isInteger(lead) || lead < 0) usage('--lead needs a signal number');
    } else if (a === '--set') {
      const v = argv[++i];
      if (!SETS.includes(v as (typeof SETS)[number])) usage('--set is tuning, test or all');
      set = v as Split | 'all';
    } else if (a === '--data') {
      data = argv[++i] ?? usage('--data needs a folder');
    } else if (a === '--annotator') {
      annotator = argv[++i];
      if (!annotator || !/^[A-Za-z0-9_]+$/.test(annotator))
        usage('--annotator needs a file extension');
    } else if (a === '--noise') {
      const m = /^(muscle|motion):(-?\d+(?:\.\d+)?)$/.exec(argv[++i] ?? '');
      if (!m) usage('--noise is muscle:<dB> or motion:<dB>');
      noise = { kind: m[1] as StressNoiseKind, snrDb: Number(m[2]) };
    } else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (dir === undefined) dir = a;
    else usage('only one folder, please');
  }
  if (dir !== undefined && set !== undefined) usage('a folder or --set, not both');
  if (!dir && !set) usage();
  if (noise && (!set || annotator)) usage('--noise goes with --set and our detector');
  return { dir, json, lead, set, data, annotator, noise };
}

const percent = (v: number | null) => (v === null ? '     -' : (100 * v).toFixed(2).padStart(6));

/**
 * Scores one record: our detector on all its signals (or on signal `lead`), or, with
 * `annotator`, the beats of an existing annotation file.
 */
function scoreRecord(
  path: string,
  name: string,
  lead: number | undefined,
  annotator?: string,
  noise?: Noise & { key: string },
): RecordResult {
  const record = readWfdbRecord(path);
  const fs = record.header.samplingFrequency;
  const total = record.signals.samplesPerSignal;
  const clean = lead === undefined ? record.signals.signals : [record.signals.signals[lead]!];
  if (clean.some((s) => s === undefined)) usage(`record ${name} has no signal ${lead}`);
  const reference = referenceBeatsFromAnnotations(record.annotations ?? [], total);
  const signals = noise
    ? clean.map((signal, k) =>
        addStressNoise(signal, fs, qrsPeakToPeak(signal, reference.beats, fs), {
          kind: noise.kind,
          snrDb: noise.snrDb,
          seed: noiseSeed(`${noise.key}/${k}/${noise.kind}/${noise.snrDb}`),
          fromSample: Math.round(NOISE_FROM_SECONDS * fs),
        }),
      )
    : clean;
  const detected = annotator
    ? parseWfdbAnnotations(readFileSync(`${path}.${annotator}`))
        .filter((a) => isBeatAnnotation(a.code))
        .map((a) => a.sample)
    : detectQrsMultiLead(signals, fs);
  const score = scoreDetections(reference.beats, detected, {
    sampleRateHz: fs,
    totalSamples: total,
    excluded: reference.excluded,
  });
  return {
    record: name,
    paced: MITDB_PACED_RECORDS.includes(name),
    sampleRateHz: fs,
    seconds: total / fs,
    signals: (lead === undefined ? record.header.signals : [record.header.signals[lead]!]).map(
      (s) => s.description,
    ),
    ...score,
  };
}

const strip = (s: Ec57Score) => ({ tp: s.tp, fn: s.fn, fp: s.fp, se: s.se, ppv: s.ppv });

const scoreLine = (label: string, s: Ec57Score) =>
  `${label.padEnd(24)} ${String(s.tp).padStart(6)} TP ${String(s.fn).padStart(5)} FN ${String(s.fp).padStart(5)} FP   Se ${percent(s.se)} %  +P ${percent(s.ppv)} %`;

/** Manifest mode: one split of the validation set, per record, per database and gross. */
function evaluateSet(
  set: Split | 'all',
  data: string,
  lead: number | undefined,
  annotator: string | undefined,
  noise: Noise | undefined,
  json: boolean,
): void {
  const records = manifestRecords(readManifest(), set, data);
  const missing = records.filter(
    (r) =>
      !['hea', 'atr', ...(annotator ? [annotator] : [])].every((ext) =>
        existsSync(`${r.path}.${ext}`),
      ),
  );
  if (missing.length > 0) {
    process.stderr.write(
      `missing in ${data}: ${missing.map((r) => `${r.database}/${r.record}`).join(' ')} (npm run ecg:dataset says where to get them)\n`,
    );
    process.exit(1);
  }
  const started = performance.now();
  const results = records.map((r) => ({
    ...scoreRecord(
      r.path,
      r.record,
      lead,
      annotator,
      noise && { ...noise, key: `${r.database}/${r.record}` },
    ),
    database: r.database,
    split: r.split,
  }));
  const seconds = (performance.now() - started) / 1000;
  const databases = [...new Set(results.map((r) => r.database))];
  const perDatabase = databases.map((database) => ({
    database,
    ...strip(grossScore(results.filter((r) => r.database === database))),
  }));
  const gross = grossScore(results);
  const detector = annotator ? `annotations .${annotator}` : 'detectQrsMultiLead';
  const noiseText = noise
    ? `${noise.kind} noise at ${noise.snrDb} dB from minute 5 (synthetic, NSTDB protocol)`
    : 'no added noise';
  const report = {
    set,
    detector,
    signals: lead === undefined ? 'all signals fused' : `signal ${lead} only`,
    rules: 'ANSI/AAMI EC57:2012 beat-by-beat, 150 ms window, first 5 min not scored, VF excluded',
    noise: noiseText,
    records: results.map((r) => ({
      database: r.database,
      record: r.record,
      split: r.split,
      paced: r.paced,
      sampleRateHz: r.sampleRateHz,
      seconds: r.seconds,
      ...strip(r),
      falseNegatives: r.falseNegatives,
      falsePositives: r.falsePositives,
    })),
    perDatabase,
    gross: strip(gross),
    grossExcludingPaced: strip(grossScore(results.filter((r) => !r.paced))),
    wallSeconds: seconds,
  };
  mkdirSync('bench/results', { recursive: true });
  const suffix = annotator ? `-${annotator}` : noise ? `-${noise.kind}${noise.snrDb}dB` : '';
  const out = `bench/results/ecg-eval-${set}${suffix}.json`;
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  const lines: string[] = [];
  lines.push(`EC57 beat-by-beat QRS detection, validation set "${set}" (${detector})`);
  lines.push(
    `match window 150 ms; scored from 5 min into each record; ${report.signals}; ${noiseText}`,
  );
  lines.push('');
  lines.push('database record      TP     FN     FP     Se%    +P%   note');
  for (const r of results) {
    lines.push(
      `${r.database.padEnd(8)} ${r.record.padEnd(8)} ${String(r.tp).padStart(6)} ${String(r.fn).padStart(6)} ${String(r.fp).padStart(6)} ${percent(r.se)} ${percent(r.ppv)}   ${r.paced ? 'paced' : ''}`,
    );
  }
  lines.push('');
  for (const d of perDatabase) lines.push(scoreLine(`gross ${d.database}`, d));
  lines.push(scoreLine('gross', gross));
  lines.push(scoreLine('gross excluding paced', report.grossExcludingPaced));
  lines.push('');
  lines.push(`written to ${out}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function main(): void {
  const { dir, json, lead, set, data, annotator, noise } = parseArgs(process.argv.slice(2));
  if (set !== undefined) {
    evaluateSet(set, data, lead, annotator, noise, json);
    return;
  }
  if (dir === undefined) usage();
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.hea'))
    .map((f) => f.slice(0, -4))
    .filter((name) => readdirSync(dir).includes(`${name}.atr`))
    .sort();
  const results = names.map((name) => scoreRecord(join(dir, name), name, lead));
  const gross = grossScore(results);
  const unpaced = grossScore(results.filter((r) => !r.paced));
  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          records: results.map((r) => ({
            record: r.record,
            paced: r.paced,
            signals: r.signals,
            seconds: r.seconds,
            sampleRateHz: r.sampleRateHz,
            scoredFromSecond: r.scoredFrom / r.sampleRateHz,
            scoredFromStart: r.scoredFromStart,
            ...strip(r),
            falseNegatives: r.falseNegatives,
            falsePositives: r.falsePositives,
          })),
          gross: strip(gross),
          grossExcludingPaced: strip(unpaced),
        },
        null,
        2,
      )}\n`,
    );
    return;
  }
  const lines: string[] = [];
  lines.push(`EC57 beat-by-beat QRS detection, ${dir}`);
  lines.push(
    `match window 150 ms; scored from 5 min into each record; beat annotations only; ${lead === undefined ? 'all signals fused' : `signal ${lead} only`}`,
  );
  lines.push('');
  lines.push('record     TP     FN     FP     Se%    +P%   note');
  for (const r of results) {
    const note = [
      r.paced ? 'paced' : '',
      r.scoredFromStart
        ? `shorter than 5 min (${r.seconds.toFixed(0)} s): scored from the start`
        : '',
    ]
      .filter(Boolean)
      .join('; ');
    lines.push(
      `${r.record.padEnd(8)} ${String(r.tp).padStart(6)} ${String(r.fn).padStart(6)} ${String(r.fp).padStart(6)} ${percent(r.se)} ${percent(r.ppv)}   ${note}`,
    );
  }
  lines.push('');
  lines.push(
    `gross                    ${String(gross.tp).padStart(6)} TP ${String(gross.fn).padStart(5)} FN ${String(gross.fp).padStart(5)} FP   Se ${percent(gross.se)} %  +P ${percent(gross.ppv)} %`,
  );
  lines.push(
    `gross excluding paced    ${String(unpaced.tp).padStart(6)} TP ${String(unpaced.fn).padStart(5)} FN ${String(unpaced.fp).padStart(5)} FP   Se ${percent(unpaced.se)} %  +P ${percent(unpaced.ppv)} %`,
  );
  if (results.length === 0) lines.push(`(no record in ${dir} has a .atr reference)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
