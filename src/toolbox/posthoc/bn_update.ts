/**
 * SWAG's `bn_update` (Maddox et al. 2019; Izmailov et al. 2018, SWA): the BatchNormalization
 * running statistics of a network whose weights were replaced (an SWA mean, a SWAG sample) belong
 * to other weights, so they are recomputed on one pass over the training inputs. Every batch is run
 * in training mode (the normalisation uses the batch's own statistics, and Dropout is active, as in
 * the reference's `model.train()` pass) and each BatchNormalization layer's moving statistics become the
 * batch-size-weighted average of the statistics of its input over the batches:
 *
 * $$\mu_\ell = \frac{1}{N}\sum_b |b|\,\operatorname{mean}_b(h_\ell),\qquad
 *   \sigma^2_\ell = \frac{1}{N}\sum_b |b|\,\operatorname{var}_b(h_\ell)$$
 *
 * (the reference's cumulative momentum `|b| / (n + |b|)`; `var_b` is the biased batch variance
 * tfjs's BatchNormalization averages). With one batch they are the batch statistics exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkFinite } from '../../utils/tensor.js';
import {
  batchSizeOf,
  checkInputsOf,
  inputList,
  sliceInputs,
  type ModelInput,
} from '../../layers/model_input.js';

/** Options of {@link bnUpdate}. */
export interface BnUpdateOptions {
  /** Inputs per training-mode forward pass (default 128; the reference uses the training loader's). */
  batchSize?: number;
}

/** The moving statistics of one BatchNormalization layer. */
interface BnStats {
  layer: tf.layers.Layer;
  mean: tf.LayerVariable;
  variance: tf.LayerVariable;
  /** `1 - momentum`: the weight tfjs gives a batch's statistics. */
  decay: number;
}

/** Every BatchNormalization layer of `model`, also inside nested models, in layer order. */
export function batchNormLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.flatMap((l) =>
    l instanceof tf.LayersModel
      ? batchNormLayers(l)
      : l.getClassName() === 'BatchNormalization'
        ? [l]
        : [],
  );
}

/**
 * Nested models applied more than once (node 0 links a nested model's own inputs to its outputs,
 * every further node is a use): their BatchNormalization layers run on several inputs per pass.
 */
