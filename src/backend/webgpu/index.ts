/**
 * The webgpu backend in Node and browsers: adapter discovery (`navigator_gpu.ts`), the
 * software/hardware distinction (`adapter.ts`), synchronous reads in Node (`sync_read.ts`) and
 * deepprob's seeded normal generator (`random_normal.ts`). The fused variational and Normal ops
 * (`fused.ts`, `normal_fused.ts`) run as composed tfjs ops on webgpu, checked against wasm by
 * `test/webgpu`.
 *
 * {@link initWebGPU} is what `ready()` calls; it never throws, it returns why webgpu is not usable.
 */
import * as tf from '@tensorflow/tfjs';
import { getEnv, isNode } from '../env.js';
import { setupWebGPU, type WebGPUAdapter } from './navigator_gpu.js';
import { captureDawnTicks, installSyncRead, type WebGPUBackendInternals } from './sync_read.js';
import { registerRandomNormal } from './random_normal.js';

export { isSoftwareAdapter, describeAdapter, type AdapterInfoLike } from './adapter.js';
export {
  setupWebGPU,
  shimAdapter,
  installNavigatorGpu,
  type WebGPUAdapter,
} from './navigator_gpu.js';
export { captureDawnTicks, installSyncRead, runDawnTicks } from './sync_read.js';
export { randomNormalWebGPU, registerRandomNormal } from './random_normal.js';

let adapterFound: WebGPUAdapter | undefined;

/**
 * Make `webgpu` the active tfjs backend: find an adapter (in Node through the `webgpu` package),
 * refuse a software adapter unless `allowSoftware`, load `@tensorflow/tfjs-backend-webgpu`, set the
 * backend, install synchronous reads (Node) and deepprob's kernels. Returns `undefined` on success,
 * otherwise the reason webgpu was skipped (the previous backend stays active).
 *
 * Software adapters (SwiftShader, llvmpipe, ...) run WebGPU on the CPU, much slower than wasm, so
 * the automatic choice takes only hardware adapters; `DEEPPROB_BACKEND=webgpu` allows either.
 *
 * @param allowSoftware whether a software adapter is acceptable.
 * @returns undefined when webgpu is active, else a sentence saying why not.
 * @example
 * ```ts
 * const why = await initWebGPU(false);
 * if (why !== undefined) console.error(`webgpu skipped: ${why}`);
 * ```
 */
export async function initWebGPU(allowSoftware: boolean): Promise<string | undefined> {
  const found = await setupWebGPU();
  if (typeof found === 'string') return found;
  if (found.software && !allowSoftware) {
    return `software adapter only (${found.description}); DEEPPROB_BACKEND=webgpu uses it anyway`;
  }
  // before the device exists: Dawn's first tick must be seen (Node only)
  if (isNode()) captureDawnTicks();
  if (tf.findBackendFactory('webgpu') === null) {
    try {
      // a page may have imported it already (a bundler cannot resolve this variable specifier)
      const spec = '@tensorflow/tfjs-backend-webgpu';
      await import(/* @vite-ignore */ spec);
    } catch {
      return 'package @tensorflow/tfjs-backend-webgpu not installed (or not imported by the page)';
    }
  }
  if (tf.findBackendFactory('webgpu') === null)
    return 'not registered (no navigator.gpu when loaded)';
  if (!(await tf.setBackend('webgpu'))) return 'failed to initialise';
  await tf.ready();
  const backend = tf.findBackend('webgpu') as unknown as WebGPUBackendInternals;
  if (isNode() && !syncReadInstalled.has(backend)) {
    const limit = Number(getEnv('DEEPPROB_WEBGPU_READ_TIMEOUT_MS') ?? 600_000);
    installSyncRead(backend, limit > 0 ? limit : 600_000);
    syncReadInstalled.add(backend);
  }
  registerRandomNormal('webgpu');
  adapterFound = found;
  return undefined;
}

const syncReadInstalled = new WeakSet<object>();

/**
 * The adapter the webgpu backend runs on, once {@link initWebGPU} succeeded.
 *
 * @returns the adapter description, or undefined.
 */
export function webgpuAdapter(): WebGPUAdapter | undefined {
  return adapterFound;
}
