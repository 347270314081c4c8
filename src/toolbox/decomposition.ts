/**
 * Uncertainty decomposition from Monte Carlo samples of the predictive distribution of any
 * stochastic classifier (a Bayesian network in sample mode, MC dropout, a deep ensemble).
 *
 * Every function takes `probs` of shape `[S, N, K]`: `S` samples (forward passes or ensemble
 * members), `N` inputs, `K` classes, each `probs[s, n, :]` a probability vector. Natural logs
 * (nats) throughout.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { toFloat, type TensorInput } from '../utils/tensor.js';
import { checkProbRows } from './host.js';

/** Smallest probability inside a logarithm: keeps `0 log 0 = 0` without NaN. */
const TINY = 1e-12;

/**
 * {@link checkSamples} for Monte Carlo class probabilities `[S, N, K]`: at least one input and
 * one class, every row a probability vector (host check of the values).
 */
function checkProbSamples(t: tf.Tensor, name: string): tf.Tensor3D {
  const p = checkSamples(t, name);
  const [s, n, k] = p.shape;
  checkProbRows(p.dataSync(), s * n, k, name);
  return p;
}

/**
 * `x` as float32, refusing a tensor of another dtype: probabilities (and logits) are real numbers,
 * and an int32 tensor of them is a truncation or a mix-up with labels (class indices), which a
 * cast would pass on silently.
 * @throws ArgumentError naming `name` for an int32 / bool / complex tensor.
 */
function floatInput(x: TensorInput, name: string): tf.Tensor {
  if (x instanceof tf.Tensor && !x.isDisposed && x.dtype !== 'float32') {
    throw new ArgumentError(
      name,
      `expected a float32 tensor, got dtype ${x.dtype} [${x.shape.join(',')}] (integer values are not probabilities or logits: labels? cast with tf.cast(x, 'float32') if intended)`,
    );
  }
  return toFloat(x, name);
}

/** Check that `t` has rank 3 `[S, N, K]` and return it. */
function checkSamples(t: tf.Tensor, name: string): tf.Tensor3D {
  if (t.rank !== 3) {
    throw new ArgumentError(
      name,
      `expected a rank-3 tensor [samples, inputs, classes], got shape [${t.shape.join(',')}]`,
    );
  }
  if ((t.shape[0] ?? 0) < 1) throw new ArgumentError(name, 'expected at least one sample');
  return t as tf.Tensor3D;
}

/**
 * The entropy of categorical distributions along the last axis (the one home of this formula):
 *
 * $$\mathbb{H}[p] = -\sum_k p_k \log p_k\qquad (0 \log 0 = 0,\ \text{via } \log\max(p, 10^{-12}))$$
 *
 * A building block for tensors already known to be probabilities (no checks; runs in the
 * caller's tidy). Use {@link predictiveEntropy} for checked input.
 * @param p probabilities `[..., K]`.
 * @returns `[...]`.
 */
export function entropyLastAxis(p: tf.Tensor): tf.Tensor {
  return tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, TINY))), -1));
}

/**
 * The mean predictive distribution `pbar = (1/S) sum_s p_s`.
 *
 * @param probs sampled probabilities `[S, N, K]`.
 * @returns `[N, K]`.
 * @example
 * ```ts
 * meanProbs(tf.tensor3d([[[1, 0]], [[0, 1]]])); // [[0.5, 0.5]]
 * ```
 */
export function meanProbs(probs: TensorInput): tf.Tensor2D {
  return tf.tidy(() =>
    tf.mean(checkProbSamples(floatInput(probs, 'probs'), 'probs'), 0),
  ) as tf.Tensor2D;
}

/**
 * Predictive (total) entropy: the entropy of the mean prediction.
 *
 * $$\mathbb{H}[\bar p] = -\sum_k \bar p_k \log \bar p_k,\qquad \bar p = \frac1S\sum_s p_s$$
 *
 * Between 0 and `log K` (uniform prediction).
 *
 * @param probs sampled probabilities `[S, N, K]`.
 * @returns `[N]`.
 * @example
 * ```ts
 * predictiveEntropy(tf.fill([3, 1, 4], 0.25)); // [log 4]
 * ```
 */
export function predictiveEntropy(probs: TensorInput): tf.Tensor1D {
  return tf.tidy(() => {
    const p = checkProbSamples(floatInput(probs, 'probs'), 'probs');
    return entropyLastAxis(tf.mean(p, 0));
  }) as tf.Tensor1D;
}

