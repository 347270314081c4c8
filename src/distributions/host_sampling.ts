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
import { logGammaincPQ64 } from './incomplete_inverse.js';

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

/** Regularized lower incomplete gamma `P(a, x)` in float64 (`incomplete_inverse.ts` `logGammaincPQ64`). */
export function gammaP64(a: number, x: number): number {
  if (x <= 0) return 0;
  return gammaPLog64(a, Math.log(x));
}

/**
 * `P(a, x)` in float64 from `log x`, so that `x` may lie below the smallest double (a Gamma
 * draw with a tiny shape, `x = G(a+1) U^(1/a)`, is often `exp(-1000)` or less).
 */
function gammaPLog64(a: number, logX: number): number {
  return Math.exp(logGammaincPQ64(a, logX)[0]);
}

/** A standard normal draw from a uniform stream (Box–Muller; one of the pair is discarded). */
function normal(rng: () => number): number {
  const u1 = 1 - rng(); // (0, 1]
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** One Gamma(alpha, 1) draw: Marsaglia–Tsang (2000), with the alpha < 1 boost `G(a+1) U^(1/a)`. */
export function standardGammaDraw(alpha: number, rng: () => number): number {
  return Math.exp(standardGammaLogDraw(alpha, rng));
}

/**
 * The log of one Gamma(alpha, 1) draw (the same uniforms as {@link standardGammaDraw}): finite
 * even where the draw itself underflows, which happens often for `alpha` below ~0.05.
 */
export function standardGammaLogDraw(alpha: number, rng: () => number): number {
  if (alpha < 1) {
    const logG = standardGammaLogDraw(alpha + 1, rng);
    return logG + Math.log(1 - rng()) / alpha;
  }
  return Math.log(marsagliaTsang(alpha, rng));
}

/** Marsaglia–Tsang's squeeze-and-reject Gamma(alpha, 1) draw for `alpha >= 1`. */
function marsagliaTsang(alpha: number, rng: () => number): number {
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

/**
 * `d log x / d alpha` of a standard Gamma draw given as `log x` (the implicit gradient of
 * {@link gammaDrawGrad} divided by `x`, computed in log space so that it stays finite where `x`
 * underflows).
 */
export function gammaDrawLogGrad(alpha: number, logX: number): number {
  if (!Number.isFinite(logX)) return 0;
  const h = 1e-5 * Math.max(1, alpha);
  const lo = Math.max(alpha - h, alpha / 2);
  const dP = (gammaPLog64(alpha + h, logX) - gammaPLog64(lo, logX)) / (alpha + h - lo);
  const logXF = alpha * logX - Math.exp(logX) - lgamma64(alpha); // log(x f(x; alpha))
  const g = -dP * Math.exp(-logXF);
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

/** The largest float32 below 1: Beta draws are clamped to `[TINY32, ONE_BELOW32]`. */
const ONE_BELOW32 = 1 - 2 ** -24;

/** Log-Gamma draws of each element of `alpha` (`full` entries), from one seeded stream. */
function logGammaDraws(alpha: ArrayLike<number>, seed: number): Float64Array {
  const rng = makeRng(seed);
  const out = new Float64Array(alpha.length);
  for (let i = 0; i < alpha.length; i++) out[i] = standardGammaLogDraw(alpha[i] as number, rng);
  return out;
}

/**
 * Reparameterized Dirichlet draws of shape `[...shape, ...concentration.shape]`: independent
 * `G_j ~ Gamma(alpha_j, 1)` normalized, `x = G / sum G`, computed from `log G` in float64 (a
 * softmax) so that rows whose draws all underflow (tiny concentrations) keep their true,
 * near-vertex values instead of ties; components are clamped to the smallest normal float32.
 * The gradient is the implicit one (Figurnov et al., 2018):
 *
 * $$\frac{\partial x_i}{\partial\alpha_j} = x_i(\delta_{ij} - x_j)\,
 *   \frac{\partial\log G_j}{\partial\alpha_j}.$$
 */
export function dirichletRsample(
  concentration: tf.Tensor,
  shape: number[],
  seed: number,
): tf.Tensor {
  const full = [...shape, ...concentration.shape];
  if (full.some((d) => d === 0)) return tf.zeros(full);
  const k = full[full.length - 1] as number;
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const a = args[0] as tf.Tensor;
    const av = a.dataSync();
    const logG = logGammaDraws(av, seed);
    const xs = new Float64Array(av.length);
    const out = new Float32Array(av.length);
    for (let r = 0; r < av.length; r += k) {
      let mx = -Infinity;
      for (let j = 0; j < k; j++) mx = Math.max(mx, logG[r + j] as number);
      let sum = 0;
      for (let j = 0; j < k; j++) sum += Math.exp((logG[r + j] as number) - mx);
      for (let j = 0; j < k; j++) {
        const x = Math.exp((logG[r + j] as number) - mx) / sum;
        xs[r + j] = x;
        out[r + j] = Math.max(x, TINY32);
      }
    }
    return {
      value: tf.tensor(out, a.shape, 'float32'),
      gradFunc: (dy: tf.Tensor) => {
        const dyv = dy.dataSync();
        const g = new Float32Array(av.length);
        for (let r = 0; r < av.length; r += k) {
          let dot = 0;
          for (let i = 0; i < k; i++) dot += (dyv[r + i] as number) * (xs[r + i] as number);
          for (let j = 0; j < k; j++) {
            const dlg = gammaDrawLogGrad(av[r + j] as number, logG[r + j] as number);
            g[r + j] = (xs[r + j] as number) * ((dyv[r + j] as number) - dot) * dlg;
          }
        }
        return tf.tensor(g, a.shape, 'float32');
      },
    };
  });
  return tf.tidy(() => f(broadcastTo(concentration, full)));
}

/**
 * Reparameterized Beta(a, b) draws `x = G_a / (G_a + G_b)` of shape `[...shape, ...batch]`
 * (`a`, `b` already broadcast to the batch shape), `G_a` from the stream `seedA` and `G_b` from
 * `seedB`, computed as `sigmoid(log G_a - log G_b)` in float64 so that draws whose Gammas both
 * underflow (tiny concentrations) stay near 0 or 1 instead of tying at 1/2; clamped to
 * `[1.2e-38, 1 - 2^-24]`. Implicit gradient:
 * `dx/da = x(1-x) dlog G_a/da`, `dx/db = -x(1-x) dlog G_b/db`.
 */
export function betaRsample(
  a: tf.Tensor,
  b: tf.Tensor,
  shape: number[],
  seedA: number,
  seedB: number,
): tf.Tensor {
  const full = [...shape, ...a.shape];
  if (full.some((d) => d === 0)) return tf.zeros(full);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const at = args[0] as tf.Tensor;
    const bt = args[1] as tf.Tensor;
    const av = at.dataSync();
    const bv = bt.dataSync();
    const la = logGammaDraws(av, seedA);
    const lb = logGammaDraws(bv, seedB);
    const xs = new Float64Array(av.length);
    const out = new Float32Array(av.length);
    for (let i = 0; i < av.length; i++) {
      const x = 1 / (1 + Math.exp((lb[i] as number) - (la[i] as number)));
      xs[i] = x;
      out[i] = Math.min(Math.max(x, TINY32), ONE_BELOW32);
    }
    return {
      value: tf.tensor(out, at.shape, 'float32'),
      gradFunc: (dy: tf.Tensor) => {
        const dyv = dy.dataSync();
        const ga = new Float32Array(av.length);
        const gb = new Float32Array(av.length);
        for (let i = 0; i < av.length; i++) {
          const t = (la[i] as number) - (lb[i] as number);
          const e = Math.exp(-Math.abs(t));
          const w = ((dyv[i] as number) * e) / ((1 + e) * (1 + e)); // dy x (1 - x)
          ga[i] = w * gammaDrawLogGrad(av[i] as number, la[i] as number);
          gb[i] = -w * gammaDrawLogGrad(bv[i] as number, lb[i] as number);
        }
        return [tf.tensor(ga, at.shape, 'float32'), tf.tensor(gb, bt.shape, 'float32')];
      },
    };
  });
  return tf.tidy(() => f(broadcastTo(a, full), broadcastTo(b, full)));
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

/**
 * One Multinomial(n, w / mass) draw by sequential conditional binomials, written to
 * `out[at .. at + k)`: `c_j ~ Binomial(n - sum_{i<j} c_i, w_j / (mass - sum_{i<j} w_i))`, the last
 * category (or every one once the remaining mass is spent) taking the trials left. The weights
 * are `w[from .. from + k)`; `mass` is their total (1 for probabilities; a Gamma draw's sum for
 * a Dirichlet-multinomial).
 */
export function multinomialDrawInto(
  out: Float32Array,
  at: number,
  n: number,
  w: ArrayLike<number>,
  from: number,
  k: number,
  mass: number,
  rng: () => number,
): void {
  let left = n;
  let rest = mass;
  for (let j = 0; j < k && left > 0; j++) {
    const wj = w[from + j] as number;
    const c = j === k - 1 || rest <= 0 ? left : binomialDraw(left, Math.min(1, wj / rest), rng);
    out[at + j] = c;
    left -= c;
    rest -= wj;
  }
}
