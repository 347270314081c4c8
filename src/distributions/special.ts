/**
 * Special functions as differentiable tensor ops (tfjs has no `lgamma`, `digamma` or incomplete
 * gamma/beta): every function here is a composition of elementwise tfjs ops, differentiated by
 * autodiff, except the few-kernel `lgamma`, `digamma`, `stirlingError` and `bd0`, which carry
 * custom gradients (their closed-form derivatives; a kernel saved per op at backward time).
 *
 * Accuracy targets float32: `lgamma` 5e-6 relative (2.5e-6 absolute near its zeros at 1 and 2),
 * `digamma` 3e-6 relative (4e-7 absolute near its zero) on `[1e-6, 1e6]`; `erfc` uses
 * Numerical Recipes' Chebyshev fit (1.2e-7 relative in exact arithmetic, ~1e-5 in float32 at
 * |x| = 5); the regularized incomplete gamma functions reach 2e-5 relative (1e-6 absolute) for
 * shapes from 1e-3 to 1e7 (Temme's expansion near `x = a` for `a >= 20`), the incomplete beta
 * ~1e-6 on moderate parameters and ~2e-5 for parameters in the hundreds. These are internal
 * helpers of the distribution families.
 */
import * as tf from '@tensorflow/tfjs';
import { log1p } from '../utils/log1p.js';
import { broadcastTo } from '../utils/tensor.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const LOG_2PI = Math.log(2 * Math.PI);
/**
 * Arguments below this are shifted up by this much before the asymptotic series:
 * `log Gamma(x) = log Gamma(x + 6) - log[x (x+1) ... (x+5)]`.
 */
const SHIFT = 6;

/**
 * The recurrence shift of {@link lgamma}, {@link digamma} and {@link trigamma} as a few
 * elementwise kernels: `s = [x < 6]` (0 or 1), `z = x + 6 s` (so `z >= 6`), and the pieces of the
 * rising product at `t = min(x, 6)` (finite at any `x`; multiplied by `s` where used), paired
 * around its centre: with `u = t (t + 5)`,
 *
 * $$t(t+1)\cdots(t+5) = u\,(u+4)\,(u+6),\qquad \sum_{k=0}^{5}\frac{1}{t+k} = (2t+5)\Big(\frac1u
 *   + \frac1{u+4} + \frac1{u+6}\Big)$$
 *
 * (`t(t+5) = u`, `(t+1)(t+4) = u + 4`, `(t+2)(t+3) = u + 6`; every factor positive for `t > 0`).
 */
interface Shift {
  s: tf.Tensor;
  z: tf.Tensor;
  t: tf.Tensor;
  t5: tf.Tensor;
  u: tf.Tensor;
  u4: tf.Tensor;
  u6: tf.Tensor;
}
function shift(
  x: tf.Tensor,
  less: (a: tf.Tensor, b: number) => tf.Tensor = (a, b) => tf.less(a, b),
): Shift {
  const s = tf.cast(less(x, SHIFT), 'float32');
  const z = tf.add(x, tf.mul(s, SHIFT));
  const t = tf.minimum(x, SHIFT);
  const t5 = tf.add(t, 5);
  const u = tf.mul(t, t5);
  return { s, z, t, t5, u, u4: tf.add(u, 4), u6: tf.add(u, 6) };
}

/** `log Gamma(x)` on plain (untaped) kernels; see {@link lgamma}. */
function lgammaValue(x: tf.Tensor): tf.Tensor {
  const { s, z, t, u, u4, u6 } = shift(x);
  const logShift = tf.mul(tf.log(tf.mul(tf.mul(u, u4), u6)), s);
  const zi = tf.reciprocal(z);
  const zi2 = tf.square(zi);
  const series = tf.mul(zi, tf.sub(1 / 12, tf.mul(zi2, tf.sub(1 / 360, tf.mul(zi2, 1 / 1260)))));
  const logZ = tf.log(z);
  // (z - 1/2)(log z - 1) - 1/2 + log(2 pi)/2 = (z - 1/2) log z - z + log(2 pi)/2, and +Infinity
  // (not inf - inf) at z = Infinity
  const main = tf.mul(tf.sub(z, 0.5), tf.sub(logZ, 1));
  const value = tf.add(main, tf.sub(tf.add(series, HALF_LOG_2PI - 0.5), logShift));
  return nanBelowZero(t, value);
}

/** `psi(x)` on plain (untaped) kernels; see {@link digamma}. */
function digammaValue(x: tf.Tensor): tf.Tensor {
  const { s, z, t, t5, u, u4, u6 } = shift(x);
  const sum = tf.mul(shiftHarmonic(t, t5, u, u4, u6), s);
  const zi = tf.reciprocal(z);
  const zi2 = tf.square(zi);
  const series = tf.mul(zi2, tf.sub(1 / 12, tf.mul(zi2, tf.sub(1 / 120, tf.mul(zi2, 1 / 252)))));
  const asym = tf.sub(tf.log(z), tf.add(tf.mul(zi, 0.5), series));
  return tf.sub(asym, sum);
}

/** `sum_{k=0}^{5} 1/(t + k) = (2t + 5)(1/u + 1/(u+4) + 1/(u+6))` ({@link shift}). */
function shiftHarmonic(
  t: tf.Tensor,
  t5: tf.Tensor,
  u: tf.Tensor,
  u4: tf.Tensor,
  u6: tf.Tensor,
): tf.Tensor {
  const inv = tf.add(tf.add(tf.reciprocal(u), tf.reciprocal(u4)), tf.reciprocal(u6));
  return tf.mul(tf.add(t, t5), inv);
}

/**
 * `psi_1(x)` from differentiable kernels (the comparison off the tape): the pairs of
 * {@link shift} give the shift terms without a loop,
 *
 * $$\sum_{k=0}^{5}\frac{1}{(t+k)^2} = \frac{2u+25}{u^2} + \frac{2u+17}{(u+4)^2}
 *   + \frac{2u+13}{(u+6)^2}.$$
 */
function trigammaValue(x: tf.Tensor): tf.Tensor {
  const { s, z, u, u4, u6 } = shift(x, lt);
  const u2 = tf.mul(u, 2);
  const pairs = tf.add(
    tf.add(tf.div(tf.add(u2, 25), tf.square(u)), tf.div(tf.add(u2, 17), tf.square(u4))),
    tf.div(tf.add(u2, 13), tf.square(u6)),
  );
  const zi = tf.reciprocal(z);
  const zi2 = tf.square(zi);
  // 1/z + 1/(2z^2) + 1/(6z^3) - 1/(30z^5) + 1/(42z^7)
  const series = tf.mul(
    zi2,
    tf.add(0.5, tf.mul(zi, tf.sub(1 / 6, tf.mul(zi2, tf.sub(1 / 30, tf.mul(zi2, 1 / 42)))))),
  );
  return tf.add(tf.add(zi, series), tf.mul(pairs, s));
}

/**
 * `value`, but NaN where `t < 0` (`t = min(x, 6)`: `lgamma` is defined for `x >= 0` only; the
 * product of the shift has the sign of `Gamma(x)` below 0), as `value + 0 sqrt(t)`: three
 * kernels, no `where`.
 */
function nanBelowZero(t: tf.Tensor, value: tf.Tensor): tf.Tensor {
  return tf.add(value, tf.mul(tf.sqrt(t), 0));
}

/**
 * An elementwise op `f` with the custom gradient `dy * f'(x)` (`derivative` runs on taped
 * kernels at backward time, so a second gradient differentiates it in turn).
 */
function unaryWithGrad(
  value: (x: tf.Tensor) => tf.Tensor,
  derivative: (x: tf.Tensor) => tf.Tensor,
): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([x]);
    return {
      value: value(x),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.mul(dy, derivative(saved[0] as tf.Tensor)),
    };
  }) as (x: tf.Tensor) => tf.Tensor;
}

