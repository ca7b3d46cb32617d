import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  MITDB_PACED_RECORDS,
  detectQrsMultiLead,
  grossScore,
  readWfdbRecord,
  referenceBeatsFromAnnotations,
  scoreDetections,
  type Ec57RecordScore,
  type Ec57Score,
} from '#ecg';

/**
 * Scores the QRS detector on every WFDB record in a folder that has a reference .atr file,
 * by the ANSI/AAMI EC57:2012 beat-by-beat rules (see libs/ecg/src/ec57.ts).
 *
 *   node dist/scripts/ecg/eval.js <dir> [--json] [--lead <n>]
 *
 * --lead n scores detection on signal n alone instead of all signals fused.
 */

interface RecordResult extends Omit<Ec57RecordScore, 'falseNegatives' | 'falsePositives'> {
  record: string;
  sampleRateHz: number;
  paced: boolean;
  seconds: number;
  signals: string[];
  falseNegatives: number[];
  falsePositives: number[];
}

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write('usage: node dist/scripts/ecg/eval.js <dir> [--json] [--lead <n>]\n');
  process.exit(2);
}

function parseArgs(argv: string[]) {
  let dir: string | undefined;
  let json = false;
  let lead: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--lead') {
      lead = Number(argv[++i]);
      if (!Number.isInteger(lead) || lead < 0) usage('--lead needs a signal number');
    } else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (dir === undefined) dir = a;
    else usage('only one folder, please');
  }
  if (!dir) usage();
  return { dir, json, lead };
}

const percent = (v: number | null) => (v === null ? '     -' : (100 * v).toFixed(2).padStart(6));

function main(): void {
  const { dir, json, lead } = parseArgs(process.argv.slice(2));
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.hea'))
    .map((f) => f.slice(0, -4))
    .filter((name) => readdirSync(dir).includes(`${name}.atr`))
    .sort();
  const results: RecordResult[] = [];
  for (const name of names) {
    const record = readWfdbRecord(join(dir, name));
    const fs = record.header.samplingFrequency;
    const total = record.signals.samplesPerSignal;
    const signals = lead === undefined ? record.signals.signals : [record.signals.signals[lead]!];
    if (signals.some((s) => s === undefined)) usage(`record ${name} has no signal ${lead}`);
    const detected = detectQrsMultiLead(signals, fs);
    const reference = referenceBeatsFromAnnotations(record.annotations ?? [], total);
    const score = scoreDetections(reference.beats, detected, {
      sampleRateHz: fs,
      totalSamples: total,
      excluded: reference.excluded,
    });
    results.push({
      record: name,
      paced: MITDB_PACED_RECORDS.includes(name),
      sampleRateHz: fs,
      seconds: total / fs,
      signals: (lead === undefined ? record.header.signals : [record.header.signals[lead]!]).map(
        (s) => s.description,
      ),
      ...score,
    });
  }
  const gross = grossScore(results);
  const unpaced = grossScore(results.filter((r) => !r.paced));
  if (json) {
    const strip = (s: Ec57Score) => ({ tp: s.tp, fn: s.fn, fp: s.fp, se: s.se, ppv: s.ppv });
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
