/**
 * Fused kernels of the Normal distribution (one kernel instead of the 5-20 small element-wise
 * kernels of the composed ops, forward and backward). Each is a host loop (`host.ts`) on the wasm
 * and cpu backends, computing in float64 and rounding once to float32.
 *
 * Broadcasting is "cyclic": `loc` and `scale` hold either one value or one value per element of
 * a suffix of the output shape, so element `i` of the output reads `loc[i % loc.length]` and
 * `scale[i % scale.length]` (the ops in `normal_fused.ts` check the shapes before calling them).
 *
 * - `DeepprobNormalRsample` (loc, scale, eps) -> `x = loc + scale * eps`;
 *   `DeepprobNormalRsampleGrad` (dy, eps; scaleShape) -> `dscale_j = sum_{i % n_s = j} dy_i eps_i`.
 * - `DeepprobNormalLogProb` (x, loc, scale) -> `lp_i = -z_i^2 / 2 - log(scale) - log(2 pi) / 2`,
 *   `z_i = (x_i - loc) / scale`; `DeepprobNormalLogProbSum` -> the scalar `sum_i lp_i`
 *   (accumulated in float64).
 * - `DeepprobNormalLogProbGrad` (dy, x, loc, scale; wrt) -> one gradient of `sum_i dy_i lp_i`:
 *   `dx_i = -g_i z_i / scale` (wrt 0), `dloc = sum g_i z_i / scale` (wrt 1) or
 *   `dscale = sum g_i (z_i^2 - 1) / scale` (wrt 2), `g_i = dy_i` (element-wise log-density) or the
 *   scalar `dy` (summed), the sums running over the elements that share a parameter. One kernel
 *   per gradient, so that autodiff computes only those it needs (none for a constant prior).
 *
 * On wasm with the SIMD module loaded, the kernels run its `normal_*` functions
 * (`simd/normal_simd.c`, float32 SIMD with a vector log, sums in float64) when every operand has
 * 1 or n elements; otherwise these JavaScript loops.
 */
import { hostKernel, type HostKernel } from './host.js';

/** Kernel `x = loc + scale * eps` (inputs loc, scale, eps). */
export const NORMAL_RSAMPLE = 'DeepprobNormalRsample';
/** Kernel `dscale_j = sum_{i % n_s = j} dy_i eps_i` (inputs dy, eps; attr scaleShape). */
export const NORMAL_RSAMPLE_GRAD = 'DeepprobNormalRsampleGrad';
/** Kernel `lp_i = -((x_i - loc)/scale)^2/2 - log(scale) - log(2 pi)/2` (inputs x, loc, scale). */
export const NORMAL_LOG_PROB = 'DeepprobNormalLogProb';
/** Kernel `sum_i lp_i`, a scalar accumulated in float64 (inputs x, loc, scale). */
export const NORMAL_LOG_PROB_SUM = 'DeepprobNormalLogProbSum';
/** Kernel: the gradient of `sum_i dy_i lp_i` in x (attr wrt 0), loc (1) or scale (2). */
export const NORMAL_LOG_PROB_GRAD = 'DeepprobNormalLogProbGrad';

/** `log(2 pi) / 2`. */
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** Heap pointer of a view (the SIMD module takes byte offsets). */
const ptr = (a: Float32Array | undefined): number => (a as Float32Array).byteOffset;

/** Whether a parameter of `m` elements is indexed by the SIMD loops (one value or one per element). */
const simdParam = (m: number, n: number): boolean => m === 1 || m === n;

const shapeOf = (t: { shape: number[] } | undefined): number[] => (t as { shape: number[] }).shape;

/**
 * `sum_j log(s_j)` in float64 with one `Math.log` per four values: `log(s_a s_b s_c s_d)` (the
 * product of four float32 values > 0 neither overflows nor underflows float64 and is rounded
 * once). Groups holding a value that is not > 0 (zero, negative, NaN) take one log per value, so
 * `-Infinity`/`NaN` come out as from the element-wise sum.
 *
 * @param s the values.
 * @returns `sum_j log(s_j)`.
 * @example
 * ```ts
 * sumLog(new Float32Array([1, 2, 4, 8, 16])); // 10 ln 2
 * ```
 */
export function sumLog(s: Float32Array): number {
  const n = s.length;
  const m = n - (n % 4);
  let acc = 0;
  for (let i = 0; i < m; i += 4) {
    const a = s[i]!;
    const b = s[i + 1]!;
    const c = s[i + 2]!;
    const d = s[i + 3]!;
    if (a > 0 && b > 0 && c > 0 && d > 0) acc += Math.log(a * b * c * d);
    else acc += Math.log(a) + Math.log(b) + Math.log(c) + Math.log(d);
  }
  for (let i = m; i < n; i++) acc += Math.log(s[i]!);
  return acc;
}

