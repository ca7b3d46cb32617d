import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** An entry that does not stop (the old behaviour) must not outlive the test. */
const started: ChildProcess[] = [];

async function run(node: string, args: string[], dataDir: string): Promise<Run> {
  const child = spawn(node, args, {
    env: { ...process.env, PORT: '0', MQTT_PORT: '0', DICOM_PORT: '0', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Runs this Node.js (24) as if it were 20.11.1, patched before the entry point loads. */
const AS_NODE_20 = [
  '--import',
  `data:text/javascript,Object.defineProperty(process.versions, 'node', { value: '20.11.1' });`,
];

/** Other Node.js binaries on PATH older than 24, such as Debian's /usr/bin/node (20). */
function olderSystemNodes(): string[] {
  let found: string[];
  try {
    found = execFileSync('which', ['-a', 'node'], { encoding: 'utf8' }).split('\n');
  } catch {
    return [];
  }
  return [...new Set(found.filter(Boolean))].filter((node) => {
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    return Number.parseInt(version.slice(1), 10) < 24;
  });
}

describe('started directly with an older Node.js', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'telerelay-node-version-'));
  });
  afterAll(async () => {
    for (const child of started) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGINT');
      await once(child, 'exit');
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  for (const entry of ['dist/apps/relay/src/main.js', 'dist/scripts/demo.js']) {
    it(`${entry} stops with exit code 2 and one line naming Node.js 24 and the version found`, async () => {
      const { code, stdout, stderr } = await run(process.execPath, [...AS_NODE_20, entry], dataDir);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toBe(
        'Telerelay needs Node.js 24; this is Node.js 20.11.1. Install it, or start through npm (npm start, npm run demo), which brings it.\n',
      );
      // Stopped before anything started: nothing was written to the data directory.
      expect(await readdir(dataDir)).toEqual([]);
    });
  }

  it("the system's own older Node.js, where there is one, gets the same line", async () => {
    for (const node of olderSystemNodes()) {
      const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim().slice(1);
      const { code, stderr } = await run(node, ['dist/apps/relay/src/main.js'], dataDir);
      expect(code, node).toBe(2);
      expect(stderr, node).toContain(`Telerelay needs Node.js 24; this is Node.js ${version}.`);
    }
  });
});
