/**
 * One prediction interface for every stochastic classifier: `predictSamples(x, S)` returns
 * `S` sampled probability vectors per input, `[S, N, K]`, ready for the decomposition functions.
 * Implementations: MC dropout (Gal & Ghahramani 2016), deep ensembles (Lakshminarayanan et al.
 * 2017), and any stochastic forward function (a Bayesian network in sample mode).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/** A classifier that can draw Monte Carlo samples of its predictive distribution. */
export interface Predictor {
  /**
   * Sampled class probabilities.
   * @param x a batch of inputs `[N, ...]`.
   * @param numSamples number of samples `S`.
   * @returns `[S, N, K]` probabilities; the caller disposes it.
   */
  predictSamples(x: tf.Tensor, numSamples: number): tf.Tensor3D;
}

/**
 * What the wrapped network outputs: `'logits'` (softmax applied), `'probs'` (used as is) or
 * `'auto'` (the default): a tfjs model whose last layer ends in a softmax gives probabilities
 * ({@link outputKindOf}); otherwise the first output of each `predictSamples` call decides
 * ({@link looksLikeProbs}), so a softmax-ended network is never given a second softmax.
 */
export type OutputKind = 'logits' | 'probs' | 'auto';

function checkNumSamples(numSamples: number): void {
  if (!Number.isInteger(numSamples) || numSamples < 1) {
    throw new ArgumentError('numSamples', `expected a positive integer, got ${numSamples}`);
  }
}

function checkOutputKind(output: OutputKind): void {
  if (output !== 'logits' && output !== 'probs' && output !== 'auto') {
    throw new ArgumentError(
      'output',
      `expected 'logits', 'probs' or 'auto', got ${String(output)}`,
    );
  }
}

/** Tolerance of {@link looksLikeProbs} on each row's sum (float32 softmax sums are within ~1e-6). */
const ROW_SUM_TOL = 1e-4;

/**
 * Whether network outputs `[N, K]` are already class probabilities: every entry in `[0, 1]` and
 * every row summing to 1,
 *
 * $$\min_{n,k} o_{nk} \ge 0,\qquad \max_n \Big|\sum_k o_{nk} - 1\Big| \le 10^{-4}.$$
 *
 * Logits pass this test only by accident (all non-negative and every row summing to one), so pass
 * `output` explicitly where that can happen (e.g. a single input with two logits).
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
  if (out.rank !== 2) {
    throw new ArgumentError('model', `expected outputs [N, K], got [${out.shape.join(',')}]`);
  }
  if (out.size === 0) return false;
  const [min, dev] = tf.tidy(() => {
    const minimum = tf.min(out);
    const deviation = tf.max(tf.abs(tf.sub(tf.sum(out, -1), 1)));
    return [minimum, deviation];
  });
  try {
    return min.dataSync()[0]! >= 0 && dev.dataSync()[0]! <= ROW_SUM_TOL;
  } finally {
    tf.dispose([min, dev]);
  }
}

/** The activation a layer ends in, from its config (`'softmax'`, `'linear'`, ...), if it has one. */
function finalActivation(layer: tf.layers.Layer): string | undefined {
  const name = layer.getClassName();
  if (name === 'Softmax') return 'softmax';
  if (layer instanceof tf.LayersModel) {
    const last = layer.layers[layer.layers.length - 1];
    return last === undefined ? undefined : finalActivation(last);
  }
  const act = (layer.getConfig() as Record<string, unknown>)['activation'];
  return typeof act === 'string' ? act : undefined;
}

/**
 * What a tfjs model outputs, read from its last layer: `'probs'` when it ends in a softmax (a
 * `Softmax` layer, or a layer with `activation: 'softmax'`, also inside a nested model), `'logits'`
 * when it ends in another activation, undefined when the structure does not say (e.g. a
 * multi-output model); then {@link looksLikeProbs} decides on the outputs.
 *
 * @param model a tfjs layers model.
 * @returns the kind, or undefined.
 * @example
 * ```ts
 * outputKindOf(tf.sequential({ layers: [tf.layers.dense({ units: 10, inputShape: [4], activation: 'softmax' })] })); // 'probs'
 * ```
 */
