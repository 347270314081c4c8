/**
 * One prediction interface for every stochastic classifier: `predictSamples(x, S)` returns
 * `S` sampled probability vectors per input, `[S, N, K]`, ready for the decomposition functions.
 * Implementations: MC dropout (Gal & Ghahramani 2016), deep ensembles (Lakshminarayanan et al.
 * 2017), and any stochastic forward function (a Bayesian network in sample mode).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import {
  batchSizeOf,
  checkInputsOf,
  checkModel,
  sliceInputs,
  type ModelInput,
} from '../layers/model_input.js';
import { classProbs, looksLikeProbs, resolveOutputKind, type OutputKind } from './class_outputs.js';

/**
 * A classifier (or, with `output: 'regression'`, a regressor) that can draw Monte Carlo samples of
 * its predictive distribution.
 */
export interface Predictor {
  /**
   * Sampled class probabilities (a regressor's sampled outputs `[S, N, D]`).
   * @param x a batch of inputs `[N, ...]` (for a model with several inputs, an array of one tensor
   *   per input, `model.inputs` order, as `model.apply` takes them).
   * @param numSamples number of samples `S`.
   * @returns `[S, N, K]` probabilities; the caller disposes it.
   */
  predictSamples(x: ModelInput, numSamples: number): tf.Tensor3D;
}

/**
 * A predictor samples one output `[N, K]` per draw: a multi-output tfjs model is refused here, at
 * construction, instead of failing on the first call (a multi-input model takes `x` as an array of
 * tensors, one per input).
 * @throws ArgumentError naming `name`.
 */
function checkSingleOutput(model: unknown, name: string): void {
  if (!(model instanceof tf.LayersModel)) return;
  if (model.outputs.length !== 1) {
    throw new ArgumentError(
      name,
      `expected models with one output (a predictor samples one [N, K] output), got '${model.name}' with ${model.outputs.length} outputs; wrap it in a function x => the output to use`,
    );
  }
}

function checkNumSamples(numSamples: number): void {
  if (!Number.isInteger(numSamples) || numSamples < 1) {
    throw new ArgumentError('numSamples', `expected a positive integer, got ${numSamples}`);
  }
}

/**
 * The inputs of `predictSamples`: a live tensor with a batch dimension (or an array of them),
 * shaped as `model`'s input(s) when the forward pass is a tfjs model.
 * @throws ArgumentError naming `x` (or `x[i]`).
 */
function checkX(x: unknown, model?: tf.LayersModel): asserts x is ModelInput {
  if (model !== undefined) {
    checkInputsOf(model, x);
    return;
  }
  if (Array.isArray(x)) {
    if (x.length === 0) throw new ArgumentError('x', 'expected input tensors, got an empty array');
    x.forEach((t, i) => {
      if (!(t instanceof tf.Tensor) || t.isDisposed || t.rank < 1) {
        throw new ArgumentError(`x[${i}]`, 'expected a live tf.Tensor of inputs [N, ...]');
      }
    });
    return;
  }
  if (!(x instanceof tf.Tensor) || x.isDisposed || x.rank < 1) {
    throw new ArgumentError(
      'x',
      `expected a live tf.Tensor of inputs [N, ...], got ${x instanceof tf.Tensor ? (x.isDisposed ? 'a disposed tensor' : 'a scalar') : String(x)}`,
    );
  }
}

function checkOutputKind(output: OutputKind): void {
  if (output !== 'logits' && output !== 'probs' && output !== 'auto' && output !== 'regression') {
    throw new ArgumentError(
      'output',
      `expected 'logits', 'probs', 'auto' or 'regression', got ${String(output)}`,
    );
  }
}

/**
 * Draw `numSamples` outputs of `forward` and turn each into probabilities; with `'auto'` the first
 * output decides for all (one host read per call).
 */
