import { parseArgs } from 'node:util';
import { orderNumberSchema, STREAM_LIMITS, TWELVE_LEADS } from '#contracts';
import { ECG_FINDINGS, type EcgFinding } from '#ecg';
import { DEFAULT_FLAKY_MS } from './flaky-link.js';
import { DEFAULT_STREAM_LEADS, DEFAULT_STREAM_RATE_HZ, STREAM_FRAME_MS } from './live-stream.js';
import { DEFAULT_CHUNK_SAMPLES, maxChunkSamples } from './recording-builder.js';

export const DEFAULT_URL = 'mqtt://127.0.0.1:1883';
export const DEFAULT_CREDENTIALS = './data/demo-devices.json';
export const DEFAULT_INTERVAL_SECONDS = 60;
/** Every simulated recording is a 10 s resting ECG, like the boxes in the clinics. */
export const RECORDING_SECONDS = 10;
const MAX_CHUNK_SAMPLES = maxChunkSamples(TWELVE_LEADS.length);
const MQTT_PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:']);

export type FindingMode = EcgFinding | 'mixed';

export interface SimArgs {
  help: boolean;
  url: string;
  credentialsPath: string;
  /** Use the first N boxes of the credentials file; null for all of them. */
  devices: number | null;
  intervalSeconds: number;
  /** Recordings per box before exiting; null to run until interrupted. */
  count: number | null;
  finding: FindingMode;
  chunkSamples: number;
  quiet: boolean;
  /** Keep each box's pending recordings in files under this directory; null for memory. */
  bufferDir: string | null;
  /** Cut each box's link at random moments this far apart; null for a steady link. */
  flaky: { minSeconds: number; maxSeconds: number } | null;
  /** WFDB record paths (without extension) or folders to replay instead of synthesising. */
  replay: string[] | null;
  /** Each box streams live instead of recording (`--stream`); null to record. */
  stream: StreamArgs | null;
  /** The exam order number every recording carries (`--order`); null for none. */
  orderNumber: string | null;
}

export interface StreamArgs {
  leads: string[];
  sampleRateHz: number;
  /** Stream this long, then close the streams and exit; null to run until interrupted. */
  seconds: number | null;
}

