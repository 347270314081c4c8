/**
 * Heteroscedastic losses of Kendall & Gal 2017 ("What uncertainties do we need in Bayesian deep
 * learning for computer vision?"): the network predicts, besides its output, a log variance
 * `s = log sigma^2` per output, which captures the aleatoric (data) uncertainty.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { nextSeed } from '../utils/seed.js';
import { checkValues, toFloat, type TensorInput } from '../utils/tensor.js';

/**
 * Gaussian negative log-likelihood with a predicted log variance (up to the constant
 * `log(2 pi)/2`), averaged over all elements:
 *
 * $$\mathcal{L} = \frac{1}{ND}\sum_{n,d} \tfrac12 e^{-s_{nd}}\,(y_{nd} - \mu_{nd})^2 + \tfrac12 s_{nd}$$
 *
 * @param mean predicted means `[N, D]`.
 * @param logVar predicted log variances `s`, same shape.
 * @param target targets, same shape (or as many elements); otherwise an `ArgumentError` naming
 *   `target`.
 * @example
 * ```ts
 * heteroscedasticRegressionLoss([[0]], [[0]], [[1]]); // 0.5
 * ```
 */
export function heteroscedasticRegressionLoss(
  mean: TensorInput,
  logVar: TensorInput,
  target: TensorInput,
): tf.Scalar {
  return tf.tidy(() => {
    const mu = toFloat(mean, 'mean');
    const s = toFloat(logVar, 'logVar');
    const y = toFloat(target, 'target');
    if (mu.shape.join(',') !== s.shape.join(',')) {
      throw new ArgumentError('logVar', `expected shape [${mu.shape}] like mean, got [${s.shape}]`);
    }
    if (y.size !== mu.size) {
      throw new ArgumentError(
        'target',
        `expected targets shaped like mean [${mu.shape}] (or with as many elements), got [${y.shape}]`,
      );
    }
    const yy = y.shape.join(',') === mu.shape.join(',') ? y : tf.reshape(y, mu.shape);
    return tf.mean(
      tf.add(tf.mul(0.5, tf.mul(tf.exp(tf.neg(s)), tf.square(tf.sub(yy, mu)))), tf.mul(0.5, s)),
    );
  }) as tf.Scalar;
}

/**
 * Kendall & Gal's classification loss with Gaussian-corrupted logits: sample
 * `x_t = f + sigma ⊙ eps_t`, `eps_t ~ N(0, I)`, `sigma = exp(s / 2)`, and maximise the MC
 * estimate of the expected softmax likelihood of the label:
 *
 * $$\mathcal{L} = -\frac1N\sum_n \log\frac1T\sum_{t=1}^T \operatorname{softmax}(x_{n,t})_{y_n}$$
 *
 * Differentiable in `f` and `s` (the noise is reparameterised).
 *
 * @param logits predicted logits `f`, `[N, K]`.
 * @param logVar predicted logit log variances `s`, `[N, K]`.
 * @param labels integer labels `[N]`.
 * @param numSamples `T` (default 10, as MindSpore's `AleatoricLoss`).
 * @param seed optional seed of the noise.
 * @throws ArgumentError naming `labels` unless they are `N` integers in `[0, K)` (an out-of-range
 *   label used to get a zero one-hot row and add nothing to the loss), `logVar` for a shape unlike
 *   the logits'.
 * @example
 * ```ts
 * const loss = heteroscedasticClassificationLoss(logits, logVar, labels);
 * ```
 */
export function heteroscedasticClassificationLoss(
  logits: TensorInput,
  logVar: TensorInput,
  labels: TensorInput,
  numSamples = 10,
  seed?: number,
): tf.Scalar {
  if (!Number.isInteger(numSamples) || numSamples < 1) {
    throw new ArgumentError('numSamples', `expected a positive integer, got ${numSamples}`);
  }
  const sd = nextSeed(seed);
  return tf.tidy(() => {
    const f = toFloat(logits, 'logits');
    const s = toFloat(logVar, 'logVar');
    if (f.rank !== 2 || f.shape.join(',') !== s.shape.join(',')) {
      throw new ArgumentError(
        'logVar',
        `expected [N, K] like logits [${f.shape}], got [${s.shape}]`,
      );
    }
    const [n, k] = f.shape as [number, number];
    const y = labels instanceof tf.Tensor ? labels : tf.tensor(labels);
    if (y.size !== n) throw new ArgumentError('labels', `expected ${n} labels, got ${y.size}`);
    // a label outside [0, K) would get a zero one-hot row and add nothing to the loss
    checkValues(
      y,
      'labels',
      (v) => Number.isInteger(v) && v >= 0 && v < k,
      `integer labels in [0, ${k})`,
    );
    const onehot = tf.oneHot(tf.cast(tf.reshape(y, [n]), 'int32'), k);
    const eps = tf.randomNormal([numSamples, n, k], 0, 1, 'float32', sd);
    const sampled = tf.add(f, tf.mul(tf.exp(tf.mul(s, 0.5)), eps)); // [T, N, K]
    const logpY = tf.sum(tf.mul(tf.logSoftmax(sampled, -1), onehot), -1); // [T, N]
    const logMean = tf.sub(tf.logSumExp(logpY, 0), Math.log(numSamples)); // [N]
    return tf.neg(tf.mean(logMean));
  }) as tf.Scalar;
}
