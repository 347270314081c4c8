/**
 * What the coupling flows of `AutoNormalizingFlow` share (`affineCouplingFlow`,
 * `splineCouplingFlow`): with `x = (x_a, x_b)`, `x_a` the first `a = splitDim` coordinates,
 *
 * $$y_a = x_a,\qquad y_b = g_{\theta(x_a)}(x_b),\qquad
 *   \log\lvert\det J\rvert = \textstyle\sum_k \log g'_{\theta(x_a), k}(x_{b,k}),$$
 *
 * `θ(x_a)` from a conditioner network whose hidden layers are `h_l = relu(h_{l-1} W_l + b_l)`
 * (`W_l ~ N(0, 1/n_l)` at the start, `b_l = 0`): the option checks, the split, the hidden layers
 * and the bijector base ({@link CouplingBijector}); each flow gives its `g` and its head.
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector, type TensorInput } from '../../bijectors/bijector.js';
import { ArgumentError } from '../../utils/errors.js';
import { nextSeed } from '../../utils/seed.js';
import type { FlowParam } from './flows.js';

/**
 * A small-normal initializer `N(0, sd^2)` of the given shape (seeded by the global stream).
 * @internal
 */
export function normalInit(shape: number[], sd: number): () => tf.Tensor {
  return () => tf.randomNormal(shape, 0, sd, 'float32', nextSeed());
}

/**
 * A coupling flow's `splitDim` option (`undefined`: `floor(D / 2)` when the flow is built).
 * @throws ArgumentError naming `splitDim` unless an integer >= 1.
 * @internal
 */
export function checkSplitDim(split: unknown): number | undefined {
  if (split !== undefined && (!Number.isInteger(split) || (split as number) < 1)) {
    throw new ArgumentError('splitDim', `expected an integer >= 1, got ${String(split)}`);
  }
  return split as number | undefined;
}

/**
 * The number `a` of leading coordinates a coupling flow of `R^d` passes through: `split`, or
 * `floor(d / 2)`; `1 <= a < d`.
 * @throws ArgumentError naming `splitDim` otherwise (`what`: the flow).
 * @internal
 */
export function couplingSplit(d: number, split: number | undefined, what: string): number {
  const a = split ?? Math.floor(d / 2);
  if (d < 2 || a >= d) {
    throw new ArgumentError(
      'splitDim',
      `${what} needs 1 <= splitDim < D; got splitDim ${a} for a latent ` +
        `dimension D = ${d} (a coupling flow needs D >= 2)`,
    );
  }
  return a;
}

/** A dense layer's weight `w` `[n, h]` and bias `b` `[h]`. @internal */
export type Dense = { w: tf.Tensor; b: tf.Tensor };

/**
 * The hidden layers of a coupling flow's conditioner on `a` inputs: layer `l` reads `w{l}` from
 * `N(0, 1/n)` (`n` its input width) and `b{l}` from 0.
 * @internal
 */
export function hiddenLayers(p: FlowParam, a: number, hiddenDims: number[]): Dense[] {
  const sizes = [a, ...hiddenDims];
  return hiddenDims.map((h, l) => {
    const n = sizes[l] as number;
    return {
      w: p(`w${l}`, normalInit([n, h], 1 / Math.sqrt(n))),
      b: p(`b${l}`, () => tf.zeros([h])),
    };
  });
}

/** `h_L` of `h_0 = x`, `h_l = relu(h_{l-1} W_l + b_l)`. @internal */
export function reluStack(x: tf.Tensor, layers: readonly Dense[]): tf.Tensor {
  let h = x;
  for (const l of layers) h = tf.relu(tf.add(tf.matMul(h, l.w), l.b));
  return h;
}

/** `x` `[..., dim]` as `[n, dim]` split into its first `a` and last `dim - a` coordinates. @internal */
export function splitCoupling(x: tf.Tensor, dim: number, a: number): [tf.Tensor, tf.Tensor] {
  const flat = tf.reshape(x, [-1, dim]);
  const n = flat.shape[0] as number;
  return [tf.slice(flat, [0, 0], [n, a]), tf.slice(flat, [0, a], [n, dim - a])];
}

/**
 * The base of a coupling bijector of `R^dim` (event rank 1): `x` `[..., dim]` split into
 * `(x_a, x_b)` by {@link CouplingBijector.parts}; the inverse is `_inverseAndLogDet`'s `x`.
 * @internal
 */
export abstract class CouplingBijector extends Bijector {
  constructor(
    readonly dim: number,
    readonly splitDim: number,
  ) {
    super();
  }
  override get eventRank(): number {
    return 1;
  }
  /** A point of `R^dim` (`[..., dim]`), named when not. */
  protected override point(v: TensorInput, name: string, eventDim: number): tf.Tensor {
    const t = super.point(v, name, eventDim);
    this.checkEventSize(t, name, this.dim);
    return t;
  }
  /** `x` `[..., dim]` as `[n, dim]` split into `x_a` `[n, a]` and `x_b` `[n, dim - a]`. */
  protected parts(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
    return splitCoupling(x, this.dim, this.splitDim);
  }
  protected _inverse(y: tf.Tensor): tf.Tensor {
    return this._inverseAndLogDet(y).x;
  }
}
