/**
 * Worker threads for the SIMD module's GEMM: each worker instantiates the module on the same
 * shared `WebAssembly.Memory` as the threaded tfjs wasm build, so a call's rows or column panels
 * are computed in place by several threads at once.
 *
 * Synchronisation is one `Int32Array` on a `SharedArrayBuffer` per worker: the caller writes the
 * worker's arguments (a `Float64Array` beside it), bumps the job counter (slot 0) and
 * `Atomics.notify`s; it runs its own share, then `Atomics.wait`s until the worker has copied the
 * counter into slot 1. The workers block in `Atomics.wait` between jobs (no spinning), and are
 * unreferenced, so a process exits when its work is done.
 *
 * Node only for now (`process.getBuiltinModule('node:worker_threads')`, Node >= 20.16): a
 * browser's main thread may not block in `Atomics.wait`. Elsewhere, or with the single-threaded
 * tfjs build (its memory is not shared), or `DEEPPROB_SIMD_THREADS=1`, everything runs on the
 * calling thread.
 */
import { getEnv } from '../env.js';
import type { GemmLoopArgs, SimdKernels } from './loader.js';

/** A share of one GEMM call: rows `m0..m1` and column panels `p0..p1` of every batch item. */
export type GemmShare = [m0: number, m1: number, p0: number, p1: number];

/** The slice of `node:worker_threads` the pool uses. */
interface WorkerLike {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error', f: (e: unknown) => void): void;
}
interface WorkerThreads {
  Worker: new (
    source: string,
    options: { eval: true; workerData: unknown; resourceLimits?: Record<string, number> },
  ) => WorkerLike;
}

/** The module's functions the workers run (slot 3 of the control block is the index). */
const POOL_FNS = [
  'gemm',
  'im2col',
  'col2im_add',
  'relu',
  'softplus',
  'sigmoid',
  'relu_grad',
  'softplus_grad',
  'adam',
] as const;

/** The element-wise loops of the pool: `fn(pointers..., n, scalars...)`, element i by element i. */
export type ElementwiseFn = Extract<
  PoolFn,
  'relu' | 'softplus' | 'sigmoid' | 'relu_grad' | 'softplus_grad' | 'adam'
>;

/** A function of the module that the pool can share out. */
export type PoolFn = (typeof POOL_FNS)[number];

/** Most arguments of a pooled function (gemm's). */
const MAX_ARGS = 21;

/** The worker's program: instantiate the module, then run a job each time slot 0 changes. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctl, args, names } = workerData;
const exp = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = names.map((n) => exp[n]);
const c = new Int32Array(ctl);
const a = new Float64Array(args);
let seen = 0;
for (;;) {
  Atomics.wait(c, 0, seen, 1000);
  const s = Atomics.load(c, 0);
  if (s === seen) continue;
  seen = s;
  if (s < 0) break;
  try {
    fns[c[3]].apply(null, Array.from(a.subarray(0, c[4])));
  } catch (e) {
    Atomics.store(c, 2, 1);
  }
  Atomics.store(c, 1, s);
  Atomics.notify(c, 1);
}
`;

interface PoolWorker {
  worker: WorkerLike;
  ctl: Int32Array;
  args: Float64Array;
  failed: boolean;
}

interface Pool {
  kernels: SimdKernels;
  workers: PoolWorker[];
  seq: number;
}

let pool: Pool | undefined;

/** Threads a call is shared among (1 when no pool runs). */
export function gemmThreads(): number {
  return pool === undefined ? 1 : pool.workers.length + 1;
}

function workerThreads(): WorkerThreads | undefined {
  const proc = (
    globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; versions?: object } }
  ).process;
  if (proc?.getBuiltinModule === undefined) return undefined;
  try {
    return proc.getBuiltinModule('node:worker_threads') as WorkerThreads | undefined;
  } catch {
    return undefined;
  }
}