export function outputKindOf(model: tf.LayersModel): 'logits' | 'probs' | undefined {
  if (model.outputs.length !== 1) return undefined;
  const last = model.layers[model.layers.length - 1];
  if (last === undefined) return undefined;
  const act = finalActivation(last);
  if (act === undefined) return undefined;
  return act === 'softmax' ? 'probs' : 'logits';
}

function toProbs(out: tf.Tensor, kind: 'logits' | 'probs'): tf.Tensor {
  if (out.rank !== 2) {
    throw new ArgumentError('model', `expected outputs [N, K], got [${out.shape.join(',')}]`);
  }
  return kind === 'logits' ? tf.softmax(out, -1) : out;
}

/**
 * Draw `numSamples` outputs of `forward` and turn each into probabilities; with `'auto'` the first
 * output decides for all (one host read per call).
 */
function sampleProbs(
  forward: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
  numSamples: number,
  output: OutputKind,
): tf.Tensor3D {
  return tf.tidy(() => {
    const samples: tf.Tensor[] = [];
    let kind: 'logits' | 'probs' | undefined = output === 'auto' ? undefined : output;
    for (let s = 0; s < numSamples; s++) {
      const out = forward(x);
      kind ??= looksLikeProbs(out) ? 'probs' : 'logits';
      samples.push(toProbs(out, kind));
    }
    return tf.stack(samples) as tf.Tensor3D;
  });
}

/**
 * A predictor from any stochastic forward function (or a tfjs model run with `predict`): each call
 * of `forward(x)` draws a new sample (e.g. a Bayesian network whose layers sample their weights).
 *
 * $$p_s = \operatorname{softmax}(f_{\theta_s}(x))\ \text{(logits)}\quad\text{or}\quad
 * p_s = f_{\theta_s}(x)\ \text{(probabilities)},\qquad \theta_s \sim q(\theta)$$
 *
 * @param forward stochastic function `x -> [N, K]` outputs, or a tfjs model.
 * @param output `'auto'` (default: detects a softmax output), `'logits'` or `'probs'`.
 * @example
 * ```ts
 * setMode(bnn, 'sample');
 * const p = stochasticPredictor(bnn).predictSamples(x, 20); // [20, N, K]
 * ```
 */
export function stochasticPredictor(
  forward: ((x: tf.Tensor) => tf.Tensor) | tf.LayersModel,
  output: OutputKind = 'auto',
): Predictor {
  checkOutputKind(output);
  let fn: (x: tf.Tensor) => tf.Tensor;
  let kind = output;
  if (forward instanceof tf.LayersModel) {
    const model = forward;
    fn = (x) => model.apply(x, { training: false }) as tf.Tensor;
    if (kind === 'auto') kind = outputKindOf(model) ?? 'auto';
  } else if (typeof forward === 'function') {
    fn = forward;
  } else {
    throw new ArgumentError(
      'forward',
      'expected a function x -> [N, K] outputs or a tf.LayersModel',
    );
  }
  return {
    predictSamples(x: tf.Tensor, numSamples: number): tf.Tensor3D {
      checkNumSamples(numSamples);
      return sampleProbs(fn, x, numSamples, kind);
    },
  };
}

/**
 * MC dropout: run a tfjs layers model with its dropout layers active at prediction time
 * (`model.apply(x, {training: true})`), one dropout mask per sample.
 *
 * @param model a model containing `Dropout` layers (throws otherwise: it would be deterministic).
 * @param output `'auto'` (default: detects a softmax output), `'logits'` or `'probs'`.
 * @example
 * ```ts
 * const probs = mcDropoutPredictor(model).predictSamples(x, 20); // [20, N, K]
 * ```
 */
