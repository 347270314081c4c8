/**
 * Loads deepprob's SIMD wasm module (deepprob_simd.c, embedded by scripts/build-simd.mjs) onto the
 * tfjs wasm backend's own memory, so that its kernels read and write tensors in place (pointers
 * are the byte offsets of the backend's heap views, `view.byteOffset`).
 *
 * Loaded by `ready()` when the wasm backend is chosen and the kernel pack is on; kernels fall back
 * to their JavaScript loops when it is not loaded (other backends, `DEEPPROB_SIMD=0`, or a runtime
 * without WebAssembly SIMD).
 */
import { getEnv } from '../env.js';
import { zigguratTables } from '../kernels/random_normal.js';
import type { WasmBackend } from '../kernels/wasm_util.js';
import { startGemmPool } from './pool.js';
import {
  SIMD_WASM_PLAIN,
  SIMD_WASM_RELAXED_PLAIN,
  SIMD_WASM_RELAXED_SHARED,
  SIMD_WASM_SHARED,
} from './module.generated.js';

/**
 * The convolution geometry the `im2col_t` / `col2im_add` loops take after their two pointers
 * (batch, input size, output size, filter size, strides, top/left pads; unit dilation).
 */
export type ConvLoopArgs = [
  B: number,
  H: number,
  W: number,
  C: number,
  OH: number,
  OW: number,
  KH: number,
  KW: number,
  sh: number,
  sw: number,
  pt: number,
  pl: number,
];

/** The exported functions of the SIMD module (pointers are byte offsets into the heap). */
export interface SimdExports {
  normal_fill(out: number, n: number, seed: number, mean: number, sd: number, tables: number): void;
  softplus_reparam(mu: number, rho: number, eps: number, w: number, n: number): void;
  softplus_reparam_grad(dy: number, eps: number, rho: number, out: number, n: number): void;
  kl_softplus_normal(
    mu: number,
    rho: number,
    centre: number,
    clen: number,
    n: number,
    priorSigma: number,
  ): number;
  kl_normal_grad_mu(
    dy: number,
    mu: number,
    centre: number,
    clen: number,
    dmu: number,
    n: number,
    priorSigma: number,
  ): void;
  kl_softplus_grad_rho(dy: number, rho: number, drho: number, n: number, priorSigma: number): void;
  softplus_square(rho: number, out: number, n: number): void;
  softplus_square_grad(dy: number, rho: number, out: number, n: number): void;
  local_reparam(
    mean: number,
    variance: number,
    out: number,
    eps: number,
    n: number,
    seed: number,
    floor: number,
    tables: number,
  ): void;
  local_reparam_grad(
    dy: number,
    eps: number,
    variance: number,
    out: number,
    n: number,
    floor: number,
  ): void;
  relu_grad(dy: number, x: number, out: number, n: number): void;
  softplus_grad(dy: number, x: number, out: number, n: number): void;
  relu(x: number, out: number, n: number): void;
  normal_rsample(
    loc: number,
    nl: number,
    scale: number,
    ns: number,
    eps: number,
    x: number,
    n: number,
  ): void;
  /** Returns 1 (and leaves `out` to the caller's exact loop) when a scale is not a normal float32 > 0. */
  normal_log_prob(
    x: number,
    loc: number,
    nl: number,
    scale: number,
    ns: number,
    out: number,
    n: number,
  ): number;
  normal_log_prob_sum(
    x: number,
    loc: number,
    nl: number,
    scale: number,
    ns: number,
    out: number,
    n: number,
  ): number;
  normal_log_prob_grad(
    dy: number,
    ndy: number,
    x: number,
    loc: number,
    nl: number,
    scale: number,
    ns: number,
    out: number,
    nout: number,
    n: number,
    wrt: number,
  ): void;
  softplus(x: number, out: number, n: number): void;
  sigmoid(x: number, out: number, n: number): void;
  adam(
    x: number,
    m: number,
    v: number,
    g: number,
    xo: number,
    mo: number,
    vo: number,
    n: number,
    beta1: number,
    beta2: number,
    epsilon: number,
    lr: number,
    c1: number,
    c2: number,
  ): void;
  conv_filter_grad_c1(
    x: number,
    dy: number,
    dw: number,
    scratch: number,
    B: number,
    H: number,
    W: number,
    OH: number,
    OW: number,
    KH: number,
    KW: number,
    CO: number,
    pt: number,
    pl: number,
  ): void;
  col2im_add(cols: number, dx: number, ...geometry: ConvLoopArgs): void;
  im2col_t(x: number, colsT: number, ...geometry: ConvLoopArgs): void;
  im2col(x: number, cols: number, ...geometry: ConvLoopArgs): void;
  max_pool_2x2(x: number, out: number, B: number, H: number, W: number, C: number): void;
  max_pool_grad_2x2(
    x: number,
    dy: number,
    dx: number,
    B: number,
    H: number,
    W: number,
    C: number,
  ): void;
  /** 1 when the module was built with relaxed SIMD (fused multiply-add), else 0. */
  gemm_fused_madd(): number;
  /** Rows of the GEMM's micro-tile. */
  gemm_mr(): number;
  /** Floats of scratch a GEMM share of `panels` 8-column panels needs. */
  gemm_scratch_floats(panels: number): number;
  /** The packed GEMM of gemm_simd.c (see {@link GemmLoopArgs}). */
  gemm(...args: GemmLoopArgs): void;
}

