import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Where `npm run dev`-style work points the proxy: a relay started with `npm start`. */
const relay = process.env['RELAY_URL'] ?? 'http://127.0.0.1:3000';

// The review console: a static bundle the relay serves at `/` from dist/apps/console/public.
export default defineConfig({
  root: here('.'),
  base: '/',
  // Shared contracts are imported for their types (and a constant or two); same alias as vitest.
  resolve: { alias: { '#contracts': here('../../libs/contracts/src/index.ts') } },
  build: {
    outDir: here('../../dist/apps/console/public'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    reportCompressedSize: false,
    rolldownOptions: {
      // The contracts' modules only declare types, schemas and constants: the console uses a
      // constant or two, so nothing else (zod and the schemas) has to ship to the browser.
      treeshake: {
        moduleSideEffects: [{ test: /libs[\\/]contracts[\\/]src[\\/]/, sideEffects: false }],
      },
    },
  },
  // `vite --config apps/console/vite.config.ts` serves the console against a running relay.
  server: {
    proxy: {
      '/api': relay,
      '/health': relay,
      '/socket.io': { target: relay, ws: true },
    },
  },
});
