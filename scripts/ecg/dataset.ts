import { join } from 'node:path';
import { DATA_DIR, MANIFEST_PATH, checkFiles, readManifest } from './validation-set.js';

/**
 * Checks the local copy of the QRS validation set (data/ecg-validation/) against
 * bench/ecg-validation/manifest.json: every file present, byte for byte (sha256). For each
 * missing or different file it prints where to get it: the public repository, path and
 * commit it was taken from, and the PhysioNet address of the same file.
 *
 *   node dist/scripts/ecg/dataset.js [--data <dir>]
 *
 * Exits 1 if any file is missing or differs.
 */
function main(): void {
  const args = process.argv.slice(2);
  const at = args.indexOf('--data');
  const dataDir = at >= 0 ? args[at + 1] : DATA_DIR;
  if (!dataDir || args.some((a, k) => a.startsWith('--') && a !== '--data' && k !== at + 1)) {
    process.stderr.write('usage: node dist/scripts/ecg/dataset.js [--data <dir>]\n');
    process.exit(2);
  }
  const manifest = readManifest();
  const checks = checkFiles(manifest, dataDir);
  const bad = checks.filter((c) => c.state !== 'ok');
  const lines: string[] = [];
  const records = new Set(manifest.files.map((f) => `${f.database}/${f.record}`));
  lines.push(
    `${MANIFEST_PATH}: ${manifest.files.length} files, ${records.size} records; local folder ${dataDir}`,
  );
  for (const split of ['tuning', 'test'] as const) {
    const names = [
      ...new Set(
        manifest.files.filter((f) => f.split === split).map((f) => `${f.database}/${f.record}`),
      ),
    ];
    lines.push(`  ${split.padEnd(6)} ${names.join(' ')}`);
  }
  lines.push('');
  for (const c of checks) {
    const f = c.file;
    lines.push(`${c.state.padEnd(8)} ${join(dataDir, f.file)}`);
    if (c.state === 'ok') continue;
    if (c.state === 'mismatch')
      lines.push(`         sha256 ${c.actualSha256}, expected ${f.sha256}`);
    lines.push(`         from ${f.origin.repo} @ ${f.origin.commit}: ${f.origin.path}`);
    lines.push(`         or   ${f.physionetUrl} (${f.licence})`);
    if (f.note) lines.push(`         note ${f.note}`);
  }
  lines.push('');
  lines.push(
    bad.length === 0
      ? `all ${checks.length} files present and identical`
      : `${bad.filter((c) => c.state === 'missing').length} missing, ${bad.filter((c) => c.state === 'mismatch').length} different`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  if (bad.length > 0) process.exit(1);
}

main();
