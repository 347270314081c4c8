/**
 * A finite mixture of components of one family (Pyro's, NumPyro's and TFP's
 * `MixtureSameFamily`): a `Categorical` with `K` categories picks one of the `K` components, the
 * rightmost batch dim of one component distribution.
 *
 * $$p(x) = \sum_{k=1}^K \pi_k\, p_k(x),\qquad
 *   \log p(x) = \operatorname{logsumexp}_k\big(\log\pi_k + \log p_k(x)\big)$$
 *
 * With component batch shape `[...Bc, K]`, mixture batch shape `Bm` and event shape `E`, the
 * mixture has batch shape `B = broadcast(Bm, Bc)` and event shape `E` (as TFP; a mixture batch
 * larger than the components' was refused before). By the laws of total expectation and variance,
 *
 * $$\mathbb E[X] = \sum_k \pi_k\mu_k,\qquad
 *   \operatorname{Var}[X] = \sum_k \pi_k\sigma_k^2 + \sum_k \pi_k(\mu_k - \mathbb E[X])^2$$
 *
 * (elementwise over the event), and for a scalar event `F(x) = sum_k pi_k F_k(x)`. Draws pick a
 * category, then take that component's draw; they are not reparameterized (no `rsample`; the
 * choice of component is discrete), so fit mixtures by their `logProb` (MCMC, SVI with the
 * mixture observed or the category enumerated).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { deriveSeeds } from '../utils/seed.js';
import { broadcastShapes, stopGradient } from '../utils/tensor.js';
import type { Constraint } from '../constraints/constraints.js';
import { Categorical } from './categorical.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import './expanded.js';
import './independent.js';

/**
 * Mixture of the `K` components of `componentDistribution` (its rightmost batch dim) with
 * weights `mixtureDistribution`. Both distributions stay the caller's (`dispose` frees neither).
 *
 * @example
 * ```ts
 * // a two-component Gaussian mixture, batch shape [], event shape []
 * const d = new MixtureSameFamily(
 *   new Categorical({ probs: [0.3, 0.7] }),
 *   new Normal([-1, 2], [0.5, 1]),
 * );
 * d.logProb(0.5); // log(0.3 N(0.5; -1, 0.5) + 0.7 N(0.5; 2, 1))
 * d.sample([100]); // shape [100]
 * ```
 */
export class MixtureSameFamily extends Distribution {
  /** The mixing distribution over the `K` components, batch shape `Bm`. */
  readonly mixtureDistribution: Categorical;
  /** The components, batch shape `[...Bc, K]`. */
  readonly componentDistribution: Distribution;
  private readonly batch: number[];

  /**
   * @param mixtureDistribution a `Categorical` with `K` categories whose batch shape `Bm`
   *   broadcasts with `Bc` (the component batch shape without its last dim).
   * @param componentDistribution any distribution with batch shape `[...Bc, K]`.
   * @param options validation flag and name.
   */
  constructor(
    mixtureDistribution: Categorical,
    componentDistribution: Distribution,
    options: DistributionOptions = {},
  ) {
    super(options);
    if (!(mixtureDistribution instanceof Categorical)) {
      throw new ArgumentError('mixtureDistribution', 'expected a Categorical distribution');
    }
    if (!(componentDistribution instanceof Distribution)) {
      throw new ArgumentError('componentDistribution', 'expected a Distribution');
    }
    const cb = componentDistribution.batchShape;
    const k = mixtureDistribution.numCategories;
    if (cb.length < 1 || cb[cb.length - 1] !== k) {
      throw new ArgumentError(
        'componentDistribution',
        `expected a batch shape [..., ${k}] whose last dim is the ${k} categories of ` +
          `mixtureDistribution, got [${cb.join(',')}]`,
      );
    }
    const cbatch = cb.slice(0, -1);
    const mb = mixtureDistribution.batchShape;
    let batch: number[];
    try {
      batch = broadcastShapes({ mixtureDistribution: mb, componentDistribution: cbatch });
    } catch {
      throw new ArgumentError(
        'mixtureDistribution',
        `batch shape [${mb.join(',')}] must broadcast with the component batch shape without ` +
          `its last dim, [${cbatch.join(',')}]`,
      );
    }
    this.mixtureDistribution = mixtureDistribution;
    this.componentDistribution = componentDistribution;
    this.batch = batch;
  }