function sharedNestedWithBn(model: tf.LayersModel): tf.LayersModel | undefined {
  for (const l of model.layers) {
    if (!(l instanceof tf.LayersModel)) continue;
    const uses = ((l as unknown as { inboundNodes?: unknown[] }).inboundNodes?.length ?? 1) - 1;
    if (uses > 1 && batchNormLayers(l).length > 0) return l;
    const inner = sharedNestedWithBn(l);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

function statsOf(layer: tf.layers.Layer): BnStats {
  const find = (suffix: string): tf.LayerVariable => {
    const v = layer.weights.find((w) => w.originalName.endsWith(suffix));
    if (v === undefined) {
      throw new ArgumentError(
        'model',
        `BatchNormalization layer '${layer.name}' has no ${suffix} variable (not built?)`,
      );
    }
    return v;
  };
  const momentum = (layer.getConfig() as { momentum?: number }).momentum ?? 0.99;
  if (!(momentum < 1)) {
    throw new ArgumentError(
      'model',
      `BatchNormalization layer '${layer.name}' has momentum ${momentum}: its moving statistics never change in training mode, so bn_update cannot recompute them`,
    );
  }
  const nodes = (layer as unknown as { inboundNodes?: unknown[] }).inboundNodes ?? [];
  if (nodes.length !== 1) {
    throw new ArgumentError(
      'model',
      `expected BatchNormalization layer '${layer.name}' to be applied once, got ${nodes.length} times (its moving statistics would mix several inputs)`,
    );
  }
  return {
    layer,
    mean: find('moving_mean'),
    variance: find('moving_variance'),
    decay: 1 - momentum,
  };
}

/**
 * Check the inputs of {@link bnUpdate} before any work: a tensor `[N, ...]` (`N >= 1`) shaped like
 * the model's input, finite, and a positive integer batch size.
 *
 * @throws ArgumentError naming `x` / `batchSize` / `model`.
 */
export function checkBnUpdateArgs(model: tf.LayersModel, x: unknown, batchSize: number): void {
  if (!Array.isArray(x) && (!(x instanceof tf.Tensor) || x.rank < 1)) {
    throw new ArgumentError('x', 'expected a tensor [N, ...] of training inputs for bn_update');
  }
  const n = checkInputsOf(model, x);
  if (n < 1) {
    throw new ArgumentError('x', 'expected at least one training input for bn_update, got none');
  }
  const list = inputList(x as ModelInput);
  list.forEach((t, i) => checkFinite(t, Array.isArray(x) ? `x[${i}]` : 'x', 'inputs'));
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ArgumentError('batchSize', `expected a positive integer, got ${batchSize}`);
  }
  batchNormLayers(model).forEach(statsOf);
  const shared = sharedNestedWithBn(model);
  if (shared !== undefined) {
    throw new ArgumentError(
      'model',
      `the nested model '${shared.name}' holds BatchNormalization layers and is applied more than once: their moving statistics would mix several inputs`,
    );
  }
}

/**
 * Recompute the moving mean and variance of every BatchNormalization layer of `model` (at any
 * depth) for its current weights on one pass over `x` (formula in the module comment). A model
 * without BatchNormalization is left as it is. Only the moving statistics change (they are put
 * back if the pass throws); to make the update temporary, save and restore them
 * ({@link saveBnStats} / {@link restoreBnStats}).
 *
 * @param model a `tf.LayersModel` (its BatchNormalization layers each applied once,
 *   with momentum < 1).
 * @param x training inputs `[N, ...]` shaped like the model's input, finite (an array of one tensor
 *   per input for a multi-input model).
 * @param options `batchSize` (default 128).
 * @throws ArgumentError naming the argument, before any work.
 * @example
 * ```ts
 * swag.assign(swag.swaMean()); // SWA weights
 * toolbox.bnUpdate(net, xTrain); // their BatchNorm statistics
 * ```
 */
export function bnUpdate(
  model: tf.LayersModel,
  x: ModelInput,
  options: BnUpdateOptions = {},
): void {
  if (!(model instanceof tf.LayersModel)) {
    throw new ArgumentError('model', 'expected a tf.LayersModel');
  }
  const batchSize = options.batchSize ?? 128;
  checkBnUpdateArgs(model, x, batchSize);
  const stats = batchNormLayers(model).map(statsOf);
  if (stats.length === 0) return;
  const n = batchSizeOf(x);
  const saved = saveBnStats(model);
  const sums = stats.map((s) => ({
    mean: tf.zerosLike(s.mean.read()),
    variance: tf.zerosLike(s.variance.read()),
  }));
  try {
    for (let i = 0; i < n; i += batchSize) {
      const size = Math.min(batchSize, n - i);
      // zero the moving statistics: a training pass then writes decay * (batch statistic)
      for (const s of stats) {
        tf.tidy(() => {
          s.mean.write(tf.zerosLike(s.mean.read()));
          s.variance.write(tf.zerosLike(s.variance.read()));
        });
      }
      tf.tidy(() => {
        model.apply(sliceInputs(x, i, size), { training: true });
      });
      stats.forEach((s, l) => {
        const acc = sums[l] as { mean: tf.Tensor; variance: tf.Tensor };
        const next = tf.tidy(() => ({
          mean: tf.add(acc.mean, tf.mul(s.mean.read(), size / s.decay)),
          variance: tf.add(acc.variance, tf.mul(s.variance.read(), size / s.decay)),
        }));
        tf.dispose([acc.mean, acc.variance]);
        sums[l] = next;
      });
    }
    stats.forEach((s, l) => {
      const acc = sums[l] as { mean: tf.Tensor; variance: tf.Tensor };
      tf.tidy(() => {
        s.mean.write(tf.div(acc.mean, n));
        s.variance.write(tf.div(acc.variance, n));
      });
    });
  } catch (err) {
    restoreBnStats(model, saved);
    throw err;
  } finally {
    tf.dispose([...saved, ...sums.flatMap((s) => [s.mean, s.variance])]);
  }
}

/** Copies of the moving statistics of every BatchNormalization layer (the caller disposes). */
export function saveBnStats(model: tf.LayersModel): tf.Tensor[] {
  return batchNormLayers(model).flatMap((l) =>
    l.weights.filter((w) => !w.trainable).map((w) => w.read().clone()),
  );
}

/** Write back what {@link saveBnStats} returned (not disposed here). */
export function restoreBnStats(model: tf.LayersModel, saved: tf.Tensor[]): void {
  const vars = batchNormLayers(model).flatMap((l) => l.weights.filter((w) => !w.trainable));
  vars.forEach((v, i) => v.write(saved[i] as tf.Tensor));
}
