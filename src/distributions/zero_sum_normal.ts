/**
 * The zero-sum normal distribution (NumPyro's `ZeroSumNormal`, after PyMC): a normal array whose
 * sums along each of its event axes vanish, the usual prior of sum-to-zero effects (the
 * identifiable parameterization of a categorical predictor).
 *
 * $$X = T(Z),\quad Z_{i} \sim \mathcal N(0, \sigma^2)\ \text{iid on } [n_1 - 1, ..., n_k - 1],
 *   \qquad \operatorname{Cov}(X) = \sigma^2 \bigotimes_{j=1}^{k}\left(I_{n_j} -
 *   \tfrac{1}{n_j} J_{n_j}\right)$$
 *
 * with `T` the zero-sum isometry ({@link ZeroSumTransform}), so
 * `log p(x) = sum log N(T^{-1}(x); 0, sigma)` on the zero-sum subspace. Mean 0, variance
 * `sigma^2 prod_j (1 - 1/n_j)` per coordinate; support `zeroSum(k)`. Draws are reparameterized in
 * `sigma`.
 */
import * as tf from '@tensorflow/tfjs';
import { ZeroSumTransform } from '../bijectors/zero_sum.js';
import { ArgumentError } from '../utils/errors.js';
import { toFloat, type TensorInput } from '../utils/tensor.js';
import { zeroSum, type Constraint } from '../constraints/constraints.js';
import type { DistributionOptions } from './distribution.js';
import { Normal } from './normal.js';
import { TransformedDistribution } from './transformed.js';
import './expanded.js';
import './independent.js';

/**
 * Zero-sum normal with `scale` sigma > 0 (its shape is the batch shape) over an event of shape
 * `eventShape` (each axis of length >= 2, all of them zero-sum).
 *
 * @example
 * ```ts
 * const d = new ZeroSumNormal(1, [4]);
 * d.sample([2]); // shape [2, 4], each row sums to 0
 * d.variance();  // [0.75, 0.75, 0.75, 0.75]
 * ```
 */
export class ZeroSumNormal extends TransformedDistribution {
  /** Scale sigma of the underlying normal (shape: the batch shape). */
  readonly scale: tf.Tensor;
  private readonly owned: { dispose(): void }[] | undefined;

  /**
   * @param scale sigma, finite and > 0; its shape is the batch shape.
   * @param eventShape the event shape, e.g. `[K]` or `[K, J]`: integers >= 2.
   * @param options validation flag and name.
   * @throws ArgumentError naming `eventShape` or `scale`, before any work.
   */
  constructor(scale: TensorInput, eventShape: number[], options: DistributionOptions = {}) {
    if (
      !Array.isArray(eventShape) ||
      eventShape.length === 0 ||
      !eventShape.every((n) => Number.isInteger(n) && n >= 2)
    ) {
      throw new ArgumentError(
        'eventShape',
        `expected a non-empty array of integers >= 2, got ${JSON.stringify(eventShape)}`,
      );
    }
    const k = eventShape.length;
    const s = toFloat(scale, 'scale');
    const made: { dispose(): void }[] = s === scale ? [] : [s];
    let base;
    try {
      const col = tf.reshape(s, [...s.shape, ...eventShape.map(() => 1)]);
      made.push(col);
      const normal = new Normal(0, col, { validateArgs: options.validateArgs ?? true });
      made.push(normal);
      const expanded = normal.expand([...s.shape, ...eventShape.map((n) => n - 1)]);
      made.push(expanded);
      base = expanded.toEvent(k);
      made.push(base);
    } catch (e) {
      for (const m of made) m.dispose();
      throw e;
    }
    const bij = new ZeroSumTransform(k);
    made.push(bij);
    super(base, bij, options);
    this.scale = s;
    this.owned = made;
  }

  /** Support: `zeroSum(k)` over the `k` event axes. */
  override get support(): Constraint {
    return zeroSum(this.eventShape.length);
  }
  protected override _mean(): tf.Tensor {
    return tf.zeros([...this.batchShape, ...this.eventShape]);
  }
  protected override _variance(): tf.Tensor {
    const ev = this.eventShape;
    const factor = ev.reduce((a, n) => a * (1 - 1 / n), 1);
    const v = tf.reshape(tf.mul(tf.square(this.scale), factor), [
      ...this.scale.shape,
      ...ev.map(() => 1),
    ]);
    return tf.broadcastTo(v, [...this.batchShape, ...ev]);
  }

  /** Frees the normal, its wrappers, the transform and the tensors built here. */
  override dispose(): void {
    for (const m of this.owned ?? []) m.dispose();
    super.dispose();
  }

  /** Draws pushed through the map (none for an empty sample shape). */
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const full = [...shape, ...this.batchShape, ...this.eventShape];
    // no draws: no kernels (wasm binary kernels broadcasting into an empty output corrupt memory)
    if (full.some((n) => n === 0)) return tf.zeros(full);
    return super._rsample(shape, seed);
  }
}
