/**
 * How the posterior (and optionally the prior) of a converted layer starts from the DNN:
 *
 * $$\mu = w_{\text{DNN}},\qquad \sigma = \delta\,|w_{\text{DNN}}|\ \text{(MOPED, default }
 * \delta = 0.1)\ \text{or a constant } \sigma_0,\qquad \rho = \operatorname{softplus}^{-1}(\sigma),$$
 *
 * or the Bayesian layer's own random initialisation (`init: 'fresh'`); with `mopedPrior` the prior
 * means are the DNN weights too.
 */
import * as tf from '@tensorflow/tfjs';
import type { BayesianLayer } from '../layers/bayesian_layer.js';
import { isCentredPriorLayer } from '../layers/moped_classes.js';
import { ArgumentError } from '../utils/errors.js';

/** How the posterior (and optionally the prior) of a converted layer starts. */
export interface PosteriorInitOptions {
  /**
   * `'dnn'` (default): posterior means are the DNN's weights. `'fresh'`: the Bayesian layers keep
   * their own random initialisation (`posteriorMuInitial`, `posteriorRhoInitial`).
   */
  init?: 'dnn' | 'fresh';
  /**
   * MOPED factor `delta`: initial posterior std `sigma = delta * |w|` (Krishnan et al. 2020),
   * floored at `1e-8`. Default 0.1. Ignored when `posteriorSigma` is given.
   */
  moped?: number;
  /** A constant initial posterior std for every weight (e.g. `1e-8` to reproduce the DNN). */
  posteriorSigma?: number;
  /**
   * Centre the Normal prior of every converted weight on its DNN value,
   * `p(w) = N(w_DNN, priorSigma^2)` (MOPED's empirical-Bayes prior); the converted layers are
   * then the `Moped*` classes of `moped_prior.ts`. Default false (the layers' scalar prior).
   */
  mopedPrior?: boolean;
}

/** Validate the initialisation options; returns them with defaults filled in. */
export function checkInit(o: PosteriorInitOptions): PosteriorInitOptions {
  const init = o.init ?? 'dnn';
  if (init !== 'dnn' && init !== 'fresh') {
    throw new ArgumentError('init', `expected 'dnn' or 'fresh', got '${String(init)}'`);
  }
  const moped = o.moped ?? 0.1;
  if (typeof moped !== 'number' || !(moped > 0) || !Number.isFinite(moped)) {
    throw new ArgumentError('moped', `expected a number > 0, got ${String(o.moped)}`);
  }
  if (
    o.posteriorSigma !== undefined &&
    !(
      typeof o.posteriorSigma === 'number' &&
      o.posteriorSigma > 0 &&
      Number.isFinite(o.posteriorSigma)
    )
  ) {
    throw new ArgumentError(
      'posteriorSigma',
      `expected a number > 0, got ${String(o.posteriorSigma)}`,
    );
  }
  const mopedPrior = o.mopedPrior ?? false;
  if (typeof mopedPrior !== 'boolean') {
    throw new ArgumentError('mopedPrior', `expected true or false, got ${String(o.mopedPrior)}`);
  }
  return { ...o, init, moped, mopedPrior };
}

/**
 * `rho = softplus^{-1}(sigma) = log(expm1(sigma))`, accurate in float32 for tiny `sigma`
 * (`log(sigma) + sigma / 2` below 1e-3, where `expm1` would round to 0) and large `sigma`
 * (`rho = sigma` above 20).
 * @param sigma standard deviations > 0.
 * @returns a new tensor owned by the caller.
 * @example
 * ```ts
 * posteriorRho(tf.tensor([1e-8, 0.1, 1])); // ≈ [-18.42, -2.252, 0.5413]
 * ```
 */
export function posteriorRho(sigma: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const small = tf.less(sigma, 1e-3);
    const large = tf.greater(sigma, 20);
    const safe = tf.clipByValue(sigma, 1e-3, 20);
    const mid = tf.log(tf.expm1(safe));
    const tiny = tf.add(tf.log(tf.maximum(sigma, 1e-37)), tf.mul(sigma, 0.5));
    return tf.where(small, tiny, tf.where(large, sigma, mid));
  });
}

/**
 * Start the posterior of `bnn` from the DNN layer `dnn` as `o` says (and, for a centred prior,
 * its prior means): the DNN's first weight is the kernel, its second (if any) the bias.
 */
