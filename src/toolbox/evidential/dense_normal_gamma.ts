/**
 * The evidential regression head as a tfjs layer (the reference `evidential-deep-learning`
 * package's `DenseNormalGamma`): a Dense layer of `4D` linear units whose output is split into
 * four blocks of `D` and constrained to the Normal-Inverse-Gamma parameters of each of `D` targets.
 * Registered with `tf.serialization`, so a model holding it saves and loads.
 */
import * as tf from '@tensorflow/tfjs';
import { TFJS_LAYER_ARG_KEYS } from '../../layers/tfjs_args.js';
import { tfjsLayerClass } from '../../layers/tfjs_wrappers.js';
import { ArgumentError } from '../../utils/errors.js';
import { checkOptionKeys } from '../../utils/options.js';
import { constrainNormalGamma } from './normal_gamma.js';

/** TF.js's Dense arguments (`tf.layers.dense`'s). */
type DenseArgs = Parameters<typeof tf.layers.dense>[0];
type DenseCtor = new (args: DenseArgs) => tf.layers.Layer;

/**
 * Arguments of {@link DenseNormalGamma}: TF.js's Dense arguments (initializers, regularizers,
 * constraints, `useBias`, `inputShape`, `name`, ...) without `activation`, with `units` the
 * number `D` of targets (the layer has `4D` outputs).
 */
export type DenseNormalGammaArgs = Omit<DenseArgs, 'units' | 'activation'> & {
  /** The number `D` of regression targets; the output has `4D` units. */
  units: number;
};

/** The keys TF.js's Dense takes (and its deserialization passes). */
const DENSE_KEYS: readonly string[] = [
  'units',
  'activation',
  'useBias',
  'kernelInitializer',
  'biasInitializer',
  'inputDim',
  'kernelConstraint',
  'biasConstraint',
  'kernelRegularizer',
  'biasRegularizer',
  'activityRegularizer',
  ...TFJS_LAYER_ARG_KEYS,
];

/** `args` checked: a positive integer count or an object with known keys, linear activation. */
function checkArgs(args: number | DenseNormalGammaArgs): DenseNormalGammaArgs {
  const a = typeof args === 'number' ? { units: args } : args;
  if (a === null || typeof a !== 'object') {
    throw new ArgumentError(
      'args',
      `expected {units, ...} or a number of units, got ${String(args)}`,
    );
  }
  checkOptionKeys(a, DENSE_KEYS, 'DenseNormalGamma');
  const units: unknown = a.units;
  if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) {
    throw new ArgumentError(
      'units',
      `expected a positive integer (the number of targets), got ${String(units)}`,
    );
  }
  const activation = (a as { activation?: unknown }).activation;
  if (activation !== undefined && activation !== null && activation !== 'linear') {
    throw new ArgumentError(
      'activation',
      `DenseNormalGamma applies its own constraints (softplus on nu, alpha - 1, beta); expected no activation, got ${JSON.stringify(activation)}`,
    );
  }
  return a;
}

/**
 * Deep evidential regression's Normal-Inverse-Gamma head (Amini et al., NeurIPS 2020): for input
 * `x`, the Dense output `o = x W + b` of `4D` units is split into `[o_gamma, o_nu, o_alpha, o_beta]`
 * and the layer returns `concat[gamma, nu, alpha, beta]` `[..., 4D]` with
 *
 * $$\gamma = o_\gamma,\quad \nu = \operatorname{softplus}(o_\nu),\quad
 * \alpha = \operatorname{softplus}(o_\alpha) + 1,\quad \beta = \operatorname{softplus}(o_\beta)$$
 *
 * (floored at the float32 values of `normalGammaOutputs`). Train it with
 * `evidentialRegressionLoss(y, output)`; read it with `nigUncertainty(output)` or
 * `nigPredictive(output)`. Registered for serialization as `'DenseNormalGamma'`.
 *
 * @example
 * ```ts
 * const model = tf.sequential({ layers: [
 *   tf.layers.dense({ inputShape: [1], units: 64, activation: 'relu' }),
 *   new DenseNormalGamma({ units: 1 }),
 * ] }); // output [N, 4]: gamma, nu, alpha, beta
 * ```
 */
export class DenseNormalGamma extends tfjsLayerClass<DenseCtor>('Dense') {
  static className = 'DenseNormalGamma';
  /** The number `D` of targets (the layer's output has `4D` units). */
  readonly normalGammaUnits: number;

  /**
   * @param args TF.js's Dense arguments with `units` = the number `D` of targets, or `D` alone.
   * @throws ArgumentError naming `units`, `activation` or an unknown key.
   */
  constructor(args: number | DenseNormalGammaArgs) {
    const a = checkArgs(args);
    super({ ...a, units: 4 * a.units, activation: 'linear' });
    this.normalGammaUnits = a.units;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const raw = super.call(inputs, kwargs);
      const p = constrainNormalGamma(Array.isArray(raw) ? (raw[0] as tf.Tensor) : raw);
      return tf.concat([p.gamma, p.nu, p.alpha, p.beta], -1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { activation: _activation, ...config } = super.getConfig();
    return { ...config, units: this.normalGammaUnits };
  }
}
tf.serialization.registerClass(
  DenseNormalGamma as unknown as tf.serialization.SerializableConstructor<tf.layers.Layer>,
);

/**
 * A {@link DenseNormalGamma} layer (the `tf.layers.dense`-style factory).
 * @param args TF.js's Dense arguments with `units` = the number `D` of targets, or `D` alone.
 * @example
 * ```ts
 * const head = denseNormalGamma({ units: 2 }); // 8 outputs: [gamma, nu, alpha, beta] x 2
 * ```
 */
export function denseNormalGamma(args: number | DenseNormalGammaArgs): DenseNormalGamma {
  return new DenseNormalGamma(args);
}
