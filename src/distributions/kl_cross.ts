/**
 * Analytic KL divergences between families of different classes that describe the same kind of
 * law, as torch.distributions registers them: the three multivariate normal parameterizations
 * among themselves (`MultivariateNormal`, `MultivariateNormalDiag`, `LowRankMultivariateNormal`)
 * and `Exponential` against `Gamma` (an exponential is `Gamma(1, rate)`), and each of them against
 * a vector of independent normals `Independent(Normal, 1)` (TFP's `Independent(Normal)` vs
 * `MultivariateNormalDiag`). Same-class pairs stay in their families' files.
 */
import * as tf from '@tensorflow/tfjs';
import { registerKL } from './kl.js';
import { MultivariateNormal, klFromCholesky } from './mvn.js';
import { MultivariateNormalDiag } from './mvn_diag.js';
import { LowRankMultivariateNormal } from './lowrank_mvn.js';
import { Exponential } from './exponential.js';
import { Gamma, klGammaGamma } from './gamma.js';
import { Independent } from './independent.js';
import { Normal } from './normal.js';
import { ExpandedDistribution } from './expanded.js';
import type { Distribution } from './distribution.js';
import { NotRegisteredError } from '../utils/errors.js';
import { broadcastShapes } from '../utils/tensor.js';
import { cholesky, diagMatrix } from '../utils/linalg.js';

/** A multivariate normal in any of the three parameterizations. */
type Gaussian = MultivariateNormal | MultivariateNormalDiag | LowRankMultivariateNormal;

/**
 * The lower Cholesky factor `L` of the covariance `Sigma = L L^T` of a Gaussian: `scaleTril`,
 * `diag(scaleDiag)`, or `chol(W W^T + diag(D))` for the low-rank form.
 */
function scaleTrilOf(g: Gaussian): tf.Tensor {
  if (g instanceof MultivariateNormal) return g.scaleTril;
  if (g instanceof MultivariateNormalDiag) return diagMatrix(g.scaleDiag);
  return cholesky(tf.add(tf.matMul(g.covFactor, g.covFactor, false, true), diagMatrix(g.covDiag)));
}

/**
 * `KL(N(mu_p, Sigma_p) || N(mu_q, Sigma_q))` between any two of `MultivariateNormal`,
 * `MultivariateNormalDiag` and `LowRankMultivariateNormal` (registered for the six mixed
 * pairs), from the Cholesky factors `L_p`, `L_q` of the covariances:
 *
 * $$\tfrac12\Big[\operatorname{tr}(\Sigma_q^{-1}\Sigma_p) + (\mu_q - \mu_p)^T\Sigma_q^{-1}(\mu_q - \mu_p)
 *   - D\Big] + \sum_i \log (L_q)_{ii} - \sum_i \log (L_p)_{ii}.$$
 *
 * @param p the first distribution.
 * @param q the second distribution (same event size; batch shapes broadcast).
 * @example
 * ```ts
 * klDivergence(new MultivariateNormalDiag([0, 0], [1, 2]),
 *   new MultivariateNormal([1, 0], { covarianceMatrix: [[2, 0.5], [0.5, 1]] }));
 * ```
 */
export function klGaussianGaussian(p: Gaussian, q: Gaussian): tf.Tensor {
  return tf.tidy(() => {
    const batch = broadcastShapes({ p: p.batchShape, q: q.batchShape });
    return klFromCholesky(p.loc, scaleTrilOf(p), q.loc, scaleTrilOf(q), batch);
  });
}

/** `rate` of an exponential as a `Gamma(1, rate)` (validated already; freed by the caller). */
function asGamma(e: Exponential): Gamma {
  return new Gamma(tf.onesLike(e.rate), e.rate, { validateArgs: false });
}

/**
 * `KL(Exp(lambda) || Gamma(a, b))` and `KL(Gamma(a, b) || Exp(lambda))` (torch's pairs): the
 * Gamma–Gamma divergence with the exponential as `Gamma(1, lambda)`,
 *
 * $$\mathrm{KL}(\mathrm{Gamma}(a_1, b_1)\,\|\,\mathrm{Gamma}(a_2, b_2)) = (a_1 - a_2)\psi(a_1)
 *   - \log\Gamma(a_1) + \log\Gamma(a_2) + a_2(\log b_1 - \log b_2) + a_1\frac{b_2 - b_1}{b_1}.$$
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klDivergence(new Exponential(2), new Gamma(3, 1)); // = klDivergence(Gamma(1, 2), Gamma(3, 1))
 * ```
 */
export function klExponentialGamma(p: Exponential | Gamma, q: Exponential | Gamma): tf.Tensor {
  return tf.tidy(() => {
    const made: Gamma[] = [];
    const g = (x: Exponential | Gamma): Gamma => {
      if (x instanceof Gamma) return x;
      const out = asGamma(x);
      made.push(out);
      return out;
    };
    try {
      return klGammaGamma(g(p), g(q));
    } finally {
      for (const m of made) m.dispose();
    }
  });
}

/** Mean and standard deviations (`[...batch, D]`) of a diagonal Gaussian, or undefined. */
interface DiagView {
  loc: tf.Tensor;
  scale: tf.Tensor;
}

/** The `Normal` under `ExpandedDistribution` wrappers, or undefined. */
function normalUnder(d: Distribution): Normal | undefined {
  if (d instanceof Normal) return d;
  if (d instanceof ExpandedDistribution) return normalUnder(d.base);
  return undefined;
}

