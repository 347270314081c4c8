/**
 * Float64 host-side inverses of the regularized incomplete gamma and beta functions, the
 * quantiles of the Gamma, Beta and Student t families (and those built on them).
 *
 * Both are solved in a log-type coordinate where the CDF is log-concave: `s = log x` for the
 * Gamma (the density of `log X` is `exp(a s - e^s) / Gamma(a)`, log-concave) and `t = logit x`
 * for the Beta (density `exp(a t - (a + b) log(1 + e^t)) / B(a, b)`, log-concave). The equation
 * solved is `log P(s) = log p` in the lower half (`p <= 1/2`) and `log Q(s) = log(1 - p)` in the
 * upper half, so that quantiles of probabilities down to the smallest float32 keep their
 * relative accuracy (`Gamma(0.01).icdf(1e-30)` is `exp(-6900)`): Newton's method on a
 * log-concave function, from an initial guess (Wilson–Hilferty / the small-`x` series
 * `P ~ x^a / Gamma(a + 1)`, `I ~ x^a / (a B(a, b))`), safeguarded by bisection on a bracket found
 * by doubling steps, so that every `p` in `(0, 1)` converges.
 *
 * The functions themselves: `P(a, x)` by its series for `x < a + 1`, `Q(a, x)` by Legendre's
 * continued fraction otherwise (Numerical Recipes' `gser`/`gcf`), each returned in log form
 * (`log x^a e^-x / Gamma(a)` in Stirling's form for large `a`); `I_x(a, b)` by the continued
 * fraction (`betacf`) on the side where it converges, `1 - I` by symmetry.
 */
import { normalQuantile as normalQuantile64 } from '../utils/normal_quantile.js';
import { lgamma64 } from './host_sampling.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
/** Iteration caps of the series and continued fractions (they need `O(sqrt(a))` terms). */
const MAX_TERMS = 100000;
const EPS64 = 1e-16;
const TINY = 1e-300;

/** `lgamma(a) - ((a - 1/2) log a - a + log(2 pi)/2)` for `a >= 10` (Stirling's series). */
function stirlingError64(a: number): number {
  const i = 1 / a;
  const i2 = i * i;
  return i * (1 / 12 - i2 * (1 / 360 - i2 * (1 / 1260 - i2 / 1680)));
}

/** `log(x^a e^-x / Gamma(a))` from `s = log x`, cancellation-free for large `a` near `x = a`. */
function logGammaPrefactor64(a: number, s: number): number {
  const x = Math.exp(s);
  if (a >= 10) {
    const d = (x - a) / a;
    if (Math.abs(d) < 0.5) {
      return a * (Math.log1p(d) - d) + 0.5 * Math.log(a) - HALF_LOG_2PI - stirlingError64(a);
    }
  }
  return a * s - x - lgamma64(a);
}

/** `log(1 - e^v)` for `v <= 0`. */
function log1mexp64(v: number): number {
  return v > -Math.LN2 ? Math.log(-Math.expm1(v)) : Math.log1p(-Math.exp(v));
}

/**
 * `[log P(a, x), log Q(a, x), log(x^a e^-x / Gamma(a))]` at `x = e^s` in float64, each
 * relatively accurate (the side that is not the direct result is `log(1 - e^other)`).
 *
 * $$P(a, x) = \frac{1}{\Gamma(a)}\int_0^x t^{a-1}e^{-t}\,dt,\qquad Q = 1 - P$$
 */
export function logGammaincPQ64(a: number, s: number): [number, number, number] {
  if (s === -Infinity) return [-Infinity, 0, -Infinity];
  if (s === Infinity) return [0, -Infinity, -Infinity];
  const x = Math.exp(s);
  const pre = logGammaPrefactor64(a, s);
  // the series also where the continued fraction oscillates (x within 3 sqrt(a) above a):
  // there Q > 1e-3, so 1 - P keeps its relative accuracy
  if (x < a + 1 + 3 * Math.sqrt(a)) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let i = 0; i < MAX_TERMS; i++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * EPS64) break;
    }
    const lp = Math.min(Math.log(sum) + pre, 0);
    return [lp, log1mexp64(lp), pre];
  }
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  // converged once three successive factors are 1 to 1e-16 (a single one can be 1 by chance
  // while the convergents still oscillate)
  let settled = 0;
  for (let i = 1; i < MAX_TERMS && settled < 3; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    settled = Math.abs(del - 1) < EPS64 ? settled + 1 : 0;
  }
  const lq = Math.min(Math.log(h) + pre, 0);
  return [log1mexp64(lq), lq, pre];
}