/** `lp_i = -z_i^2/2 - log(scale) - log(2 pi)/2` into `out`. */
function logProbLoop(x: Float32Array, loc: Float32Array, scale: Float32Array, out: Float32Array) {
  const n = x.length;
  const nl = loc.length;
  const ns = scale.length;
  if (nl === n && ns === n) {
    for (let i = 0; i < n; i++) {
      const s = scale[i]!;
      const z = (x[i]! - loc[i]!) / s;
      out[i] = -0.5 * z * z - Math.log(s) - HALF_LOG_2PI;
    }
  } else if (ns === 1) {
    const inv = 1 / scale[0]!;
    const c = Math.log(scale[0]!) + HALF_LOG_2PI;
    for (let i = 0; i < n; i++) {
      const z = (x[i]! - loc[i % nl]!) * inv;
      out[i] = -0.5 * z * z - c;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const s = scale[i % ns]!;
      const z = (x[i]! - loc[i % nl]!) / s;
      out[i] = -0.5 * z * z - Math.log(s) - HALF_LOG_2PI;
    }
  }
}

/**
 * `sum_i lp_i = -1/2 sum_i z_i^2 - (n / n_s) sum_j log(scale_j) - n log(2 pi)/2` (each scale is
 * shared by `n / n_s` elements), accumulated in float64.
 */
function logProbSumLoop(x: Float32Array, loc: Float32Array, scale: Float32Array): number {
  const n = x.length;
  const nl = loc.length;
  const ns = scale.length;
  let sq = 0;
  if (nl === n && ns === n) {
    for (let i = 0; i < n; i++) {
      const z = (x[i]! - loc[i]!) / scale[i]!;
      sq += z * z;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const z = (x[i]! - loc[i % nl]!) / scale[i % ns]!;
      sq += z * z;
    }
  }
  const logs = n === 0 ? 0 : (n / ns) * sumLog(scale);
  return -0.5 * sq - logs - n * HALF_LOG_2PI;
}

/** `x_i = loc[i % n_l] + scale[i % n_s] * eps_i`. */
function rsampleLoop(loc: Float32Array, scale: Float32Array, eps: Float32Array, x: Float32Array) {
  const n = x.length;
  const nl = loc.length;
  const ns = scale.length;
  if (nl === n && ns === n) {
    for (let i = 0; i < n; i++) x[i] = loc[i]! + scale[i]! * eps[i]!;
  } else {
    for (let i = 0; i < n; i++) x[i] = loc[i % nl]! + scale[i % ns]! * eps[i]!;
  }
}

/** `dscale_j = sum_{i % n_s = j} dy_i eps_i`. */
function rsampleGradLoop(dy: Float32Array, eps: Float32Array, dscale: Float32Array) {
  const n = dy.length;
  const ns = dscale.length;
  if (ns === n) {
    for (let i = 0; i < n; i++) dscale[i] = dy[i]! * eps[i]!;
    return;
  }
  const acc = new Float64Array(ns);
  for (let i = 0; i < n; i++) {
    const j = i % ns;
    acc[j] = acc[j]! + dy[i]! * eps[i]!;
  }
  dscale.set(acc);
}

/** Forward and gradient of the fused reparameterized Normal sample. */
export const normalRsampleKernels: Record<string, HostKernel> = {
  [NORMAL_RSAMPLE]: hostKernel<Record<string, never>>({
    inputs: ['loc', 'scale', 'eps'],
    outputShapes: (ins) => [shapeOf(ins[2])],
    loop: ([loc, scale, eps], [x]) => rsampleLoop(loc!, scale!, eps!, x!),
    simd: (k, [loc, scale, eps], [x]) => {
      const [n, nl, ns] = [eps!.length, loc!.length, scale!.length];
      if (simdParam(nl, n) && simdParam(ns, n)) {
        k.fns.normal_rsample(ptr(loc), nl, ptr(scale), ns, ptr(eps), ptr(x), n);
      } else {
        rsampleLoop(loc!, scale!, eps!, x!);
      }
    },
  }),
  [NORMAL_RSAMPLE_GRAD]: hostKernel<{ scaleShape: number[] }>({
    inputs: ['dy', 'eps'],
    outputShapes: (_ins, { scaleShape }) => [scaleShape],
    loop: ([dy, eps], [dscale]) => rsampleGradLoop(dy!, eps!, dscale!),
  }),
};

