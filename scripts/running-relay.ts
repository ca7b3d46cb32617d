import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, loadConfig, type RelayConfig } from '../apps/relay/src/config/config.js';

/**
 * The pid of a live relay that wrote DATA_DIR/relay.json, if one is still running: PGlite
 * is one process's database, so the operator commands refuse to open it under a relay.
 */
export async function runningRelay(dataDir: string): Promise<number | undefined> {
  let pid: number;
  try {
    pid = (JSON.parse(await readFile(join(dataDir, 'relay.json'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/**
 * For an operator command about to open the database: false (having said why) when it is
 * the embedded PGlite and a relay has it open.
 */
export async function databaseFreeForCommand(config: {
  databaseUrl?: string | undefined;
  dataDir: string;
}): Promise<boolean> {
  if (config.databaseUrl) return true;
  const running = await runningRelay(config.dataDir);
  if (running === undefined) return true;
  console.error(
    `the relay (pid ${running}) has the PGlite database in ${config.dataDir} open; stop it first`,
  );
  return false;
}

/**
 * The relay's configuration for an operator command, read as the relay reads it; undefined
 * (having said why) when it is not valid, which the commands answer with exit 2.
 */
export function commandConfig(): RelayConfig | undefined {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return undefined;
  }
}
