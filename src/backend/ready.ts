/**
 * Backend selection: one `await ready()` before any tensor work.
 *
 * Order of preference:
 * - Node: `tensorflow` (when the user has `@tensorflow/tfjs-node` installed), then `webgpu` (when
 *   the optional `webgpu` package finds a hardware adapter; a software one such as SwiftShader is
 *   skipped, being slower than wasm), then `wasm` (XNNPACK, SIMD), then `cpu`.
 * - Browser: `webgpu` (when `@tensorflow/tfjs-backend-webgpu` is importable), `webgl`, `wasm`, `cpu`.
 *
 * `DEEPPROB_BACKEND=cpu|wasm|tensorflow|webgl|webgpu` (or the `backend` option) overrides the order;
 * a forced `webgpu` accepts a software adapter (see `webgpu/index.ts`).
 * On wasm, the kernels that tfjs-backend-wasm lacks (e.g. `Conv2DBackpropFilter`) are registered,
 * so every model trains, and deepprob's kernel pack (`kernels/`) replaces the slow ones.
 *
 * Environment:
 * - `DEEPPROB_KERNELS=stock`: no kernel pack, stock single-threaded wasm (cpu fallbacks only).
 * - `DEEPPROB_WASM_THREADS=n`: XNNPACK threads in Node (default: logical cores, at most 8;
 *   1 = the single-threaded build). The threaded build's workers are unreferenced, so a Node
 *   process still exits by itself.
 *
 * This module is part of the browser entry and imports no Node built-in: the Node-only pieces
 * (wasm file location, threaded build) are {@link NodeHooks} implemented in `node_hooks.ts`,
 * installed by the `deepprob/node` entry or, when `ready()` runs in Node without them (the main
 * entry, the CLI, tests), loaded through a computed URL that bundlers leave alone; the hooks'
 * interface and registry are in `node_hook_registry.ts`, the CLI's one-line description of the
 * choice in `describe_backend.ts`.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { getEnv, isNode } from './env.js';
import { ArgumentError } from '../utils/errors.js';
import { booleanOption, optionsObject } from '../utils/options.js';
import { registerCpuFallbacks, replaceWrongKernels } from './cpu_fallback.js';
import { installKernelPack } from './kernels/index.js';
import type { WasmBackend } from './kernels/wasm_util.js';
import { loadSimd, simdKernels } from './simd/loader.js';
import { gemmThreads } from './simd/pool.js';
import { installNativeKernels } from './native/kernels.js';
import { initWebGPU, registerRandomNormal, webgpuAdapter } from './webgpu/index.js';
import { tfjsCompatibility } from './tfjs_version.js';
import {
  installBatchMatMulBroadcast,
  installBatchMatMulGrad,
} from './kernels/batch_matmul_broadcast.js';
import { installCumulativeAxisFix } from './cumulative_axis.js';
import { installEinsumSingleIndexFix } from './kernels/einsum_single_index.js';
import { installConvPadding, installDepthwisePadding } from './kernels/depthwise_padding.js';
import { installResizeGradients } from './kernels/resize_grad.js';
import { installMaxPool3DGrad } from './kernels/max_pool3d_grad.js';
import { installBinaryRankFix } from './kernels/binary_rank.js';
import { installedNodeHooks, type NodeHooks } from './node_hook_registry.js';
import { describeBackend } from './describe_backend.js';

/** Options of {@link ready}. */
export interface ReadyOptions {
  /** Backend name to use instead of the automatic choice (also `DEEPPROB_BACKEND`). */
  backend?: string;
  /** Print the chosen backend on stderr. Default false (the CLI prints it itself). */
  verbose?: boolean;
}

/** What {@link ready} chose. */
export interface BackendInfo {
  /** The active tfjs backend name. */
  backend: string;
  /** Whether deepprob's fast kernel pack is active (see `DEEPPROB_KERNELS`). */
  kernels: 'fast' | 'stock';
  /** Threads of the wasm backend (1 = single-threaded; see `DEEPPROB_WASM_THREADS`). */
  threads: number;
  /** Whether deepprob's SIMD wasm module runs the pack's loops (wasm only; `DEEPPROB_SIMD=0` turns it off). */
  simd: boolean;
  /**
   * Whether that module is its relaxed-SIMD build (fused multiply-add in its GEMM; Node 22+,
   * Chrome 114+), and how many threads share its loops (see `DEEPPROB_SIMD_RELAXED`,
   * `DEEPPROB_SIMD_THREADS`); undefined when the module is not loaded.
   */
  simdBuild?: { relaxed: boolean; threads: number };
  /** The GPU adapter (webgpu only), e.g. `nvidia hopper (NVIDIA H100)` or `google swiftshader (...), software`. */
  adapter?: string;
  /** Backends tried and why each was skipped. */
  skipped: { backend: string; reason: string }[];
  /**
   * The native CPU path running matmul and convolutions on the wasm heap (Node, wasm backend,
   * fast kernels), e.g. `'native avx512, 2 thread(s)'`; undefined when off (`DEEPPROB_NATIVE=0`),
   * not built, or not Node. `nativeOff` then says why.
   */
  native?: string;
  /** Why the native path is off, when it is. */
  nativeOff?: string;
}

