/**
 * The Node-only half of backend selection: where the wasm binaries are on disk and how to start
 * the multi-threaded wasm build. It imports Node built-ins, so nothing in the browser entry
 * (`src/index.ts`) imports it: `src/node.ts` installs it with `setNodeHooks`, and `ready()`
 * loads it by a computed URL (which bundlers do not follow) when it runs in Node without them.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { NodeHooks } from './ready.js';
import { registerThreadedWasm, wantedWasmThreads } from './threads.js';
import { loadNativeAddon } from './native/load.js';

const require = createRequire(import.meta.url);

/**
 * Directory of the tfjs-backend-wasm `.wasm` binaries, with a trailing slash (the form that
 * `setWasmPaths` takes): `<package dir>/dist/`.
 *
 * @returns the absolute directory path.
 * @example
 * ```ts
 * setWasmPaths(wasmDistDir()); // '/.../node_modules/@tensorflow/tfjs-backend-wasm/dist/'
 * ```
 */
export function wasmDistDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/';
}

/**
 * The Node implementation of {@link NodeHooks}: wasm file location plus the threaded wasm build
 * (`DEEPPROB_WASM_THREADS` threads, default the machine's logical cores, at most 8), and the
 * native CPU addon (`native/`, `DEEPPROB_NATIVE=0` turns it off).
 *
 * @example
 * ```ts
 * setNodeHooks(nodeHooks); // done by the 'deepprob/node' entry
 * ```
 */
export const nodeHooks: NodeHooks = {
  wasmDistDir,
  wantedWasmThreads,
  registerThreadedWasm,
  loadNative: loadNativeAddon,
};
