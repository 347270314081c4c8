/**
 * Inputs against a model: the one shape check of the post-hoc methods that take a user's model and
 * its data (Laplace, SWAG), the predictors, the VAEs and `train`; the one check of a model argument.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/**
 * Check `x` is shaped like `model`'s one input, `[N, d_1, ..., d_k]` with every `d_i` the model
 * fixes (a `null` dimension takes any size).
 *
 * @param model a single-input tfjs model.
 * @param x the inputs.
 * @throws ArgumentError naming `model` (several inputs) or `x` (another shape), before any work.
 * @example
 * ```ts
 * checkInputShape(model, xTrain); // x: expected inputs [N, 28, 28, 1] (the model's input), got [...]
 * ```
 */
export function checkInputShape(model: tf.LayersModel, x: tf.Tensor): void {
  const want = model.inputs[0]?.shape;
  if (want === undefined || model.inputs.length !== 1) {
    throw new ArgumentError('model', 'expected a model with one input');
  }
  const ok =
    want.length === x.rank && want.every((d, i) => i === 0 || d === null || d === x.shape[i]);
  if (!ok) {
    throw new ArgumentError(
      'x',
      `expected inputs [N, ${want
        .slice(1)
        .map((d) => d ?? '*')
        .join(', ')}] (the model's input), got [${x.shape.join(', ')}]`,
    );
  }
}

/**
 * Check a model argument.
 * @param model what the caller gave.
 * @param name the argument, for the message (default `'model'`).
 * @throws ArgumentError naming `name` unless `model` is a `tf.LayersModel`.
 */
export function checkModel(model: unknown, name = 'model'): asserts model is tf.LayersModel {
  if (!(model instanceof tf.LayersModel)) {
    throw new ArgumentError(
      name,
      `expected a tf.LayersModel, got ${model === null ? 'null' : typeof model}`,
    );
  }
}