export function initFromDnn(
  bnn: BayesianLayer,
  dnn: tf.layers.Layer,
  o: PosteriorInitOptions,
): void {
  if (RECURRENT_DNN_CLASSES.includes(dnn.getClassName())) {
    initFromDnnRecurrent(bnn, dnn, o);
    return;
  }
  const [dnnKernel, bias] = dnn.getWeights();
  if (dnnKernel === undefined) return;
  initFromWeights(bnn, dnnKernel, bias, o);
}

/**
 * Start the posterior of `bnn` from a DNN kernel and bias (`mu = w`, `sigma = delta |w|` or
 * `sigma_0`; a centred prior's means `w`). A kernel of another shape with as many elements is read
 * in its element order: a DepthwiseConv2D kernel `[kh, kw, in, m]` is the grouped kernel
 * `[kh, kw, 1, in * m]` (output channel `c * m + j`).
 * @param bnn the built Bayesian layer.
 * @param kernel the DNN kernel.
 * @param bias the DNN bias (ignored when `bnn` has none).
 * @param o the posterior initialisation.
 */
export function initFromWeights(
  bnn: BayesianLayer,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  o: PosteriorInitOptions,
): void {
  const shape = bnn.weights[0]?.shape;
  if (shape !== undefined && shape.reduce<number>((a, b) => a * (b ?? 1), 1) !== kernel.size) {
    // arguments that changed the layer's geometry (a getter's kernelSize, units, ...)
    if (o.init !== 'dnn' && !isCentredPriorLayer(bnn)) return;
    throw new ArgumentError(
      'model',
      `layer '${bnn.name}': its Bayesian kernel [${shape.join(', ')}] cannot start from the ` +
        `DNN kernel [${kernel.shape.join(', ')}]: the layer arguments (get*Args / add*Args) ` +
        "changed its weights' shape; keep the DNN's geometry, or pass init: 'fresh' " +
        '(without mopedPrior)',
    );
  }
  const reshaped =
    shape !== undefined && shape.join() !== kernel.shape.join()
      ? tf.reshape(kernel, shape as number[])
      : null;
  try {
    initPosterior(bnn, reshaped ?? kernel, bias, o);
  } finally {
    reshaped?.dispose();
  }
}

function initPosterior(
  bnn: BayesianLayer,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  o: PosteriorInitOptions,
): void {
  const b = bnn.hasBias ? (bias ?? null) : null;
  if (isCentredPriorLayer(bnn)) bnn.setPriorMean(kernel, b);
  if (o.init !== 'dnn') return;
  tf.tidy(() => {
    const rhoOf = (w: tf.Tensor): tf.Tensor =>
      posteriorRho(
        o.posteriorSigma !== undefined
          ? tf.fill(w.shape, o.posteriorSigma)
          : tf.maximum(tf.mul(tf.abs(w), o.moped ?? 0.1), 1e-8),
      );
    bnn.setPosterior({
      kernelMu: kernel,
      kernelRho: rhoOf(kernel),
      ...(b !== null ? { biasMu: b, biasRho: rhoOf(b) } : {}),
    });
  });
}

/** The tfjs recurrent layers whose kernel and recurrent kernel stack into one `[W; U]`. */
const RECURRENT_DNN_CLASSES: readonly string[] = ['LSTM', 'GRU', 'SimpleRNN'];

/**
 * Start a Bayesian recurrent layer from a tfjs `LSTM` (`g = 4`), `GRU` (`g = 3`) or `SimpleRNN`
 * (`g = 1`): its weights `[kernel [in, g u], recurrentKernel [u, g u], bias [g u]]` give the
 * kernel mean `[W; U] = concat([kernel, recurrentKernel], axis 0)` `[in + u, g u]` and the bias mean.
 */
function initFromDnnRecurrent(
  bnn: BayesianLayer,
  dnn: tf.layers.Layer,
  o: PosteriorInitOptions,
): void {
  const [w, u, bias] = dnn.getWeights();
  if (w === undefined || u === undefined) return;
  const kernel = tf.concat([w, u], 0);
  try {
    initPosterior(bnn, kernel, bias, o);
  } finally {
    kernel.dispose();
  }
}
