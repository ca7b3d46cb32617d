import { flagConfusion, formatConfusion } from '#ecg';

/**
 * Prints the flag confusion table on synthetic 12-lead ECGs with known findings.
 *
 *   node dist/scripts/ecg/flag-confusion.js [--seeds N] [--json]
 *
 * Two noise levels: the generator's default (8 µV EMG, 100 µV wander, 15 µV mains) and a
 * noisy one (30 µV EMG, 300 µV wander, 60 µV mains).
 */
function main(): void {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const seedsAt = args.indexOf('--seeds');
  const count = seedsAt >= 0 ? Number(args[seedsAt + 1]) : 20;
  if (!Number.isInteger(count) || count < 1) {
    process.stderr.write('usage: node dist/scripts/ecg/flag-confusion.js [--seeds N] [--json]\n');
    process.exit(2);
  }
  const seeds = Array.from({ length: count }, (_, k) => k + 1);
  const tables = {
    defaultNoise: flagConfusion({ seeds }),
    noisy: flagConfusion({
      seeds,
      noise: { emgMicrovolts: 30, baselineMicrovolts: 300, mainsMicrovolts: 60 },
    }),
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(tables, null, 2)}\n`);
    return;
  }
  process.stdout.write(`Synthetic 12-lead, 10 s, 500 Hz, seeds 1..${count}\n\n`);
  process.stdout.write(`default noise\n${formatConfusion(tables.defaultNoise)}\n\n`);
  process.stdout.write(
    `noisy (EMG 30 µV, wander 300 µV, mains 60 µV)\n${formatConfusion(tables.noisy)}\n`,
  );
}

main();