/** `log B(a, b)` in float64. */
export function lbeta64(a: number, b: number): number {
  return lgamma64(a) + lgamma64(b) - lgamma64(a + b);
}

/** Numerical Recipes' `betacf`: the continued fraction of `I_x(a, b)` (`y = 1 - x`). */
function betacf64(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < MAX_TERMS; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS64) break;
  }
  return h;
}

/** `log(1 + e^t)` in float64. */
function softplus64(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

/**
 * `[log I_x(a, b), log(1 - I_x(a, b)), log(x^a y^b / B(a, b))]` at `x = sigmoid(t)`,
 * `y = 1 - x = sigmoid(-t)` in float64, each relatively accurate (`log x = -softplus(-t)`).
 *
 * $$I_x(a,b) = \frac{1}{B(a,b)}\int_0^x u^{a-1}(1-u)^{b-1}\,du$$
 */
export function logBetaincIJ64(a: number, b: number, t: number): [number, number, number] {
  if (t === -Infinity) return [-Infinity, 0, -Infinity];
  if (t === Infinity) return [0, -Infinity, -Infinity];
  const lx = -softplus64(-t);
  const ly = -softplus64(t);
  const pre = a * lx + b * ly - lbeta64(a, b);
  const x = Math.exp(lx);
  if (x < (a + 1) / (a + b + 2)) {
    const li = Math.min(pre + Math.log(betacf64(a, b, x)) - Math.log(a), 0);
    return [li, log1mexp64(li), pre];
  }
  const lj = Math.min(pre + Math.log(betacf64(b, a, Math.exp(ly))) - Math.log(b), 0);
  return [log1mexp64(lj), lj, pre];
}

/**
 * The root of an increasing function `g` (value and derivative) by Newton's method safeguarded
 * by bisection: a bracket `[lo, hi]` with `g(lo) < 0 <= g(hi)` is found by doubling steps from
 * `t0`, then each Newton step that leaves the bracket (or is not a number) is replaced by its
 * midpoint; stops when the step is below `1e-15 max(1, |t|)`.
 */
export function solveIncreasing64(g: (t: number) => [number, number], t0: number): number {
  let v = g(t0)[0];
  if (v === 0) return t0;
  let lo = -Infinity;
  let hi = Infinity;
  let step = 1;
  let t = t0;
  if (v < 0) {
    lo = t0;
    for (let i = 0; i < 2100 && hi === Infinity; i++) {
      const c = t0 + step;
      if (g(c)[0] >= 0) hi = c;
      else lo = c;
      step *= 2;
    }
  } else {
    hi = t0;
    for (let i = 0; i < 2100 && lo === -Infinity; i++) {
      const c = t0 - step;
      if (g(c)[0] < 0) lo = c;
      else hi = c;
      step *= 2;
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return v < 0 ? hi : lo;
  if (!(t > lo && t < hi)) t = 0.5 * (lo + hi);
  for (let i = 0; i < 300; i++) {
    const [gv, dv] = g(t);
    v = gv;
    if (v === 0) return t;
    if (v < 0) lo = t;
    else hi = t;
    let tn = t - v / dv;
    if (!(tn > lo && tn < hi)) tn = 0.5 * (lo + hi);
    if (
      Math.abs(tn - t) <= 1e-15 * Math.max(1, Math.abs(t)) ||
      hi - lo <= 1e-15 * Math.max(1, Math.abs(t))
    ) {
      return tn;
    }
    t = tn;
  }
  return t;
}

/** The solution of an inverse and what its gradients need. */
export interface LogSolution {
  /** The coordinate solved for: `log x` (Gamma) or `logit x` (Beta). */
  readonly s: number;
  /** `log` of the probability of the solved side (`log p` or `log(1 - p)`) at the solution. */
  readonly logSide: number;
  /** The log-density of the coordinate at the solution (`log dP/ds`). */
  readonly logDens: number;
  /** Whether the upper side `1 - F = p` was solved. */
  readonly upper: boolean;
}

/**
 * `s = log x` with `P(a, x) = p` (or `Q(a, x) = p` when `upper`), for `a > 0`, `p` in `(0, 1)`.
 * The lower half solves `log P = log p`, the upper half `log Q = log(1 - p)`.
 */
export function gammaincinvLog64(a: number, p: number, upper: boolean): LogSolution {
  const lower = upper ? p >= 0.5 : p <= 0.5;
  const target = lower ? Math.log(upper ? 1 - p : p) : Math.log(upper ? p : 1 - p);
  const g = (s: number): [number, number] => {
    const [lp, lq, pre] = logGammaincPQ64(a, s);
    return lower ? [lp - target, Math.exp(pre - lp)] : [target - lq, Math.exp(pre - lq)];
  };
  const pLow = upper ? 1 - p : p;
  // Wilson–Hilferty for a >= 1/2, the small-x series P ~ x^a / Gamma(a + 1) otherwise
  const small = (Math.log(pLow) + lgamma64(a + 1)) / a;
  let s0 = small;
  if (a >= 0.5 || !lower) {
    const z = upper ? -normalQuantile64(p) : normalQuantile64(p);
    const c = 1 - 1 / (9 * a) + z / (3 * Math.sqrt(a));
    if (c > 0) s0 = Math.log(a) + 3 * Math.log(c);
  }
  if (!Number.isFinite(s0)) s0 = Math.log(a);
  const s = solveIncreasing64(g, s0);
  const [lp, lq, pre] = logGammaincPQ64(a, s);
  return { s, logSide: lower ? lp : lq, logDens: pre, upper: !lower };
}

/**
 * `t = logit x` with `I_x(a, b) = p` (or `1 - I_x(a, b) = p` when `upper`), for `a, b > 0`,
 * `p` in `(0, 1)`: the lower half solves `log I = log p`, the upper half `log(1 - I) = log(1 - p)`.
 */
export function betaincinvLogit64(a: number, b: number, p: number, upper: boolean): LogSolution {
  const lower = upper ? p >= 0.5 : p <= 0.5;
  const pLow = upper ? 1 - p : p;
  const pHigh = upper ? p : 1 - p;
  const target = lower ? Math.log(pLow) : Math.log(pHigh);
  const g = (t: number): [number, number] => {
    const [li, lj, pre] = logBetaincIJ64(a, b, t);
    return lower ? [li - target, Math.exp(pre - li)] : [target - lj, Math.exp(pre - lj)];
  };
  const lb = lbeta64(a, b);
  const mean = Math.log(a) - Math.log(b);
  let t0 = mean;
  if (lower) {
    // I ~ x^a / (a B(a, b)) for small x
    const lx = (Math.log(pLow) + Math.log(a) + lb) / a;
    if (lx < Math.log(a / (a + b))) t0 = lx - log1mexp64(Math.min(lx, -1e-300));
  } else {
    const ly = (Math.log(pHigh) + Math.log(b) + lb) / b;
    if (ly < Math.log(b / (a + b))) t0 = log1mexp64(Math.min(ly, -1e-300)) - ly;
  }
  if (!Number.isFinite(t0)) t0 = mean;
  const t = solveIncreasing64(g, t0);
  const [li, lj, pre] = logBetaincIJ64(a, b, t);
  return { s: t, logSide: lower ? li : lj, logDens: pre, upper: !lower };
}

/**
 * `ds/dtheta` of a solution `s` of `F(s; theta) = p` at fixed `p` (implicit function theorem):
 * `-(dF/dtheta) / (dF/ds)`, with `dF/dtheta = F d log F/d theta` by a float64 central difference
 * of `log F` (the solved side, relative step 1e-5: error ~1e-9), computed in log space so that
 * it stays finite where `F` or the density underflow. `logF(theta)` gives the solved side's log.
 */
export function implicitGrad64(
  sol: LogSolution,
  theta: number,
  logF: (theta: number) => number,
): number {
  if (!Number.isFinite(sol.s)) return 0;
  const h = 1e-5 * theta;
  const dlog = (logF(theta + h) - logF(theta - h)) / (2 * h);
  // lower: ds/dθ = -(dP/dθ)/(dP/ds); upper: dQ/ds = -dP/ds, so ds/dθ = (dQ/dθ)/(dP/ds)
  const mag = Math.exp(sol.logSide - sol.logDens);
  const g = (sol.upper ? dlog : -dlog) * mag;
  return Number.isFinite(g) ? g : 0;
}