/**
 * `log Gamma(x)` for `x > 0` (`+Infinity` at 0, NaN below): Stirling's series at `z = x + 6`
 * for `x < 6` (at `z = x` otherwise), the six recurrence steps folded into the log of ONE
 * product ({@link shift}), about 30 kernels; its gradient is {@link digamma} (a custom gradient,
 * not autodiff through the series). Float32 error over `[1e-6, 1e6]`: 4.3e-6 relative where
 * `|lgamma| >= 0.3`, 2.4e-6 absolute nearer its zeros at 1 and 2 (where terms of ~8 cancel).
 *
 * $$\log\Gamma(x) = (z-\tfrac12)\log z - z + \tfrac12\log 2\pi + \frac{1}{12z} - \frac{1}{360z^3}
 *   + \frac{1}{1260z^5} - s\log\big[x(x+1)\cdots(x+5)\big],\qquad z = x + 6s,\ s = [x < 6]$$
 */
export function lgamma(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => lgammaOp(x));
}
const lgammaOp = unaryWithGrad(lgammaValue, digamma);

/**
 * The digamma function `psi(x) = d/dx log Gamma(x)` for `x > 0` (the recurrence also holds on
 * `(-6, 0)` off the poles; NaN below -6, as before this form): the asymptotic
 * series at `z = x + 6 s` and the recurrence folded into one rational term ({@link shift}),
 * about 30 kernels; its gradient is {@link trigamma} (a custom gradient).
 *
 * $$\psi(x) = \log z - \frac{1}{2z} - \frac{1}{12z^2} + \frac{1}{120z^4} - \frac{1}{252z^6}
 *   - s\sum_{k=0}^{5}\frac{1}{x+k},\qquad z = x + 6s,\ s = [x < 6]$$
 */
export function digamma(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => digammaOp(x));
}
const digammaOp = unaryWithGrad(digammaValue, trigamma);

/**
 * The trigamma function `psi_1(x) = d^2/dx^2 log Gamma(x)` for `x > 0` (and on `(-6, 0)` off the
 * poles, as {@link digamma}), with the shift of {@link digamma} (3.2e-7 relative error on
 * `[1e-6, 1e6]`); differentiable by autodiff (its gradient is the tetragamma function).
 *
 * $$\psi_1(x) = \frac1z + \frac{1}{2z^2} + \frac{1}{6z^3} - \frac{1}{30z^5} + \frac{1}{42z^7}
 *   + s\sum_{k=0}^{5}\frac{1}{(x+k)^2},\qquad z = x + 6s,\ s = [x < 6]$$
 */
export function trigamma(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => trigammaValue(x));
}

/** `log(k!)` for `k = 0, 1, ...`, in float64 (rounded once to float32 when gathered). */
const LOG_FACTORIALS: number[] = [0];

/**
 * `log(k!)` of integer-valued `k` in `[0, maxK]`, read from a table of float64 values (each
 * rounded once to float32), so that small counts keep full accuracy: `lgamma(k + 1)` from
 * Stirling's series at `k + 7` carries an absolute error of ~5e-7 at `k = 0, 1`, which made
 * `Poisson(1e-3).logProb(0)` -0.0009995 for `-lambda = -0.001` and `Poisson(1e-10).logProb(0)`
 * positive. No gradient flows to `k` (a count).
 *
 * $$\log k! = \sum_{i=2}^{k} \log i$$
 */
export function logFactorial(k: tf.Tensor, maxK: number): tf.Tensor {
  for (let i = LOG_FACTORIALS.length; i <= maxK; i++) {
    LOG_FACTORIALS.push((LOG_FACTORIALS[i - 1] as number) + Math.log(i));
  }
  return tf.tidy(() => {
    const table = tf.tensor1d(LOG_FACTORIALS.slice(0, maxK + 1), 'float32');
    const idx = tf.cast(tf.clipByValue(tf.round(k), 0, maxK), 'int32');
    return tf.gather(table, idx);
  });
}

/**
 * The error of Stirling's formula, `delta(n) = log Gamma(n+1) - (n + 1/2) log n + n -
 * log(2 pi)/2`, for `n > 0` (Loader, 2000), in one pass without a branch: its asymptotic series
 * `S` at `z = n + 6 s` (`s = [n < 6]`) plus, for `n < 6`, the recurrence folded into two logs
 * (`t = min(n, 6)`, `(t+1)...(t+5) = (t+5)(u+4)(u+6)`, `u = t(t+5)`, as in {@link lgamma}).
 * Unlike `lgamma(n + 1)` it is small (`~1/(12n)`), so a log-mass built from it keeps float32
 * accuracy at large counts; about 40 kernels, float32 error 1.1e-6 absolute; its custom gradient
 * is its closed-form derivative (`stirlingDerivative`).
 *
 * $$\delta(n) = S(z) + s\Big[(t + \tfrac12)\log\frac{t+6}{t}
 *   + \log\frac{(t+6)^5}{(t+1)\cdots(t+5)} - 6\Big],\qquad
 *   S(z) = \frac{1}{12z} - \frac{1}{360z^3} + \frac{1}{1260z^5} - \frac{1}{1680z^7}
 *   + \frac{1}{1188z^9}$$
 */
export function stirlingError(n: tf.Tensor): tf.Tensor {
  return tf.tidy(() => stirlingOp(n));
}
const stirlingOp = unaryWithGrad(stirlingValue, stirlingDerivative);

/**
 * {@link stirlingError} of several tensors in one pass: broadcast to one shape and stacked (about
 * 45 kernels for all instead of about 40 each).
 */
export function stirlingErrors(...ns: tf.Tensor[]): tf.Tensor[] {
  return tf.tidy(() => {
    const shape = bshape(...ns);
    return tf.unstack(stirlingError(tf.stack(ns.map((n) => broadcastTo(n, shape)))));
  });
}

/** `delta(n)` on plain kernels; see {@link stirlingError}. */
function stirlingValue(n: tf.Tensor): tf.Tensor {
  const { s, z, t, t5, u4, u6 } = shift(n);
  const zi = tf.reciprocal(z);
  const zi2 = tf.square(zi);
  const c = STIRLING_SERIES;
  let poly: tf.Tensor = tf.mul(zi2, c[4]);
  for (let k = 3; k >= 1; k--) poly = tf.mul(zi2, tf.add(poly, c[k] as number));
  const series = tf.mul(zi, tf.add(poly, c[0]));
  const t6 = tf.add(t, SHIFT);
  const rest = tf.mul(tf.mul(t5, u4), u6);
  const ratio5 = tf.div(tf.mul(tf.square(tf.square(t6)), t6), rest);
  const bracket = tf.add(
    tf.mul(tf.add(t, 0.5), tf.sub(tf.log(t6), tf.log(t))),
    tf.sub(tf.log(ratio5), SHIFT),
  );
  return tf.add(series, tf.mul(bracket, s));
}

/**
 * `delta'(n) = S'(z) + s B'(t)`, the derivative of {@link stirlingValue}'s two parts (the custom
 * gradient of {@link stirlingError}; differentiable again by autodiff):
 *
 * $$B'(t) = \log\frac{t+6}{t} - \frac{6(t+\frac12)}{t(t+6)} + \frac{5}{t+6}
 *   + \frac1t - \sum_{k=0}^{5}\frac{1}{t+k},\qquad
 *   S'(z) = -\sum_k (2k+1) c_k z^{-2k-2}$$
 */
function stirlingDerivative(n: tf.Tensor): tf.Tensor {
  const { s, z, t, t5, u, u4, u6 } = shift(n, lt);
  const zi2 = tf.square(tf.reciprocal(z));
  const c = STIRLING_SERIES;
  let poly: tf.Tensor = tf.mul(zi2, -9 * (c[4] as number));
  for (let k = 3; k >= 1; k--) poly = tf.mul(zi2, tf.sub(poly, (2 * k + 1) * (c[k] as number)));
  const dSeries = tf.mul(zi2, tf.sub(poly, c[0]));
  const t6 = tf.add(t, SHIFT);
  const ti = tf.reciprocal(t);
  const t6i = tf.reciprocal(t6);
  const dBracket = tf.add(
    tf.sub(tf.log(tf.mul(t6, ti)), tf.mul(tf.mul(tf.add(tf.mul(t, 6), 3), ti), t6i)),
    tf.sub(tf.add(tf.mul(t6i, 5), ti), shiftHarmonic(t, t5, u, u4, u6)),
  );
  return tf.add(dSeries, tf.mul(dBracket, s));
}

