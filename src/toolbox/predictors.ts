/**
 * One prediction interface for every stochastic classifier: `predictSamples(x, S)` returns
 * `S` sampled probability vectors per input, `[S, N, K]`, ready for the decomposition functions.
 * Implementations: MC dropout (Gal & Ghahramani 2016), deep ensembles (Lakshminarayanan et al.
 * 2017), and any stochastic forward function (a Bayesian network in sample mode).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { classProbs, looksLikeProbs, resolveOutputKind, type OutputKind } from './class_outputs.js';

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
      samples.push(classProbs(out, kind));
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
    kind = resolveOutputKind(model, output);
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
    resolveOutputKind(model, output),
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
  const kinds = members.map((m) => resolveOutputKind(m, output));
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
          const probs = classProbs(
            out,
            kind === 'auto' ? (looksLikeProbs(out) ? 'probs' : 'logits') : kind,
          );
          const k = probs.shape[1];
          const k0 = samples[0]?.shape[1];
          if (k0 !== undefined && k !== k0) {
            throw new ArgumentError(
              'members',
              `member ${s} predicts ${k} classes, member 0 ${k0}; expected the same classes`,
            );
          }
          samples.push(probs);
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
