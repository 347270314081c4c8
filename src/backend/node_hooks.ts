/**
 * The Node-only half of backend selection: where the wasm binaries are on disk and how to start
 * the multi-threaded wasm build. It imports Node built-ins, so nothing in the browser entry
 * (`src/index.ts`) imports it: `src/node.ts` installs it with `setNodeHooks`, and `ready()`
 * loads it by a computed URL (which bundlers do not follow) when it runs in Node without them.
 */
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NodeHooks } from './node_hook_registry.js';
import { registerThreadedWasm, wantedWasmThreads, wasmThreadsEnv } from './threads.js';
import { loadNativeAddon, nativeEnv } from './native/load.js';

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
 * On Linux, why no hardware GPU adapter can exist: no render node (`/dev/dri/renderD*`: Mesa's
 * AMD/Intel Vulkan drivers), no `/dev/nvidia*` and no `/dev/dxg` (WSL). Undefined elsewhere or
 * when one of them is present (the adapter probe then decides).
 *
 * @param devDir the device directory (tests pass a fixture).
 * @returns a sentence for `backendInfo().skipped`, or undefined.
 * @example
 * ```ts
 * noGpuDevice(); // 'no GPU device node (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg); ...' on a CPU server
 * ```
 */
export function noGpuDevice(devDir = '/dev'): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const has = (dir: string, test: (n: string) => boolean): boolean => {
    try {
      return fs.readdirSync(dir).some(test);
    } catch {
      return false;
    }
  };
  if (has(`${devDir}/dri`, (n) => n.startsWith('renderD'))) return undefined;
  if (has(devDir, (n) => n.startsWith('nvidia') || n === 'dxg')) return undefined;
  return (
    `no GPU device node (${devDir}/dri/renderD*, ${devDir}/nvidia*, ${devDir}/dxg): no hardware ` +
    'adapter, Dawn not loaded (DEEPPROB_BACKEND=webgpu probes anyway)'
  );
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
  noGpuDevice: () => noGpuDevice(),
  checkEnv: () => {
    nativeEnv();
    wasmThreadsEnv();
  },
};