/** The `Normal` of an `Independent(Normal, 1)` (the base possibly `expand`ed), or undefined. */
function independentNormal(d: Distribution): Normal | undefined {
  if (!(d instanceof Independent) || d.reinterpretedBatchNdims !== 1) return undefined;
  if (d.base.eventShape.length !== 0) return undefined;
  return normalUnder(d.base);
}

/**
 * `Independent(Normal, 1)` (the base possibly `expand`ed) or `MultivariateNormalDiag` as its
 * mean and standard deviations broadcast to `[...batch, D]`; undefined for anything else.
 */
function diagView(d: Distribution): DiagView | undefined {
  if (d instanceof MultivariateNormalDiag) {
    const full = [...d.batchShape, ...d.eventShape];
    return { loc: tf.broadcastTo(d.loc, full), scale: tf.broadcastTo(d.scaleDiag, full) };
  }
  const n = independentNormal(d);
  if (n === undefined) return undefined;
  const full = (d as Independent).base.batchShape;
  return { loc: tf.broadcastTo(n.loc, full), scale: tf.broadcastTo(n.scale, full) };
}

/** The Gaussian's lower Cholesky factor, for a diagonal view or a full/low-rank MVN. */
function trilOf(d: Gaussian | Independent, view: DiagView | undefined): tf.Tensor {
  return view !== undefined ? diagMatrix(view.scale) : scaleTrilOf(d as Gaussian);
}

/**
 * `KL(p || q)` where one side is `Independent(Normal, 1)` (a vector of independent normals, the
 * base possibly `expand`ed) and the other a `MultivariateNormalDiag`, `MultivariateNormal`,
 * `LowRankMultivariateNormal` or another such `Independent`. Between two diagonal Gaussians it
 * is the sum of the coordinate divergences,
 *
 * $$\sum_{j=1}^D \log\frac{\sigma_{q,j}}{\sigma_{p,j}}
 *   + \frac{\sigma_{p,j}^2 + (\mu_{p,j} - \mu_{q,j})^2}{2\sigma_{q,j}^2} - \frac12,$$
 *
 * otherwise the Cholesky form of {@link klGaussianGaussian} with `L = diag(sigma)` for the
 * diagonal side.
 *
 * @param p the first distribution.
 * @param q the second distribution (same event size `[D]`; batch shapes broadcast).
 * @throws NotRegisteredError when the `Independent` side is not a vector of normals (another base
 *   family, or `reinterpretedBatchNdims` other than 1).
 * @example
 * ```ts
 * klDivergence(new MultivariateNormalDiag([0, 1], [1, 2]), new Normal([0.5, 0], [2, 1]).toEvent(1));
 * ```
 */
export function klGaussianIndependent(
  p: Gaussian | Independent,
  q: Gaussian | Independent,
): tf.Tensor {
  const describe = (d: Distribution): string =>
    d instanceof Independent
      ? `Independent(${d.base.constructor.name}, ${d.reinterpretedBatchNdims})`
      : d.constructor.name;
  for (const d of [p, q]) {
    if (d instanceof Independent && independentNormal(d) === undefined) {
      throw new NotRegisteredError(
        `klDivergence: no analytic KL registered for (${describe(p)}, ${describe(q)}): ` +
          'an Independent pairs with a Gaussian only as Independent(Normal, 1); ' +
          'use monteCarloKL(p, q, {numSamples}) for an estimate',
      );
    }
  }
  return tf.tidy(() => {
    const vp = diagView(p);
    const vq = diagView(q);
    const batch = broadcastShapes({ p: p.batchShape, q: q.batchShape });
    if (vp !== undefined && vq !== undefined) {
      const ratio = tf.div(vp.scale, vq.scale);
      const z = tf.div(tf.sub(vp.loc, vq.loc), vq.scale);
      const perDim = tf.sub(
        tf.mul(0.5, tf.add(tf.square(ratio), tf.square(z))),
        tf.add(tf.log(ratio), 0.5),
      );
      return tf.broadcastTo(tf.sum(perDim, -1), batch);
    }
    const locP = vp !== undefined ? vp.loc : (p as Gaussian).loc;
    const locQ = vq !== undefined ? vq.loc : (q as Gaussian).loc;
    return klFromCholesky(locP, trilOf(p, vp), locQ, trilOf(q, vq), batch);
  });
}

registerKL(MultivariateNormal, MultivariateNormalDiag, klGaussianGaussian);
registerKL(MultivariateNormalDiag, MultivariateNormal, klGaussianGaussian);
registerKL(MultivariateNormal, LowRankMultivariateNormal, klGaussianGaussian);
registerKL(LowRankMultivariateNormal, MultivariateNormal, klGaussianGaussian);
registerKL(MultivariateNormalDiag, LowRankMultivariateNormal, klGaussianGaussian);
registerKL(LowRankMultivariateNormal, MultivariateNormalDiag, klGaussianGaussian);
registerKL(Exponential, Gamma, klExponentialGamma);
registerKL(Gamma, Exponential, klExponentialGamma);
registerKL(MultivariateNormalDiag, Independent, klGaussianIndependent);
registerKL(Independent, MultivariateNormalDiag, klGaussianIndependent);
registerKL(MultivariateNormal, Independent, klGaussianIndependent);
registerKL(Independent, MultivariateNormal, klGaussianIndependent);
registerKL(LowRankMultivariateNormal, Independent, klGaussianIndependent);
registerKL(Independent, LowRankMultivariateNormal, klGaussianIndependent);
