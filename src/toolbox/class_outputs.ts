/**
 * What a classifier's outputs are, and the class probabilities and NLL they give: logits or
 * probabilities, read from a tfjs model's last layer or from the values; one output is a binary
 * classifier (`p(y = 1)` or its logit). Shared by the predictors, SWAG and the benchmarks, so that
 * a softmax-ended network is never given a second softmax and a sigmoid head is two classes.
 */
import * as tf from '@tensorflow/tfjs';
import { finalActivation } from '../layers/model_utils.js';
import { ArgumentError } from '../utils/errors.js';
import { log1p } from '../utils/log1p.js';
import { checkModel } from '../layers/model_input.js';

/**
 * What the wrapped network outputs: `'logits'` (softmax applied), `'probs'` (used as is) or
 * `'auto'` (the default): a tfjs model whose last layer ends in a softmax gives probabilities
 * ({@link outputKindOf}); otherwise the first output of each `predictSamples` call decides
 * ({@link looksLikeProbs}), so a softmax-ended network is never given a second softmax. A network
 * with one output is a binary classifier: its output is `p(y = 1)` (`'probs'`, e.g. a sigmoid
 * head) or the logit `z` (`'logits'`), and the predictors return the two-class probabilities
 * `[1 - p, p]` (`p = σ(z)`). `'regression'`: the network is a regressor and the predictors return
 * its outputs as they are, `[S, N, D]` samples of `f(x)` (predictive mean and variance:
 * `tf.moments(samples, 0)`, plus the noise variance `sigma^2` for the predictive of `y`); never
 * detected, since a regressor's outputs look like logits.
 */
export type OutputKind = 'logits' | 'probs' | 'auto' | 'regression';

/** Tolerance of {@link looksLikeProbs} on each row's sum (float32 softmax sums are within ~1e-6). */
const ROW_SUM_TOL = 1e-4;

/** @throws ArgumentError naming `out` unless it is a live tensor. */
function checkOutputs(out: unknown): asserts out is tf.Tensor {
  if (!(out instanceof tf.Tensor) || out.isDisposed) {
    throw new ArgumentError(
      'out',
      `expected a live tf.Tensor of outputs [N, K], got ${String(out)}`,
    );
  }
}

/** @throws ArgumentError naming `kind` unless it is `'logits'` or `'probs'`. */
function checkKind(kind: unknown): void {
  if (kind !== 'logits' && kind !== 'probs') {
    throw new ArgumentError('kind', `expected 'logits' or 'probs', got ${String(kind)}`);
  }
}

/**
 * Whether network outputs `[N, K]` are already class probabilities: every entry in `[0, 1]` and
 * every row summing to 1 (for one output, `K = 1`, a binary `p(y = 1)`: every entry in `[0, 1]`),
 *
 * $$\min_{n,k} o_{nk} \ge 0,\qquad \max_n \Big|\sum_k o_{nk} - 1\Big| \le 10^{-4}
 * \quad\Big(K = 1:\ 0 \le o_n \le 1\Big).$$
 *
 * Logits pass this test only by accident (all non-negative and every row summing to one), so pass
 * `output` explicitly where that can happen (e.g. a single input with two logits, or binary logits
 * that happen to lie in `[0, 1]`).
 *
 * @param out network outputs `[N, K]` (not disposed).
 * @returns true for probabilities.
 * @example
 * ```ts
 * looksLikeProbs(tf.softmax(logits)); // true
 * looksLikeProbs(logits);             // false (almost surely)
 * ```
 */
export function looksLikeProbs(out: tf.Tensor): boolean {
  checkOutputs(out);
  if (out.rank !== 2) {
    throw new ArgumentError('model', `expected outputs [N, K], got [${out.shape.join(',')}]`);
  }
  if (out.size === 0) return false;
  const binary = out.shape[1] === 1;
  const [min, dev] = tf.tidy(() => {
    const minimum = tf.min(out);
    const deviation = binary ? tf.sub(tf.max(out), 1) : tf.max(tf.abs(tf.sub(tf.sum(out, -1), 1)));
    return [minimum, deviation];
  });
  try {
    return min.dataSync()[0]! >= 0 && dev.dataSync()[0]! <= (binary ? 0 : ROW_SUM_TOL);
  } finally {
    tf.dispose([min, dev]);
  }
}

/** Output units of a single-output model, if its output shape says. */
function outputUnits(model: tf.LayersModel): number | undefined {
  const shape = model.outputs[0]?.shape;
  const k = shape?.[shape.length - 1];
  return typeof k === 'number' ? k : undefined;
}