/**
 * One gradient of `sum_i g_i lp_i` (`g_i = dy_i`, or `dy_0` when `dy` has one element):
 * `-g_i z_i / s` (wrt 0, per element), `g_i z_i / s` (wrt 1) or `g_i (z_i^2 - 1) / s` (wrt 2),
 * summed in float64 over the elements sharing a parameter (`out` has the parameter's length).
 */
function logProbGradLoop(
  dy: Float32Array,
  x: Float32Array,
  loc: Float32Array,
  scale: Float32Array,
  out: Float32Array,
  wrt: number,
): void {
  const n = x.length;
  const nl = loc.length;
  const ns = scale.length;
  const no = out.length;
  const g0 = dy[0]!;
  const scalarG = dy.length === 1;
  if (no === n && nl === n && ns === n) {
    // the common case (one parameter per element), without index arithmetic
    for (let i = 0; i < n; i++) {
      const inv = 1 / scale[i]!;
      const z = (x[i]! - loc[i]!) * inv;
      const g = scalarG ? g0 : dy[i]!;
      out[i] = wrt === 0 ? -g * z * inv : wrt === 1 ? g * z * inv : g * (z * z - 1) * inv;
    }
    return;
  }
  const acc = new Float64Array(no);
  for (let i = 0; i < n; i++) {
    const inv = 1 / scale[ns === n ? i : i % ns]!;
    const z = (x[i]! - loc[nl === n ? i : i % nl]!) * inv;
    const g = scalarG ? g0 : dy[i]!;
    const t = wrt === 0 ? -g * z * inv : wrt === 1 ? g * z * inv : g * (z * z - 1) * inv;
    const j = no === n ? i : i % no;
    acc[j] = acc[j]! + t;
  }
  out.set(acc);
}

/** Forward (element-wise and summed) and gradient of the fused Normal log-density. */
export const normalLogProbKernels: Record<string, HostKernel> = {
  [NORMAL_LOG_PROB]: hostKernel<Record<string, never>>({
    inputs: ['x', 'loc', 'scale'],
    outputShapes: (ins) => [shapeOf(ins[0])],
    loop: ([x, loc, scale], [out]) => logProbLoop(x!, loc!, scale!, out!),
    simd: (k, [x, loc, scale], [out]) => {
      const [n, nl, ns] = [x!.length, loc!.length, scale!.length];
      const done =
        simdParam(nl, n) &&
        simdParam(ns, n) &&
        k.fns.normal_log_prob(ptr(x), ptr(loc), nl, ptr(scale), ns, ptr(out), n) === 0;
      if (!done) logProbLoop(x!, loc!, scale!, out!);
    },
  }),
  [NORMAL_LOG_PROB_SUM]: hostKernel<Record<string, never>>({
    inputs: ['x', 'loc', 'scale'],
    outputShapes: () => [[]],
    loop: ([x, loc, scale], [out]) => {
      out![0] = logProbSumLoop(x!, loc!, scale!);
    },
    simd: (k, [x, loc, scale], [out]) => {
      const [n, nl, ns] = [x!.length, loc!.length, scale!.length];
      const done =
        simdParam(nl, n) &&
        simdParam(ns, n) &&
        k.fns.normal_log_prob_sum(ptr(x), ptr(loc), nl, ptr(scale), ns, ptr(out), n) === 0;
      if (!done) out![0] = logProbSumLoop(x!, loc!, scale!);
    },
  }),
  [NORMAL_LOG_PROB_GRAD]: hostKernel<{ wrt: number }>({
    inputs: ['dy', 'x', 'loc', 'scale'],
    outputShapes: (ins, { wrt }) => [shapeOf(ins[wrt + 1])],
    loop: ([dy, x, loc, scale], [out], { wrt }) =>
      logProbGradLoop(dy!, x!, loc!, scale!, out!, wrt),
    simd: (k, [dy, x, loc, scale], [out], { wrt }) => {
      const [n, nd, nl, ns, no] = [x!.length, dy!.length, loc!.length, scale!.length, out!.length];
      if ([nd, nl, ns, no].every((m) => simdParam(m, n))) {
        k.fns.normal_log_prob_grad(
          ptr(dy),
          nd,
          ptr(x),
          ptr(loc),
          nl,
          ptr(scale),
          ns,
          ptr(out),
          no,
          n,
          wrt,
        );
      } else {
        logProbGradLoop(dy!, x!, loc!, scale!, out!, wrt);
      }
    },
  }),
};

/** All the fused Normal kernels (registered on wasm and cpu by the kernel pack). */
export const normalKernels: Record<string, HostKernel> = {
  ...normalRsampleKernels,
  ...normalLogProbKernels,
};