/** Coefficients `c_k` of Stirling's series `S(z) = sum_k c_k z^{-2k-1}` (five terms). */
const STIRLING_SERIES = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188] as const;

/** `bd0` uses its series where `|x - m| < BD0_SERIES_BELOW (x + m)`. */
const BD0_SERIES_BELOW = 0.1;
/**
 * `sum_{j>=1} v^(2j-2)/(2j+1)` up to `j = 4` (Horner in `v^2`): at `|v| < 0.1` the next term is
 * below 1e-10 of the first.
 */
const BD0_SERIES = [1 / 3, 1 / 5, 1 / 7, 1 / 9] as const;

/**
 * The deviance term `bd0(x, m) = x log(x / m) + m - x >= 0` of Loader's saddle-point log-masses,
 * for `x > 0`, `m >= 0` given with `log m` (so that `m` may underflow). Near `x = m` it is the
 * series in `v = (x - m)/(x + m)` (no loss to the cancellation of `x log x` against `x log m`),
 * elsewhere the definition:
 *
 * $$\mathrm{bd0}(x, m) = (x - m)v + 2x\sum_{j \ge 1}\frac{v^{2j+1}}{2j+1},\qquad
 *   |v| < 0.1$$
 *
 * (four terms, Horner in `v^2`; the polynomial is finite for every `|v| <= 1`, so it needs no
 * masked inputs).
 *
 * A caller that knows `x - m` more accurately than the float32 subtraction (e.g. as a
 * difference of products without cancellation) passes it as `diff`.
 */
export function bd0(x: tf.Tensor, m: tf.Tensor, logM: tf.Tensor, diff?: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = bshape(x, m, logM, ...(diff === undefined ? [] : [diff]));
    const d = broadcastTo(diff ?? tf.sub(x, m), shape);
    // bd0 is a function of x and m only: its gradient goes to x and log m (finite where m
    // underflows), none through m or diff
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [xt, lm, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      const [value, slope] = bd0Parts(xt, m, lm, d, shape);
      save([slope, d]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
          sumTo(tf.mul(dy, saved[0] as tf.Tensor), xt.shape),
          sumTo(tf.neg(tf.mul(dy, saved[1] as tf.Tensor)), lm.shape),
        ],
      };
    });
    return op(x, logM);
  });
}

/**
 * `[bd0(x, m), log(x/m)]` on plain (untaped) kernels, of the broadcast `shape` ({@link bd0}; `d`
 * is `x - m` of that shape). The slope is `2 atanh v = 2v(1 + v^2 P(v^2))` on the series' region,
 * with `P` the series' polynomial.
 */
function bd0Parts(
  x: tf.Tensor,
  m: tf.Tensor,
  logM: tf.Tensor,
  d: tf.Tensor,
  shape: number[],
): [tf.Tensor, tf.Tensor] {
  const xm = broadcastTo(tf.add(x, m), shape);
  const absD = tf.abs(d);
  const close = tf.less(absD, tf.mul(xm, BD0_SERIES_BELOW));
  const v = tf.div(d, xm);
  const v2 = tf.square(v);
  const [c0, c1, c2, c3] = BD0_SERIES;
  const poly = tf.add(tf.mul(tf.add(tf.mul(tf.add(tf.mul(v2, c3), c2), v2), c1), v2), c0);
  const series = tf.add(tf.mul(d, v), tf.mul(tf.mul(tf.mul(x, 2), tf.mul(v2, v)), poly));
  // log(x/m) as the log of the ratio while |d| < m (there, outside the series' region,
  // 0.18 < |x/m - 1| < 1: float32 error 4e-7 relative to log(x/m) itself, not to log x and
  // log m: 2e-2 nats at x ~ 3e4 otherwise), else log x - log m (m may underflow)
  const mid = tf.less(absD, broadcastTo(m, shape));
  const logRatio = select(
    mid,
    broadcastTo(tf.log(tf.div(x, safe(mid, m, 1))), shape),
    broadcastTo(tf.sub(tf.log(x), logM), shape),
  );
  const far = tf.sub(tf.mul(x, logRatio), d);
  const value = select(close, broadcastTo(series, shape), broadcastTo(far, shape));
  const atanh2 = tf.mul(tf.mul(v, 2), tf.add(tf.mul(v2, poly), 1));
  return [value, select(close, atanh2, logRatio)];
}

/** `g` summed over the dims that broadcasting added to a tensor of `shape` (a gradient). */
function sumTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return tf.reshape(tf.sum(g, axes), shape);
}

/**
 * Loader's saddle-point form of the binomial log-mass for `0 < x < n` (real `n`, `x`), with the
 * log-probabilities `lp = log p`, `lq = log(1 - p)`:
 *
 * $$\log\binom{n}{x}p^x q^{n-x} = \delta(n) - \delta(x) - \delta(n-x) - \mathrm{bd0}(x, np)
 *   - \mathrm{bd0}(n-x, nq) + \tfrac12\log\frac{n}{2\pi x(n-x)}$$
 *
 * Every term is small or moderate, so the result keeps float32 accuracy where
 * `lgamma(n+1) - lgamma(x+1) - lgamma(n-x+1) + x lp + (n-x) lq` loses it to cancellation
 * (about 0.7 nats off at `n = 1e6`).
 */
export function binomialSaddleLogPmf(
  x: tf.Tensor,
  n: tf.Tensor,
  lp: tf.Tensor,
  lq: tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const y = tf.sub(n, x);
    const logN = tf.log(n);
    const logNp = tf.add(logN, lp);
    const logNq = tf.add(logN, lq);
    const dev = tf.add(bd0(x, tf.exp(logNp), logNp), bd0(y, tf.exp(logNq), logNq));
    const [dn, dx, dy] = stirlingErrors(n, x, y) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const stirling = tf.sub(dn, tf.add(dx, dy));
    const front = tf.mul(0.5, tf.sub(tf.sub(logN, tf.add(tf.log(x), tf.log(y))), LOG_2PI));
    return tf.add(tf.sub(stirling, dev), front);
  });
}

/**
 * The Dirichlet-multinomial log-mass of counts `x` (last axis `K`, `n = sum x`) under
 * concentrations `alpha > 0` (broadcast with `x`), in a saddle-point form without the float32
 * cancellation of its eight-lgamma definition (several nats off at `n = 1e6`). With
 * `A = sum alpha`, `s = n + A`, the posterior mean `pi = (x + alpha)/s` as the common centre and
 * Stirling's error `delta` ({@link stirlingError}; `lgamma(z) = (z - 1/2) log z - z +
 * log(2 pi)/2 + delta(z)`), the `x log pi` terms of the multinomial coefficient and of the two
 * multivariate beta functions cancel, and what is left is small or moderate:
 *
 * $$\log P(x) = -\sum_i \mathrm{bd0}(x_i, n\pi_i) - \sum_i \mathrm{bd0}(\alpha_i, A\pi_i)
 *   + \tfrac12\Big[\log\frac{n s}{A} - \sum_{x_i > 0}\log x_i
 *   - \sum_i\log\frac{x_i + \alpha_i}{\alpha_i} - (m - 1)\log 2\pi\Big]
 *   + \delta(n) - \sum_{x_i>0}\delta(x_i) + \sum_i[\delta(x_i + \alpha_i) - \delta(\alpha_i)]
 *   - \delta(s) + \delta(A)$$
 *
 * with `m` the number of positive counts, `bd0(0, mu) = mu`, and both deviances centred on the
 * exact differences `x_i - n pi_i = (x_i A - n alpha_i)/s = -(alpha_i - A pi_i)`. `log P = 0` at
 * `n = 0`. `BetaBinomial` is the case `K = 2`.
 */