/**
 * What a tfjs model outputs, read from its last layer: `'probs'` when it ends in a softmax (a
 * `Softmax` layer, or a layer with `activation: 'softmax'`, also inside a nested model) or, with one
 * output unit, in a sigmoid (a binary `p(y = 1)`); `'logits'` when it ends in another activation;
 * undefined when the structure does not say (e.g. a multi-output model); then
 * {@link looksLikeProbs} decides on the outputs. A sigmoid over several units is a multi-label
 * head, not one categorical distribution: an `ArgumentError` naming `model`.
 *
 * @param model a tfjs layers model.
 * @returns the kind, or undefined.
 * @example
 * ```ts
 * outputKindOf(tf.sequential({ layers: [tf.layers.dense({ units: 10, inputShape: [4], activation: 'softmax' })] })); // 'probs'
 * ```
 */
export function outputKindOf(model: tf.LayersModel): 'logits' | 'probs' | undefined {
  checkModel(model);
  if (model.outputs.length !== 1) return undefined;
  const last = model.layers[model.layers.length - 1];
  if (last === undefined) return undefined;
  const act = finalActivation(last);
  if (act === undefined) return undefined;
  if (act === 'sigmoid') {
    const k = outputUnits(model);
    if (k === 1) return 'probs';
    throw new ArgumentError(
      'model',
      `ends in a sigmoid over ${k ?? 'several'} outputs (a multi-label head); expected one categorical distribution: K >= 2 logits or a softmax, or one output (binary)`,
    );
  }
  return act === 'softmax' ? 'probs' : 'logits';
}

/**
 * Network outputs `[N, K]` as class probabilities: `softmax(z)` of logits, probabilities as they
 * are; one output (`K = 1`) is a binary classifier, `[1 - p, p]` with `p = σ(z)` for a logit.
 *
 * @param out network outputs `[N, K]`.
 * @param kind what they are.
 * @returns `[N, max(K, 2)]` probabilities (a new tensor, or `out` itself for `K >= 2`
 *   probabilities).
 * @example
 * ```ts
 * classProbs(tf.tensor2d([[0.2]]), 'probs'); // [[0.8, 0.2]]
 * ```
 */
export function classProbs(out: tf.Tensor, kind: 'logits' | 'probs'): tf.Tensor {
  checkOutputs(out);
  checkKind(kind);
  if (out.rank !== 2) {
    throw new ArgumentError('model', `expected outputs [N, K], got [${out.shape.join(',')}]`);
  }
  if (out.shape[1] === 1) {
    return tf.tidy(() => {
      const p = kind === 'logits' ? tf.sigmoid(out) : out;
      return tf.concat([tf.sub(1, p), p], 1);
    });
  }
  return kind === 'logits' ? tf.softmax(out, -1) : out;
}

/**
 * The output kind of a model or forward function for `output`: the option when given, else what
 * the model's structure says ({@link outputKindOf}), else `'auto'` (decided on the outputs).
 */
export function resolveOutputKind(
  model: tf.LayersModel | ((x: tf.Tensor) => tf.Tensor),
  output: OutputKind,
): OutputKind {
  if (output !== 'auto' || !(model instanceof tf.LayersModel)) return output;
  return outputKindOf(model) ?? 'auto';
}

/** Probabilities are clipped to `[ε, 1 - ε]` before the log, as Keras's cross-entropies do. */
const PROB_EPS = 1e-7;

/**
 * Mean negative log-likelihood of integer labels under a classifier's outputs (differentiable in
 * them; the training loss of SWAG and any fine-tuning of a model as it is):
 *
 * $$\ell = -\frac1N \sum_n \log p_{n, y_n},\qquad p_n = \operatorname{softmax}(z_n)\ \text{(logits)}
 * \ \text{or the outputs (probabilities, clipped to } [\epsilon, 1 - \epsilon],\ \epsilon = 10^{-7});$$
 *
 * with one output the Bernoulli NLL `-(1/N) Σ [y log p + (1 - y) log(1 - p)]`, `p = σ(z)` or the
 * output.
 *
 * @param out outputs `[N, K]`.
 * @param labels integer labels `[N]` (int32), in `[0, max(K, 2))`.
 * @param kind what the outputs are.
 * @returns the scalar mean NLL.
 * @example
 * ```ts
 * classNll(model.apply(xb) as tf.Tensor, yb, outputKindOf(model) ?? 'logits');
 * ```
 */
