/**
 * Differentiable quantiles of the Gamma, Beta and Student t families: the float64 host-side
 * inverses of `incomplete_inverse.ts` wrapped as tfjs ops with custom gradients, batched over
 * the broadcast of their arguments.
 *
 * Gradients (implicit function theorem on `F(x; theta) = p`):
 *
 * $$\frac{\partial x}{\partial p} = \frac{1}{f(x;\theta)},\qquad
 *   \frac{\partial x}{\partial \theta} = -\frac{\partial F(x;\theta)/\partial\theta}{f(x;\theta)}$$
 *
 * with `dF/dtheta` by a float64 central difference of `log F` (or `log(1 - F)` in the upper
 * half), relative error ~1e-9. The gradients are computed on the backward pass only.
 */
import * as tf from '@tensorflow/tfjs';
import { broadcastShapes, broadcastTo } from '../utils/tensor.js';
import { normalQuantile } from '../utils/normal_quantile.js';
import { lgamma64 } from './host_sampling.js';
import {
  betaincinvLogit64,
  gammaincinvLog64,
  implicitGrad64,
  logBetaincIJ64,
  logGammaincPQ64,
  type LogSolution,
} from './incomplete_inverse.js';

/** One element's quantile and, on demand, its gradients with respect to every input. */
interface Solved {
  readonly value: number;
  readonly grads: () => number[];
}

/**
 * A host-side elementwise op over `inputs` broadcast to one shape: `solve` maps one element's
 * inputs to its value and (lazily) its partial derivatives; the backward pass is
 * `dy * d value / d input` (0 where `dy` is 0, so that an infinite derivative at a support end
 * does not turn a zero upstream into NaN). Runs under `tf.tidy`; a non-broadcasting input is an
 * `ArgumentError` naming it.
 */
function hostOp(names: string[], inputs: tf.Tensor[], solve: (v: number[]) => Solved): tf.Tensor {
  const shape = broadcastShapes(Object.fromEntries(inputs.map((t, i) => [names[i], t.shape])));
  return tf.tidy(() => hostOpIn(shape, inputs, solve));
}

function hostOpIn(shape: number[], inputs: tf.Tensor[], solve: (v: number[]) => Solved): tf.Tensor {
  const full = inputs.map((t) => broadcastTo(t, shape));
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args.slice(0, full.length) as tf.Tensor[];
    const data = xs.map((t) => t.dataSync());
    const n = shape.reduce((a, b) => a * b, 1);
    const solved: Solved[] = [];
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const s = solve(data.map((d) => d[i] as number));
      solved.push(s);
      out[i] = s.value;
    }
    return {
      value: tf.tensor(out, shape, 'float32'),
      gradFunc: (dy: tf.Tensor) => {
        const gs = xs.map(() => new Float32Array(n));
        for (let i = 0; i < n; i++) {
          const g = (solved[i] as Solved).grads();
          for (let k = 0; k < gs.length; k++) (gs[k] as Float32Array)[i] = g[k] as number;
        }
        return gs.map((g) =>
          tf.tidy(() => {
            const prod = tf.mul(dy, tf.tensor(g, shape, 'float32'));
            return tf.where(tf.equal(dy, 0), tf.zerosLike(prod), prod);
          }),
        );
      },
    };
  });
  return f(...full);
}

const NO_GRADS =
  (m: number): (() => number[]) =>
  () =>
    new Array<number>(m).fill(0);

/** `1/f(0)` of a density behaving as `c x^(a-1)` at 0: 0 for `a < 1`, `1/c` at 1, inf above. */
function endSlope(a: number, c: number): number {
  return a < 1 ? 0 : a === 1 ? 1 / c : Infinity;
}

/** Shapes above which the Gamma quantile is Wilson–Hilferty's (relative error below 1e-12). */
const GAMMA_WH_FROM = 1e8;

/**
 * The standard Gamma quantile: `x` with `P(a, x) = p` (`Q(a, x) = p` when `upper`), gradients in
 * `p` and `a`. `p` outside `[0, 1]` gives NaN; `p = 0` and `p = 1` the ends `0` and `inf`.
 *
 * $$x = P^{-1}(a, p),\qquad \frac{\partial x}{\partial p} = \frac{\Gamma(a)}{x^{a-1}e^{-x}},\qquad
 *   \frac{\partial x}{\partial a} = -\frac{\partial P(a, x)/\partial a}{x^{a-1}e^{-x}/\Gamma(a)}$$
 *
 * Shapes above 1e8 use Wilson–Hilferty, `x = a (1 - 1/(9a) + z/(3 sqrt a))^3`, `z = Phi^-1(p)`.
 */
