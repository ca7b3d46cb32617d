import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:faults`: the fault suite (docs/faults.md), with the main config's SWC plugin
 * and aliases. Not a project of vitest.config.ts, so `npm test` does not run it whole; its
 * files run one at a time, since each measures how fast the relay recovers and two at once
 * on a small machine would measure each other.
 */
export default defineConfig({
  plugins: base.plugins,
  resolve: base.resolve,
  test: {
    name: 'faults',
    include: ['test/faults/**/*.faults.ts'],
    globalSetup: ['test/support/build.global-setup.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