export function classNll(out: tf.Tensor, labels: tf.Tensor, kind: 'logits' | 'probs'): tf.Scalar {
  checkOutputs(out);
  checkKind(kind);
  if (out.rank !== 2) {
    throw new ArgumentError('out', `expected outputs [N, K], got [${out.shape.join(',')}]`);
  }
  if (!(labels instanceof tf.Tensor) || labels.rank !== 1 || labels.shape[0] !== out.shape[0]) {
    const got = labels instanceof tf.Tensor ? `[${labels.shape.join(', ')}]` : String(labels);
    throw new ArgumentError('labels', `expected ${out.shape[0]} class indices [N], got ${got}`);
  }
  return tf.tidy(() => {
    const k = out.shape[1] as number;
    if (k === 1) {
      const y = tf.reshape(tf.cast(labels, 'float32'), [-1, 1]);
      if (kind === 'logits') {
        // max(z, 0) - y z + log1p(e^{-|z|}) with an accurate log1p (tf.losses.sigmoidCrossEntropy
        // uses tf.log1p, 0 on wasm for the loss 2.06e-9 at z = 20, y = 1)
        const terms = tf.sub(tf.relu(out), tf.mul(y, out));
        return tf.mean(tf.add(terms, log1p(tf.exp(tf.neg(tf.abs(out)))))) as tf.Scalar;
      }
      const p = tf.clipByValue(out, PROB_EPS, 1 - PROB_EPS);
      return tf.neg(
        tf.mean(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), log1p(tf.neg(p))))),
      ) as tf.Scalar;
    }
    const oneHot = tf.oneHot(tf.cast(labels, 'int32'), k);
    if (kind === 'logits') return tf.losses.softmaxCrossEntropy(oneHot, out) as tf.Scalar;
    const p = tf.clipByValue(out, PROB_EPS, 1 - PROB_EPS);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.log(p)), -1))) as tf.Scalar;
  });
}

/** Probabilities are floored at this before their log in {@link classLogits} (finite logits). */
const LOG_FLOOR = 1e-30;

/**
 * Network outputs `[N, K]` as class logits, `[N, max(K, 2)]`, whose softmax is
 * {@link classProbs}: logits as they are; probabilities as `log p` (floored at 1e-30, so finite:
 * a temperature or an average of log-probabilities stays defined); one output as the two-class
 * logits `[0, z]` of a logit `z`, or `[log(1 - p), log p]` of a probability.
 *
 * @param out network outputs `[N, K]`.
 * @param kind what they are.
 * @returns the logits (a new tensor, or `out` itself for `K >= 2` logits).
 * @example
 * ```ts
 * tf.softmax(classLogits(probs, 'probs')); // probs again
 * ```
 */
export function classLogits(out: tf.Tensor, kind: 'logits' | 'probs'): tf.Tensor {
  checkOutputs(out);
  checkKind(kind);
  if (out.rank !== 2) {
    throw new ArgumentError('model', `expected outputs [N, K], got [${out.shape.join(',')}]`);
  }
  if (kind === 'logits' && out.shape[1] !== 1) return out;
  return tf.tidy(() => {
    if (kind === 'logits') return tf.concat([tf.zerosLike(out), out], 1);
    const p = out.shape[1] === 1 ? tf.concat([tf.sub(1, out), out], 1) : out;
    return tf.log(tf.clipByValue(p, LOG_FLOOR, 1));
  });
}

/**
 * The class logits of a tfjs classifier whatever its head ({@link outputKindOf}; a model whose
 * structure does not say is taken to output logits): `x -> classLogits(model(x))`, so code written
 * for logit outputs (softmax, temperature, cross-entropy) also serves a softmax-ended or binary
 * model.
 *
 * @param model a single-output tfjs classifier.
 * @param apply how to run it (default `model.apply(x, {training})`; e.g. an MC-dropout pass).
 * @returns `(x, training) -> [N, max(K, 2)]` logits.
 * @example
 * ```ts
 * const logitsOf = modelLogits(model);
 * const p = tf.softmax(logitsOf(x, false));
 * ```
 */
export function modelLogits(
  model: tf.LayersModel,
  apply: (x: tf.Tensor, training: boolean) => tf.Tensor = (x, training) =>
    model.apply(x, { training }) as tf.Tensor,
): (x: tf.Tensor, training: boolean) => tf.Tensor {
  checkModel(model);
  const kind = outputKindOf(model) ?? 'logits';
  return (x, training) => tf.tidy(() => classLogits(apply(x, training), kind));
}
