/**
 * Fused kernels of the mean-field Gaussian variational estimators (one kernel instead of the
 * 4-20 small element-wise kernels of the composed ops, forward and backward). Each is a host loop
 * (`host.ts`) computing in float64 and rounding once to float32, on the wasm and cpu backends.
 *
 * - `DeepprobSoftplusReparam` (mu, rho, eps) -> `w = mu + softplus(rho) * eps`; its gradient
 *   kernel `DeepprobSoftplusReparamGrad` (dy, eps, rho) -> `dy * eps * sigmoid(rho)` (= dL/drho).
 * - `DeepprobKLSoftplusNormal` (mu, rho, centre; priorSigma) -> scalar
 *   `sum_i log(s_p / s_i) + (s_i^2 + (mu_i - c_i)^2) / (2 s_p^2) - 1/2`, `s_i = softplus(rho_i)`,
 *   `c` a scalar or one prior mean per weight; its gradient kernels `DeepprobKLNormalGradMu`
 *   (dy, mu, centre) -> `dy (mu - c) / s_p^2` and `DeepprobKLSoftplusGradRho` (dy, rho) ->
 *   `dy (s / s_p^2 - 1 / s) sigmoid(rho)`.
 * - `DeepprobSoftplusSquare` (rho) -> `softplus(rho)^2` (the posterior variances);
 *   `DeepprobSoftplusSquareGrad` (dy, rho) -> `2 dy softplus(rho) sigmoid(rho)`.
 * - `DeepprobLocalReparam` (mean, variance; seed, floor) -> (out, eps):
 *   `out = mean + sqrt(max(variance, floor)) * eps`; `DeepprobLocalReparamGrad`
 *   (dy, eps, variance; floor) -> `dy * eps / (2 sqrt(variance))` where `variance >= floor`, else 0
 *   (the subgradient of `tf.maximum`, as the composed op).
 */
import { fillNormal } from './random_normal.js';
import { hostKernel, type HostKernel } from './host.js';

export const SOFTPLUS_REPARAM = 'DeepprobSoftplusReparam';
export const SOFTPLUS_REPARAM_GRAD = 'DeepprobSoftplusReparamGrad';
export const KL_SOFTPLUS_NORMAL = 'DeepprobKLSoftplusNormal';
export const KL_NORMAL_GRAD_MU = 'DeepprobKLNormalGradMu';
export const KL_SOFTPLUS_GRAD_RHO = 'DeepprobKLSoftplusGradRho';
export const SOFTPLUS_SQUARE = 'DeepprobSoftplusSquare';
export const SOFTPLUS_SQUARE_GRAD = 'DeepprobSoftplusSquareGrad';
export const LOCAL_REPARAM = 'DeepprobLocalReparam';
export const LOCAL_REPARAM_GRAD = 'DeepprobLocalReparamGrad';

/** `softplus(r) = log(1 + e^r)` in float64 (exact branch for large `r`). */
export function softplus64(r: number): number {
  return r > 36 ? r : Math.log1p(Math.exp(r));
}

/** `sigmoid(r) = 1 / (1 + e^-r)` in float64, stable for both signs. */
export function sigmoid64(r: number): number {
  if (r >= 0) return 1 / (1 + Math.exp(-r));
  const e = Math.exp(r);
  return e / (1 + e);
}

/** Heap pointer of a view (the SIMD module takes byte offsets). */
const p = (a: Float32Array | undefined): number => (a as Float32Array).byteOffset;

const same = (ts: { shape: number[] }[]): number[][] => [(ts[0] as { shape: number[] }).shape];

