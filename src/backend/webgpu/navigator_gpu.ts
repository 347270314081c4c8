/**
 * `navigator.gpu` in Node: the `webgpu` npm package (Dawn's Node bindings, an optional dependency)
 * provides a `GPU` object and the WebGPU globals (`GPUBufferUsage`, ...) that
 * `@tensorflow/tfjs-backend-webgpu` expects from a browser. This module installs them once and holds
 * the shims tfjs 4.22 needs on current Dawn, so that they live in one place.
 *
 * The module imports no Node built-in (it is part of the browser graph through `ready.ts`); the
 * `webgpu` package is loaded through a computed specifier that bundlers leave alone.
 */
import { isNode } from '../env.js';
import { describeAdapter, isSoftwareAdapter, type AdapterInfoLike } from './adapter.js';

/** The part of a `GPUAdapter` deepprob touches. */
export interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<AdapterInfoLike>;
}

/** The part of a `GPU` (`navigator.gpu`) deepprob touches. */
export interface GpuLike {
  requestAdapter(options?: {
    powerPreference?: 'low-power' | 'high-performance';
  }): Promise<AdapterLike | null>;
}

/** The adapter found by {@link setupWebGPU}. */
export interface WebGPUAdapter {
  /** Adapter info as reported by the implementation. */
  info: AdapterInfoLike;
  /** Whether the adapter is a software (CPU) implementation such as SwiftShader. */
  software: boolean;
  /** One line naming it (see {@link describeAdapter}). */
  description: string;
  /** Where `navigator.gpu` came from: the browser's own or the `webgpu` package in Node. */
  source: 'navigator' | 'webgpu package';
}

/**
 * Make an adapter look like the one tfjs-backend-webgpu 4.22 was written for: it reads
 * `adapter.info` and, where that is missing, calls `adapter.requestAdapterInfo()` (removed from
 * Dawn and the spec in 2024). Adds whichever of the two is missing, from the other; returns the
 * same object.
 *
 * @param adapter a `GPUAdapter`.
 * @returns `adapter`, with `info` and `requestAdapterInfo` both usable.
 * @example
 * ```ts
 * const adapter = shimAdapter(await navigator.gpu.requestAdapter());
 * ```
 */
export function shimAdapter<A extends AdapterLike>(adapter: A): A {
  const target = adapter as AdapterLike;
  if (typeof target.requestAdapterInfo !== 'function') {
    const info = target.info ?? {};
    Object.defineProperty(target, 'requestAdapterInfo', {
      value: () => Promise.resolve(info),
      configurable: true,
      writable: true,
    });
  }
  return adapter;
}

/**
 * Install `gpu` as `navigator.gpu` (Node 21+ has a read-only `navigator` global: the property is
 * defined on it; Node 20 has none: a plain object is installed) and copy the WebGPU `globals`
 * (`GPUBufferUsage`, `GPUMapMode`, ...) that are not defined yet onto `globalThis`.
 *
 * @param gpu the `GPU` object.
 * @param globals WebGPU constructors and enums from the `webgpu` package.
 * @example
 * ```ts
 * const { create, globals } = await import('webgpu');
 * installNavigatorGpu(create([]), globals);
 * ```
 */
export function installNavigatorGpu(gpu: GpuLike, globals: Record<string, unknown> = {}): void {
  const g = globalThis as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(globals)) if (!(k in g)) g[k] = v;
  const nav = g['navigator'];
  if (nav !== undefined && nav !== null && typeof nav === 'object') {
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
  } else {
    Object.defineProperty(g, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
}

/** The current `navigator.gpu`, if any. */
function currentGpu(): GpuLike | undefined {
  const nav = (globalThis as unknown as { navigator?: { gpu?: GpuLike } }).navigator;
  return nav?.gpu ?? undefined;
}

/** The `webgpu` package's exports (typed locally: the package is optional). */
interface WebGPUPackage {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

let found: WebGPUAdapter | undefined;
/** The `GPU` this module installed (a failed one is replaced on the next try). */
let ownGpu: GpuLike | undefined;

/**
 * Find a WebGPU adapter: the browser's `navigator.gpu`, or in Node the `webgpu` package (installed
 * as `navigator.gpu` by {@link installNavigatorGpu}, once per process). Resolves to the adapter found
 * (shimmed by {@link shimAdapter}) or to the reason there is none; never throws.
 *
 * On Linux without a GPU, Dawn's Vulkan backend can run on SwiftShader, the CPU Vulkan driver in
 * Debian's `chromium` package: `VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json`
 * (needs `libvulkan1`); the adapter is then reported as software.
 *
 * An adapter found is kept for the process; a failure is not cached (a later call, e.g. after
 * `VK_ICD_FILENAMES` was set, tries again with a new Dawn instance).
 *
 * @returns the adapter, or a sentence saying why none could be created.
 * @example
 * ```ts
 * const found = await setupWebGPU();
 * if (typeof found !== 'string' && !found.software) await tf.setBackend('webgpu');
 * ```
 */
export async function setupWebGPU(): Promise<WebGPUAdapter | string> {
  if (found !== undefined) return found;
  const result = await findAdapter();
  if (typeof result !== 'string') found = result;
  return result;
}

async function findAdapter(): Promise<WebGPUAdapter | string> {
  let gpu = currentGpu();
  let source: WebGPUAdapter['source'] = 'navigator';
  if (gpu === undefined || gpu === ownGpu) {
    if (!isNode()) return 'this browser has no navigator.gpu';
    let pkg: WebGPUPackage;
    try {
      const spec = 'webgpu';
      pkg = (await import(/* @vite-ignore */ spec)) as WebGPUPackage;
    } catch (e) {
      return `package webgpu not installed or not loadable (${e instanceof Error ? e.message : String(e)})`;
    }
    try {
      gpu = pkg.create([]);
    } catch (e) {
      return `webgpu: create() failed (${e instanceof Error ? e.message : String(e)})`;
    }
    installNavigatorGpu(gpu, pkg.globals);
    ownGpu = gpu;
    source = 'webgpu package';
  }
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return `requestAdapter failed (${e instanceof Error ? e.message : String(e)})`;
  }
  if (adapter === null) {
    return source === 'navigator'
      ? 'navigator.gpu found no adapter'
      : 'no WebGPU adapter (no Vulkan driver: a GPU driver, or SwiftShader through ' +
          'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json with libvulkan1 installed)';
  }
  shimAdapter(adapter);
  const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
  const software = isSoftwareAdapter(info, adapter.isFallbackAdapter === true);
  return { info, software, description: describeAdapter(info, software), source };
}