export function dirichletMultinomialLogPmf(x: tf.Tensor, alpha: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = bshape(x, alpha);
    const xs = broadcastTo(x, shape);
    const al = broadcastTo(alpha, shape);
    const n0 = tf.sum(xs, -1, true);
    const some = gt(n0, 0);
    const n = safe(some, n0, 1); // n = 0 is masked below; keep every branch finite
    const a = tf.sum(al, -1, true);
    const s = tf.add(n, a);
    const xa = tf.add(xs, al);
    const logS = tf.log(s);
    const logXa = tf.log(xa);
    const logN = tf.log(n);
    const logA = tf.log(a);
    const diff = tf.div(tf.sub(tf.mul(xs, a), tf.mul(n, al)), s);
    const pos = gt(xs, 0);
    const xp = safe(pos, xs, 1);
    const m1 = tf.div(tf.mul(n, xa), s);
    const dev1 = whereB(pos, bd0(xp, m1, tf.sub(tf.add(logN, logXa), logS), diff), m1);
    const m3 = tf.div(tf.mul(a, xa), s);
    const dev3 = bd0(al, m3, tf.sub(tf.add(logA, logXa), logS), tf.neg(diff));
    const count = tf.sum(tf.cast(pos, 'float32'), -1, true);
    const logs = tf.sub(
      tf.sub(tf.add(logN, tf.sub(logS, logA)), tf.sum(tf.log(xp), -1, true)),
      tf.add(tf.sum(tf.sub(logXa, tf.log(al)), -1, true), tf.mul(tf.sub(count, 1), LOG_2PI)),
    );
    const deltas = tf.add(
      tf.sub(stirlingError(n), stirlingError(s)),
      tf.add(
        stirlingError(a),
        tf.sum(
          tf.sub(
            tf.sub(stirlingError(xa), stirlingError(al)),
            whereB(pos, stirlingError(xp), tf.scalar(0)),
          ),
          -1,
          true,
        ),
      ),
    );
    const dev = tf.sum(tf.add(dev1, dev3), -1, true);
    const lp = tf.add(tf.sub(tf.mul(0.5, logs), dev), deltas);
    return tf.squeeze(whereB(some, lp, tf.scalar(0)), [-1]);
  });
}

/**
 * `log` of the Gamma(`a`, rate 1) density at `y > 0`, given `log y`, in Loader's form: with
 * Stirling's error `delta` ({@link stirlingError}) and the deviance {@link bd0},
 *
 * $$(a - 1)\log y - y - \log\Gamma(a) = -\log y + \tfrac12\log\frac{a}{2\pi} - \delta(a)
 *   - \mathrm{bd0}(a, y),$$
 *
 * whose terms stay moderate where `(a - 1) log y - y - lgamma(a)` cancels (0.1-0.3 nats off at
 * `a = 1e6` in float32). The Gamma density at `x` with rate `b` is this at `y = b x` plus `log b`;
 * the inverse-gamma density at `x` is this at `y = b / x` plus `log b - 2 log x`.
 */
export function gammaLogDensity(a: tf.Tensor, y: tf.Tensor, logY: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.sub(
      tf.sub(tf.mul(0.5, tf.sub(tf.log(a), LOG_2PI)), logY),
      tf.add(stirlingError(a), bd0(a, y, logY)),
    ),
  );
}

/**
 * `log` of the Beta(`a`, `b`) density at `0 < x < 1` (with `y = 1 - x`) in the saddle-point form
 * of {@link dirichletMultinomialLogPmf}: with `s = a + b`, the deviances are centred at `s x` and
 * `s y` with the exact difference `a y - b x`,
 *
 * $$\log p(x) = -\mathrm{bd0}(a, s x) - \mathrm{bd0}(b, s y) - \log x - \log y
 *   + \tfrac12\log\frac{a b}{2\pi s} - \delta(a) - \delta(b) + \delta(s),$$
 *
 * float32-accurate at large concentrations, where `(a-1) log x + (b-1) log y - lbeta(a, b)`
 * is a difference of numbers of order `a log a` (0.1 nats off at `a = 1e5`).
 */
export function betaLogDensity(a: tf.Tensor, b: tf.Tensor, x: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.tidy(() => betaLogDensityAndLbeta(a, b, x, y)[0]);
}

/**
 * {@link betaLogDensity} and `log B(a, b)` from the same pieces (the Beta density at the ends
 * `x = 0, 1` needs the latter: no three more `lgamma`s), with `lgamma(a) = (a - 1/2) log a - a +
 * log(2 pi)/2 + delta(a)`:
 *
 * $$\log B(a, b) = (a - \tfrac12)\log a + (b - \tfrac12)\log b - (s - \tfrac12)\log s
 *   + \tfrac12\log 2\pi + \delta(a) + \delta(b) - \delta(s)$$
 *
 * @returns `[log p(x), log B(a, b)]`.
 */
export function betaLogDensityAndLbeta(
  a: tf.Tensor,
  b: tf.Tensor,
  x: tf.Tensor,
  y: tf.Tensor,
): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const s = tf.add(a, b);
    const logX = tf.log(x);
    const logY = tf.log(y);
    const logS = tf.log(s);
    const logA = tf.log(a);
    const logB = tf.log(b);
    const diff = tf.sub(tf.mul(a, y), tf.mul(b, x));
    const dev = tf.add(
      bd0(a, tf.mul(s, x), tf.add(logS, logX), diff),
      bd0(b, tf.mul(s, y), tf.add(logS, logY), tf.neg(diff)),
    );
    const logs = tf.mul(0.5, tf.sub(tf.sub(tf.add(logA, logB), logS), LOG_2PI));
    const [ds, da, db] = stirlingErrors(s, a, b) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const deltas = tf.sub(ds, tf.add(da, db));
    const logp = tf.add(tf.sub(tf.sub(logs, tf.add(logX, logY)), dev), deltas);
    const main = tf.sub(
      tf.add(tf.mul(tf.sub(a, 0.5), logA), tf.mul(tf.sub(b, 0.5), logB)),
      tf.mul(tf.sub(s, 0.5), logS),
    );
    const lb = tf.sub(tf.add(main, HALF_LOG_2PI), deltas);
    return [logp, lb];
  });
}

/**
 * `log` of the Dirichlet(`alpha`) density at `x` with every `x_i > 0` (last axis), in the
 * saddle-point form of {@link betaLogDensity}: with `A = sum alpha`,
 *
 * $$\log p(x) = -\sum_i \mathrm{bd0}(\alpha_i, A x_i) - \sum_i \log x_i
 *   + \tfrac12\Big[\sum_i \log\alpha_i - \log A - (K - 1)\log 2\pi\Big]
 *   - \sum_i \delta(\alpha_i) + \delta(A) + A\Big(\sum_i x_i - 1\Big),$$
 *
 * the last term making it equal to `sum (alpha_i - 1) log x_i + lgamma(A) - sum lgamma(alpha_i)`
 * at any `x` (also one whose float32 sum is not exactly 1), without that form's cancellation at
 * large concentrations (0.08 nats off at `alpha = [1e5, 1e5]`).
 */
export function dirichletLogDensity(alpha: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => dirichletLogDensityAndLogNorm(alpha, x)[0]);
}

/**
 * {@link dirichletLogDensity} and the log-normalizer `sum_i lgamma(alpha_i) - lgamma(A)` from the
 * same pieces (the density off the open simplex needs the latter), with `lgamma(a) = (a - 1/2)
 * log a - a + log(2 pi)/2 + delta(a)`:
 *
 * $$\sum_i\log\Gamma(\alpha_i) - \log\Gamma(A) = \sum_i(\alpha_i - \tfrac12)\log\alpha_i
 *   - (A - \tfrac12)\log A + \tfrac{K-1}2\log 2\pi + \sum_i\delta(\alpha_i) - \delta(A)$$
 *
 * @returns `[log p(x), log-normalizer]`, both of the broadcast batch shape.
 */
export function dirichletLogDensityAndLogNorm(
  alpha: tf.Tensor,
  x: tf.Tensor,
): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const shape = bshape(alpha, x);
    const al = broadcastTo(alpha, shape);
    const xs = broadcastTo(x, shape);
    const a = tf.sum(al, -1, true);
    const logA = tf.log(a);
    const logAl = tf.log(al);
    const logX = tf.log(xs);
    const m = tf.mul(a, xs);
    const dev = tf.sum(bd0(al, m, tf.add(logA, logX), tf.sub(al, m)), -1);
    const k = shape[shape.length - 1] as number;
    const a0 = tf.squeeze(a, [-1]);
    const logA0 = tf.squeeze(logA, [-1]);
    const logs = tf.mul(0.5, tf.sub(tf.sub(tf.sum(logAl, -1), logA0), (k - 1) * LOG_2PI));
    // Stirling's error of the K concentrations and of their sum in one pass
    const both = stirlingError(tf.concat([al, a], -1));
    const [dAl, dA] = tf.split(both, [k, 1], -1) as [tf.Tensor, tf.Tensor];
    const deltas = tf.sub(tf.squeeze(dA, [-1]), tf.sum(dAl, -1));
    const drift = tf.mul(a0, tf.sub(tf.sum(xs, -1), 1));
    const logp = tf.add(tf.add(tf.sub(tf.sub(logs, tf.sum(logX, -1)), dev), deltas), drift);
    const main = tf.sub(tf.sum(tf.mul(tf.sub(al, 0.5), logAl), -1), tf.mul(tf.sub(a0, 0.5), logA0));
    const logNorm = tf.sub(tf.add(main, (k - 1) * HALF_LOG_2PI), deltas);
    return [logp, logNorm];
  });
}