function sampleProbs(
  forward: (x: ModelInput) => tf.Tensor,
  x: ModelInput,
  numSamples: number,
  output: OutputKind,
): tf.Tensor3D {
  return tf.tidy(() => {
    const samples: tf.Tensor[] = [];
    let kind: Exclude<OutputKind, 'auto'> | undefined = output === 'auto' ? undefined : output;
    for (let s = 0; s < numSamples; s++) {
      const out = forward(x);
      kind ??= looksLikeProbs(out) ? 'probs' : 'logits';
      samples.push(kind === 'regression' ? out : classProbs(out, kind));
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
 * @param output `'auto'` (default: detects a softmax output), `'logits'`, `'probs'`, or
 *   `'regression'` (samples of the outputs as they are, `[S, N, D]`).
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
  let fn: (x: ModelInput) => tf.Tensor;
  let kind = output;
  const model = forward instanceof tf.LayersModel ? forward : undefined;
  if (model !== undefined) {
    checkSingleOutput(model, 'forward');
    fn = (x) => model.apply(x, { training: false }) as tf.Tensor;
    kind = resolveOutputKind(model, output);
  } else if (typeof forward === 'function') {
    fn = forward as (x: ModelInput) => tf.Tensor;
  } else {
    throw new ArgumentError(
      'forward',
      'expected a function x -> [N, K] outputs or a tf.LayersModel',
    );
  }
  return {
    predictSamples(x: ModelInput, numSamples: number): tf.Tensor3D {
      checkNumSamples(numSamples);
      checkX(x, model);
      return sampleProbs(fn, x, numSamples, kind);
    },
  };
}

/**
 * MC dropout: run a tfjs layers model with its dropout layers active at prediction time, one
 * dropout mask per sample (`applyWithMcDropout`): every other layer runs in inference mode, so a
 * BatchNormalization layer normalises with its moving statistics (a sample of an input does not
 * depend on the rest of the batch) and never updates them (the model is not changed).
 *
 * $$p_s = \operatorname{softmax}\big(f(x;\ \theta \odot m_s)\big),\qquad
 * m_s \sim \text{the dropout masks, all other layers at inference}$$
 *
 * @param model a model containing `Dropout` layers (throws otherwise: it would be deterministic).
 * @param output `'auto'` (default: detects a softmax output), `'logits'`, `'probs'`, or
 *   `'regression'` (samples of the outputs as they are, `[S, N, D]`).
 * @example
 * ```ts
 * const probs = mcDropoutPredictor(model).predictSamples(x, 20); // [20, N, K]
 * ```
 */
export function mcDropoutPredictor(model: tf.LayersModel, output: OutputKind = 'auto'): Predictor {
  checkOutputKind(output);
  checkModel(model);
  checkSingleOutput(model, 'model');
  if (!hasDropout(model)) {
    throw new ArgumentError(
      'model',
      'has no Dropout layer, so MC dropout would return identical samples; add dropout (see withMcDropout)',
    );
  }
  const p = stochasticPredictor(
    (x: ModelInput) => applyWithMcDropout(model, x) as tf.Tensor,
    resolveOutputKind(model, output),
  );
  return {
    predictSamples(x: ModelInput, numSamples: number): tf.Tensor3D {
      checkNumSamples(numSamples);
      checkX(x, model);
      return p.predictSamples(x, numSamples);
    },
  };
}

/** The dropout layers of a model and of the models nested in it (class name matching /dropout/i). */
function dropoutLayers(
  model: tf.LayersModel,
  found = new Set<tf.layers.Layer>(),
): tf.layers.Layer[] {
  for (const l of model.layers) {
    if (l instanceof tf.LayersModel) dropoutLayers(l, found);
    else if (/dropout/i.test(l.getClassName())) found.add(l);
  }
  return [...found];
}

type LayerCall = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => unknown;

/**
 * One MC-dropout forward pass: `model.apply(x, {training: false})` with only its dropout layers
 * (every layer whose class name contains `Dropout`, also in nested models) run as in training,
 *
 * $$y = f(x;\ \text{dropout active},\ \text{BatchNorm etc. at inference}).$$
 *
 * Unlike `model.apply(x, {training: true})`, BatchNormalization normalises with its moving
 * statistics and does not update them, and other training-only layers (e.g. `GaussianNoise`) stay
 * off, so a pass changes no weight or statistic of the model and an input's output does not depend
 * on the other inputs of the batch. The dropout layers' `call` is wrapped for the duration of the
 * pass and restored afterwards, also when it throws.
 *
 * @param model a tfjs layers model (its dropout layers are sampled).
 * @param x inputs `[N, ...]`.
 * @returns the model's output(s) for this pass.
 * @example
 * ```ts
 * const samples = tf.stack([0, 1, 2].map(() => applyWithMcDropout(model, x) as tf.Tensor));
 * ```
 */
export function applyWithMcDropout(model: tf.LayersModel, x: ModelInput): tf.Tensor | tf.Tensor[] {
  const layers = dropoutLayers(model);
  const own = layers.map((l) => Object.getOwnPropertyDescriptor(l, 'call'));
  try {
    for (const l of layers) {
      const call = (l as unknown as { call: LayerCall }).call;
      const forced: LayerCall = function (this: unknown, inputs, kwargs) {
        return call.call(this, inputs, { ...kwargs, training: true });
      };
      Object.defineProperty(l, 'call', { value: forced, configurable: true, writable: true });
    }
    return model.apply(x, { training: false }) as tf.Tensor | tf.Tensor[];
  } finally {
    layers.forEach((l, i) => {
      const d = own[i];
      if (d === undefined) delete (l as unknown as { call?: LayerCall }).call;
      else Object.defineProperty(l, 'call', d);
    });
  }
}

/** Whether a layers model (or any nested model) contains a dropout layer. */
export function hasDropout(model: tf.LayersModel): boolean {
  checkModel(model);
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
 * @param output `'auto'` (default: each member's softmax output is detected), `'logits'`,
 *   `'probs'`, or `'regression'` (member `s`'s outputs as they are, `[S, N, D]`: the deep-ensemble
 *   mean and variance of `f(x)` are `tf.moments(samples, 0)`).
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
  members.forEach((m, i) => {
    if (!(m instanceof tf.LayersModel) && typeof m !== 'function') {
      throw new ArgumentError(
        'members',
        `expected tf.LayersModels or functions x -> [N, K] outputs, got ${m === null ? 'null' : typeof m} at ${i}`,
      );
    }
    checkSingleOutput(m, 'members');
  });
  const kinds = members.map((m) => resolveOutputKind(m, output));
  const run = (m: tf.LayersModel | ((x: tf.Tensor) => tf.Tensor), x: ModelInput): tf.Tensor =>
    m instanceof tf.LayersModel
      ? (m.apply(x, { training: false }) as tf.Tensor)
      : (m as (x: ModelInput) => tf.Tensor)(x);
  return {
    size: members.length,
    predictSamples(x: ModelInput, numSamples: number = members.length): tf.Tensor3D {
      checkNumSamples(numSamples);
      if (numSamples > members.length) {
        throw new ArgumentError(
          'numSamples',
          `the ensemble has ${members.length} members, got ${numSamples} samples requested`,
        );
      }
      checkX(x);
      for (let s = 0; s < numSamples; s++) {
        const m = members[s];
        if (m instanceof tf.LayersModel) checkX(x, m);
      }
      return tf.tidy(() => {
        const samples: tf.Tensor[] = [];
        for (let s = 0; s < numSamples; s++) {
          const out = run(members[s] as tf.LayersModel, x);
          const kind = kinds[s] ?? 'auto';
          const probs =
            kind === 'regression'
              ? out
              : classProbs(
                  out,
                  kind === 'auto' ? (looksLikeProbs(out) ? 'probs' : 'logits') : kind,
                );
          const k = probs.shape[1];
          const k0 = samples[0]?.shape[1];
          if (k0 !== undefined && k !== k0) {
            throw new ArgumentError(
              'members',
              `member ${s} predicts ${k} ${kind === 'regression' ? 'outputs' : 'classes'}, member 0 ${k0}; expected the same ${kind === 'regression' ? 'outputs' : 'classes'}`,
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
 * @param x all inputs `[N, ...]` (an array of one tensor per input for a multi-input model).
 * @param numSamples samples per input.
 * @param batchSize inputs per forward pass (default 500).
 */
export function predictSamplesBatched(
  predictor: Predictor,
  x: ModelInput,
  numSamples: number,
  batchSize = 500,
): tf.Tensor3D {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ArgumentError('batchSize', `expected a positive integer, got ${batchSize}`);
  }
  if (
    predictor === null ||
    typeof predictor !== 'object' ||
    typeof (predictor as Partial<Predictor>).predictSamples !== 'function'
  ) {
    throw new ArgumentError(
      'predictor',
      `expected a Predictor {predictSamples(x, numSamples)}, got ${String(predictor)}`,
    );
  }
  checkNumSamples(numSamples);
  checkX(x);
  const n = batchSizeOf(x);
  if (n === 0) {
    const first = Array.isArray(x) ? (x[0] as tf.Tensor) : x;
    throw new ArgumentError('x', `expected at least one input, got [${first.shape.join(', ')}]`);
  }
  const parts: tf.Tensor3D[] = [];
  try {
    for (let i = 0; i < n; i += batchSize) {
      const size = Math.min(batchSize, n - i);
      parts.push(
        tf.tidy(() => {
          return predictor.predictSamples(sliceInputs(x, i, size), numSamples);
        }),
      );
    }
    return tf.concat(parts, 1);
  } finally {
    tf.dispose(parts);
  }
}
