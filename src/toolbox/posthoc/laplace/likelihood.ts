/**
 * The likelihood of the network outputs `f` as the Laplace approximations use it: the Hessian of
 * the negative log-likelihood in the outputs `Lambda`, the log-likelihood of a batch, and the link
 * from the (GLM) logits to class probabilities.
 *
 * - `categorical` (softmax, `K >= 2` logits): `Lambda = diag(p) - p p^T`, `p = softmax(f)`;
 * - `bernoulli` (one logit `f` of `p(y = 1) = sigma(f)`, a binary head): `Lambda = p (1 - p)`,
 *   `log p(y | f) = y log sigma(f) + (1 - y) log sigma(-f)`, class probabilities `[1 - p, p]`;
 * - `gaussian` (regression with noise `sigma`): `Lambda = I / sigma^2`.
 */
import * as tf from '@tensorflow/tfjs';
import type { LaplaceLikelihood } from './curvature.js';

/** What the outputs of the network are the parameters of. */
export type OutputLikelihood = 'categorical' | 'bernoulli' | 'gaussian';

/**
 * The output likelihood of a fit: classification with one output (a sigmoid head or one raw
 * logit) is Bernoulli, with `K >= 2` categorical; regression Gaussian.
 */
export function outputLikelihood(likelihood: LaplaceLikelihood, k: number): OutputLikelihood {
  if (likelihood === 'regression') return 'gaussian';
  return k === 1 ? 'bernoulli' : 'categorical';
}

/**
 * Class probabilities from logits `[..., K]`: `softmax(f)` (categorical) or, for one logit
 * (Bernoulli), the two classes `[sigma(-f), sigma(f)]` `[..., 2]`.
 */
export function classProbs(f: tf.Tensor, lik: OutputLikelihood): tf.Tensor {
  return tf.tidy(() =>
    lik === 'bernoulli' ? tf.concat([tf.sigmoid(tf.neg(f)), tf.sigmoid(f)], -1) : tf.softmax(f),
  );
}

/**
 * The probit (MacKay) approximation of the predictive `E[link(f)]` for `f ~ N(mu, diag(v))`:
 * the class probabilities ({@link classProbs}) of `kappa mu`, `kappa = (1 + pi v / 8)^(-1/2)`
 * (exact moments for the probit link `Phi(sqrt(pi / 8) f)` that approximates the sigmoid).
 *
 * @param mu logits `[B, K]`; @param v their variances `[B, K]`.
 */
export function probitProbs(mu: tf.Tensor, v: tf.Tensor, lik: OutputLikelihood): tf.Tensor {
  return tf.tidy(() => classProbs(tf.div(mu, tf.sqrt(tf.add(1, tf.mul(Math.PI / 8, v)))), lik));
}

/**
 * The Laplace bridge (Hobbhahn et al. 2022) as laplace-torch's `link_approx='bridge'`: the Gaussian
 * `N(mu, Sigma)` of the `K` logits is first given zero mean sum (conditioned on `1^T f = 0`),
 *
 * $$\tilde\mu = \mu - \frac{\Sigma 1\,(1^T\mu)}{1^T\Sigma 1},\qquad
 *   \tilde\Sigma = \Sigma - \frac{\Sigma 1\,1^T\Sigma}{1^T\Sigma 1},$$
 *
 * then mapped to the Dirichlet `alpha_k = (1 - 2/K + e^{mu~_k} / K^2 sum_l e^{-mu~_l}) / Sigma~_kk`,
 * whose mean `alpha / sum(alpha)` is returned. Computed on the host in float64 (`e^{mu~_k - mu~_l}`
 * summed as one exponent each, so large logits do not overflow); a variance `Sigma~_kk` that
 * round-off leaves `<= 0` is taken as `1e-12`.
 *
 * With `normalize` (laplace-torch's `link_approx='bridge_norm'`), the corrected Gaussian is first
 * rescaled by `s = mean_k(Sigma~_kk) / sqrt(K / 2)`: `mu~ <- mu~ / sqrt(s)`, `Sigma~_kk <- Sigma~_kk / s`
 * (a variance correction that keeps the Dirichlet from collapsing for large `K`).
 *
 * @param mu logits `[B, K]` (`K >= 2`); @param cov their covariances `[B, K, K]`.
 * @returns `[B, K]` probabilities.
 */
