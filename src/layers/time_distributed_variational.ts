/**
 * The Bayesian `TimeDistributed` wrapper: TF.js's `tf.layers.timeDistributed` over a Bayesian
 * layer (a Dense or Conv2D of any estimator, or any other Bayesian layer), applying it to every
 * time slice of `x` `[batch, T, ...]`:
 *
 * $$y_{:, t} = f_{\theta}(x_{:, t}),\qquad t = 1..T,\qquad \theta \sim q(\theta) \text{ once per call},$$
 *
 * computed as one call of the inner layer on the `[batch T, ...]` reshape of `x`, reshaped back
 * to `[batch, T, ...]`. So the estimators behave as on a batch of `batch T` examples: `'reparam'`
 * draws one weight sample shared by every step (TF.js's `TimeDistributed` would call the layer
 * once per step, drawing `T` independent weights), `'local'` and `'flipout'` draw independent
 * noise per example and step. The KL is the inner layer's; in `'mean'` mode it is TF.js's
 * `TimeDistributed` with the posterior means as weights.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { BayesianLayer } from './bayesian_layer.js';
import { type BayesianMode } from './bayesian_args.js';
import { checkWrapperArgs, tfjsLayerClass, type TfjsTimeDistributed } from './tfjs_wrappers.js';

/** Arguments of {@link TimeDistributedVariational}: TF.js's `WrapperLayerArgs`. */
export interface TimeDistributedVariationalArgs {
  /** The Bayesian layer applied to every time step. */
  layer: BayesianLayer;
  /** Input shape without the batch (for a first layer of a Sequential). */
  inputShape?: (number | null)[];
  /** Input shape with the batch. */
  batchInputShape?: (number | null)[];
  /** Batch size with `inputShape`. */
  batchSize?: number;
  /** Layer name. */
  name?: string;
  /** Whether the weights are trained. Default true. */
  trainable?: boolean;
  /** Input dtype (float32). */
  dtype?: tf.DataType;
  /** Input dtype of a first layer. */
  inputDType?: tf.DataType;
}

type TimeDistributedCtor = new (args: TimeDistributedVariationalArgs) => TfjsTimeDistributed;

/**
 * Bayesian time-distributed layer (module documentation); registered for serialization as
 * `'TimeDistributedVariational'`.
 * @example
 * ```ts
 * const td = new layers.TimeDistributedVariational({
 *   layer: new layers.DenseReparam({ units: 3 }),
 * });
 * const y = td.apply(tf.input({ shape: [10, 8] })); // [null, 10, 3]
 * ```
 */
export class TimeDistributedVariational extends tfjsLayerClass<TimeDistributedCtor>(
  'TimeDistributed',
) {
  static className = 'TimeDistributedVariational';

  /**
   * @param args the Bayesian layer.
   * @throws ArgumentError naming `layer` when it is not a Bayesian layer, or an unknown argument.
   */
  constructor(args: TimeDistributedVariationalArgs) {
    super(
      checkWrapperArgs(
        args,
        'TimeDistributedVariational',
        [],
        (l) => l instanceof BayesianLayer,
        'a Bayesian layer (e.g. DenseReparam, ConvFlipout)',
      ),
    );
  }

  /** The wrapped Bayesian layer. */
  get inner(): BayesianLayer {
    return this.layer as BayesianLayer;
  }

  /** The prediction mode of the wrapped layer. */
  get mode(): BayesianMode {
    return this.inner.mode;
  }

  set mode(mode: BayesianMode) {
    if (mode !== 'sample' && mode !== 'mean') {
      throw new ArgumentError('mode', `expected 'sample' or 'mean', got '${String(mode)}'`);
    }
    this.inner.mode = mode;
  }

  /** The wrapped layer's `KL(q || p)`. */
  kl(): tf.Scalar {
    return this.inner.kl();
  }

  /**
   * Build the wrapped layer for one time slice `[batch, ...]` of the input.
   * @throws ArgumentError naming `inputs` for an input of rank < 3 (no time axis).
   */
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (shape.length < 3) {
      throw new ArgumentError(
        'inputs',
        `layer '${this.name}' expects inputs [batch, timeSteps, ...] of rank >= 3, got ` +
          `[${shape.map((d) => (d === null ? 'null' : d)).join(', ')}]`,
      );
    }
    super.build(shape);
  }

  /** `y = f(x.reshape([B T, ...])).reshape([B, T, ...])`: one weight draw per call. */
  override call(
    inputs: tf.Tensor | tf.Tensor[],
    kwargs: Record<string, unknown>,
  ): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (x === undefined || (Array.isArray(inputs) && inputs.length !== 1)) {
        throw new ArgumentError('inputs', `layer '${this.name}' expects exactly one input tensor`);
      }
      if (x.rank < 3) {
        throw new ArgumentError(
          'inputs',
          `layer '${this.name}' expects inputs [batch, timeSteps, ...] of rank >= 3, got ` +
            `[${x.shape.join(', ')}]`,
        );
      }
      const [b, t, ...rest] = x.shape as number[];
      const { mask: _mask, ...rest2 } = kwargs ?? {};
      const y = this.inner.call(tf.reshape(x, [(b as number) * (t as number), ...rest]), rest2);
      const out = Array.isArray(y) ? (y[0] as tf.Tensor) : y;
      return tf.reshape(out, [b as number, t as number, ...out.shape.slice(1)]);
    });
  }
}
tf.serialization.registerClass(
  TimeDistributedVariational as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>,
);