/** Shift of {@link digammaShift}'s asymptotic series (its terms reach 1e-12 from 10 on). */
const DIGAMMA_SHIFT_FROM = 10;

/**
 * `psi(x + h) - psi(x)` for `x > 0`, `h >= 0` without cancellation: the digamma difference of
 * the Student-t entropy at `x = nu/2`, `h = 1/2`, which is `~h/x` while each `psi` is `~log x`
 * (`StudentT(1e6).entropy()` was 1.3846 for 1.41894). The recurrence moves `x` to
 * `y = x + 10`, where the asymptotic series of `psi` is differenced term by term:
 *
 * $$\psi(x+h)-\psi(x) = \operatorname{log1p}\frac hy + \frac{h}{2y(y+h)}
 *   - \sum_{k=1}^{4}\frac{B_{2k}}{2k}\big[(y+h)^{-2k} - y^{-2k}\big]
 *   + \sum_{i=0}^{9}\frac{h}{(x+i)(x+i+h)}.$$
 */
export function digammaShift(x: tf.Tensor, h: number): tf.Tensor {
  return tf.tidy(() => {
    const y = tf.add(x, DIGAMMA_SHIFT_FROM);
    const yh = tf.add(y, h);
    const a2 = tf.reciprocal(tf.square(yh));
    const b2 = tf.reciprocal(tf.square(y));
    // B_2/2 = 1/12, B_4/4 = -1/120, B_6/6 = 1/252, B_8/8 = -1/240, as polynomials in 1/z^2
    const series = (z2: tf.Tensor): tf.Tensor =>
      tf.mul(
        z2,
        tf.sub(1 / 12, tf.mul(z2, tf.sub(1 / 120, tf.mul(z2, tf.sub(1 / 252, tf.div(z2, 240)))))),
      );
    let out = tf.add(log1p(tf.div(h, y)), tf.div(h, tf.mul(tf.mul(2, y), yh)));
    out = tf.sub(out, tf.sub(series(a2), series(b2)));
    for (let i = 0; i < DIGAMMA_SHIFT_FROM; i++) {
      const xi = tf.add(x, i);
      out = tf.add(out, tf.div(h, tf.mul(xi, tf.add(xi, h))));
    }
    return out;
  });
}

/**
 * `r(x) = psi(x) - log x` for `x > 0`, small (`~ -1/(2x)`) where each term is `~log x`: the
 * asymptotic series for `x >= 10`, else the recurrence from `y = x + 10`,
 *
 * $$r(x) \approx -\frac1{2x} - \frac1{12x^2} + \frac1{120x^4} - \frac1{252x^6} + \frac1{240x^8},
 *   \qquad r(x) = r(x + 10) + \operatorname{log1p}\frac{10}{x} - \sum_{i=0}^{9}\frac1{x+i}.$$
 *
 * The entropies of the Gamma, InverseGamma, Beta and Dirichlet families are written with it and
 * with Stirling's error {@link stirlingError} (`Gamma(300).entropy()` lost 2e-4 to the
 * cancellation of `lgamma(a)` against `(a - 1) psi(a)`).
 */
export function digammaMinusLog(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const big = ge(x, DIGAMMA_SHIFT_FROM);
    const xs = safe(notB(big), x, 1);
    const y = whereB(big, safe(big, x, DIGAMMA_SHIFT_FROM), tf.add(xs, DIGAMMA_SHIFT_FROM));
    const zi = tf.reciprocal(y);
    const zi2 = tf.square(zi);
    const series = tf.mul(
      zi2,
      tf.sub(1 / 12, tf.mul(zi2, tf.sub(1 / 120, tf.mul(zi2, tf.sub(1 / 252, tf.div(zi2, 240)))))),
    );
    const atY = tf.neg(tf.add(tf.mul(0.5, zi), series));
    let back = log1p(tf.div(DIGAMMA_SHIFT_FROM, xs));
    for (let i = 0; i < DIGAMMA_SHIFT_FROM; i++) back = tf.sub(back, tf.reciprocal(tf.add(xs, i)));
    return whereB(big, atY, tf.add(atY, back));
  });
}

/**
 * `log Gamma(x + h) - log Gamma(x)` for `x > 0`, `h >= 0` without cancellation (the Student-t
 * normalizers at `x = nu/2`, `h = 1/2` or `d/2`; `lgamma` of each is of order `x log x`, 1e9 at
 * `nu = 1e8`):
 *
 * $$\log\frac{\Gamma(x + h)}{\Gamma(x)} = (x - \tfrac12)\operatorname{log1p}\frac{h}{x}
 *   + h\log(x + h) - h + \delta(x + h) - \delta(x)$$
 */
export function lgammaShift(x: tf.Tensor, h: number): tf.Tensor {
  return tf.tidy(() => {
    const xh = tf.add(x, h);
    const main = tf.mul(tf.sub(x, 0.5), log1p(tf.div(h, x)));
    const rest = tf.sub(tf.mul(h, tf.log(xh)), h);
    const [dxh, dx] = stirlingErrors(xh, x) as [tf.Tensor, tf.Tensor];
    return tf.add(tf.add(main, rest), tf.sub(dxh, dx));
  });
}

/** Wichura's AS241 (PPND16) coefficients, numerator then denominator, lowest order first. */
const NDTRI_CENTRAL = [
  [
    3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946,
    45921.95393154987, 67265.7709270087, 33430.57558358813, 2509.0809287301227,
  ],
  [
    1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597,
    39307.89580009271, 28729.085735721943, 5226.495278852546,
  ],
] as const;
const NDTRI_NEAR = [
  [
    1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045,
    1.2704582524523684, 0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
  ],
  [
    1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008,
    0.015198666563616457, 0.0005475938084995345, 1.0507500716444169e-9,
  ],
] as const;
const NDTRI_FAR = [
  [
    6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487,
    0.026532189526576124, 0.0012426609473880784, 2.7115555687434876e-5, 2.0103343992922881e-7,
  ],
  [
    1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
    1.8463183175100548e-5, 1.421511758316446e-7, 2.0442631033899397e-15,
  ],
] as const;

/** `num(r) / den(r)` for coefficient lists (Horner). */
function ratio(
  r: tf.Tensor,
  [num, den]: readonly [readonly number[], readonly number[]],
): tf.Tensor {
  const horner = (c: readonly number[]): tf.Tensor => {
    let acc: tf.Tensor = tf.fill(r.shape, c[c.length - 1] as number);
    for (let i = c.length - 2; i >= 0; i--) acc = tf.add(tf.mul(acc, r), c[i] as number);
    return acc;
  };
  return tf.div(horner(num), horner(den));
}

/**
 * The standard normal quantile `Phi^{-1}(p)` (Wichura's AS241, relative error ~1e-16 in exact
 * arithmetic): a rational function of `q = p - 1/2` in the centre, of `sqrt(-log min(p, 1-p))`
 * in the tails; `-Infinity` at 0, `+Infinity` at 1, NaN outside `[0, 1]`.
 */
