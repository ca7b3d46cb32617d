import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { readAnchors } from '../apps/relay/src/audit/anchor-file.js';
import { verifyChain, type Anchor } from '../apps/relay/src/audit/audit-chain.js';
import { AuditRepository } from '../apps/relay/src/audit/audit.repository.js';
import { Database } from '../apps/relay/src/infra/database/database.js';
import { commandConfig, databaseFreeForCommand } from './running-relay.js';

/**
 * `npm run audit:verify [-- --anchor <seq>:<hash> …]`: walks the audit trail's hash chain
 * (docs/audit.md) in the database the relay uses (DATABASE_URL, or the PGlite in DATA_DIR,
 * read as the relay reads them) and checks it against the anchors in DATA_DIR and any given.
 * Exit 0: intact. Exit 1: the first bad row is named. Exit 2: it could not be checked.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { anchor: { type: 'string', multiple: true, default: [] } },
  });
  const config = commandConfig();
  if (!config) return 2;
  const given = values.anchor.map(parseAnchor);
  if (given.includes(undefined)) {
    console.error(
      '--anchor takes <seq>:<sha-256 hex>, as the relay logs it ("audit chain anchored")',
    );
    return 2;
  }
  if (!(await databaseFreeForCommand(config))) return 2;
  const anchors = [...(await readAnchors(config.dataDir)), ...(given as Anchor[])];
  const database = await Database.open({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
  });
  try {
    const verdict = await verifyChain(new AuditRepository(database).chainSource(), anchors);
    const range = verdict.firstSeq === null ? '' : ` (seq ${verdict.firstSeq}–${verdict.lastSeq})`;
    const where = config.databaseUrl ? 'DATABASE_URL' : `PGlite in ${config.dataDir}`;
    if (verdict.ok) {
      console.log(
        `audit chain intact: ${verdict.rowsChecked} rows checked${range}, ` +
          `${verdict.anchorsChecked} of ${anchors.length} anchors matched (${where})`,
      );
      return 0;
    }
    const problem = verdict.problem!;
    console.log(`audit chain BROKEN (${problem.kind}): ${problem.message}`);
    console.log(`${verdict.rowsChecked} rows checked intact before it${range} (${where})`);
    return 1;
  } finally {
    await database.close();
  }
}

function parseAnchor(text: string): Anchor | undefined {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text);
  return match ? { seq: Number(match[1]), hash: match[2]!, at: 'the command line' } : undefined;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`audit:verify failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
