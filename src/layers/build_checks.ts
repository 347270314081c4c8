/**
 * The checks of a Bayesian layer's `build`, run before any weight is made: the input's channels
 * against a declared `inChannels`, and an input the layer can run on (its `computeOutputShape`
 * refuses, e.g., a convolution input smaller than its kernel under `'valid'`, where the output
 * length `floor((L - d (k - 1) - 1) / s) + 1` would be < 1).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';

/** What {@link checkBuildInput} reads and sets of a layer. */
export interface BuildCheckable {
  readonly name: string;
  inChannels: number | null;
  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[];
}

/**
 * Check a layer's input before its weights are made and set `layer.inChannels = c` (restored when
 * the input is refused, so the failed layer keeps what it was declared with).
 * @param layer the layer being built. @param inputShape the shape(s) `build` received.
 * @param shape the data input's shape. @param c its channels (the layer's reading of `shape`).
 * @throws ArgumentError naming `inChannels` (a declared count the input does not have) or
 *   `inputs` (an input the layer cannot run on).
 */
export function checkBuildInput(
  layer: BuildCheckable,
  inputShape: tf.Shape | tf.Shape[],
  shape: tf.Shape,
  c: number,
): void {
  const declared = layer.inChannels;
  if (declared !== null && declared !== c) {
    throw new ArgumentError(
      'inChannels',
      `layer '${layer.name}' was declared with inChannels=${declared} but its input has ` +
        `${c} channels (input shape [${shape.map((d) => (d === null ? 'null' : d)).join(', ')}])`,
    );
  }
  layer.inChannels = c;
  try {
    layer.computeOutputShape(inputShape);
  } catch (e) {
    if (e instanceof ArgumentError) {
      layer.inChannels = declared;
      throw e;
    }
  }
}