export function ndtri(p: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const q = tf.sub(p, 0.5);
    const central = lt(tf.abs(q), 0.425);
    const qc = safe(central, q, 0);
    const centralX = tf.mul(qc, ratio(tf.sub(0.180625, tf.square(qc)), NDTRI_CENTRAL));
    const tailP = tf.clipByValue(tf.minimum(p, tf.sub(1, p)), 1e-300, 0.5);
    const r = tf.sqrt(tf.neg(tf.log(safe(notB(central), tailP, 0.5))));
    const near = le(r, 5);
    const tailX = select(
      near,
      ratio(tf.sub(safe(near, r, 1.6), 1.6), NDTRI_NEAR),
      ratio(tf.sub(safe(notB(near), r, 5), 5), NDTRI_FAR),
    );
    const signed = select(lt(q, 0), tf.neg(tailX), tailX);
    const x = select(central, centralX, signed);
    const ends = select(eq(p, 0), tf.fill(p.shape, -Infinity), tf.fill(p.shape, Infinity));
    const valid = andB(ge(p, 0), le(p, 1));
    const atEnd = orB(eq(p, 0), eq(p, 1));
    return select(valid, select(atEnd, ends, x), tf.fill(p.shape, NaN));
  });
}

/**
 * `tf.where(cond, a, b)`; for a boolean `cond` and `a`, `b` of its shape and one dtype, the single
 * `Select` kernel (`tf.where` first clones each of the three: three more kernels per call).
 */
export function select(cond: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (
    cond.dtype === 'bool' &&
    a.dtype === b.dtype &&
    tf.util.arraysEqual(cond.shape, a.shape) &&
    tf.util.arraysEqual(a.shape, b.shape)
  ) {
    const inputs = { condition: cond, t: a, e: b } as unknown as tf.NamedTensorMap;
    return tf.engine().runKernel('Select', inputs) as tf.Tensor;
  }
  return tf.where(cond, a, b);
}

/** The broadcast shape of some tensors (numpy rules). */
export function bshape(...ts: tf.Tensor[]): number[] {
  return ts.reduce<number[]>((s, t) => tf.backend_util.assertAndGetBroadcastShape(s, t.shape), []);
}

/** `log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b)`. */
export function lbeta(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.add(lgamma(a), lgamma(b)), lgamma(tf.add(a, b))));
}

/** `a * b`, but 0 where `a == 0` even if `b` is infinite (the `0 log 0 = 0` convention). */
export function mulNoNan(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const zero = eq(a, 0);
    const shape = bshape(a, b);
    const bSafe = select(broadcastTo(zero, shape), tf.zeros(shape), broadcastTo(b, shape));
    return tf.mul(a, bSafe);
  });
}

/** Below this `t`, {@link log1mExpNeg} uses its series in `t` around `log t`. */
const LOG1MEXP_SERIES_BELOW = 0.5;

/**
 * `log(1 - e^{-t})` for `t >= 0`, given `log t` as well (so that `t` may underflow): the series
 * `log t - t/2 + t^2/24 - t^4/2880 + t^6/181440` (error < 1e-9 for `t < 1/2`), else
 * `log1p(-e^{-t})`. Finite wherever `log t` is, unlike `log(-expm1(-t))` (-Infinity once `t`
 * underflows, as the Weibull CDF at `x = 1e-30` or the Gumbel survival at `z = 1000`).
 */
export function log1mExpNeg(t: tf.Tensor, logT: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const small = lt(t, LOG1MEXP_SERIES_BELOW);
    const ts = safe(small, t, 0);
    const t2 = tf.square(ts);
    const poly = tf.mul(t2, tf.add(1 / 24, tf.mul(t2, tf.add(-1 / 2880, tf.div(t2, 181440)))));
    const series = tf.add(tf.sub(logT, tf.mul(0.5, ts)), poly);
    const tl = safe(notB(small), t, 1);
    return whereB(small, series, log1p(tf.neg(tf.exp(tf.neg(tl)))));
  });
}

/**
 * `log erfc(y)` for `y >= 0`, from Numerical Recipes' `erfcc` (fractional error < 1.2e-7),
 * computed in log space so that it never underflows.
 */
function logErfcPos(y: tf.Tensor): tf.Tensor {
  const t = tf.reciprocal(tf.add(1, tf.mul(0.5, y)));
  const coef = [
    -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398,
    1.48851587, -0.82215223, 0.17087277,
  ];
  let poly: tf.Tensor = tf.scalar(coef[coef.length - 1] as number);
  for (let i = coef.length - 2; i >= 0; i--) poly = tf.add(coef[i] as number, tf.mul(t, poly));
  return tf.add(tf.log(t), tf.sub(poly, tf.square(y)));
}

/** Complementary error function `erfc(x) = 1 - erf(x)`, with relative error ~1e-6 near 0
 * and ~1e-5 at |x| = 5 in float32 (where `1 - erf` would have none left). */
export function erfc(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const pos = ge(x, 0);
    const e = tf.exp(logErfcPos(select(pos, x, tf.neg(x))));
    return select(pos, e, tf.sub(2, e));
  });
}

/**
 * Standard normal CDF `Phi(z) = 1/2 erfc(-z / sqrt 2)`, accurate in relative terms in the lower
 * tail (unlike `1/2 (1 + erf)`).
 */
export function ndtr(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(0.5, erfc(tf.mul(z, -Math.SQRT1_2))));
}

/** `log Phi(z)`, finite down to very negative `z` (computed in log space). */
export function logNdtr(z: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const neg = lt(z, 0);
    // Feed each branch a safe input so that the unused branch has finite gradients.
    const zNeg = select(neg, z, tf.zerosLike(z));
    const zPos = select(neg, tf.zerosLike(z), z);
    const lower = tf.add(Math.log(0.5), logErfcPos(tf.mul(zNeg, -Math.SQRT1_2)));
    const upper = log1p(tf.mul(-0.5, tf.exp(logErfcPos(tf.mul(zPos, Math.SQRT1_2)))));
    return select(neg, lower, upper);
  });
}

/** Guard for the modified Lentz algorithm: replace tiny denominators by `FPMIN`. */
const FPMIN = 1e-30;
function guard(d: tf.Tensor): tf.Tensor {
  return select(lt(tf.abs(d), FPMIN), tf.fill(d.shape, FPMIN), d);
}

/** Number of series / continued-fraction terms for parameters up to `m` (host-side maximum). */
function termsFor(m: number, base: number, perSqrt: number): number {
  const n = Number.isFinite(m) ? Math.ceil(base + perSqrt * Math.sqrt(Math.max(m, 0))) : base;
  return Math.min(n, 2000);
}

function maxOf(...ts: tf.Tensor[]): number {
  return Math.max(...ts.map((t) => tf.tidy(() => tf.max(t).dataSync()[0] as number)));
}

/**
 * `log(x^a e^-x / Gamma(a))` without the float32 cancellation of `a log x - x - lgamma(a)` for
 * large `a`: with Stirling's remainder `c(a) = lgamma(a) - (a - 1/2) log a + a - log(2 pi)/2`,
 * it equals `a (log1p(d) - d) + 1/2 log a - log(2 pi)/2 - c(a)`, `d = (x - a)/a`.
 */
function logGammaPrefactor(a: tf.Tensor, x: tf.Tensor): tf.Tensor {
  const direct = tf.sub(tf.sub(tf.mul(a, tf.log(x)), x), lgamma(a));
  const big = gt(a, 10);
  const ab = select(big, a, tf.fill(a.shape, 20));
  const inv = tf.reciprocal(ab);
  const inv2 = tf.square(inv);
  const corr = tf.mul(inv, tf.sub(1 / 12, tf.mul(inv2, tf.sub(1 / 360, tf.div(inv2, 1260)))));
  const d = tf.div(tf.sub(x, ab), ab);
  const stable = tf.sub(
    tf.add(tf.mul(ab, tf.sub(log1p(d), d)), tf.sub(tf.mul(0.5, tf.log(ab)), HALF_LOG_2PI)),
    corr,
  );
  return select(big, stable, direct);
}

/**
 * Temme's coefficients `c_k(eta) = sum_n d_{k,n} eta^n` (k = 0, 1, 2) of the uniform asymptotic
 * expansion of the incomplete gamma functions (Temme, 1979; DiDonato & Morris, 1986; the table
 * of Boost's `igamma_temme_large` and scipy's `igam`), truncated where the terms fall below
 * 1e-9 on `|eta| <= 0.34` (the region `|x/a - 1| < 0.3` where the expansion is used). `c_0` and
 * `c_1` match their closed forms `1/(lambda-1) - 1/eta` and `1/eta^3 - 1/(lambda-1)^3 -
 * 1/(lambda-1)^2 - 1/(12(lambda-1))` to 1e-10 there.
 */
