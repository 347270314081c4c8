/**
 * Stirling's error `delta(n) = log n! - [(n + 1/2) log(n + 1) - (n + 1) + log(2 pi)/2]` and
 * Loader's deviance term `bd0(x, m) = x log(x/m) + m - x` (custom gradients), with the exact small
 * `log k!` table: the cancellation-free pieces of the saddle-point log-densities.
 */
import * as tf from '@tensorflow/tfjs';
import { broadcastTo } from '../utils/tensor.js';
import { SHIFT, shift, shiftHarmonic, unaryWithGrad } from './gamma_functions.js';
import { bshape, lt, safe, select } from './support_ops.js';

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