export function gammaQuantile(a: tf.Tensor, p: tf.Tensor, upper = false): tf.Tensor {
  return hostOp(['p', 'a'], [p, a], ([pv, av]) => {
    const q = pv as number;
    const al = av as number;
    if (!(q >= 0 && q <= 1) || !(al > 0)) return { value: NaN, grads: NO_GRADS(2) };
    const sign = upper ? -1 : 1;
    if (q === (upper ? 1 : 0)) {
      return { value: 0, grads: () => [sign * endSlope(al, 1 / Math.exp(lgamma64(al))), 0] };
    }
    if (q === (upper ? 0 : 1)) return { value: Infinity, grads: () => [sign * Infinity, 0] };
    if (al > GAMMA_WH_FROM) return wilsonHilferty(al, q, upper);
    const sol = gammaincinvLog64(al, q, upper);
    const x = Math.exp(sol.s);
    return {
      value: x,
      grads: () => {
        const side = sol.upper ? 1 : 0;
        const da = implicitGrad64(sol, al, (th) => logGammaincPQ64(th, sol.s)[side] as number);
        return [sign * Math.exp(sol.s - sol.logDens), x * da];
      },
    };
  });
}

function wilsonHilferty(a: number, p: number, upper: boolean): Solved {
  const sign = upper ? -1 : 1;
  const z = upper ? -normalQuantile(p) : normalQuantile(p);
  const r = 1 / (3 * Math.sqrt(a));
  const c = 1 - 1 / (9 * a) + z * r;
  const x = a * c * c * c;
  return {
    value: x,
    grads: () => {
      const dzdp = Math.sqrt(2 * Math.PI) * Math.exp(0.5 * z * z);
      const dcda = 1 / (9 * a * a) - (z * r) / (2 * a);
      return [sign * 3 * a * c * c * r * dzdp, c * c * c + 3 * a * c * c * dcda];
    },
  };
}

/** What {@link betaQuantile} returns: the quantile `x` itself or its odds `x / (1 - x)`. */
export type BetaQuantileOutput = 'x' | 'odds';

/**
 * The Beta quantile: `x` with `I_x(a, b) = p` (`1 - I_x(a, b) = p` when `upper`), or its odds
 * `x / (1 - x)` (the Fisher–Snedecor quantile's core), gradients in `p`, `a` and `b`. `p`
 * outside `[0, 1]` gives NaN; `p = 0` and `p = 1` the ends `0` and `1` (odds `0` and `inf`).
 *
 * $$x = I^{-1}_p(a, b),\qquad \frac{\partial x}{\partial p} = \frac{B(a,b)}{x^{a-1}(1-x)^{b-1}},
 *   \qquad \frac{\partial x}{\partial a} = -\frac{\partial I_x(a,b)/\partial a}{f(x; a, b)}$$
 */
export function betaQuantile(
  a: tf.Tensor,
  b: tf.Tensor,
  p: tf.Tensor,
  output: BetaQuantileOutput = 'x',
  upper = false,
): tf.Tensor {
  return hostOp(['p', 'a', 'b'], [p, a, b], ([pv, av, bv]) => {
    const q = pv as number;
    const al = av as number;
    const be = bv as number;
    if (!(q >= 0 && q <= 1) || !(al > 0) || !(be > 0)) return { value: NaN, grads: NO_GRADS(3) };
    const sign = upper ? -1 : 1;
    const invB = Math.exp(-(lgamma64(al) + lgamma64(be) - lgamma64(al + be)));
    if (q === (upper ? 1 : 0)) return { value: 0, grads: () => [sign * endSlope(al, invB), 0, 0] };
    if (q === (upper ? 0 : 1)) {
      const slope = output === 'x' ? endSlope(be, invB) : Infinity;
      return { value: output === 'x' ? 1 : Infinity, grads: () => [sign * slope, 0, 0] };
    }
    const sol = betaincinvLogit64(al, be, q, upper);
    const t = sol.s;
    const lx = -softplus(-t);
    const ly = -softplus(t);
    // d value / dt: x (1 - x) for x, e^t for the odds
    const logJac = output === 'x' ? lx + ly : t;
    return {
      value: Math.exp(output === 'x' ? lx : t),
      grads: () => {
        const jac = Math.exp(logJac);
        const side = sol.upper ? 1 : 0;
        const da = implicitGrad64(sol, al, (th) => logBetaincIJ64(th, be, t)[side] as number);
        const db = implicitGrad64(sol, be, (th) => logBetaincIJ64(al, th, t)[side] as number);
        return [sign * Math.exp(logJac - sol.logDens), jac * da, jac * db];
      },
    };
  });
}