let chosen: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

async function importOptional(name: string): Promise<boolean> {
  try {
    // A variable specifier keeps bundlers from trying to resolve optional packages.
    const spec = name;
    await import(/* @vite-ignore */ spec);
    return true;
  } catch {
    return false;
  }
}

/** Threads of the threaded wasm backend once started, 0 for the single-threaded build. */
let threadedCount = 0;

/**
 * The emscripten glue of tfjs-backend-wasm installs process-wide `uncaughtException` and
 * `unhandledRejection` listeners that rethrow from inside its minified source, so any later user
 * error would be printed with tens of kilobytes of that source. Run `init` and take back the
 * listeners it added: Node's default reporting of uncaught errors stays in place.
 */
async function withoutEmscriptenListeners<T>(init: () => Promise<T>): Promise<T> {
  if (!isNode()) return init();
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e))]));
  try {
    return await init();
  } finally {
    for (const e of events) {
      for (const l of process.listeners(e)) {
        if (!before.get(e)?.has(l)) process.removeListener(e, l as (...args: unknown[]) => void);
      }
    }
  }
}

async function tryBackend(name: string, forced: boolean): Promise<string | undefined> {
  if (name === 'webgpu') {
    const none = !forced && isNode() ? (await installedNodeHooks())?.noGpuDevice?.() : undefined;
    return none ?? initWebGPU(forced || !isNode());
  }
  return name === 'wasm' ? withoutEmscriptenListeners(() => initBackend(name)) : initBackend(name);
}

