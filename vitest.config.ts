import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Subpath imports (#contracts, …) point at dist/ for `node`; tests run the sources.
const alias = {
  '#contracts': here('./libs/contracts/src/index.ts'),
  '#ecg': here('./libs/ecg/src/index.ts'),
  // Before '#dicom', which would otherwise match it as a prefix.
  '#dicom/testing': here('./libs/dicom/src/testing/synthetic-dicom.ts'),
  '#dicom': here('./libs/dicom/src/index.ts'),
};

export default defineConfig({
  plugins: [swc.vite({ tsconfigFile: './tsconfig.json' })],
  resolve: { alias },
  test: {
    // The JSON report is what .ci/run counts for its closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'apps/**/*.test.ts',
            'libs/**/*.test.ts',
            'device-simulator/**/*.test.ts',
            'test/support/**/*.test.ts',
          ],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.ts'],
          globalSetup: ['test/support/build.global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each file runs its own relay process (temp data dir, ports 0); the files mostly
          // wait on those processes. docs/development.md, "Tests".
          fileParallelism: true,
          maxWorkers: Number(process.env['E2E_MAX_WORKERS'] || 2),
        },
      },
    ],
  },
});
