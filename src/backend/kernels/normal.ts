/**
 * Fused kernels of the Normal distribution (one kernel instead of the 5-20 small element-wise
 * kernels of the composed ops, forward and backward). Each is a host loop (`host.ts`) on the wasm
 * and cpu backends, computing in float64 and rounding once to float32.
 *
 * Broadcasting is "cyclic": `loc` and `scale` hold either one value or one value per element of
 * a suffix of the output shape, so element `i` of the output reads `loc[i % loc.length]` and
 * `scale[i % scale.length]` (the ops in `normal_fused.ts` check the shapes before calling them).
 *
 * - `DeepprobNormalRsample` (loc, scale; seed, shape) -> (x, eps):
 *   `eps ~ N(0, 1)` drawn in the kernel, `x = loc + scale * eps`;
 *   `DeepprobNormalRsampleGrad` (dy, eps; scaleShape) -> `dscale_j = sum_{i % n = j} dy_i eps_i`.
 * - `DeepprobNormalLogProb` (x, loc, scale) -> `lp_i = -z_i^2 / 2 - log(scale) - log(2 pi) / 2`,
 *   `z_i = (x_i - loc) / scale`; `DeepprobNormalLogProbSum` -> the scalar `sum_i lp_i`
 *   (accumulated in float64).
 * - `DeepprobNormalLogProbGrad` (dy, x, loc, scale) -> (dx, dloc, dscale) with, per element,
 *   `dx = -g z / scale`, `dloc = g z / scale`, `dscale = g (z^2 - 1) / scale`, where `g` is `dy_i`
 *   (element-wise log-density) or the scalar `dy` (summed), and `dloc`, `dscale` are summed over
 *   the elements that share a parameter.
 */
import { fillNormal } from './random_normal.js';
import { hostKernel, type HostKernel } from './host.js';

export const NORMAL_RSAMPLE = 'DeepprobNormalRsample';
export const NORMAL_RSAMPLE_GRAD = 'DeepprobNormalRsampleGrad';
export const NORMAL_LOG_PROB = 'DeepprobNormalLogProb';
export const NORMAL_LOG_PROB_SUM = 'DeepprobNormalLogProbSum';
export const NORMAL_LOG_PROB_GRAD = 'DeepprobNormalLogProbGrad';

/** `log(2 pi) / 2`. */
export const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

const LN2 = Math.LN2;
const MANT = 1 / 8388608; // 2^-23

/**
 * `log(v)` of the float32 whose bit pattern is `bits`, accurate to about 1e-12 relative (far below
 * float32 rounding) and several times faster than `Math.log` in a loop:
 * `v = 2^e m`, `m` in `[sqrt(1/2), sqrt(2))`, `log v = e ln 2 + 2 atanh(f)`, `f = (m - 1)/(m + 1)`,
 * with the atanh series to `f^13` (`|f| <= 0.1716`). Zero, subnormal, negative, infinite and NaN
 * inputs take `Math.log` (exact IEEE semantics: `-Infinity`, `NaN`, ...).
 *
 * @param bits the float32 bit pattern (e.g. from an `Int32Array` view of a `Float32Array`).
 * @param v the same value as a number (used for the special cases).
 * @returns `log(v)` in float64.
 * @example
 * ```ts
 * const f = new Float32Array([2.5]);
 * logF32(new Int32Array(f.buffer)[0]!, f[0]!); // 0.9162907318741551
 * ```
 */
export function logF32(bits: number, v: number): number {
  const ef = (bits >>> 23) & 0xff;
  if (bits < 0 || ef === 0 || ef === 0xff) return Math.log(v);
  let e = ef - 127;
  let m = 1 + (bits & 0x7fffff) * MANT;
  if (m > Math.SQRT2) {
    m *= 0.5;
    e += 1;
  }
  const f = (m - 1) / (m + 1);
  const s = f * f;
  const p =
    1 + s * (1 / 3 + s * (1 / 5 + s * (1 / 7 + s * (1 / 9 + s * (1 / 11 + s * (1 / 13))))));
  return e * LN2 + 2 * f * p;
}

/** An `Int32Array` view of the bits of `a` (no copy). */
function bitsOf(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

const shapeOf = (t: { shape: number[] } | undefined): number[] =>
  (t as { shape: number[] }).shape;

/** `lp_i` (when `out` has one slot per element) or `sum_i lp_i` (into `out[0]`). */
function logProbLoop(
  x: Float32Array,
  loc: Float32Array,
  scale: Float32Array,
  out: Float32Array,
  summed: boolean,
): void {
  const n = x.length;
  const nl = loc.length;
  const ns = scale.length;
  const sb = bitsOf(scale);
  if (ns === 1) {
    // one scale: log once
    const s = scale[0]!;
    const inv = 1 / s;
    const c = logF32(sb[0]!, s) + HALF_LOG_2PI;
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const z = (x[i]! - (nl === n ? loc[i]! : loc[i % nl]!)) * inv;
      const v = -0.5 * z * z - c;
      if (summed) acc += v;
      else out[i] = v;
    }
    if (summed) out[0] = acc;
    return;
  }
  let acc = 0;
  if (nl === n && ns === n) {
    for (let i = 0; i < n; i++) {
      const s = scale[i]!;
      const z = (x[i]! - loc[i]!) / s;
      const v = -0.5 * z * z - logF32(sb[i]!, s) - HALF_LOG_2PI;
      if (summed) acc += v;
      else out[i] = v;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const j = i % ns;
      const s = scale[j]!;
      const z = (x[i]! - loc[i % nl]!) / s;
      const v = -0.5 * z * z - logF32(sb[j]!, s) - HALF_LOG_2PI;
      if (summed) acc += v;
      else out[i] = v;
    }
  }
  if (summed) out[0] = acc;
}

