import { execFileSync } from 'node:child_process';

/**
 * The e2e tests run the relay as its own process, from the built dist/. Built once per run:
 * both end-to-end projects (PGlite, PostgreSQL) name this setup, in the one main process.
 */
export default function buildOnce(): void {
  if (process.env['TELERELAY_E2E_BUILT'] === String(process.pid)) return;
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
  process.env['TELERELAY_E2E_BUILT'] = String(process.pid);
}