  /** `broadcast(mixture batch shape, component batch shape without K)` (TFP's rule). */
  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return this.componentDistribution.eventShape;
  }
  /** The components' support. */
  override get support(): Constraint {
    return this.componentDistribution.support;
  }
  /** Number of components K. */
  get numComponents(): number {
    return this.mixtureDistribution.numCategories;
  }

  /** The normalized log-weights `log pi`, shape `[...Bm, K]`. */
  private logWeights(): tf.Tensor {
    return this.mixtureDistribution.logits;
  }
  /** Insert the component axis (a new size-1 dim) just left of the event dims of `x`. */
  private padComponent(x: tf.Tensor): tf.Tensor {
    return tf.expandDims(x, x.rank - this.eventShape.length);
  }
  /** Weights `pi` shaped `[...Bm, K, 1, ..., 1]` to multiply batch+event shaped moments. */
  private weightsForEvent(): tf.Tensor {
    const p = this.mixtureDistribution.probs;
    const e = this.eventShape.length;
    return e === 0 ? p : tf.reshape(p, [...p.shape, ...Array<number>(e).fill(1)]);
  }
  /** The component axis of a `[...B, K, ...E]` tensor. */
  private componentAxis(): number {
    return this.batchShape.length;
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const [sComp, sMix] = deriveSeeds(seed, 2) as [number, number];
    const batch = this.batchShape;
    const e = this.eventShape.length;
    // components drawn at the full batch [...B, K] (independent over the broadcast entries)
    const cb = this.componentDistribution.batchShape;
    const full0 = [...batch, this.numComponents];
    const grow = cb.length !== full0.length || cb.some((s, i) => s !== full0[i]);
    const comp = grow ? this.componentDistribution.expand(full0) : this.componentDistribution;
    let x: tf.Tensor;
    try {
      x = comp.sample(shape, sComp); // [...S, ...B, K, ...E]
    } finally {
      if (grow) comp.dispose();
    }
    const idx = this.mixtureDistribution.sample(shape, sMix); // [...S, ...Bm]
    const mb = this.mixtureDistribution.batchShape;
    const padded = tf.reshape(idx, [
      ...shape,
      ...Array<number>(batch.length - mb.length).fill(1),
      ...mb,
    ]);
    const full = tf.broadcastTo(padded, [...shape, ...batch]);
    const oneHot = tf.cast(tf.oneHot(tf.cast(full, 'int32'), this.numComponents), 'bool');
    const mask = e === 0 ? oneHot : tf.reshape(oneHot, [...oneHot.shape, ...Array(e).fill(1)]);
    const picked = tf.where(tf.broadcastTo(mask, x.shape), x, tf.zerosLike(x));
    return tf.sum(picked, shape.length + batch.length);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const lpk = this.componentDistribution.logProb(this.padComponent(x)); // [..., B, K]
    return safeLogSumExp(tf.add(lpk, this.logWeights()));
  }
  /** `F(x) = sum_k pi_k F_k(x)` (scalar events; throws where the components have no CDF). */
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const fk = this.componentDistribution.cdf(this.padComponent(x));
    return tf.sum(tf.mul(fk, this.mixtureDistribution.probs), -1);
  }
  protected override _mean(): tf.Tensor {
    const mk = this.componentDistribution.mean();
    return tf.sum(tf.mul(mk, this.weightsForEvent()), this.componentAxis());
  }
  protected override _variance(): tf.Tensor {
    const w = this.weightsForEvent();
    const axis = this.componentAxis();
    const mk = this.componentDistribution.mean();
    const vk = this.componentDistribution.variance();
    const mean = tf.sum(tf.mul(mk, w), axis, true);
    const within = tf.sum(tf.mul(vk, w), axis);
    const between = tf.sum(tf.mul(tf.square(tf.sub(mk, mean)), w), axis);
    return tf.add(within, between);
  }
}

/**
 * `log sum_k exp(a_k)` over the last axis that stays `-Infinity` (not NaN) when every term is
 * `-Infinity` (a value outside every component's support).
 */
function safeLogSumExp(a: tf.Tensor): tf.Tensor {
  const m = stopGradient(tf.max(a, -1, true));
  const finite = tf.where(tf.isFinite(m), m, tf.zerosLike(m));
  const s = tf.log(tf.sum(tf.exp(tf.sub(a, finite)), -1));
  return tf.add(s, tf.squeeze(finite, [-1]));
}
