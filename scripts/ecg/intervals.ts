import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ALGORITHM_VERSION,
  analyzeEcg,
  parseWfdbAnnotations,
  readWfdbRecord,
  wfdbToRecording,
  type WfdbAnnotation,
} from '#ecg';

/**
 * Global PR, QRS and QT of measureEcg() against cardiologists' per-lead wave delineation
 * (LUDB: one annotation file per lead, `.i` … `.v6`, with `(` onset, `p`/`N`/`t` peak, `)`
 * offset). See docs/ecg-measurements.md for the reference rule and the tuning/held-out split.
 *
 *   node dist/scripts/ecg/intervals.js [--dir data/ecg-delineation/ludb] [--out bench/results/ecg-intervals.json]
 */

const HELP = `usage: node dist/scripts/ecg/intervals.js [options]
  --dir  folder of LUDB-style records (default data/ecg-delineation/ludb)
  --out  JSON result (default bench/results/ecg-intervals.json)
  --set  tuning | held-out | all (default all)
  --manifest  sha256 of every file (default bench/ecg-validation/delineation-manifest.json);
              a record missing from it or with a different file is left out
`;

const LEAD_EXTENSIONS = ['i', 'ii', 'iii', 'avr', 'avl', 'avf', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6'];
/** LUDB record 1 is an acceptance record: never read, evaluated or tuned on. */
const FORBIDDEN = new Set(['1']);

type Kind = 'p' | 'N' | 't';
interface Wave {
  kind: Kind;
  onset: number;
  peak: number;
  offset: number;
}

/** `(` peak `)` triples of one lead's annotation file. */
export function wavesOf(annotations: readonly WfdbAnnotation[]): Wave[] {
  const waves: Wave[] = [];
  for (let i = 0; i + 2 < annotations.length; i++) {
    const [open, peak, close] = [annotations[i]!, annotations[i + 1]!, annotations[i + 2]!];
    if (open.symbol !== '(' || close.symbol !== ')') continue;
    if (peak.symbol !== 'p' && peak.symbol !== 'N' && peak.symbol !== 't') continue;
    waves.push({ kind: peak.symbol, onset: open.sample, peak: peak.sample, offset: close.sample });
    i += 2;
  }
  return waves;
}

interface ExpertIntervals {
  beats: number;
  prMs: number | null;
  qrsMs: number | null;
  qtMs: number | null;
}

const median = (values: readonly number[]): number | null => {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * The experts' global intervals. A beat is a cluster of QRS annotations, one per lead,
 * whose peaks lie within 100 ms of the beat's lead-II (else first) QRS peak. Per beat:
 * QRS onset = earliest QRS onset over the leads, QRS offset = latest QRS offset; P onset =
 * earliest onset of the P waves annotated between the previous beat's QRS and this QRS's
 * onset; T end = latest offset of the T waves annotated between this QRS's offset and the
 * next beat's QRS onset. PR = QRS onset − P onset, QRS = offset − onset, QT = T end − QRS
 * onset. Each interval is the median over the beats that have it.
 */
export function expertIntervals(perLead: readonly Wave[][], fs: number): ExpertIntervals {
  const window = Math.round(0.1 * fs);
  const all = perLead.flatMap((waves, lead) => waves.map((w) => ({ ...w, lead })));
  const qrs = all.filter((w) => w.kind === 'N').sort((a, b) => a.peak - b.peak);
  // Cluster QRS annotations by peak time.
  const beats: (typeof qrs)[] = [];
  for (const w of qrs) {
    const last = beats.at(-1);
    if (last && w.peak - last[0]!.peak <= window) last.push(w);
    else beats.push([w]);
  }
  const onsets = beats.map((b) => Math.min(...b.map((w) => w.onset)));
  const offsets = beats.map((b) => Math.max(...b.map((w) => w.offset)));
  const pr: number[] = [];
  const qrsd: number[] = [];
  const qt: number[] = [];
  const ms = (samples: number) => (samples * 1000) / fs;
  beats.forEach((_, k) => {
    const onset = onsets[k]!;
    const offset = offsets[k]!;
    qrsd.push(ms(offset - onset));
    const previous = k > 0 ? offsets[k - 1]! : -Infinity;
    const next = k + 1 < beats.length ? onsets[k + 1]! : Infinity;
    const ps = all.filter((w) => w.kind === 'p' && w.peak > previous && w.peak < onset);
    if (ps.length) pr.push(ms(onset - Math.min(...ps.map((w) => w.onset))));
    const ts = all.filter((w) => w.kind === 't' && w.peak > offset && w.peak < next);
    if (ts.length) qt.push(ms(Math.max(...ts.map((w) => w.offset)) - onset));
  });
  return { beats: beats.length, prMs: median(pr), qrsMs: median(qrsd), qtMs: median(qt) };
}

interface RecordRow {
  record: string;
  set: 'tuning' | 'held-out';
  rhythm: string;
  paced: boolean;
  expert: ExpertIntervals;
  ours: { prMs: number | null; qrsMs: number | null; qtMs: number | null };
}

/** Records with an even number tune; odd numbers are held out (fixed before any tuning). */
const setOf = (record: string): RecordRow['set'] =>
  Number(record) % 2 === 0 ? 'tuning' : 'held-out';

function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const position = (s.length - 1) * q;
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return s[lo]! + (s[hi]! - s[lo]!) * (position - lo);
}

type Interval = 'prMs' | 'qrsMs' | 'qtMs';
const INTERVALS: Interval[] = ['prMs', 'qrsMs', 'qtMs'];

function summarise(rows: readonly RecordRow[]) {
  return Object.fromEntries(
    INTERVALS.map((key) => {
      const withExpert = rows.filter((r) => r.expert[key] !== null);
      const both = withExpert.filter((r) => r.ours[key] !== null);
      const errors = both.map((r) => r.ours[key]! - r.expert[key]!);
      const absolute = errors.map(Math.abs);
      return [
        key,
        {
          records: both.length,
          missing: withExpert.length - both.length,
          medianAbsMs: quantile(absolute, 0.5),
          p90AbsMs: quantile(absolute, 0.9),
          medianSignedMs: quantile(errors, 0.5),
        },
      ];
    }),
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string', default: 'data/ecg-delineation/ludb' },
      out: { type: 'string', default: 'bench/results/ecg-intervals.json' },
      set: { type: 'string', default: 'all' },
      manifest: { type: 'string', default: 'bench/ecg-validation/delineation-manifest.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const dir = values.dir;
  if (!existsSync(dir)) {
    process.stderr.write(`${dir} is absent; see docs/ecg-measurements.md for how to fetch it\n`);
    process.exit(2);
  }
  const records = readdirSync(dir)
    .filter((f) => f.endsWith('.hea'))
    .map((f) => f.slice(0, -4))
    .filter((r) => !FORBIDDEN.has(r))
    .filter((r) => values.set === 'all' || setOf(r) === values.set)
    .sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));

  const manifest = JSON.parse(readFileSync(values.manifest, 'utf8')) as {
    records: { record: string; sha256: Record<string, string> }[];
  };
  const expected = new Map(manifest.records.map((r) => [r.record, r.sha256]));
  const rows: RecordRow[] = [];
  const leftOut: string[] = [];
  for (const name of records) {
    const path = join(dir, name);
    const sums = expected.get(name);
    const intact =
      sums !== undefined &&
      ['hea', 'dat', ...LEAD_EXTENSIONS].every(
        (ext) =>
          existsSync(`${path}.${ext}`) &&
          createHash('sha256')
            .update(readFileSync(`${path}.${ext}`))
            .digest('hex') === sums[ext],
      );
    if (!intact) {
      leftOut.push(name);
      continue;
    }
    const record = readWfdbRecord(path, { annotator: 'none' });
    const fs = record.header.samplingFrequency;
    const perLead = LEAD_EXTENSIONS.map((ext) =>
      wavesOf(parseWfdbAnnotations(readFileSync(`${path}.${ext}`))),
    );
    const comments = record.header.comments.join(' ');
    const rhythm = /Rhythm:\s*([^.]*)/.exec(comments)?.[1]?.trim() ?? '';
    const analysis = analyzeEcg(wfdbToRecording(record));
    const m = analysis.measurements;
    rows.push({
      record: name,
      set: setOf(name),
      rhythm,
      paced: /pacing|pacemaker/i.test(comments),
      expert: expertIntervals(perLead, fs),
      ours: { prMs: m.prMs, qrsMs: m.qrsMs, qtMs: m.qtMs },
    });
  }

  const fmt = (v: number | null) => (v === null ? '   -' : v.toFixed(0).padStart(4));
  const report = (label: string, subset: RecordRow[]) => {
    const s = summarise(subset);
    if (subset.length === 0) return s;
    process.stdout.write(`${label} (${subset.length} records)\n`);
    for (const key of INTERVALS) {
      const x = s[key]!;
      process.stdout.write(
        `  ${key.replace('Ms', '').toUpperCase().padEnd(4)} median |error| ${fmt(x.medianAbsMs)} ms  p90 ${fmt(x.p90AbsMs)} ms  median signed ${fmt(x.medianSignedMs)} ms  (${x.records} records, ${x.missing} without our value)\n`,
      );
    }
    return s;
  };
  if (leftOut.length > 0) {
    process.stdout.write(
      `left out (not in ${values.manifest} or files differ): ${leftOut.join(' ')}\n`,
    );
  }
  const tuning = rows.filter((r) => r.set === 'tuning');
  const heldOut = rows.filter((r) => r.set === 'held-out');
  const unpaced = rows.filter((r) => !r.paced);
  const summary = {
    all: report('all', rows),
    tuning: report('tuning (even record numbers)', tuning),
    heldOut: report('held-out (odd record numbers)', heldOut),
    unpaced: report('all without pacemaker', unpaced),
  };
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(
    values.out,
    `${JSON.stringify({ algorithmVersion: ALGORITHM_VERSION, dir, leftOut, summary, rows }, null, 2)}\n`,
  );
  process.stdout.write(`wrote ${values.out}\n`);
}

main();