export function mcDropoutPredictor(model: tf.LayersModel, output: OutputKind = 'auto'): Predictor {
  checkOutputKind(output);
  if (!(model instanceof tf.LayersModel)) {
    throw new ArgumentError('model', 'expected a tf.LayersModel');
  }
  if (!hasDropout(model)) {
    throw new ArgumentError(
      'model',
      'has no Dropout layer, so MC dropout would return identical samples; add dropout (see withMcDropout)',
    );
  }
  return stochasticPredictor(
    (x) => model.apply(x, { training: true }) as tf.Tensor,
    output === 'auto' ? (outputKindOf(model) ?? 'auto') : output,
  );
}

/** Whether a layers model (or any nested model) contains a dropout layer. */
export function hasDropout(model: tf.LayersModel): boolean {
  return model.layers.some(
    (l) => /dropout/i.test(l.getClassName()) || (l instanceof tf.LayersModel && hasDropout(l)),
  );
}

/**
 * A deep ensemble: sample `s` is member `s` (the first `numSamples` members are used).
 *
 * $$p_s = \operatorname{softmax}(f_{\theta_s}(x)),\quad s = 1..M$$
 *
 * @param members independently trained models (or deterministic forward functions).
 * @param output `'auto'` (default: each member's softmax output is detected), `'logits'` or
 *   `'probs'`.
 * @example
 * ```ts
 * const p = ensemblePredictor([m1, m2, m3, m4, m5]).predictSamples(x, 5);
 * ```
 */
export function ensemblePredictor(
  members: (tf.LayersModel | ((x: tf.Tensor) => tf.Tensor))[],
  output: OutputKind = 'auto',
): Predictor & { size: number } {
  checkOutputKind(output);
  if (!Array.isArray(members) || members.length === 0) {
    throw new ArgumentError('members', 'expected a non-empty array of models');
  }
  const kinds = members.map((m) =>
    output === 'auto' && m instanceof tf.LayersModel ? (outputKindOf(m) ?? 'auto') : output,
  );
  const run = (m: tf.LayersModel | ((x: tf.Tensor) => tf.Tensor), x: tf.Tensor): tf.Tensor =>
    m instanceof tf.LayersModel ? (m.apply(x, { training: false }) as tf.Tensor) : m(x);
  return {
    size: members.length,
    predictSamples(x: tf.Tensor, numSamples: number = members.length): tf.Tensor3D {
      checkNumSamples(numSamples);
      if (numSamples > members.length) {
        throw new ArgumentError(
          'numSamples',
          `the ensemble has ${members.length} members, got ${numSamples} samples requested`,
        );
      }
      return tf.tidy(() => {
        const samples: tf.Tensor[] = [];
        for (let s = 0; s < numSamples; s++) {
          const out = run(members[s] as tf.LayersModel, x);
          const kind = kinds[s] ?? 'auto';
          samples.push(
            toProbs(out, kind === 'auto' ? (looksLikeProbs(out) ? 'probs' : 'logits') : kind),
          );
        }
        return tf.stack(samples) as tf.Tensor3D;
      });
    },
  };
}

/**
 * Apply a predictor to a large input in batches and concatenate along the input axis, so that
 * memory stays bounded: returns `[S, N, K]`.
 *
 * @param predictor any {@link Predictor}.
 * @param x all inputs `[N, ...]`.
 * @param numSamples samples per input.
 * @param batchSize inputs per forward pass (default 500).
 */
export function predictSamplesBatched(
  predictor: Predictor,
  x: tf.Tensor,
  numSamples: number,
  batchSize = 500,
): tf.Tensor3D {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ArgumentError('batchSize', `expected a positive integer, got ${batchSize}`);
  }
  const n = x.shape[0] ?? 0;
  const parts: tf.Tensor3D[] = [];
  try {
    for (let i = 0; i < n; i += batchSize) {
      const size = Math.min(batchSize, n - i);
      parts.push(
        tf.tidy(() => {
          const xb = tf.slice(x, [i], [size]);
          return predictor.predictSamples(xb, numSamples);
        }),
      );
    }
    return tf.concat(parts, 1);
  } finally {
    tf.dispose(parts);
  }
}