/** Forward and gradient of the fused reparameterized Normal sample. */
export const normalRsampleKernels: Record<string, HostKernel> = {
  [NORMAL_RSAMPLE]: hostKernel<{ seed: number; shape: number[] }>({
    inputs: ['loc', 'scale'],
    outputShapes: (_ins, { shape }) => [shape, shape],
    loop: ([loc, scale], [x, eps], { seed }) => {
      const l = loc as Float32Array;
      const s = scale as Float32Array;
      const e = eps as Float32Array;
      const o = x as Float32Array;
      fillNormal(e, seed);
      const n = o.length;
      const nl = l.length;
      const ns = s.length;
      if (nl === n && ns === n) {
        for (let i = 0; i < n; i++) o[i] = l[i]! + s[i]! * e[i]!;
      } else {
        for (let i = 0; i < n; i++) o[i] = l[i % nl]! + s[i % ns]! * e[i]!;
      }
    },
  }),
  [NORMAL_RSAMPLE_GRAD]: hostKernel<{ scaleShape: number[] }>({
    inputs: ['dy', 'eps'],
    outputShapes: (_ins, { scaleShape }) => [scaleShape],
    loop: ([dy, eps], [dscale]) => {
      const g = dy as Float32Array;
      const e = eps as Float32Array;
      const o = dscale as Float32Array;
      const n = g.length;
      const ns = o.length;
      if (ns === n) {
        for (let i = 0; i < n; i++) o[i] = g[i]! * e[i]!;
        return;
      }
      const acc = new Float64Array(ns);
      for (let i = 0; i < n; i++) {
        const j = i % ns;
        acc[j] = acc[j]! + g[i]! * e[i]!;
      }
      o.set(acc);
    },
  }),
};

/** Forward (element-wise and summed) and gradient of the fused Normal log-density. */
export const normalLogProbKernels: Record<string, HostKernel> = {
  [NORMAL_LOG_PROB]: hostKernel<Record<string, never>>({
    inputs: ['x', 'loc', 'scale'],
    outputShapes: (ins) => [shapeOf(ins[0])],
    loop: ([x, loc, scale], [out]) => {
      logProbLoop(x as Float32Array, loc as Float32Array, scale as Float32Array, out!, false);
    },
  }),
  [NORMAL_LOG_PROB_SUM]: hostKernel<Record<string, never>>({
    inputs: ['x', 'loc', 'scale'],
    outputShapes: () => [[]],
    loop: ([x, loc, scale], [out]) => {
      logProbLoop(x as Float32Array, loc as Float32Array, scale as Float32Array, out!, true);
    },
  }),
  [NORMAL_LOG_PROB_GRAD]: hostKernel<Record<string, never>>({
    inputs: ['dy', 'x', 'loc', 'scale'],
    outputShapes: (ins) => [shapeOf(ins[1]), shapeOf(ins[2]), shapeOf(ins[3])],
    loop: ([dy, x, loc, scale], [dx, dloc, dscale]) => {
      const g = dy as Float32Array;
      const xv = x as Float32Array;
      const l = loc as Float32Array;
      const s = scale as Float32Array;
      const ox = dx as Float32Array;
      const ol = dloc as Float32Array;
      const os = dscale as Float32Array;
      const n = xv.length;
      const nl = l.length;
      const ns = s.length;
      const g0 = g[0]!;
      const scalarG = g.length === 1;
      if (nl === n && ns === n) {
        for (let i = 0; i < n; i++) {
          const inv = 1 / s[i]!;
          const z = (xv[i]! - l[i]!) * inv;
          const gi = scalarG ? g0 : g[i]!;
          const d = gi * z * inv;
          ox[i] = -d;
          ol[i] = d;
          os[i] = gi * (z * z - 1) * inv;
        }
        return;
      }
      const al = new Float64Array(nl);
      const as = new Float64Array(ns);
      for (let i = 0; i < n; i++) {
        const j = i % ns;
        const inv = 1 / s[j]!;
        const z = (xv[i]! - l[i % nl]!) * inv;
        const gi = scalarG ? g0 : g[i]!;
        const d = gi * z * inv;
        ox[i] = -d;
        const k = i % nl;
        al[k] = al[k]! + d;
        as[j] = as[j]! + gi * (z * z - 1) * inv;
      }
      ol.set(al);
      os.set(as);
    },
  }),
};

/** All the fused Normal kernels (registered on wasm and cpu by the kernel pack). */
export const normalKernels: Record<string, HostKernel> = {
  ...normalRsampleKernels,
  ...normalLogProbKernels,
};