/** Forward and gradient of the fused reparameterized sample. */
export const softplusReparamKernels: Record<string, HostKernel> = {
  [SOFTPLUS_REPARAM]: hostKernel<Record<string, never>>({
    inputs: ['mu', 'rho', 'eps'],
    outputShapes: same,
    loop: ([mu, rho, eps], [w]) => {
      const m = mu as Float32Array;
      const r = rho as Float32Array;
      const e = eps as Float32Array;
      const o = w as Float32Array;
      for (let i = 0; i < o.length; i++) o[i] = m[i]! + softplus64(r[i]!) * e[i]!;
    },
    simd: (k, [mu, rho, eps], [w]) => {
      k.fns.softplus_reparam(p(mu), p(rho), p(eps), p(w), (w as Float32Array).length);
    },
  }),
  [SOFTPLUS_REPARAM_GRAD]: hostKernel<Record<string, never>>({
    inputs: ['dy', 'eps', 'rho'],
    outputShapes: same,
    loop: ([dy, eps, rho], [out]) => {
      const g = dy as Float32Array;
      const e = eps as Float32Array;
      const r = rho as Float32Array;
      const o = out as Float32Array;
      for (let i = 0; i < o.length; i++) o[i] = g[i]! * e[i]! * sigmoid64(r[i]!);
    },
    simd: (k, [dy, eps, rho], [out]) => {
      k.fns.softplus_reparam_grad(p(dy), p(eps), p(rho), p(out), (out as Float32Array).length);
    },
  }),
};

/** Forward and gradient of the fused analytic KL to a Normal prior. */
export const klSoftplusNormalKernels: Record<string, HostKernel> = {
  [KL_SOFTPLUS_NORMAL]: hostKernel<{ priorSigma: number }>({
    inputs: ['mu', 'rho', 'centre'],
    outputShapes: () => [[]],
    loop: ([mu, rho, centre], [out], { priorSigma }) => {
      const m = mu as Float32Array;
      const r = rho as Float32Array;
      const c = centre as Float32Array;
      const scalar = c.length === 1;
      const c0 = c[0]!;
      const inv2v = 1 / (2 * priorSigma * priorSigma);
      let acc = 0;
      for (let i = 0; i < m.length; i++) {
        const s = softplus64(r[i]!);
        const d = m[i]! - (scalar ? c0 : c[i]!);
        acc += (s * s + d * d) * inv2v - Math.log(s);
      }
      (out as Float32Array)[0] = acc + m.length * (Math.log(priorSigma) - 0.5);
    },
    simd: (k, [mu, rho, centre], [out], { priorSigma }) => {
      const n = (mu as Float32Array).length;
      const clen = (centre as Float32Array).length;
      (out as Float32Array)[0] = k.fns.kl_softplus_normal(
        p(mu),
        p(rho),
        p(centre),
        clen,
        n,
        priorSigma,
      );
    },
  }),
  [KL_NORMAL_GRAD_MU]: hostKernel<{ priorSigma: number }>({
    inputs: ['dy', 'mu', 'centre'],
    outputShapes: (ins) => [(ins[1] as { shape: number[] }).shape],
    loop: ([dy, mu, centre], [dmu], { priorSigma }) => {
      const g = (dy as Float32Array)[0]! / (priorSigma * priorSigma);
      const m = mu as Float32Array;
      const c = centre as Float32Array;
      const o = dmu as Float32Array;
      const scalar = c.length === 1;
      const c0 = c[0]!;
      for (let i = 0; i < m.length; i++) o[i] = g * (m[i]! - (scalar ? c0 : c[i]!));
    },
    simd: (k, [dy, mu, centre], [dmu], { priorSigma }) => {
      const g = (dy as Float32Array)[0]!;
      const n = (mu as Float32Array).length;
      const clen = (centre as Float32Array).length;
      k.fns.kl_normal_grad_mu(g, p(mu), p(centre), clen, p(dmu), n, priorSigma);
    },
  }),
  [KL_SOFTPLUS_GRAD_RHO]: hostKernel<{ priorSigma: number }>({
    inputs: ['dy', 'rho'],
    outputShapes: (ins) => [(ins[1] as { shape: number[] }).shape],
    loop: ([dy, rho], [drho], { priorSigma }) => {
      const g = (dy as Float32Array)[0]!;
      const r = rho as Float32Array;
      const o = drho as Float32Array;
      const invV = 1 / (priorSigma * priorSigma);
      for (let i = 0; i < r.length; i++) {
        const ri = r[i]!;
        const s = softplus64(ri);
        o[i] = g * (s * invV - 1 / s) * sigmoid64(ri);
      }
    },
    simd: (k, [dy, rho], [drho], { priorSigma }) => {
      const g = (dy as Float32Array)[0]!;
      k.fns.kl_softplus_grad_rho(g, p(rho), p(drho), (rho as Float32Array).length, priorSigma);
    },
  }),
};