const TEMME_D = [
  [
    -1 / 3,
    1 / 12,
    -2 / 135,
    1 / 864,
    1 / 2835,
    -139 / 777600,
    1 / 25515,
    -571 / 261273600,
    -281 / 151559100,
    8.296711340953087e-7,
  ],
  [
    -1 / 540,
    -1 / 288,
    1 / 378,
    -77 / 77760,
    1 / 4860,
    -4.018775720164609e-7,
    -0.000018098550334489977,
    0.00000764916091608111,
  ],
  [
    25 / 6048,
    -0.0026813271604938273,
    0.0007716049382716049,
    0.0000020093878600823047,
    -0.00010736653226365161,
    0.000052923448829120125,
  ],
] as const;

/** Temme's expansion is used where `a >= TEMME_MIN_A` and `|x - a| < TEMME_MAX_SIGMA a`. */
const TEMME_MIN_A = 20;
const TEMME_MAX_SIGMA = 0.3;
/**
 * Terms of the series (`x < a + 1`) and of the continued fraction (`x >= a + 1`) outside
 * Temme's region: at most 47 and 26 reach 1e-8 there (float64 count over `a` in
 * `[1e-5, 1e9]`, `x/a` in `[1e-8, 1e8]`), whatever the size of `a`.
 */
const GAMMAINC_SERIES_TERMS = 60;
const GAMMAINC_CF_TERMS = 40;

/** `sum_n c_n t^n` (Horner). */
function polyval(c: readonly number[], t: tf.Tensor): tf.Tensor {
  let acc: tf.Tensor = tf.fill(t.shape, c[c.length - 1] as number);
  for (let i = c.length - 2; i >= 0; i--) acc = tf.add(tf.mul(acc, t), c[i] as number);
  return acc;
}

/**
 * `[P(a, x), Q(a, x)]` by Temme's uniform asymptotic expansion, for large `a` and `x` near `a`
 * (`|sigma| < 0.3`, `sigma = (x - a)/a`): with `eta = sigma sqrt(2 t)`,
 * `t = (sigma - log(1 + sigma))/sigma^2` (so that `a eta^2 / 2 = a - x + x log(x/a)`, the sign of
 * `eta` that of `x - a`) and `y = eta sqrt(a/2)`,
 *
 * $$Q(a, x) = \tfrac12\operatorname{erfc}(y) + \frac{e^{-y^2}}{\sqrt{2\pi a}}
 *   \sum_{k=0}^{2} \frac{c_k(\eta)}{a^k},\qquad P = 1 - Q$$
 *
 * (relative error ~3e-8 in exact arithmetic for `a >= 20`). `t` comes from the series
 * `t = 1/(2 + sigma) - 2 sigma/(2 + sigma)^3 sum_j u^{2j}/(2j + 3)`, `u = sigma/(2 + sigma)`,
 * free of the cancellation of `sigma - log1p(sigma)` and smooth through `x = a`.
 */
function temmePQ(a: tf.Tensor, x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const sigma = tf.div(tf.sub(x, a), a);
  const w = tf.add(sigma, 2);
  const u2 = tf.square(tf.div(sigma, w));
  const bracket = polyval([1 / 3, 1 / 5, 1 / 7, 1 / 9, 1 / 11], u2);
  const t = tf.sub(tf.reciprocal(w), tf.mul(tf.div(tf.mul(2, sigma), tf.pow(w, 3)), bracket));
  const eta = tf.mul(sigma, tf.sqrt(tf.mul(2, t)));
  const y = tf.mul(eta, tf.sqrt(tf.mul(0.5, a)));
  const ai = tf.reciprocal(a);
  const [d0, d1, d2] = TEMME_D;
  const series = tf.add(
    polyval(d0, eta),
    tf.mul(ai, tf.add(polyval(d1, eta), tf.mul(ai, polyval(d2, eta)))),
  );
  const r = tf.div(tf.mul(tf.exp(tf.neg(tf.square(y))), series), tf.sqrt(tf.mul(2 * Math.PI, a)));
  const q = tf.add(tf.mul(0.5, erfc(y)), r);
  const p = tf.sub(tf.mul(0.5, erfc(tf.neg(y))), r);
  return [p, q];
}

/**
 * Regularized incomplete gamma functions `[P(a, x), Q(a, x)]` for `a > 0, x >= 0`: Temme's
 * uniform asymptotic expansion ({@link temmePQ}) for `a >= 20` and `|x - a| < 0.3 a` (where the
 * series and the continued fraction need `O(sqrt a)` terms: capped at 2000 they gave
 * `P(1e6, 1e6) = 0.4774` for `0.50013`), else the series for `x < a + 1` and the continued
 * fraction otherwise (Numerical Recipes' `gammp`/`gammq`), each with a fixed number of terms
 * that converges there for any `a`.
 *
 * $$P(a,x) = \frac{1}{\Gamma(a)}\int_0^x t^{a-1}e^{-t}\,dt,\qquad Q = 1 - P$$
 */
export function gammaincPQ(a: tf.Tensor, x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const shape = bshape(a, x);
    const A = broadcastTo(a, shape);
    const X = broadcastTo(tf.maximum(x, 0), shape);
    const temme = andB(ge(A, TEMME_MIN_A), lt(tf.abs(tf.sub(X, A)), tf.mul(TEMME_MAX_SIGMA, A)));
    const useSeries = andB(notB(temme), lt(X, tf.add(A, 1)));
    const useCf = andB(notB(temme), notB(useSeries));
    const ones = tf.onesLike(A);
    // log of the prefactor x^a e^-x / Gamma(a); 0 at x = 0 handled by where below.
    const xSafe = select(gt(X, 0), X, ones);
    const logPre = logGammaPrefactor(A, xSafe);
    const pre = select(gt(X, 0), tf.exp(logPre), tf.zerosLike(A));
    // Series branch (inputs made safe where another branch is used).
    const xs = select(useSeries, X, tf.zerosLike(X));
    let ap = A;
    let del: tf.Tensor = tf.reciprocal(A);
    let sum = del;
    for (let i = 0; i < GAMMAINC_SERIES_TERMS; i++) {
      ap = tf.add(ap, 1);
      del = tf.mul(del, tf.div(xs, ap));
      sum = tf.add(sum, del);
    }
    const pSeries = tf.mul(sum, pre);
    // Continued fraction branch.
    const xc = select(useCf, X, tf.add(A, 2));
    let b = tf.sub(tf.add(xc, 1), A);
    let c: tf.Tensor = tf.fill(shape, 1 / FPMIN);
    let d: tf.Tensor = tf.reciprocal(b);
    let h = d;
    for (let i = 1; i <= GAMMAINC_CF_TERMS; i++) {
      const an = tf.mul(-i, tf.sub(i, A));
      b = tf.add(b, 2);
      d = tf.reciprocal(guard(tf.add(tf.mul(an, d), b)));
      c = guard(tf.add(b, tf.div(an, c)));
      h = tf.mul(h, tf.mul(d, c));
    }
    const qCf = tf.mul(h, pre);
    // Temme branch.
    const at = select(temme, A, tf.fill(shape, TEMME_MIN_A));
    const [pT, qT] = temmePQ(at, select(temme, X, at));
    const p = select(temme, pT, select(useSeries, pSeries, tf.sub(1, qCf)));
    const q = select(temme, qT, select(useSeries, tf.sub(1, pSeries), qCf));
    return [tf.clipByValue(p, 0, 1), tf.clipByValue(q, 0, 1)];
  });
}

/**
 * Regularized incomplete beta function `I_x(a, b)` for `a, b > 0`, given both `x` and `y = 1 - x`
 * (so that callers with an accurate complement keep its precision). Continued fraction
 * (Numerical Recipes `betacf`) on the side where it converges fast, symmetry on the other.
 *
 * $$I_x(a,b) = \frac{1}{B(a,b)}\int_0^x t^{a-1}(1-t)^{b-1}\,dt$$
 */