/**
 * Start `threads - 1` workers for the GEMM of the loaded module `k` (replacing any earlier pool).
 * Needs a shared memory (the threaded tfjs build) and Node's worker threads.
 *
 * @param k the SIMD module just loaded on the backend.
 * @param threads threads per GEMM call, the caller's included (`DEEPPROB_SIMD_THREADS` overrides).
 * @returns the number of threads that will share a call (1: no pool).
 */
export function startGemmPool(k: SimdKernels, threads: number): number {
  stopGemmPool();
  const env = getEnv('DEEPPROB_SIMD_THREADS');
  const want = env !== undefined && env !== '' ? Math.floor(Number(env)) : threads;
  if (!(want >= 2)) return 1;
  if (typeof SharedArrayBuffer === 'undefined' || !(k.memory.buffer instanceof SharedArrayBuffer)) {
    return 1;
  }
  const wt = workerThreads();
  if (wt === undefined) return 1;
  const workers: PoolWorker[] = [];
  try {
    for (let i = 1; i < Math.min(want, 8); i++) {
      const ctl = new SharedArrayBuffer(20);
      const args = new SharedArrayBuffer(8 * MAX_ARGS);
      const worker = new wt.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: k.module, memory: k.memory, ctl, args, names: [...POOL_FNS] },
      });
      const w: PoolWorker = {
        worker,
        ctl: new Int32Array(ctl),
        args: new Float64Array(args),
        failed: false,
      };
      worker.on('error', () => {
        w.failed = true;
      });
      worker.unref();
      workers.push(w);
    }
  } catch {
    for (const w of workers) void w.worker.terminate();
    return 1;
  }
  pool = { kernels: k, workers, seq: 0 };
  return workers.length + 1;
}

/** Stop the workers (tests; a new backend starts its own). */
export function stopGemmPool(): void {
  if (pool === undefined) return;
  for (const w of pool.workers) {
    Atomics.store(w.ctl, 0, -1);
    Atomics.notify(w.ctl, 0);
    void w.worker.terminate();
  }
  pool = undefined;
}

/**
 * How to cut a GEMM of `M` rows and `panels` column panels (of `mr` rows and 8 columns per
 * micro-tile) among `threads`: along the longer side (rows when `M >= 8 * panels`), in whole
 * micro-tiles, each share within one tile of the others; one share when the work (multiply-adds,
 * `work`) is too small to pay for a wake-up (~2^21, about 0.1 ms).
 */
export function splitGemm(
  M: number,
  panels: number,
  mr: number,
  threads: number,
  work: number,
): GemmShare[] {
  const tiles = Math.ceil(M / mr);
  const t = Math.min(threads, Math.max(tiles, panels));
  if (t < 2 || work < 2 ** 21) return [[0, M, 0, panels]];
  const rows = M >= 8 * panels ? tiles >= t : panels < t;
  const shares: GemmShare[] = [];
  for (let i = 0; i < t; i++) {
    if (rows) {
      const m0 = Math.min(M, Math.round((i * tiles) / t) * mr);
      const m1 = Math.min(M, Math.round(((i + 1) * tiles) / t) * mr);
      if (m1 > m0) shares.push([m0, m1, 0, panels]);
    } else {
      const p0 = Math.round((i * panels) / t);
      const p1 = Math.round(((i + 1) * panels) / t);
      if (p1 > p0) shares.push([0, M, p0, p1]);
    }
  }
  return shares;
}

/**
 * `[lo, hi)` ranges cutting `n` items (images) into up to `threads` parts of nearly equal size;
 * one part when the work (`work`, in element operations) is below ~2^16.
 */
export function splitRange(n: number, threads: number, work: number): [number, number][] {
  const t = work < 2 ** 16 ? 1 : Math.max(1, Math.min(threads, n));
  const out: [number, number][] = [];
  for (let i = 0; i < t; i++) {
    const lo = Math.round((i * n) / t);
    const hi = Math.round(((i + 1) * n) / t);
    if (hi > lo) out.push([lo, hi]);
  }
  return out;
}