function softplus(t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t));
}

/** Degrees of freedom above which the t quantile is the Cornish–Fisher expansion (error ~nu^-4). */
const T_CORNISH_FISHER_FROM = 1e7;

/**
 * The standard Student t quantile with `nu` degrees of freedom, gradients in `p` and `nu`: for
 * `p < 1/2`, `T = -sqrt(nu (1 - u) / u)` with `I_u(nu/2, 1/2) = 2p` (`P(|T| > |t|) =
 * I_{nu/(nu+t^2)}(nu/2, 1/2)`), by symmetry above; `nu > 1e7` by the Cornish–Fisher expansion
 * `z + g1(z)/nu + g2(z)/nu^2 + g3(z)/nu^3`. `p` outside `[0, 1]` gives NaN, `p = 0, 1` `-inf, inf`.
 *
 * $$\frac{\partial T}{\partial p} = \frac{1}{f_\nu(T)},\qquad
 *   \frac{\partial T}{\partial \nu} = -\frac{\partial F_\nu(T)/\partial\nu}{f_\nu(T)}$$
 */
export function studentTQuantile(nu: tf.Tensor, p: tf.Tensor): tf.Tensor {
  return hostOp(['p', 'nu'], [p, nu], ([pv, nv]) => {
    const q = pv as number;
    const n = nv as number;
    if (!(q >= 0 && q <= 1) || !(n > 0)) return { value: NaN, grads: NO_GRADS(2) };
    if (q === 0) return { value: -Infinity, grads: () => [Infinity, 0] };
    if (q === 1) return { value: Infinity, grads: () => [Infinity, 0] };
    const logNorm = lgamma64(0.5 * (n + 1)) - lgamma64(0.5 * n) - 0.5 * Math.log(n * Math.PI);
    if (q === 0.5) return { value: 0, grads: () => [Math.exp(-logNorm), 0] };
    if (n > T_CORNISH_FISHER_FROM) return cornishFisher(n, q);
    const neg = q < 0.5;
    const tail = neg ? 2 * q : 2 * (1 - q);
    const sol = betaincinvLogit64(0.5 * n, 0.5, tail, false);
    const lu = -softplus(-sol.s);
    const lw = -softplus(sol.s);
    const mag = Math.sqrt(n) * Math.exp(0.5 * (lw - lu));
    const value = neg ? -mag : mag;
    return {
      value,
      grads: () => {
        // log f(T) = logNorm - (nu + 1)/2 log(1 + T^2/nu), with 1 + T^2/nu = 1/u
        const logDens = logNorm + 0.5 * (n + 1) * lu;
        const logT2 = Math.log(n) + lw - lu;
        const side = sol.upper ? 1 : 0;
        // the tail probability F(T) (neg) or 1 - F(T) at fixed T, as a function of nu
        const logTail = (m: number): number =>
          Math.log(0.5) + (logBetaincIJ64(0.5 * m, 0.5, Math.log(m) - logT2)[side] as number);
        const h = 1e-5 * n;
        const dlog = (logTail(n + h) - logTail(n - h)) / (2 * h);
        const mag2 = Math.exp(logTail(n) - logDens);
        // the tail solved is I = 2 p (I = 2(1 - p) above): same orientation as F in the lower
        // half, opposite in the upper; `sol.upper` flips again when 1 - I was solved
        const sgn = (neg ? -1 : 1) * (sol.upper ? -1 : 1);
        const dnu = sgn * dlog * mag2;
        return [Math.exp(-logDens), Number.isFinite(dnu) ? dnu : 0];
      },
    };
  });
}

function cornishFisher(n: number, p: number): Solved {
  const z = normalQuantile(p);
  const z2 = z * z;
  const g1 = (z * (z2 + 1)) / 4;
  const g2 = (z * (3 + z2 * (16 + 5 * z2))) / 96;
  const g3 = (z * (-15 + z2 * (17 + z2 * (19 + 3 * z2)))) / 384;
  const value = z + g1 / n + g2 / (n * n) + g3 / (n * n * n);
  return {
    value,
    grads: () => {
      const dzdp = Math.sqrt(2 * Math.PI) * Math.exp(0.5 * z2);
      const dg1 = (3 * z2 + 1) / 4;
      const dg2 = (3 + z2 * (48 + 25 * z2)) / 96;
      const dTdz = 1 + dg1 / n + dg2 / (n * n);
      return [dTdz * dzdp, -g1 / (n * n) - (2 * g2) / (n * n * n)];
    },
  };
}

export type { LogSolution };
