/**
 * Saddle-point (Loader) log-densities and log-normalizers built from {@link stirlingError} and
 * {@link bd0}: binomial, Dirichlet-multinomial, gamma, beta and Dirichlet, accurate where the
 * `lgamma` differences of the textbook forms cancel.
 */
import * as tf from '@tensorflow/tfjs';
import { broadcastTo } from '../utils/tensor.js';
import { HALF_LOG_2PI, LOG_2PI } from './gamma_functions.js';
import { bd0, stirlingError, stirlingErrors } from './stirling.js';
import { bshape, gt, safe, whereB } from './support_ops.js';

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
