import { detectQrsMultiLead, readWfdbRecord } from '#ecg';

/**
 * Prints the R peaks the detector finds in a WFDB record, one sample index per line.
 *
 *   node dist/scripts/ecg/detect.js <record-path-without-extension> [--lead <n>]
 *
 * All signals are used together (multi-lead fusion) unless --lead picks one.
 */
function main(): void {
  const args = process.argv.slice(2);
  const leadAt = args.indexOf('--lead');
  const lead = leadAt >= 0 ? Number(args[leadAt + 1]) : undefined;
  const path = args.find((a, k) => !a.startsWith('--') && (leadAt < 0 || k !== leadAt + 1));
  if (!path || (lead !== undefined && (!Number.isInteger(lead) || lead < 0))) {
    process.stderr.write(
      'usage: node dist/scripts/ecg/detect.js <record-path-without-extension> [--lead <n>]\n',
    );
    process.exit(2);
  }
  const record = readWfdbRecord(path);
  const signals = lead === undefined ? record.signals.signals : [record.signals.signals[lead]];
  if (signals.some((s) => s === undefined)) {
    process.stderr.write(`record ${path} has no signal ${lead}\n`);
    process.exit(2);
  }
  const peaks = detectQrsMultiLead(signals as Int16Array[], record.header.samplingFrequency);
  process.stdout.write(peaks.length ? `${peaks.join('\n')}\n` : '');
}

main();
