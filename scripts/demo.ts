/**
 * `npm run demo`: the whole system on one machine. Starts the relay in demo mode on the
 * embedded defaults, waits until it is ready, then starts the 12 simulated ECG boxes of the
 * demo region. Ctrl-C stops both.
 */
// Only Node.js built-ins are imported besides the version check, so nothing that an older
// Node.js fails to load runs before it; the relay's own entry point checks again.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { exitUnlessSupportedNode } from '../apps/relay/src/node-version.js';
import { waitForRelay } from './relay-runtime.js';

exitUnlessSupportedNode();

const dataDir = resolve(process.env['DATA_DIR'] ?? './data');

async function main(): Promise<void> {
  const relay = spawn(process.execPath, ['dist/apps/relay/src/main.js'], {
    env: { LOG_LEVEL: 'warn', ...process.env, DEMO: 'true', DATA_DIR: dataDir },
    stdio: 'inherit',
  });
  const children: ChildProcess[] = [relay];
  const stopAll = (signal: NodeJS.Signals) => {
    for (const child of children) if (child.exitCode === null) child.kill(signal);
  };
  process.on('SIGINT', () => stopAll('SIGINT'));
  process.on('SIGTERM', () => stopAll('SIGTERM'));
  relay.once('exit', (code) => {
    stopAll('SIGTERM');
    process.exitCode = code ?? 0;
  });

  const { mqttPort } = await waitForRelay(relay, dataDir);
  const simulator = spawn(
    process.execPath,
    [
      'dist/device-simulator/src/main.js',
      '--url',
      `mqtt://127.0.0.1:${mqttPort}`,
      '--credentials',
      join(dataDir, 'demo-devices.json'),
      // The region's 12 boxes; the file lists idle load-test boxes after them.
      '--devices',
      '12',
      '--interval',
      process.env['DEMO_INTERVAL_SECONDS'] ?? '90',
      '--finding',
      'mixed',
      // As a real box does: a recording still unacknowledged at Ctrl-C stays on disk and is
      // sent at the next start, instead of being counted lost.
      '--buffer-dir',
      join(dataDir, 'demo-boxes'),
    ],
    { stdio: 'inherit' },
  );
  children.push(simulator);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
