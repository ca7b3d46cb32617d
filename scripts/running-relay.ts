import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

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
