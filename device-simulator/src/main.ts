import { resolve } from 'node:path';
import { CredentialsError, loadCredentials } from './credentials.js';
import { parseSimArgs, USAGE, UsageError } from './cli-args.js';
import { ReplayError } from './errors.js';
import { maxChunkSamples } from './recording-builder.js';
import { Simulation } from './simulation.js';
import { describeReplayRecord, loadReplayRecords, type ReplayRecord } from './wfdb-replay.js';

/** How long shutdown may take before a second signal or this timer forces the exit. */
const FORCED_EXIT_MS = 5_000;

async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseSimArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\nRun with --help for the options.`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }

  let devices;
  try {
    devices = await loadCredentials(resolve(args.credentialsPath));
  } catch (error) {
    if (!(error instanceof CredentialsError)) throw error;
    console.error(error.message);
    return 2;
  }
  if (args.devices !== null) devices = devices.slice(0, args.devices);

  let replay: ReplayRecord[] | null = null;
  if (args.replay) {
    try {
      replay = loadReplayRecords(
        args.replay.map((path) => resolve(path)),
        (error) => console.error(`skipping ${error.message}`),
      );
    } catch (error) {
      if (!(error instanceof ReplayError)) throw error;
      console.error(`--replay: ${error.message}`);
      return 2;
    }
    const widest = Math.max(...replay.map((record) => record.leads.length));
    if (args.chunkSamples > maxChunkSamples(widest)) {
      console.error(
        `--chunk-samples: at most ${maxChunkSamples(widest)} for a ${widest}-lead record, got ${args.chunkSamples}`,
      );
      return 2;
    }
    if (!args.quiet) {
      for (const record of replay) console.log(`replay ${describeReplayRecord(record)}`);
    }
  }

  const simulation = new Simulation({
    url: args.url,
    devices,
    intervalSeconds: args.intervalSeconds,
    count: args.count,
    finding: args.finding,
    chunkSamples: args.chunkSamples,
    quiet: args.quiet,
    bufferDir: args.bufferDir === null ? null : resolve(args.bufferDir),
    flaky: args.flaky && {
      minMs: args.flaky.minSeconds * 1_000,
      maxMs: args.flaky.maxSeconds * 1_000,
    },
    replay,
    stream: args.stream,
    orderNumber: args.orderNumber,
    print: (line) => console.log(line),
    printError: (line) => console.error(line),
  });

  const interrupted = new Promise<void>((resolveSignal) => {
    const onSignal = () => {
      // A second Ctrl-C means "now": do not wait for the boxes to disconnect.
      process.once('SIGINT', () => process.exit(130));
      resolveSignal();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });

  await simulation.start();
  await Promise.race([simulation.finished, interrupted]);
  setTimeout(() => process.exit(1), FORCED_EXIT_MS).unref();
  return simulation.stop();
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