/**
 * The arguments of the module's `gemm`: `C[b] = act(op(A)[b] op(B)[b] + bias)` for `batch` items,
 * with `A[b](i, k) = A[b*sA + i*rsA + k*csA]`, `B[b](k, n) = B[b*sB + k*rsB + n*csB]` (strides in
 * floats), rows `m0..m1` and 8-column panels `p0..p1` of each item; `bias` 0 for none; act 0
 * linear, 1 relu, 2 relu6, 3 leaky relu with slope `alpha`; `scratch` holds
 * `gemm_scratch_floats(p1 - p0)` floats.
 */
export type GemmLoopArgs = [
  A: number,
  B: number,
  C: number,
  bias: number,
  scratch: number,
  batch: number,
  sA: number,
  sB: number,
  M: number,
  N: number,
  K: number,
  rsA: number,
  csA: number,
  rsB: number,
  csB: number,
  m0: number,
  m1: number,
  p0: number,
  p1: number,
  act: number,
  alpha: number,
];

/**
 * The loaded module: its exports, the heap address of the ziggurat tables, whether it is the
 * relaxed-SIMD build (fused multiply-add in the GEMM), and the module itself (for worker threads).
 */
export interface SimdKernels {
  fns: SimdExports;
  tables: number;
  relaxed: boolean;
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** XNNPACK's threads on this backend (tfjs's `getThreadsCount`; 1 when unknown). */
  backendThreads: number;
}

/**
 * A minimal module whose one function returns `f32x4.relaxed_madd` of three zero vectors: it
 * validates exactly when the engine accepts relaxed SIMD (on by default from V8 11.4: Node 22,
 * Chrome 114; behind `--experimental-wasm-relaxed-simd` on Node 20).
 */
function relaxedProbe(): Uint8Array<ArrayBuffer> {
  const zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)]; // v128.const 0
  const body = [0x00, ...zero, ...zero, ...zero, 0xfd, 0x85, 0x02, 0x0b]; // relaxed_madd; end
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // magic, version
    ...[0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b], // type: [] -> [v128]
    ...[0x03, 0x02, 0x01, 0x00], // one function of type 0
    ...[0x0a, body.length + 2, 0x01, body.length, ...body], // its code
  ]);
}

/**
 * Whether this engine runs WebAssembly relaxed SIMD (validated on a tiny module, never assumed);
 * `DEEPPROB_SIMD_RELAXED=0` answers no (the plain module's exact multiply-then-add).
 */
export function relaxedSimdSupported(): boolean {
  if (getEnv('DEEPPROB_SIMD_RELAXED') === '0' || typeof WebAssembly === 'undefined') return false;
  try {
    return WebAssembly.validate(relaxedProbe());
  } catch {
    return false;
  }
}

let loaded: SimdKernels | undefined;
let loadedFor: object | undefined;

/** The SIMD kernels when loaded on the current wasm backend, else undefined. */
export function simdKernels(): SimdKernels | undefined {
  return loaded;
}

/** The backend's `WebAssembly.Memory` (threaded build: `wasmMemory`; single-threaded: `asm.memory`). */
function backendMemory(be: WasmBackend): WebAssembly.Memory | undefined {
  const m = be.wasm as unknown as {
    wasmMemory?: WebAssembly.Memory;
    asm?: { memory?: WebAssembly.Memory };
  };
  return m.wasmMemory ?? m.asm?.memory;
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  if (typeof atob === 'function') {
    const s = atob(b64);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  throw new Error('deepprob: no base64 decoder (atob) in this runtime');
}

/**
 * Instantiate the SIMD module on `backend`'s memory (idempotent per backend).
 *
 * @param backend the tfjs wasm backend.
 * @param threads threads of the tfjs build; with 2 or more (a shared memory), the GEMM gets a
 *   pool of as many threads (`pool.ts`).
 * @returns whether the SIMD kernels are active.
 */
export async function loadSimd(backend: WasmBackend, threads = 1): Promise<boolean> {
  if (loadedFor === backend && loaded !== undefined) return true;
  loaded = undefined;
  loadedFor = undefined;
  if (getEnv('DEEPPROB_SIMD') === '0') return false;
  const memory = backendMemory(backend);
  if (memory === undefined || typeof WebAssembly === 'undefined') return false;
  const shared =
    typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  try {
    const relaxed = relaxedSimdSupported();
    const bytes = decode(
      relaxed
        ? shared
          ? SIMD_WASM_RELAXED_SHARED
          : SIMD_WASM_RELAXED_PLAIN
        : shared
          ? SIMD_WASM_SHARED
          : SIMD_WASM_PLAIN,
    );
    const module = await WebAssembly.compile(bytes);
    const instance = await WebAssembly.instantiate(module, {
      env: { memory },
    });
    const t = zigguratTables();
    const tables = backend.wasm._malloc(t.byteLength);
    new Float64Array(memory.buffer, tables, t.length).set(t);
    const tfjsModule = backend.wasm as unknown as { tfjs?: { getThreadsCount?: () => number } };
    const backendThreads = tfjsModule.tfjs?.getThreadsCount?.() ?? 1;
    loaded = {
      fns: instance.exports as unknown as SimdExports,
      tables,
      relaxed,
      module,
      memory,
      backendThreads,
    };
    loadedFor = backend;
    startGemmPool(loaded, threads);
    return true;
  } catch (e) {
    if (getEnv('DEEPPROB_VERBOSE') !== undefined) {
      console.error(`deepprob: SIMD module not loaded (${String(e)})`);
    }
    return false;
  }
}

/** Forget the loaded module (tests; a new backend instance loads its own). */
export function unloadSimd(): void {
  loaded = undefined;
  loadedFor = undefined;
}
