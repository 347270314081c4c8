/**
 * Double-exponential quadrature of a 1-D density read through `logProb` (float64 on the host,
 * the density evaluated by the library in float32): tanh-sinh on `[a, b]`, exp-sinh on `[a, ∞)`
 * and `(-∞, b]`, sinh-sinh on `(-∞, ∞)`. The substitutions send an integrable endpoint
 * singularity (`x^{-1/2}` at 0 of a Gamma(1/2)) and algebraic tails (Cauchy's `x^{-2}`) to
 * integrands that decay double-exponentially in `t`, so a trapezoid rule in `t` converges fast
 * without knowing where the mass is beyond a centre and a scale.
 */
import * as tf from '@tensorflow/tfjs';
import type { distributions } from '../../src/index.js';

type Dist = distributions.Distribution;

/** Quadrature nodes `x` and weights `w` with `∫ g ≈ Σ w_j g(x_j)`. */
export interface Rule {
  x: number[];
  w: number[];
}

const H = 1 / 64;
const T = 4.5;
const HALF_PI = Math.PI / 2;

/**
 * The rule on `[lo, hi]` (either may be infinite) with `centre` and `scale` locating the mass
 * where a bound is infinite. Nodes that round (in float32) onto a finite bound are dropped (the
 * density may be infinite there; the mass they stand for is below float32's resolution).
 */
export function rule(lo: number, hi: number, centre: number, scale: number): Rule {
  const x: number[] = [];
  const w: number[] = [];
  for (let t = -T; t <= T + 1e-12; t += H) {
    const u = HALF_PI * Math.sinh(t);
    const du = HALF_PI * Math.cosh(t);
    let xi: number;
    let wi: number;
    if (Number.isFinite(lo) && Number.isFinite(hi)) {
      const th = Math.tanh(u);
      xi = (lo + hi) / 2 + ((hi - lo) / 2) * th;
      wi = ((hi - lo) / 2) * (du / Math.cosh(u) ** 2);
    } else if (Number.isFinite(lo)) {
      const e = Math.exp(u);
      xi = lo + scale * e;
      wi = scale * e * du;
    } else if (Number.isFinite(hi)) {
      const e = Math.exp(u);
      xi = hi - scale * e;
      wi = scale * e * du;
    } else {
      xi = centre + scale * Math.sinh(u);
      wi = scale * Math.cosh(u) * du;
    }
    const x32 = Math.fround(xi);
    if (!Number.isFinite(x32) || !Number.isFinite(wi)) continue;
    if (Number.isFinite(lo) && x32 <= lo) continue;
    if (Number.isFinite(hi) && x32 >= hi) continue;
    x.push(xi);
    w.push(wi * H);
  }
  return { x, w };
}

/**
 * The rule on `[lo, hi]` split at `cuts` (sorted points inside, e.g. quantiles of draws) so that
 * narrow peaks and kinks between them are resolved: tanh-sinh between cuts, exp-sinh on an
 * infinite end with the scale of the neighbouring gap.
 */
export function splitRule(lo: number, hi: number, cuts: number[]): Rule {
  const inner = [...new Set(cuts.map((c) => Math.fround(c)))]
    .filter((c) => c > lo && c < hi)
    .sort((a, b) => a - b);
  if (inner.length === 0) return rule(lo, hi, 0, 1);
  const first = inner[0] as number;
  const last = inner[inner.length - 1] as number;
  const spread = Math.max(last - first, Math.abs(first) * 1e-6, 1e-12);
  const edges = [lo, ...inner, hi];
  const out: Rule = { x: [], w: [] };
  for (let i = 0; i + 1 < edges.length; i++) {
    const a = edges[i] as number;
    const b = edges[i + 1] as number;
    const r = rule(a, b, 0, spread);
    out.x.push(...r.x);
    out.w.push(...r.w);
  }
  return out;
}

/**
 * The density `exp(logProb(x))` of a scalar-event `dist` with batch `[B]` (or `[]`, `B = 1`) at
 * per-entry nodes `xs[j]` (one rule per batch entry, padded to a common length by repeating the
 * last node with weight 0): returns `dens[j][k]`, float64.
 */
export function densities(dist: Dist, rules: Rule[]): number[][] {
  const n = Math.max(...rules.map((r) => r.x.length));
  const b = rules.length;
  const grid = new Float32Array(n * b);
  for (let k = 0; k < b; k++) {
    const r = rules[k] as Rule;
    for (let j = 0; j < n; j++) grid[j * b + k] = r.x[Math.min(j, r.x.length - 1)] as number;
  }
  const shape = dist.batchShape.length === 0 ? [n] : [n, b];
  const lp = tf.tidy(() => dist.logProb(tf.tensor(grid, shape)));
  const v = lp.dataSync();
  lp.dispose();
  return rules.map((r, k) => r.x.map((_, j) => Math.exp(v[j * b + k] as number)));
}

/** `Σ w_j g(x_j, f_j)` over one rule with its densities. */
export function integrate(r: Rule, f: number[], g: (x: number, f: number) => number): number {
  let s = 0;
  for (let j = 0; j < r.x.length; j++) {
    const fj = f[j] as number;
    if (fj === 0) continue;
    s += (r.w[j] as number) * g(r.x[j] as number, fj);
  }
  return s;
}