export function betainc(a: tf.Tensor, b: tf.Tensor, x: tf.Tensor, y?: tf.Tensor): tf.Tensor {
  const n = termsFor(maxOf(a, b), 30, 4);
  return tf.tidy(() => {
    const yy = y ?? tf.sub(1, x);
    const shape = bshape(a, b, x, yy);
    const A0 = broadcastTo(a, shape);
    const B0 = broadcastTo(b, shape);
    const inside = andB(gt(x, 0), gt(yy, 0));
    const half = tf.fill(shape, 0.5);
    const X0 = select(inside, broadcastTo(x, shape), half);
    const Y0 = select(inside, broadcastTo(yy, shape), half);
    const flip = ge(X0, tf.div(tf.add(A0, 1), tf.add(tf.add(A0, B0), 2)));
    const A = select(flip, B0, A0);
    const B = select(flip, A0, B0);
    const X = select(flip, Y0, X0);
    const Y = select(flip, X0, Y0);
    // log(x^a y^b / B(a, b)) in the saddle-point form (the lbeta form lost 1e-3..1e-2 of the
    // result to cancellation once a or b reached the thousands)
    const logBt = tf.add(betaLogDensity(A, B, X, Y), tf.add(tf.log(X), tf.log(Y)));
    const qab = tf.add(A, B);
    const qap = tf.add(A, 1);
    const qam = tf.sub(A, 1);
    let c: tf.Tensor = tf.onesLike(A);
    let d: tf.Tensor = tf.reciprocal(guard(tf.sub(1, tf.div(tf.mul(qab, X), qap))));
    let h = d;
    for (let m = 1; m <= n; m++) {
      const m2 = 2 * m;
      let aa = tf.div(tf.mul(tf.mul(m, tf.sub(B, m)), X), tf.mul(tf.add(qam, m2), tf.add(A, m2)));
      d = tf.reciprocal(guard(tf.add(1, tf.mul(aa, d))));
      c = guard(tf.add(1, tf.div(aa, c)));
      h = tf.mul(h, tf.mul(d, c));
      aa = tf.div(
        tf.neg(tf.mul(tf.mul(tf.add(A, m), tf.add(qab, m)), X)),
        tf.mul(tf.add(A, m2), tf.add(qap, m2)),
      );
      d = tf.reciprocal(guard(tf.add(1, tf.mul(aa, d))));
      c = guard(tf.add(1, tf.div(aa, c)));
      h = tf.mul(h, tf.mul(d, c));
    }
    const r = tf.div(tf.mul(tf.exp(logBt), h), A);
    const val = tf.clipByValue(select(flip, tf.sub(1, r), r), 0, 1);
    const xb = broadcastTo(x, shape);
    return select(inside, val, select(le(xb, 0), tf.zerosLike(val), tf.onesLike(val)));
  });
}

/**
 * A boolean (or any non-differentiable) function of tensors computed off the gradient tape:
 * `noGrad(f, a, b)` equals `f(a, b)` and has zero gradient with respect to `a` and `b`, so a
 * support test such as `x > 0` can feed a `tf.where` inside a differentiated `logProb` (tfjs has
 * no gradient for comparison ops; a stopped-gradient condition is exact since the indicator is
 * piecewise constant).
 */
export function noGrad(f: (...xs: tf.Tensor[]) => tf.Tensor, ...xs: tf.Tensor[]): tf.Tensor {
  const g = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, xs.length) as tf.Tensor[];
    const shapes = inputs.map((t) => t.shape);
    return {
      value: f(...inputs),
      // zeros of the inputs' shapes (the inputs may be disposed by backward time)
      gradFunc: () => shapes.map((s) => tf.zeros(s)),
    };
  });
  return g(...xs);
}

/** `a > b` off the gradient tape (see {@link noGrad}). */
export const gt = (a: tf.Tensor, b: tf.Tensor | number): tf.Tensor =>
  noGrad((x, y) => tf.greater(x as tf.Tensor, y as tf.Tensor), a, toT(b));
/** `a >= b` off the gradient tape. */
export const ge = (a: tf.Tensor, b: tf.Tensor | number): tf.Tensor =>
  noGrad((x, y) => tf.greaterEqual(x as tf.Tensor, y as tf.Tensor), a, toT(b));
/** `a < b` off the gradient tape. */
export const lt = (a: tf.Tensor, b: tf.Tensor | number): tf.Tensor =>
  noGrad((x, y) => tf.less(x as tf.Tensor, y as tf.Tensor), a, toT(b));
/** `a <= b` off the gradient tape. */
export const le = (a: tf.Tensor, b: tf.Tensor | number): tf.Tensor =>
  noGrad((x, y) => tf.lessEqual(x as tf.Tensor, y as tf.Tensor), a, toT(b));
/** `a == b` off the gradient tape. */
export const eq = (a: tf.Tensor, b: tf.Tensor | number): tf.Tensor =>
  noGrad((x, y) => tf.equal(x as tf.Tensor, y as tf.Tensor), a, toT(b));
/** Logical AND off the gradient tape. */
export const andB = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
  noGrad((x, y) => tf.logicalAnd(x as tf.Tensor, y as tf.Tensor), a, b);
/** Logical OR off the gradient tape. */
export const orB = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
  noGrad((x, y) => tf.logicalOr(x as tf.Tensor, y as tf.Tensor), a, b);
/** Logical NOT off the gradient tape. */
export const notB = (a: tf.Tensor): tf.Tensor => noGrad((x) => tf.logicalNot(x as tf.Tensor), a);
function toT(b: tf.Tensor | number): tf.Tensor {
  return typeof b === 'number' ? tf.scalar(b) : b;
}

/** `logp` where `ok`, `-Infinity` elsewhere (the log-density outside the support). */
export function maskLogProb(ok: tf.Tensor, logp: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = bshape(ok, logp);
    return select(broadcastTo(ok, shape), broadcastTo(logp, shape), tf.fill(shape, -Infinity));
  });
}

/** `x` where `ok`, `fallback` elsewhere: a safe input for a branch that `maskLogProb` discards. */
export function safe(ok: tf.Tensor, x: tf.Tensor, fallback: number): tf.Tensor {
  return tf.tidy(() => {
    const shape = bshape(ok, x);
    return select(broadcastTo(ok, shape), broadcastTo(x, shape), tf.fill(shape, fallback));
  });
}

/** True where `x` is a non-negative integer. */
export function isCount(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => andB(ge(x, 0), eq(x, tf.floor(x))));
}

/** Uniform draws on the open interval (0, 1): never exactly 0, so `log u` is finite. */
export function openUniform(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, 1e-30, 1, 'float32', seed);
}

/** `tf.where` with numpy broadcasting of all three arguments. */
export function whereB(cond: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = bshape(cond, a, b);
    return select(broadcastTo(cond, shape), broadcastTo(a, shape), broadcastTo(b, shape));
  });
}

/**
 * The log multivariate gamma function (torch's `mvlgamma`), elementwise in `a`:
 *
 * $$\log\Gamma_p(a) = \tfrac{p(p-1)}4\log\pi + \sum_{j=1}^{p}\log\Gamma\big(a + \tfrac{1-j}2\big).$$
 *
 * @param a the argument (`a > (p - 1)/2`). @param p the order, an integer >= 1.
 */
export function mvlgamma(a: tf.Tensor, p: number): tf.Tensor {
  return tf.tidy(() => {
    let acc: tf.Tensor = tf.fill(a.shape, (p * (p - 1) * Math.log(Math.PI)) / 4);
    for (let j = 1; j <= p; j++) acc = tf.add(acc, lgamma(tf.add(a, (1 - j) / 2)));
    return acc;
  });
}

/**
 * The multivariate digamma function, `d/da log Gamma_p(a)`, elementwise in `a`:
 *
 * $$\psi_p(a) = \sum_{j=1}^{p}\psi\big(a + \tfrac{1-j}2\big).$$
 *
 * @param a the argument. @param p the order, an integer >= 1.
 */
export function mvdigamma(a: tf.Tensor, p: number): tf.Tensor {
  return tf.tidy(() => {
    let acc: tf.Tensor = tf.zerosLike(a);
    for (let j = 1; j <= p; j++) acc = tf.add(acc, digamma(tf.add(a, (1 - j) / 2)));
    return acc;
  });
}
