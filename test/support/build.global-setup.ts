import { execFileSync } from 'node:child_process';

/** The e2e tests run the relay as its own process, from the built dist/. */
export default function buildOnce(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });
}