async function initBackend(name: string): Promise<string | undefined> {
  try {
    if (name === 'tensorflow') {
      if (!(await importOptional('@tensorflow/tfjs-node')))
        return 'package @tensorflow/tfjs-node not installed';
    } else if (name === 'wasm') {
      const node = await installedNodeHooks();
      if (node !== undefined) {
        setWasmPaths(node.wasmDistDir());
        if (await startThreadedWasm(node)) return undefined;
      }
    }
    if (tf.findBackendFactory(name) === null) return 'not registered';
    const ok = await tf.setBackend(name);
    if (!ok) return 'failed to initialise';
    await tf.ready();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/**
 * In Node, with the kernel pack on, start the multi-threaded wasm build (threads sized to the
 * machine). Returns false (and restores the stock single-threaded factory) when it cannot start.
 */
async function startThreadedWasm(node: NodeHooks): Promise<boolean> {
  if (getEnv('DEEPPROB_KERNELS') === 'stock' || !tfjsCompatibility().supported) return false;
  if (tf.findBackend('wasm') !== null) return false;
  const threads = await node.wantedWasmThreads();
  if (threads < 2) return false;
  let restore: () => void;
  try {
    restore = await node.registerThreadedWasm(threads);
  } catch {
    return false; // e.g. no writable temp dir for the worker script
  }
  try {
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      threadedCount = threads;
      return true;
    }
  } catch {
    // fall through to the single-threaded build
  }
  restore();
  return false;
}

/**
 * Choose and initialise the best available backend; idempotent (later calls return the first
 * choice unless `backend` differs).
 *
 * @param options optional backend override and verbosity.
 * @returns the backend chosen and whether the fast kernel pack is active.
 * @example
 * ```ts
 * import { ready } from 'deepprob';
 * const { backend } = await ready(); // 'wasm' in plain Node
 * ```
 */
export async function ready(options: ReadyOptions = {}): Promise<BackendInfo> {
  optionsObject(options, ['backend', 'verbose'], 'ready');
  booleanOption(options.verbose, 'verbose', false);
  const requested = options.backend ?? getEnv('DEEPPROB_BACKEND');
  checkBackendName(requested);
  (await installedNodeHooks())?.checkEnv?.();
  if (chosen !== undefined && (requested === undefined || requested === chosen.backend))
    return chosen;
  if (pending !== undefined && requested === undefined) return pending;
  pending = select(requested, options.verbose ?? false);
  try {
    chosen = await pending;
    return chosen;
  } finally {
    pending = undefined;
  }
}

/** The backends {@link ready} knows how to start (besides any the program registered itself). */
const KNOWN_BACKENDS = ['cpu', 'wasm', 'tensorflow', 'webgl', 'webgpu'] as const;

/**
 * Refuse, before any backend is touched, a requested backend that is neither one deepprob starts
 * nor one registered with `tf.registerBackend`: a non-string, an empty name or a typo.
 * @throws ArgumentError naming `DEEPPROB_BACKEND/backend` and the known names.
 */
function checkBackendName(requested: unknown): void {
  if (requested === undefined) return;
  const known = `expected one of ${KNOWN_BACKENDS.join(', ')} or a backend registered with tf.registerBackend`;
  if (typeof requested !== 'string' || requested === '') {
    throw new ArgumentError(
      'DEEPPROB_BACKEND/backend',
      `${known}, got ${JSON.stringify(requested)}`,
    );
  }
  if (
    !(KNOWN_BACKENDS as readonly string[]).includes(requested) &&
    tf.findBackendFactory(requested) === null
  ) {
    throw new ArgumentError(
      'DEEPPROB_BACKEND/backend',
      `backend '${requested}' is not usable: not a backend deepprob can start (${known})`,
    );
  }
}

async function select(requested: string | undefined, verbose: boolean): Promise<BackendInfo> {
  const order =
    requested !== undefined
      ? [requested]
      : isNode()
        ? ['tensorflow', 'webgpu', 'wasm', 'cpu']
        : ['webgpu', 'webgl', 'wasm', 'cpu'];
  const skipped: { backend: string; reason: string }[] = [];
  for (const name of order) {
    const reason = await tryBackend(name, requested !== undefined);
    if (reason === undefined) {
      if (name === 'wasm') {
        registerCpuFallbacks('wasm');
        replaceWrongKernels('wasm');
        installDepthwisePadding('wasm');
        installConvPadding('wasm');
        installBinaryRankFix('wasm');
      }
      installCumulativeAxisFix(name);
      if (name !== 'cpu') installCumulativeAxisFix('cpu');
      installEinsumSingleIndexFix(name);
      if (name !== 'cpu') installEinsumSingleIndexFix('cpu');
      installMaxPool3DGrad(name);
      if (name !== 'cpu') installMaxPool3DGrad('cpu');
      // the same seeded noise as wasm/cpu (host ziggurat, uploaded); webgpu registers its own
      if (name === 'webgl') registerRandomNormal('webgl');
      installBatchMatMulGrad();
      installResizeGradients();
      const kernels = installKernelPack(name);
      installBatchMatMulBroadcast(name);
      const threads = name === 'wasm' ? Math.max(1, threadedCount) : 1;
      const simd =
        name === 'wasm' && kernels === 'fast'
          ? await loadSimd(tf.backend() as unknown as WasmBackend, threads)
          : false;
      const info: BackendInfo = { backend: name, kernels, threads, simd, skipped };
      const k = simd ? simdKernels() : undefined;
      if (k !== undefined) info.simdBuild = { relaxed: k.relaxed, threads: gemmThreads() };
      if (name === 'wasm' && kernels === 'fast') Object.assign(info, await startNative());
      const adapter = name === 'webgpu' ? webgpuAdapter()?.description : undefined;
      if (adapter !== undefined) info.adapter = adapter;
      if (verbose) console.error(describeBackend(info));
      return info;
    }
    skipped.push({ backend: name, reason });
  }
  const why = skipped.map((s) => `${s.backend} (${s.reason})`).join(', ');
  throw new Error(
    requested !== undefined
      ? `DEEPPROB_BACKEND/backend: backend '${requested}' is not usable: ${why}`
      : `no tfjs backend could be initialised: ${why}`,
  );
}

/** On wasm in Node: register the native addon's kernels when it loads; say why not otherwise. */
async function startNative(): Promise<{ native?: string; nativeOff?: string }> {
  const node = await installedNodeHooks();
  if (node?.loadNative === undefined) return { nativeOff: 'not Node' };
  const why: { reason?: string } = {};
  const addon = node.loadNative(why);
  return addon === undefined
    ? { nativeOff: why.reason ?? 'unavailable' }
    : { native: installNativeKernels(addon) };
}

/** The backend chosen by {@link ready}, or undefined before it ran. */
export function backendInfo(): BackendInfo | undefined {
  return chosen;
}
