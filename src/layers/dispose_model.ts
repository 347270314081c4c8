/**
 * Disposing a tfjs model with everything it holds. `LayersModel.dispose()` (tfjs 4.22) frees the
 * weights of a nested model only when the model's reference count reaches 0, and that count is
 * 1 plus one per application of the nested model, while a container decrements it at most twice
 * (once as a layer, once through `internalContainerRefs`) and a `Sequential` only once (its
 * `internalContainerRefs` stay empty). So `model.dispose()` leaves the weights of
 *
 * - a model added to a `Sequential` after its first layer (`tf.sequential({layers: [dense,
 *   inner]})`: `inner`'s kernel and bias, 2 tensors), and
 * - a nested model applied more than once in a functional model.
 *
 * {@link disposeModel} disposes the model and then every weight of it (at any depth) that tfjs
 * left alive.
 */
import * as tf from '@tensorflow/tfjs';
import { checkModel } from './model_input.js';

/** Every weight variable of `model` and of the models nested in it, each once. */
function allWeights(
  model: tf.LayersModel,
  found = new Set<tf.LayerVariable>(),
): tf.LayerVariable[] {
  for (const w of model.weights) found.add(w);
  for (const l of model.layers) {
    if (l instanceof tf.LayersModel) allWeights(l, found);
    else for (const w of l.weights) found.add(w);
  }
  return [...found];
}

function isLive(w: tf.LayerVariable): boolean {
  try {
    return !w.read().isDisposed;
  } catch {
    return false; // tfjs throws when reading a disposed LayerVariable
  }
}

/**
 * Dispose `model` and every weight it holds, nested models included: `model.dispose()`, then the
 * weights tfjs's reference counting left behind (see the module comment). A weight shared with
 * another model that is still in use is freed too, as tfjs frees a nested model applied once with
 * its container.
 *
 * $$\text{live tensors after} = \text{live tensors before} - |\text{weights}(model)|$$
 *
 * @param model a `tf.LayersModel` (a `Sequential` or a functional model).
 * @returns the number of weight variables freed by this call (tfjs's and the leftovers).
 * @throws ArgumentError naming `model` when it is not a `tf.LayersModel`.
 * @example
 * ```ts
 * const net = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 4 }), head] });
 * layers.disposeModel(net); // net.dispose() alone leaves head's kernel and bias alive
 * ```
 */
export function disposeModel(model: tf.LayersModel): number {
  checkModel(model);
  const weights = allWeights(model);
  const live = weights.filter(isLive).length;
  model.dispose();
  for (const w of weights) if (isLive(w)) w.dispose();
  return live;
}