/**
 * Run `fn` once per job, the first on this thread and the others on the pool's workers (at most
 * one job per thread: see {@link gemmThreads}), and return when all are done. The jobs must
 * write disjoint memory.
 *
 * @param k the loaded SIMD module.
 * @param fn the module function.
 * @param jobs the arguments of each call.
 */
export function runShares(k: SimdKernels, fn: PoolFn, jobs: number[][]): void {
  const f = k.fns[fn] as unknown as (...a: number[]) => void;
  const p = pool !== undefined && pool.kernels === k ? pool : undefined;
  if (jobs.length > (p === undefined ? 1 : p.workers.length + 1)) {
    throw new Error(`deepprob kernels: ${jobs.length} shares for ${gemmThreads()} thread(s)`);
  }
  if (p === undefined || jobs.length === 1) {
    for (const j of jobs) f(...j);
    return;
  }
  const seq = ++p.seq;
  const used = p.workers.slice(0, jobs.length - 1);
  used.forEach((w, i) => {
    const j = jobs[i + 1] as number[];
    w.args.set(j);
    w.ctl[3] = POOL_FNS.indexOf(fn);
    w.ctl[4] = j.length;
    Atomics.store(w.ctl, 0, seq);
    Atomics.notify(w.ctl, 0);
  });
  let error: unknown;
  try {
    f(...(jobs[0] as number[]));
  } catch (e) {
    error = e;
  }
  for (const w of used) {
    // a live worker answers within the time its share takes; a dead one never does
    for (let waited = 0; Atomics.load(w.ctl, 1) !== seq; waited++) {
      if (w.failed || waited > 120) {
        stopGemmPool();
        throw new Error('deepprob kernels: a SIMD worker thread stopped answering');
      }
      Atomics.wait(w.ctl, 1, Atomics.load(w.ctl, 1), 1000);
    }
    if (Atomics.exchange(w.ctl, 2, 0) !== 0) error ??= new Error(`deepprob kernels: ${fn} trapped`);
  }
  if (error !== undefined) throw error instanceof Error ? error : new Error(String(error));
}

/**
 * An element-wise loop `fn(pointers..., n, scalars...)` over `n` float32 elements, cut into one
 * contiguous range per thread (starts on 16-float boundaries) from 2^16 elements (256 KiB per
 * operand); below that, or without a pool, one call.
 *
 * @param k the loaded SIMD module.
 * @param fn the loop.
 * @param pointers byte offsets of its float32 arrays (inputs and outputs, each `n` long).
 * @param n elements.
 * @param scalars its trailing arguments.
 */
export function mapShared(
  k: SimdKernels,
  fn: ElementwiseFn,
  pointers: number[],
  n: number,
  scalars: number[] = [],
): void {
  const t = n < 2 ** 16 ? 1 : gemmThreads();
  const jobs: number[][] = [];
  for (let i = 0; i < t; i++) {
    const lo = i === 0 ? 0 : Math.min(n, Math.round((i * n) / t / 16) * 16);
    const hi = i === t - 1 ? n : Math.min(n, Math.round(((i + 1) * n) / t / 16) * 16);
    if (hi > lo) jobs.push([...pointers.map((p) => p + 4 * lo), hi - lo, ...scalars]);
  }
  runShares(k, fn, jobs);
}

/**
 * Run one GEMM call cut into shares ({@link splitGemm}): `make(shares)` returns each share's
 * `gemm` arguments (made after any scratch allocation); they run through {@link runShares}.
 *
 * @param k the loaded SIMD module.
 * @param M rows of C.
 * @param panels 8-column panels of C.
 * @param mr rows of a micro-tile.
 * @param work multiply-adds of the call (batch * M * N * K).
 * @param make the arguments of each share.
 */
export function runSplit(
  k: SimdKernels,
  M: number,
  panels: number,
  mr: number,
  work: number,
  make: (shares: GemmShare[]) => GemmLoopArgs[],
): void {
  const p = pool !== undefined && pool.kernels === k ? pool : undefined;
  const shares = splitGemm(M, panels, mr, p === undefined ? 1 : p.workers.length + 1, work);
  runShares(k, 'gemm', make(shares));
}
