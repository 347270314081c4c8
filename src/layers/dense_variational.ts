/**
 * The Dense kind of Bayesian layer: `y = activation(x W + b)` with `W ~ q(W)` of shape
 * `[inChannels, outChannels]` (the tfjs `dense` kernel layout, so a DNN's kernel can seed the
 * posterior means directly). Inputs of rank > 2 are mapped on their last axis, as `tf.layers.dense`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { BayesianLayer, type BayesianLayerArgs } from './bayesian_layer.js';
import { fromTfjsArgs, type TfjsDenseArgs } from './tfjs_args.js';

/**
 * Arguments of the Bayesian Dense layers: TF.js's (`units`, `activation`, `useBias`,
 * `kernelInitializer`, ...) or MindSpore's `DenseReparam` names (`outChannels`, `hasBias`).
 */
export type DenseVariationalArgs = BayesianLayerArgs & TfjsDenseArgs;

/** Bayesian Dense layer; the concrete classes (one per registered estimator) are made in `bayesian_classes.ts`. */
export class DenseVariational extends BayesianLayer {
  /** @param args see {@link DenseVariationalArgs}; a bias by default. */
  constructor(args: DenseVariationalArgs) {
    const { args: canonical, defaultHasBias } = fromTfjsArgs(args, 'dense');
    super(canonical, defaultHasBias);
  }

  protected channelsOf(inputShape: tf.Shape | number[]): number {
    const c = inputShape[inputShape.length - 1];
    if (inputShape.length < 2 || c === null || c === undefined) {
      throw new ArgumentError(
        'inputs',
        `layer '${this.name}' expects inputs of shape [batch, ..., inChannels] with a known ` +
          `last dimension, got [${inputShape.map((d) => (d === null ? 'null' : d)).join(', ')}]`,
      );
    }
    return c;
  }

  protected kernelShape(inChannels: number): number[] {
    return [inChannels, this.outChannels];
  }

  protected linear(x: tf.Tensor, kernel: tf.Tensor): tf.Tensor {
    return tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
  }

  protected override prepareInput(x: tf.Tensor): tf.Tensor {
    return x.rank === 2 ? x : tf.reshape(x, [-1, x.shape[x.rank - 1] as number]);
  }

  protected override restoreOutput(y: tf.Tensor, input: tf.Tensor): tf.Tensor {
    return input.rank === 2 ? y : tf.reshape(y, [...input.shape.slice(0, -1), this.outChannels]);
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.outChannels];
  }
}
