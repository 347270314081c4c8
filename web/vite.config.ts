/**
 * Vite configuration of the browser demo (`npm run web`, `vite build web`).
 *
 * The page imports deepprob from `../src/index.ts` (the browser entry). The wasm backend fetches
 * its `.wasm` binaries at run time: this config serves them from
 * `node_modules/@tensorflow/tfjs-backend-wasm/dist` under `<base>tfjs-wasm/` in dev and preview, and
 * copies them into the build, so `setWasmPaths` in `src/main.ts` can point there.
 */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const webDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(webDir, '..');
const wasmDir = path.join(repoRoot, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

/** Serve (dev) and emit (build) the tfjs wasm binaries under `tfjs-wasm/`. */
function tfjsWasm(): Plugin {
  let base = '/';
  return {
    name: 'deepprob-tfjs-wasm',
    configResolved(config) {
      base = config.base;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '').split('?')[0] ?? '';
        const prefix = `${base}tfjs-wasm/`;
        const file = url.startsWith(prefix) ? url.slice(prefix.length) : '';
        if (!WASM_FILES.includes(file)) {
          next();
          return;
        }
        res.setHeader('Content-Type', 'application/wasm');
        res.end(readFileSync(path.join(wasmDir, file)));
      });
    },
    generateBundle() {
      for (const file of WASM_FILES) {
        const src = path.join(wasmDir, file);
        if (!existsSync(src))
          this.error(`missing ${src}: is @tensorflow/tfjs-backend-wasm installed?`);
        this.emitFile({ type: 'asset', fileName: `tfjs-wasm/${file}`, source: readFileSync(src) });
      }
    },
  };
}

export default defineConfig({
  root: webDir,
  base: './',
  publicDir: path.join(webDir, 'public'),
  plugins: [tfjsWasm()],
  server: { fs: { allow: [repoRoot] } },
  build: {
    outDir: path.join(webDir, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: {
        main: path.join(webDir, 'index.html'),
        playground: path.join(webDir, 'playground.html'),
      },
    },
  },
});
