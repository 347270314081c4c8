/**
 * Host-side (float64) samplers for the families whose tfjs sampler is missing or scalar-only
 * (`tf.randomGamma` takes one scalar alpha; tfjs has no Poisson sampler), driven by the seeded
 * uniform stream of `makeRng`, plus the implicit reparameterization gradient of a Gamma draw.
 *
 * Why host-side: rejection samplers need per-element loops, and float64 keeps the implicit
 * gradient `dx/dalpha = -(dF/dalpha)(x; alpha) / f(x; alpha)` accurate (Figurnov et al., 2018).
 */
import * as tf from '@tensorflow/tfjs';
import { broadcastTo } from '../utils/tensor.js';
import { makeRng } from '../utils/seed.js';

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** `log Gamma(x)` in float64 for `x > 0` (Lanczos, g = 7; relative error ~1e-15). */
export function lgamma64(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma64(1 - x);
  const z = x - 1;
  let s = LANCZOS[0] as number;
  for (let i = 1; i < 9; i++) s += (LANCZOS[i] as number) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Regularized lower incomplete gamma `P(a, x)` in float64 (series / continued fraction). */
export function gammaP64(a: number, x: number): number {
  if (x <= 0) return 0;
  const logPre = a * Math.log(x) - x - lgamma64(a);
  const maxIter = 10000;
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let i = 0; i < maxIter; i++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-16) break;
    }
    return sum * Math.exp(logPre);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < maxIter; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return 1 - Math.exp(logPre) * h;
}

/** A standard normal draw from a uniform stream (Box–Muller; one of the pair is discarded). */
function normal(rng: () => number): number {
  const u1 = 1 - rng(); // (0, 1]
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** One Gamma(alpha, 1) draw: Marsaglia–Tsang (2000), with the alpha < 1 boost `G(a+1) U^(1/a)`. */
export function standardGammaDraw(alpha: number, rng: () => number): number {
  if (alpha < 1) {
    const g = standardGammaDraw(alpha + 1, rng);
    return Math.exp(Math.log(g) + Math.log(1 - rng()) / alpha);
  }
  const d = alpha - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * Implicit reparameterization gradient of a standard Gamma draw,
 * `dx/dalpha = -(dP/dalpha)(alpha, x) / f(x; alpha)`, with `dP/dalpha` by a float64 central
 * difference (relative error ~1e-9) and `f` the Gamma(alpha, 1) density.
 */
export function gammaDrawGrad(alpha: number, x: number): number {
  if (!(x > 0)) return 0;
  const h = 1e-5 * Math.max(1, alpha);
  const lo = Math.max(alpha - h, alpha / 2);
  const dP = (gammaP64(alpha + h, x) - gammaP64(lo, x)) / (alpha + h - lo);
  const logF = (alpha - 1) * Math.log(x) - x - lgamma64(alpha);
  const g = -dP * Math.exp(-logF);
  return Number.isFinite(g) ? g : 0;
}

/** The smallest positive normal float32: draws are clamped to it so that `log x` stays finite. */
const TINY32 = 1.1754943508222875e-38;

/**
 * Reparameterized Gamma(alpha, 1) draws of shape `[...shape, ...alpha.shape]`, differentiable in
 * `alpha` by the implicit gradient. `alpha` must be > 0.
 */
export function standardGammaRsample(alpha: tf.Tensor, shape: number[], seed: number): tf.Tensor {
  const full = [...shape, ...alpha.shape];
  if (full.some((d) => d === 0)) return tf.zeros(full);
  const alphaFull = broadcastTo(alpha, full);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const a = args[0] as tf.Tensor;
    const av = a.dataSync();
    const rng = makeRng(seed);
    const xs = new Float64Array(av.length);
    const out = new Float32Array(av.length);
    for (let i = 0; i < av.length; i++) {
      const x = standardGammaDraw(av[i] as number, rng);
      xs[i] = x;
      out[i] = Math.max(x, TINY32);
    }
    return {
      value: tf.tensor(out, a.shape, 'float32'),
      gradFunc: (dy: tf.Tensor) => {
        const g = new Float32Array(av.length);
        for (let i = 0; i < av.length; i++) g[i] = gammaDrawGrad(av[i] as number, xs[i] as number);
        return tf.mul(dy, tf.tensor(g, a.shape, 'float32'));
      },
    };
  });
  return f(alphaFull);
}

/** One Poisson(lam) draw: Knuth's product method for lam < 10, else PTRS (Hörmann, 1993). */
export function poissonDraw(lam: number, rng: () => number): number {
  if (lam <= 0) return 0;
  if (lam < 10) {
    const L = Math.exp(-lam);
    let k = 0;
    let p = rng();
    while (p > L) {
      k++;
      p *= rng();
    }
    return k;
  }
  const slam = Math.sqrt(lam);
  const loglam = Math.log(lam);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = rng() - 0.5;
    const V = rng();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor(((2 * a) / us + b) * U + lam + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (
      Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <=
      -lam + k * loglam - lgamma64(k + 1)
    ) {
      return k;
    }
  }
}

/** Poisson draws of shape `[...shape, ...rate.shape]` (float32, no gradient). */
export function poissonSample(rate: tf.Tensor, shape: number[], seed: number): tf.Tensor {
  return tf.tidy(() => {
    const full = [...shape, ...rate.shape];
    if (full.some((d) => d === 0)) return tf.zeros(full);
    const lv = broadcastTo(rate, full).dataSync();
    const rng = makeRng(seed);
    const out = new Float32Array(lv.length);
    for (let i = 0; i < lv.length; i++) out[i] = poissonDraw(lv[i] as number, rng);
    return tf.tensor(out, full, 'float32');
  });
}

/**
 * One Binomial(n, p) draw by geometric waiting times (exact; expected `n min(p, 1-p) + 1` uniform
 * draws): the gaps between successes are Geometric(p), counted until they pass `n` trials.
 */
export function binomialDraw(n: number, p: number, rng: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomialDraw(n, 1 - p, rng);
  const logq = Math.log1p(-p);
  let k = 0;
  let pos = 0;
  for (;;) {
    pos += Math.floor(Math.log(1 - rng()) / logq) + 1;
    if (pos > n) return k;
    k++;
  }
}