/** Bad command line; main prints it with a pointer to --help and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: npm run sim -- [options]

Simulates ECG boxes that record resting 12-lead ECGs and deliver them to the relay over
MQTT, keeping every recording until the relay confirms it is stored; or that replay real
WFDB records (--replay); or that stream a live ECG to the relay's monitor (--stream).

Options:
  --url <url>             MQTT broker of the relay (default ${DEFAULT_URL})
  --credentials <file>    JSON file { "devices": [ { "deviceId", "secret", "clinicId" } ] }
                          (default ${DEFAULT_CREDENTIALS})
  --devices <n>           simulate the first n boxes of the file (default: all)
  --interval <seconds>    each box records a new ${RECORDING_SECONDS} s ECG this often, starting at a
                          random offset within the first interval (default ${DEFAULT_INTERVAL_SECONDS})
  --count <n>             recordings per box, then wait for the relay and exit
                          (default: run until Ctrl-C)
  --finding <name|mixed>  what the ECGs show (default normal), one of
                            ${ECG_FINDINGS.join(', ')}
                          or mixed: mostly normal, now and then each of the others
  --chunk-samples <n>     samples per lead in one chunk, 1..${MAX_CHUNK_SAMPLES} (default ${DEFAULT_CHUNK_SAMPLES})
  --buffer-dir <dir>      keep each box's unacknowledged recordings on disk, one directory
                          per box under <dir>, written atomically; a box killed and started
                          again with the same <dir> resumes them (default: in memory, lost
                          with the process)
  --flaky                 a bad link: every ${DEFAULT_FLAKY_MS.minMs / 1_000}–${DEFAULT_FLAKY_MS.maxMs / 1_000} s (at random) each box has an even
                          chance of losing its connection; it reconnects with its backoff and
                          must still deliver everything
  --flaky-seconds <a>-<b> with --flaky (implies it): roll the dice every a..b seconds
                          instead, e.g. 0.5-2
  --replay <rec>[,<rec>…] send real ECGs instead of synthetic ones: each <rec> is a WFDB
                          record path without extension (e.g. data/mitdb/100) or a folder
                          (every record in it; ones that cannot be replayed are skipped with
                          a warning). Formats 212 and 16; 1–16 signals at 100–2000 Hz. Each
                          recording is the next ${RECORDING_SECONDS} s window of a record (box n starts at
                          record n, round and round), with the record's own leads, sample
                          rate and resolution. Not with --finding.
  --stream                each box streams a live ECG instead of recording: stream/open, then
                          a frame every ${STREAM_FRAME_MS} ms at QoS 0, stream/close when stopped; after
                          a lost link it opens the same stream again and goes on from the
                          present (no backfill). Uses --finding; not with --replay, --count,
                          --interval, --chunk-samples or --buffer-dir
  --stream-leads <l,l,…>  with --stream (implies it): 1–${STREAM_LIMITS.maxLeads} of the twelve standard leads
                          (${TWELVE_LEADS.join(' ')}; default ${DEFAULT_STREAM_LEADS.join(',')})
  --stream-rate <hz>      with --stream (implies it): samples per second per lead,
                          ${STREAM_LIMITS.minSampleRateHz}..${STREAM_LIMITS.maxSampleRateHz} (default ${DEFAULT_STREAM_RATE_HZ})
  --stream-seconds <s>    with --stream (implies it): stream this long, close and exit
                          (default: until Ctrl-C)
  --order <number>        the exam order number the clinic's console showed (e.g. ABCD-2345):
                          every recording carries it, so its case gets the registered
                          patient; use with --devices 1 --count 1 and the clinic's box. A
                          number the relay does not know is refused (UNKNOWN_ORDER)
  --quiet                 no per-event lines, only the summaries (errors still go to stderr)
  -h, --help              show this help

Output: one line per event (stored with ack latency, diagnosis, failed, resumed from the
buffer, offline/connected), and every 10 s and at exit a summary:
  boxes N · recordings sent X · stored Y · failed Z · lost L · ack p50 A ms p99 B ms
(periodic lines show "in flight" where the exit line shows "lost": recordings neither
stored nor failed when the simulator stopped; with --buffer-dir the exit line says
"kept L" instead, as those stay on disk for the next run). "recordings sent" counts the
recordings resumed from --buffer-dir too. With --flaky every line ends in "· link drops D".
With --stream the summary is
  boxes N · streaming S · frames sent X · F frames/s
(S: streams open on a live link now; F: frames sent per second since the previous line, or
over the whole run at exit; each box sends ${1_000 / STREAM_FRAME_MS} a second).
Exit code: 0 when every recording was stored (with --stream: every box sent frames), 1 if
any failed or was lost (or kept) (with --stream: a box sent none), 2 on bad usage or a
--replay record that cannot be read.
`;

const OPTIONS = {
  url: { type: 'string' },
  credentials: { type: 'string' },
  devices: { type: 'string' },
  interval: { type: 'string' },
  count: { type: 'string' },
  finding: { type: 'string' },
  'chunk-samples': { type: 'string' },
  quiet: { type: 'boolean' },
  'buffer-dir': { type: 'string' },
  flaky: { type: 'boolean' },
  'flaky-seconds': { type: 'string' },
  replay: { type: 'string' },
  stream: { type: 'boolean' },
  'stream-leads': { type: 'string' },
  'stream-rate': { type: 'string' },
  'stream-seconds': { type: 'string' },
  order: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function readOptions(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false })
      .values;
  } catch (error) {
    // parseArgs throws TypeErrors with a usable message for unknown or valueless options.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Parses the simulator's command line (without node and script); throws UsageError. */
export function parseSimArgs(argv: readonly string[]): SimArgs {
  const values = readOptions(argv);
  const stream = parseStream(values);
  const replay = values.replay === undefined ? null : parseList('--replay', values.replay);
  if (stream) {
    const conflicting = (
      ['replay', 'count', 'interval', 'chunk-samples', 'buffer-dir'] as const
    ).filter((option) => values[option] !== undefined);
    if (conflicting.length > 0) {
      throw new UsageError(`--stream makes no recordings: drop --${conflicting.join(', --')}`);
    }
  }
  if (replay && values.finding !== undefined) {
    throw new UsageError('--finding: with --replay the records decide what the ECGs show');
  }
  return {
    help: values.help ?? false,
    url: parseUrl(values.url ?? DEFAULT_URL),
    credentialsPath: nonEmpty('--credentials', values.credentials ?? DEFAULT_CREDENTIALS),
    devices: values.devices === undefined ? null : integerIn('--devices', values.devices, 1),
    intervalSeconds:
      values.interval === undefined
        ? DEFAULT_INTERVAL_SECONDS
        : positiveNumber('--interval', values.interval),
    count: values.count === undefined ? null : integerIn('--count', values.count, 1),
    finding: parseFinding(values.finding ?? 'normal'),
    chunkSamples:
      values['chunk-samples'] === undefined
        ? DEFAULT_CHUNK_SAMPLES
        : integerIn('--chunk-samples', values['chunk-samples'], 1, MAX_CHUNK_SAMPLES),
    quiet: values.quiet ?? false,
    bufferDir:
      values['buffer-dir'] === undefined ? null : nonEmpty('--buffer-dir', values['buffer-dir']),
    flaky:
      values['flaky-seconds'] !== undefined
        ? parseSecondsRange('--flaky-seconds', values['flaky-seconds'])
        : values.flaky
          ? {
              minSeconds: DEFAULT_FLAKY_MS.minMs / 1_000,
              maxSeconds: DEFAULT_FLAKY_MS.maxMs / 1_000,
            }
          : null,
    replay,
    stream,
    orderNumber: values.order === undefined ? null : parseOrderNumber(values.order),
  };
}