/**
 * Expected entropy (the aleatoric part of the predictive entropy): the mean entropy of the
 * sampled predictions.
 *
 * $$\mathbb{E}_s\,\mathbb{H}[p_s] = -\frac1S\sum_s\sum_k p_{s,k}\log p_{s,k}$$
 *
 * @param probs sampled probabilities `[S, N, K]`.
 * @returns `[N]`.
 * @example
 * ```ts
 * expectedEntropy(tf.tensor3d([[[1, 0]], [[0, 1]]])); // [0]
 * ```
 */
export function expectedEntropy(probs: TensorInput): tf.Tensor1D {
  return tf.tidy(() => {
    const p = checkProbSamples(floatInput(probs, 'probs'), 'probs');
    return tf.mean(entropyLastAxis(p), 0);
  }) as tf.Tensor1D;
}

/**
 * Mutual information between the prediction and the model parameters (the epistemic part;
 * BALD's acquisition score, Houlsby et al. 2011):
 *
 * $$\mathbb{I}[y;\theta] = \mathbb{H}[\bar p] - \mathbb{E}_s\,\mathbb{H}[p_s] \ge 0$$
 *
 * Zero when all samples agree; at most `log K`. Rounding negatives are clipped to 0.
 *
 * @param probs sampled probabilities `[S, N, K]`.
 * @returns `[N]`.
 * @example
 * ```ts
 * mutualInformation(tf.tensor3d([[[1, 0]], [[0, 1]]])); // [log 2]
 * ```
 */
export function mutualInformation(probs: TensorInput): tf.Tensor1D {
  return tf.tidy(() => {
    const p = checkProbSamples(floatInput(probs, 'probs'), 'probs');
    const total = entropyLastAxis(tf.mean(p, 0));
    const expected = tf.mean(entropyLastAxis(p), 0);
    return tf.relu(tf.sub(total, expected));
  }) as tf.Tensor1D;
}

/**
 * Per-class variance of the sampled probabilities across samples (population variance, `1/S`).
 *
 * $$\operatorname{Var}_s[p_{s,k}] = \frac1S\sum_s (p_{s,k} - \bar p_k)^2$$
 *
 * @param probs sampled probabilities `[S, N, K]`.
 * @returns `[N, K]`.
 * @example
 * ```ts
 * probabilityVariance(tf.tensor3d([[[1, 0]], [[0, 1]]])); // [[0.25, 0.25]]
 * ```
 */
export function probabilityVariance(probs: TensorInput): tf.Tensor2D {
  return tf.tidy(() => {
    const p = checkProbSamples(floatInput(probs, 'probs'), 'probs');
    return tf.moments(p, 0).variance;
  }) as tf.Tensor2D;
}

/** Every entropy-based score of {@link decompose}, one value per input. */
export interface Decomposition {
  /** `H[pbar]`, total uncertainty, `[N]`. */
  predictiveEntropy: tf.Tensor1D;
  /** `E_s H[p_s]`, aleatoric, `[N]`. */
  expectedEntropy: tf.Tensor1D;
  /** `H[pbar] - E_s H[p_s]`, epistemic (BALD), `[N]`. */
  mutualInformation: tf.Tensor1D;
  /** Mean over classes of the per-class variance of the probabilities, `[N]`. */
  meanVariance: tf.Tensor1D;
  /** `1 - max_k pbar_k`, `[N]`. */
  oneMinusMaxProb: tf.Tensor1D;
  /** The mean prediction `pbar`, `[N, K]`. */
  meanProbs: tf.Tensor2D;
}

/**
 * All the entropy-based uncertainty scores at once (one pass over the samples). The caller owns
 * and disposes the returned tensors (e.g. `tf.dispose(Object.values(d))`).
 *
 * $$\underbrace{\mathbb{H}[\bar p]}_{\text{total}} = \underbrace{\mathbb{E}_s\mathbb{H}[p_s]}_{\text{aleatoric}}
 * + \underbrace{\mathbb{I}[y;\theta]}_{\text{epistemic}}$$
 *
 * @param probs sampled probabilities `[S, N, K]`.
 * @example
 * ```ts
 * const d = decompose(predictor.predictSamples(x, 20));
 * const mi = await d.mutualInformation.data();
 * ```
 */
export function decompose(probs: TensorInput): Decomposition {
  return tf.tidy(() => {
    const p = checkProbSamples(floatInput(probs, 'probs'), 'probs');
    const pbar = tf.mean(p, 0) as tf.Tensor2D;
    const total = entropyLastAxis(pbar) as tf.Tensor1D;
    const expected = tf.mean(entropyLastAxis(p), 0) as tf.Tensor1D;
    return {
      predictiveEntropy: total,
      expectedEntropy: expected,
      mutualInformation: tf.relu(tf.sub(total, expected)) as tf.Tensor1D,
      meanVariance: tf.mean(tf.moments(p, 0).variance, -1) as tf.Tensor1D,
      oneMinusMaxProb: tf.sub(1, tf.max(pbar, -1)) as tf.Tensor1D,
      meanProbs: pbar,
    };
  });
}

