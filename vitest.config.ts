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

/**
 * Files about several relays or a database server's own tools; they name their PostgreSQL
 * database themselves, so they run once, with the PostgreSQL project where there is one.
 */
const POSTGRES_ONLY = ['test/e2e/multi-instance.e2e.ts', 'test/e2e/backup-restore.e2e.ts'];

/**
 * The end-to-end tier, on one store (test/support/relay-databases.ts). Where CI gives a
 * PostgreSQL server the tier runs twice, one project after the other (groupOrder), so the
 * two never share the machine's cores.
 */
function e2eProject(store: 'PGlite' | 'PostgreSQL') {
  const postgres = store === 'PostgreSQL';
  return {
    extends: true,
    test: {
      name: postgres ? 'e2e-postgres' : 'e2e',
      include: ['test/**/*.e2e.ts'],
      exclude: !postgres && process.env['TEST_DATABASE_URL'] ? POSTGRES_ONLY : [],
      env: { E2E_STORE: store },
      globalSetup: ['test/support/build.global-setup.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      // Each file runs its own relay process (temp data dir, ports 0); the files mostly
      // wait on those processes. docs/development.md, "Tests".
      fileParallelism: true,
      maxWorkers: Number(process.env['E2E_MAX_WORKERS'] || 2),
      // Vitest runs a higher group after the lower ones are done.
      sequence: { groupOrder: postgres ? 1 : 0 },
    },
  };
}

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
      e2eProject('PGlite'),
      ...(process.env['TEST_DATABASE_URL'] ? [e2eProject('PostgreSQL')] : []),
    ],
  },
});
