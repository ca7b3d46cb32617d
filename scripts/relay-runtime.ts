// Node.js built-ins only: `npm run demo` loads this before anything an older Node.js could fail on.
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a started relay writes to `<DATA_DIR>/relay.json` (apps/relay/src/relay.ts). */
export interface RelayRuntime {
  pid: number;
  httpPort: number;
  mqttPort: number;
}

/** Resolves once the relay started as `relay` has written its ports; rejects if it exits first. */
export async function waitForRelay(relay: ChildProcess, dataDir: string): Promise<RelayRuntime> {
  const runtimeFile = join(dataDir, 'relay.json');
  for (;;) {
    if (relay.exitCode !== null) throw new Error(`the relay exited with code ${relay.exitCode}`);
    try {
      const runtime = JSON.parse(await readFile(runtimeFile, 'utf8')) as RelayRuntime;
      if (runtime.pid === relay.pid) return runtime;
    } catch {
      // not written yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
}