/** Per-input aleatoric and epistemic uncertainty of {@link kwonUncertainty} and friends. */
export interface AleatoricEpistemic {
  /** Diagonal of the aleatoric covariance, `[N, K]`. */
  aleatoric: tf.Tensor2D;
  /** Diagonal of the epistemic covariance, `[N, K]`. */
  epistemic: tf.Tensor2D;
  /** Trace of the aleatoric covariance (sum of the diagonal), `[N]`. */
  aleatoricTotal: tf.Tensor1D;
  /** Trace of the epistemic covariance (sum of the diagonal), `[N]`. */
  epistemicTotal: tf.Tensor1D;
}

/**
 * The variance decomposition of Kwon et al. 2018 ("Uncertainty quantification using Bayesian
 * neural networks in classification"), computed as in BayesianCNN's `uncertainty_estimation.py`
 * from sampled probability vectors `p_s`:
 *
 * $$\text{aleatoric} = \frac1S\sum_s\big(\operatorname{diag}(p_s) - p_s p_s^\top\big),\qquad
 * \text{epistemic} = \frac1S\sum_s(p_s-\bar p)(p_s-\bar p)^\top$$
 *
 * Like the original, only the diagonals are kept: `aleatoric_k = pbar_k - mean_s p_{s,k}^2` and
 * `epistemic_k = mean_s (p_{s,k} - pbar_k)^2`; the per-input reductions are their traces (sums
 * over classes). Their sum is the diagonal of the predictive covariance `diag(pbar) - pbar pbar^T`.
 *
 * @param probs sampled probabilities `[S, N, K]`.
 * @example
 * ```ts
 * const { aleatoricTotal, epistemicTotal } = kwonUncertainty(probs);
 * ```
 */
export function kwonUncertainty(probs: TensorInput): AleatoricEpistemic {
  return tf.tidy(() => {
    const p = checkProbSamples(floatInput(probs, 'probs'), 'probs');
    const pbar = tf.mean(p, 0);
    const aleatoric = tf.sub(pbar, tf.mean(tf.square(p), 0)) as tf.Tensor2D;
    const epistemic = tf.mean(tf.square(tf.sub(p, pbar)), 0) as tf.Tensor2D;
    return {
      aleatoric,
      epistemic,
      aleatoricTotal: tf.sum(aleatoric, -1) as tf.Tensor1D,
      epistemicTotal: tf.sum(epistemic, -1) as tf.Tensor1D,
    };
  });
}

/**
 * BayesianCNN's `softmax` method: {@link kwonUncertainty} on `p_s = softmax(logits_s)`.
 *
 * @param logits sampled network outputs `[S, N, K]`.
 * @example
 * ```ts
 * const { aleatoric, epistemic } = softmaxUncertainty(logitSamples);
 * ```
 */
export function softmaxUncertainty(logits: TensorInput): AleatoricEpistemic {
  const probs = tf.tidy(() => tf.softmax(checkSamples(floatInput(logits, 'logits'), 'logits'), -1));
  try {
    return kwonUncertainty(probs);
  } finally {
    probs.dispose();
  }
}

/**
 * Softplus normalisation of network outputs (Shridhar et al. 2018):
 *
 * $$p_k = \frac{\operatorname{softplus}(o_k)}{\sum_j \operatorname{softplus}(o_j)}$$
 *
 * @param outputs network outputs, classes on the last axis.
 * @returns tensor of the same shape whose last axis sums to one.
 */
export function softplusNormalize(outputs: TensorInput): tf.Tensor {
  return tf.tidy(() => {
    const sp = tf.softplus(floatInput(outputs, 'outputs'));
    return tf.div(sp, tf.sum(sp, -1, true));
  });
}

/**
 * BayesianCNN's `normalized` method (Shridhar et al. 2018, "Uncertainty estimations by softplus
 * normalization in Bayesian convolutional neural networks with variational inference"): the
 * decomposition of {@link kwonUncertainty} on softplus-normalised outputs
 * `p_s = softplus(o_s) / sum_k softplus(o_{s,k})` instead of the softmax.
 *
 * @param outputs sampled network outputs `[S, N, K]`.
 * @example
 * ```ts
 * const { aleatoricTotal, epistemicTotal } = normalizedUncertainty(logitSamples);
 * ```
 */
export function normalizedUncertainty(outputs: TensorInput): AleatoricEpistemic {
  const probs = tf.tidy(() =>
    softplusNormalize(checkSamples(floatInput(outputs, 'outputs'), 'outputs')),
  );
  try {
    return kwonUncertainty(probs);
  } finally {
    probs.dispose();
  }
}
