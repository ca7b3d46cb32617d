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
    // The DICOM viewer's chunk (cornerstone3D with vtk.js, about 4 MB) is loaded only when an
    // imaging case is opened; the ECG pages never fetch it.
    chunkSizeWarningLimit: 5000,
    rolldownOptions: {
      // The WASM codecs' Emscripten glue names fs, path and url on its Node.js branch, which
      // never runs in a browser; Vite's "externalized for browser compatibility" notes about
      // it would bury real warnings.
      onLog(level, log, handler) {
        if (/externalized for browser compatibility/.test(log.message)) return;
        handler(level, log);
      },
      // The contracts' modules only declare types, schemas and constants: the console uses a
      // constant or two, so nothing else (zod and the schemas) has to ship to the browser.
      treeshake: {
        moduleSideEffects: [{ test: /libs[\\/]contracts[\\/]src[\\/]/, sideEffects: false }],
      },
    },
  },
  // The DICOM viewer's loader starts its decoding workers as ES modules
  // (`new Worker(new URL(...), { type: 'module' })`) and loads its WASM codecs from them.
  worker: { format: 'es' },
  // Pre-bundling would cut the worker and codec files away from the loader's own URLs (dev
  // server only); dicom-parser is CommonJS and needs it.
  optimizeDeps: {
    exclude: ['@cornerstonejs/dicom-image-loader'],
    include: ['dicom-parser'],
  },
  // `vite --config apps/console/vite.config.ts` serves the console against a running relay.
  server: {
    proxy: {
      '/api': relay,
      '/dicomweb': relay,
      '/health': relay,
      '/socket.io': { target: relay, ws: true },
    },
  },
});