export function bridgeProbs(mu: tf.Tensor2D, cov: tf.Tensor3D, normalize = false): tf.Tensor2D {
  const [b, k] = mu.shape;
  const m = mu.dataSync();
  const c = cov.dataSync();
  const out = new Float32Array(b * k);
  const fc = new Float64Array(k);
  const rowSum = new Float64Array(k);
  const colSum = new Float64Array(k);
  for (let n = 0; n < b; n++) {
    const o = n * k * k;
    let tot = 0;
    let fSum = 0;
    rowSum.fill(0);
    colSum.fill(0);
    for (let i = 0; i < k; i++) {
      fSum += m[n * k + i] as number;
      for (let j = 0; j < k; j++) {
        const v = c[o + i * k + j] as number;
        rowSum[i] = (rowSum[i] as number) + v;
        colSum[j] = (colSum[j] as number) + v;
        tot += v;
      }
    }
    const t = tot > 0 ? tot : Infinity; // no variance: nothing to correct
    for (let i = 0; i < k; i++)
      fc[i] = (m[n * k + i] as number) - ((rowSum[i] as number) * fSum) / t;
    let aSum = 0;
    const alpha = new Float64Array(k);
    const vds = Float64Array.from({ length: k }, (_, i) =>
      Math.max(
        (c[o + i * k + i] as number) - ((rowSum[i] as number) * (colSum[i] as number)) / t,
        1e-12,
      ),
    );
    if (normalize) {
      let sc = 0;
      for (let i = 0; i < k; i++) sc += vds[i] as number;
      sc = sc / k / Math.sqrt(k / 2);
      for (let i = 0; i < k; i++) {
        fc[i] = (fc[i] as number) / Math.sqrt(sc);
        vds[i] = (vds[i] as number) / sc;
      }
    }
    for (let i = 0; i < k; i++) {
      let e = 0;
      for (let j = 0; j < k; j++) e += Math.exp((fc[i] as number) - (fc[j] as number));
      const vd = vds[i] as number;
      alpha[i] = (1 - 2 / k + e / (k * k)) / vd;
      aSum += alpha[i] as number;
    }
    for (let i = 0; i < k; i++) out[n * k + i] = (alpha[i] as number) / aSum;
  }
  return tf.tensor2d(out, [b, k]);
}

/** Classes the probabilities have: 2 for a Bernoulli head, else `K`. */
export function numClassesOf(k: number, lik: OutputLikelihood): number {
  return lik === 'bernoulli' ? 2 : k;
}

/**
 * `log p(y | f)` summed over a batch (host number).
 *
 * @param out outputs `[B, K]`; @param y the batch's targets on the host (labels for classification,
 *   `[B * K]` row-major for regression); @param sigmaNoise the Gaussian noise.
 */
export function batchLogLikelihood(
  out: tf.Tensor2D,
  y: Float64Array,
  lik: OutputLikelihood,
  sigmaNoise: number,
): number {
  return tf.tidy(() => {
    const [b, k] = out.shape;
    if (lik === 'categorical') {
      const lp = tf.logSoftmax(out);
      const oh = tf.oneHot(tf.tensor1d(Int32Array.from(y), 'int32'), k);
      return tf.sum(tf.mul(lp, oh)).dataSync()[0] as number;
    }
    if (lik === 'bernoulli') {
      // log sigma(s f) = -softplus(-s f) with s = 2y - 1
      const s = tf.tensor2d(
        Float32Array.from(y, (v) => 2 * v - 1),
        [b, 1],
      );
      return -(tf.sum(tf.softplus(tf.neg(tf.mul(s, out)))).dataSync()[0] as number);
    }
    const r = tf.sub(out, tf.tensor2d(Float32Array.from(y), [b, k]));
    const s2 = sigmaNoise * sigmaNoise;
    const sse = tf.sum(tf.square(r)).dataSync()[0] as number;
    return (-0.5 * sse) / s2 - 0.5 * b * k * Math.log(2 * Math.PI * s2);
  });
}
