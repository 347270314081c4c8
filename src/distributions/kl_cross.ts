/**
 * Analytic KL divergences between families of different classes that describe the same kind of
 * law, as torch.distributions registers them: the three multivariate normal parameterizations
 * among themselves (`MultivariateNormal`, `MultivariateNormalDiag`, `LowRankMultivariateNormal`)
 * and `Exponential` against `Gamma` (an exponential is `Gamma(1, rate)`). Same-class pairs stay
 * in their families' files.
 */
import * as tf from '@tensorflow/tfjs';
import { registerKL } from './kl.js';
import { MultivariateNormal, klFromCholesky } from './mvn.js';
import { MultivariateNormalDiag } from './mvn_diag.js';
import { LowRankMultivariateNormal } from './lowrank_mvn.js';
import { Exponential } from './exponential.js';
import { Gamma, klGammaGamma } from './gamma.js';
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

registerKL(MultivariateNormal, MultivariateNormalDiag, klGaussianGaussian);
registerKL(MultivariateNormalDiag, MultivariateNormal, klGaussianGaussian);
registerKL(MultivariateNormal, LowRankMultivariateNormal, klGaussianGaussian);
registerKL(LowRankMultivariateNormal, MultivariateNormal, klGaussianGaussian);
registerKL(MultivariateNormalDiag, LowRankMultivariateNormal, klGaussianGaussian);
registerKL(LowRankMultivariateNormal, MultivariateNormalDiag, klGaussianGaussian);
registerKL(Exponential, Gamma, klExponentialGamma);
registerKL(Gamma, Exponential, klExponentialGamma);