function parseOrderNumber(text: string): string {
  const parsed = orderNumberSchema.safeParse(text);
  if (!parsed.success) {
    throw new UsageError(`--order: expected an 8-character order number such as ABCD-2345`);
  }
  return parsed.data;
}

function parseStream(values: ReturnType<typeof readOptions>): StreamArgs | null {
  const leadsText = values['stream-leads'];
  const rateText = values['stream-rate'];
  const secondsText = values['stream-seconds'];
  if (!values.stream && [leadsText, rateText, secondsText].every((v) => v === undefined)) {
    return null;
  }
  const leads =
    leadsText === undefined ? [...DEFAULT_STREAM_LEADS] : parseList('--stream-leads', leadsText);
  const unknown = leads.filter((lead) => !(TWELVE_LEADS as readonly string[]).includes(lead));
  if (unknown.length > 0) {
    throw new UsageError(
      `--stream-leads: unknown lead ${unknown.join(', ')}; expected some of ${TWELVE_LEADS.join(', ')}`,
    );
  }
  if (leads.length > STREAM_LIMITS.maxLeads || new Set(leads).size !== leads.length) {
    throw new UsageError(
      `--stream-leads: expected 1..${STREAM_LIMITS.maxLeads} different leads, got ${leadsText}`,
    );
  }
  return {
    leads,
    sampleRateHz:
      rateText === undefined
        ? DEFAULT_STREAM_RATE_HZ
        : integerIn(
            '--stream-rate',
            rateText,
            STREAM_LIMITS.minSampleRateHz,
            STREAM_LIMITS.maxSampleRateHz,
          ),
    seconds: secondsText === undefined ? null : positiveNumber('--stream-seconds', secondsText),
  };
}

/** A comma-separated list without empty items. */
function parseList(option: string, text: string): string[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) {
    throw new UsageError(
      `${option}: expected a comma-separated list without empty items, got ${JSON.stringify(text)}`,
    );
  }
  return items;
}

const ABNORMAL = ECG_FINDINGS.filter((finding) => finding !== 'normal');
/** Share of normal ECGs in --finding mixed, roughly what a clinic's screening sees. */
const MIXED_NORMAL_SHARE = 0.7;

/** The finding for the next recording; `random` returns [0, 1) like Math.random. */
export function pickFinding(mode: FindingMode, random: () => number = Math.random): EcgFinding {
  if (mode !== 'mixed') return mode;
  if (random() < MIXED_NORMAL_SHARE) return 'normal';
  return ABNORMAL[Math.floor(random() * ABNORMAL.length)] ?? 'normal';
}

function parseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url: not a URL: ${text}`);
  }
  if (!MQTT_PROTOCOLS.has(url.protocol)) {
    throw new UsageError(
      `--url: expected mqtt://, mqtts://, ws:// or wss://, got ${url.protocol}//`,
    );
  }
  return text;
}

function parseFinding(text: string): FindingMode {
  if (text === 'mixed') return text;
  const finding = ECG_FINDINGS.find((f) => f === text);
  if (!finding) {
    throw new UsageError(
      `--finding: expected one of ${ECG_FINDINGS.join(', ')} or mixed, got ${text}`,
    );
  }
  return finding;
}

function nonEmpty(option: string, text: string): string {
  if (text.trim() === '') throw new UsageError(`${option}: must not be empty`);
  return text;
}

function integerIn(
  option: string,
  text: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  // Number('') is 0 and Number('1e3') is 1000: insist on plain digits.
  if (!/^\d+$/.test(text.trim()))
    throw new UsageError(`${option}: expected a whole number, got ${text}`);
  const value = Number(text);
  if (value < min || value > max) {
    throw new UsageError(
      `${option}: expected ${max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `${min}..${max}`}, got ${text}`,
    );
  }
  return value;
}

function parseSecondsRange(
  option: string,
  text: string,
): { minSeconds: number; maxSeconds: number } {
  const match = /^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  const minSeconds = Number(match?.[1]);
  const maxSeconds = Number(match?.[2]);
  if (!match || !(minSeconds > 0) || !(maxSeconds >= minSeconds)) {
    throw new UsageError(
      `${option}: expected <min>-<max> seconds with 0 < min <= max, e.g. 2-10, got ${text}`,
    );
  }
  return { minSeconds, maxSeconds };
}

function positiveNumber(option: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${option}: expected a positive number of seconds, got ${text}`);
  }
  return value;
}
