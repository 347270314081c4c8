/**
 * A deterministic mixture of two distributions switched by a boolean mask (Pyro's
 * `MaskedMixture`): where the mask is true the entry follows `component1`, elsewhere
 * `component0`.
 *
 * $$\log p(x)_b = \begin{cases}\log p_1(x)_b & m_b\\ \log p_0(x)_b & \text{otherwise}\end{cases},
 *   \qquad X_b = m_b\,?\,X^{(1)}_b : X^{(0)}_b$$
 *
 * The batch shape is `broadcast(shape(m), B_0, B_1)`; the event shapes of the two components must
 * be equal (the mask selects whole events). `mean`, `variance` and draws are selected the same
 * way; draws are reparameterized when both components are. The support is the components' when
 * they share one, else the reals over the event dims.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { deriveSeeds } from '../utils/seed.js';
import { broadcastShapes } from '../utils/tensor.js';
import type { Constraint } from '../constraints/constraints.js';
import { Distribution, type DistributionOptions, type MaskInput } from './distribution.js';
import { sharedSupport } from './mixture_general.js';
import { boolArrayMask } from './masked.js';
import './expanded.js';
import './independent.js';

const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * `component1` where `mask` is true, `component0` elsewhere. The components and a mask given as
 * a tensor stay the caller's; a mask given as booleans is converted to a tensor owned here.
 *
 * @example
 * ```ts
 * const d = new MaskedMixture([true, false, true], new Normal(0, 1), new Laplace(5, 2));
 * d.logProb(tf.tensor1d([4, 0, 6])); // [log Laplace(4; 5, 2), log N(0; 0, 1), log Laplace(6; 5, 2)]
 * ```
 */
export class MaskedMixture extends Distribution {
  /** The `bool` mask, shape broadcasting to the batch shape. */
  readonly maskValue: tf.Tensor;
  /** Followed where the mask is false. */
  readonly component0: Distribution;
  /** Followed where the mask is true. */
  readonly component1: Distribution;
  private readonly batch: number[];
  private readonly c0: Distribution;
  private readonly c1: Distribution;

  /**
   * @param mask a `bool` tensor, `true`/`false` or nested arrays of booleans (numbers are refused,
   *   as Pyro's mask is boolean).
   * @param component0 the distribution where the mask is false.
   * @param component1 the distribution where the mask is true (same event shape).
   * @param options validation flag and name.
   * @throws ArgumentError naming `mask` (not boolean), `component0` / `component1` (not a
   *   distribution, differing event shapes) or the shapes that do not broadcast.
   */
  constructor(
    mask: MaskInput,
    component0: Distribution,
    component1: Distribution,
    options: DistributionOptions = {},
  ) {
    super(options);
    if (!(component0 instanceof Distribution)) {
      throw new ArgumentError('component0', 'expected a Distribution');
    }
    if (!(component1 instanceof Distribution)) {
      throw new ArgumentError('component1', 'expected a Distribution');
    }
    if (!sameShape(component0.eventShape, component1.eventShape)) {
      throw new ArgumentError(
        'component1',
        `expected the event shape of component0, ${fmt(component0.eventShape)}, got ` +
          fmt(component1.eventShape),
      );
    }
    this.maskValue = toBoolMask(mask, (t) => this.own(t));
    const batch = this.broadcastParams({
      mask: this.maskValue.shape,
      component0: component0.batchShape,
      component1: component1.batchShape,
    });
    this.batch = batch;
    this.component0 = component0;
    this.component1 = component1;
    this.c0 = sameShape(component0.batchShape, batch) ? component0 : component0.expand(batch);
    this.c1 = sameShape(component1.batchShape, batch) ? component1 : component1.expand(batch);
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return this.component0.eventShape;
  }
  /** The components' support when they share one, else the reals over the event dims. */
  override get support(): Constraint {
    return sharedSupport(
      [this.component0.support, this.component1.support],
      this.eventShape.length,
    );
  }
  /** Reparameterized when both components are. */
  override get hasRsample(): boolean {
    return this.component0.hasRsample && this.component1.hasRsample;
  }

  /** The mask with one trailing 1 per event dim, to select whole events. */
  private eventMask(): tf.Tensor {
    const e = this.eventShape.length;
    const m = this.maskValue;
    return e === 0 ? m : tf.reshape(m, [...m.shape, ...Array<number>(e).fill(1)]);
  }
  /** `where(mask, a, b)` with numpy broadcasting. */
  private select(a: tf.Tensor, b: tf.Tensor, withEvent: boolean): tf.Tensor {
    const m = withEvent ? this.eventMask() : this.maskValue;
    const shape = broadcastShapes({ mask: m.shape, a: a.shape, b: b.shape });
    return tf.where(tf.broadcastTo(m, shape), tf.broadcastTo(a, shape), tf.broadcastTo(b, shape));
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const [s0, s1] = deriveSeeds(seed, 2) as [number, number];
    return this.select(this.c1.sample(shape, s1), this.c0.sample(shape, s0), true);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    const [s0, s1] = deriveSeeds(seed, 2) as [number, number];
    return this.select(this.c1.rsample(shape, s1), this.c0.rsample(shape, s0), true);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    return this.select(this.component1.logProb(x), this.component0.logProb(x), false);
  }
  protected override _mean(): tf.Tensor {
    return this.select(this.c1.mean(), this.c0.mean(), true);
  }
  protected override _variance(): tf.Tensor {
    return this.select(this.c1.variance(), this.c0.variance(), true);
  }
}

/** The mask as a `bool` tensor; a tensor made here is passed to `own`. */
function toBoolMask(mask: unknown, own: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
  if (typeof mask === 'boolean') return own(tf.scalar(mask, 'bool'));
  if (mask instanceof tf.Tensor) {
    if (mask.isDisposed)
      throw new ArgumentError('mask', 'expected a live tensor, got a disposed one');
    if (mask.dtype !== 'bool') {
      throw new ArgumentError(
        'mask',
        `expected a bool tensor, got dtype ${mask.dtype} (cast a 0/1 tensor with tf.cast(m, 'bool'))`,
      );
    }
    return mask;
  }
  if (Array.isArray(mask)) {
    return own(boolArrayMask(mask));
  }
  throw new ArgumentError(
    'mask',
    `expected true, false, a bool tensor or arrays of booleans, got ${mask === null ? 'null' : typeof mask}`,
  );
}