/** Forward and gradient of the posterior variance `softplus(rho)^2`. */
export const softplusSquareKernels: Record<string, HostKernel> = {
  [SOFTPLUS_SQUARE]: hostKernel<Record<string, never>>({
    inputs: ['rho'],
    outputShapes: same,
    loop: ([rho], [out]) => {
      const r = rho as Float32Array;
      const o = out as Float32Array;
      for (let i = 0; i < o.length; i++) {
        const s = softplus64(r[i]!);
        o[i] = s * s;
      }
    },
    simd: (k, [rho], [out]) => k.fns.softplus_square(p(rho), p(out), (out as Float32Array).length),
  }),
  [SOFTPLUS_SQUARE_GRAD]: hostKernel<Record<string, never>>({
    inputs: ['dy', 'rho'],
    outputShapes: same,
    loop: ([dy, rho], [out]) => {
      const g = dy as Float32Array;
      const r = rho as Float32Array;
      const o = out as Float32Array;
      for (let i = 0; i < o.length; i++) o[i] = 2 * g[i]! * softplus64(r[i]!) * sigmoid64(r[i]!);
    },
    simd: (k, [dy, rho], [out]) =>
      k.fns.softplus_square_grad(p(dy), p(rho), p(out), (out as Float32Array).length),
  }),
};

/** Forward and gradient of the fused local-reparameterization output. */
export const localReparamKernels: Record<string, HostKernel> = {
  [LOCAL_REPARAM]: hostKernel<{ seed: number; floor: number }>({
    inputs: ['mean', 'variance'],
    outputShapes: (ins) => {
      const s = (ins[0] as { shape: number[] }).shape;
      return [s, s];
    },
    loop: ([mean, variance], [out, eps], { seed, floor }) => {
      const m = mean as Float32Array;
      const v = variance as Float32Array;
      const e = eps as Float32Array;
      const o = out as Float32Array;
      fillNormal(e, seed);
      for (let i = 0; i < o.length; i++) {
        const vi = v[i]!;
        o[i] = m[i]! + Math.sqrt(vi >= floor ? vi : floor) * e[i]!;
      }
    },
    simd: (k, [mean, variance], [out, eps], { seed, floor }) => {
      const n = (out as Float32Array).length;
      k.fns.local_reparam(p(mean), p(variance), p(out), p(eps), n, seed, floor, k.tables);
    },
  }),
  [LOCAL_REPARAM_GRAD]: hostKernel<{ floor: number }>({
    inputs: ['dy', 'eps', 'variance'],
    outputShapes: same,
    loop: ([dy, eps, variance], [out], { floor }) => {
      const g = dy as Float32Array;
      const e = eps as Float32Array;
      const v = variance as Float32Array;
      const o = out as Float32Array;
      for (let i = 0; i < o.length; i++) {
        const vi = v[i]!;
        o[i] = vi >= floor ? (0.5 * g[i]! * e[i]!) / Math.sqrt(vi) : 0;
      }
    },
    simd: (k, [dy, eps, variance], [out], { floor }) => {
      const n = (out as Float32Array).length;
      k.fns.local_reparam_grad(p(dy), p(eps), p(variance), p(out), n, floor);
    },
  }),
};
