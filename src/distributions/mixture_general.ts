/**
 * A finite mixture of components of any families with one event shape (NumPyro's
 * `MixtureGeneral`): a `Categorical` with `K` categories picks one of `K` component
 * distributions, given as a list (a `Normal`, a `StudentT` and a `Laplace`, say).
 *
 * $$p(x) = \sum_{k=1}^K w_k\, p_k(x),\qquad
 *   \log p(x) = \operatorname{logsumexp}_k\big(\log w_k + \log p_k(x)\big)$$
 *
 * The batch shape `B` is the broadcast of the mixing batch shape and every component's batch
 * shape; the event shape `E` is the components' (all equal). By the laws of total expectation
 * and variance (elementwise over the event),
 *
 * $$\mathbb E[X] = \sum_k w_k\mu_k,\qquad
 *   \operatorname{Var}[X] = \sum_k w_k\sigma_k^2 + \sum_k w_k(\mu_k - \mathbb E[X])^2,$$
 *
 * and for a scalar event `F(x) = sum_k w_k F_k(x)`. A draw takes the category `k ~ Cat(w)` and
 * returns component `k`'s draw; draws are not reparameterized (the category is discrete), so fit
 * mixtures through `logProb` (MCMC, or SVI with the mixture observed). The support is the
 * components' when they all share one, else the reals over the event dims (each component's
 * `logProb` is `-Infinity` off its own support, so a value outside every support scores
 * `-Infinity`, not NaN).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { deriveSeeds } from '../utils/seed.js';
import { broadcastShapes, stopGradient, type TensorInput } from '../utils/tensor.js';
import { independent, real, type Constraint } from '../constraints/constraints.js';
import { Categorical } from './categorical.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import './expanded.js';
import './independent.js';

const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Mixture of the distributions `componentDistributions` (of any families, one event shape) with
 * weights `mixingDistribution`. The distributions stay the caller's (`dispose` frees none).
 *
 * @example
 * ```ts
 * const d = new MixtureGeneral(new Categorical({ probs: [0.3, 0.7] }), [
 *   new Normal(-1, 0.5),
 *   new StudentT(3, 2, 1),
 * ]);
 * d.logProb(0.5); // log(0.3 N(0.5; -1, 0.5) + 0.7 t_3(0.5; 2, 1))
 * d.sample([100]); // shape [100]
 * ```
 */
export class MixtureGeneral extends Distribution {
  /** The mixing distribution over the `K` components. */
  readonly mixingDistribution: Categorical;
  /** The `K` components (the caller's). */
  readonly componentDistributions: readonly Distribution[];
  private readonly batch: number[];
  /** The components broadcast to the mixture's batch shape (independent draws per entry). */
  private readonly expanded: Distribution[];
  /** The mixing distribution broadcast to the mixture's batch shape. */
  private readonly mixingExpanded: Distribution;

  /**
   * @param mixingDistribution a `Categorical` with `K` categories (`K` = the number of
   *   components); its batch shape broadcasts with the components'.
   * @param componentDistributions `K >= 1` distributions with one event shape whose batch shapes
   *   broadcast together.
   * @param options validation flag and name.
   * @throws ArgumentError naming `mixingDistribution` (not a Categorical, wrong number of
   *   categories) or `componentDistributions` (not a non-empty array of distributions, differing
   *   event shapes, batch shapes that do not broadcast).
   */
  constructor(
    mixingDistribution: Categorical,
    componentDistributions: readonly Distribution[],
    options: DistributionOptions = {},
  ) {
    super(options);
    if (!(mixingDistribution instanceof Categorical)) {
      throw new ArgumentError('mixingDistribution', 'expected a Categorical distribution');
    }
    if (!Array.isArray(componentDistributions) || componentDistributions.length === 0) {
      throw new ArgumentError(
        'componentDistributions',
        'expected a non-empty array of distributions',
      );
    }
    const comps = componentDistributions as readonly unknown[];
    const badIndex = comps.findIndex((c) => !(c instanceof Distribution));
    if (badIndex >= 0) {
      throw new ArgumentError(
        'componentDistributions',
        `expected a Distribution at index ${badIndex}, got ${String(comps[badIndex])}`,
      );
    }
    const k = mixingDistribution.numCategories;
    if (k !== componentDistributions.length) {
      throw new ArgumentError(
        'mixingDistribution',
        `expected ${componentDistributions.length} categories (one per component), got ${k}`,
      );
    }
    const e0 = (componentDistributions[0] as Distribution).eventShape;
    componentDistributions.forEach((c, i) => {
      if (!sameShape(c.eventShape, e0)) {
        throw new ArgumentError(
          'componentDistributions',
          `every component needs the event shape ${fmt(e0)}; component ${i} (${c.name}) has ` +
            fmt(c.eventShape),
        );
      }
    });
    const shapes: Record<string, readonly number[]> = {
      mixingDistribution: mixingDistribution.batchShape,
    };
    componentDistributions.forEach((c, i) => {
      shapes[`componentDistributions[${i}]`] = c.batchShape;
    });
    let batch: number[];
    try {
      batch = broadcastShapes(shapes);
    } catch (e) {
      if (!(e instanceof ArgumentError)) throw e;
      throw new ArgumentError('componentDistributions', `batch shapes: ${e.message}`);
    }
    this.batch = batch;
    this.mixingDistribution = mixingDistribution;
    this.componentDistributions = [...componentDistributions];
    this.expanded = componentDistributions.map((c) =>
      sameShape(c.batchShape, batch) ? c : c.expand(batch),
    );
    this.mixingExpanded = sameShape(mixingDistribution.batchShape, batch)
      ? mixingDistribution
      : mixingDistribution.expand(batch);
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return (this.componentDistributions[0] as Distribution).eventShape;
  }
  /** The components' support when they all have the same, else the reals over the event dims. */
  override get support(): Constraint {
    return sharedSupport(
      this.componentDistributions.map((c) => c.support),
      this.eventShape.length,
    );
  }
  /** Number of components K. */
  get numComponents(): number {
    return this.componentDistributions.length;
  }

  /** Stack `[..., B, ...E]`-shaped per-component tensors into `[..., B, K, ...E]`. */
  private stackComponents(ts: tf.Tensor[], lead: number): tf.Tensor {
    return tf.stack(ts, lead + this.batch.length);
  }
  /** Weights `w`, shape `[...B, K, 1, ..., 1]` (one 1 per event dim). */
  private weightsForEvent(): tf.Tensor {
    const p = this.mixingDistribution.probs;
    const w = tf.broadcastTo(p, [...this.batch, this.numComponents]);
    const e = this.eventShape.length;
    return e === 0 ? w : tf.reshape(w, [...w.shape, ...Array<number>(e).fill(1)]);
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    const seeds = deriveSeeds(seed, this.numComponents + 1);
    const full = [...shape, ...this.batch];
    if (full.some((n) => n === 0)) return tf.zeros([...full, ...this.eventShape]);
    const xs = this.expanded.map((c, i) => c.sample(shape, seeds[i + 1] as number));
    const x = this.stackComponents(xs, shape.length); // [...S, ...B, K, ...E]
    const idx = this.mixingExpanded.sample(shape, seeds[0] as number); // [...S, ...B]
    const oneHot = tf.cast(tf.oneHot(tf.cast(idx, 'int32'), this.numComponents), 'bool');
    const e = this.eventShape.length;
    const mask = e === 0 ? oneHot : tf.reshape(oneHot, [...oneHot.shape, ...Array(e).fill(1)]);
    const picked = tf.where(tf.broadcastTo(mask, x.shape), x, tf.zerosLike(x));
    return tf.sum(picked, shape.length + this.batch.length);
  }
  /**
   * The weighted component log-densities `log w_k + log p_k(x)` (NumPyro's
   * `component_log_probs`), shape `[...broadcast(value batch, B), K]`; their log-sum-exp over the
   * last axis is `logProb(x)`, and their softmax the posterior responsibilities of the components.
   * @param value a value of shape `[..., ...E]` broadcasting with the batch shape.
   */
  componentLogProbs(value: TensorInput): tf.Tensor {
    return tf.tidy(() => this.weightedComponents(this.checkValue(value)));
  }
  private weightedComponents(x: tf.Tensor): tf.Tensor {
    const lps = this.componentDistributions.map((c) => c.logProb(x));
    const shape = broadcastShapes(Object.fromEntries(lps.map((t, i) => [String(i), t.shape])));
    const lpk = tf.stack(
      lps.map((t) => tf.broadcastTo(t, shape)),
      -1,
    ); // [..., B, K]
    return tf.add(lpk, this.mixingDistribution.logits);
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    return safeLogSumExp(this.weightedComponents(x));
  }
  /** `F(x) = sum_k w_k F_k(x)` (scalar events; throws where a component has no CDF). */
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    const fs = this.componentDistributions.map((c) => c.cdf(x));
    const shape = broadcastShapes(Object.fromEntries(fs.map((t, i) => [String(i), t.shape])));
    const fk = tf.stack(
      fs.map((t) => tf.broadcastTo(t, shape)),
      -1,
    );
    return tf.sum(tf.mul(fk, this.mixingDistribution.probs), -1);
  }
  protected override _mean(): tf.Tensor {
    const mk = this.stackComponents(
      this.expanded.map((c) => c.mean()),
      0,
    );
    return tf.sum(tf.mul(mk, this.weightsForEvent()), this.batch.length);
  }
  protected override _variance(): tf.Tensor {
    const w = this.weightsForEvent();
    const axis = this.batch.length;
    const mk = this.stackComponents(
      this.expanded.map((c) => c.mean()),
      0,
    );
    const vk = this.stackComponents(
      this.expanded.map((c) => c.variance()),
      0,
    );
    const mean = tf.sum(tf.mul(mk, w), axis, true);
    const within = tf.sum(tf.mul(vk, w), axis);
    const between = tf.sum(tf.mul(tf.square(tf.sub(mk, mean)), w), axis);
    return tf.add(within, between);
  }
}

/**
 * The support common to `supports` when they are one set (the same object, or the same name
 * when that name spells out its bounds: `interval(0, 1)`, not `interval(tensor[2], tensor[2])`),
 * else the reals over `eventDims` event dims.
 * @internal shared with `MaskedMixture`.
 */
export function sharedSupport(supports: Constraint[], eventDims: number): Constraint {
  const s0 = supports[0] as Constraint;
  const same = supports.every(
    (c) => c === s0 || (c.name === s0.name && !c.name.includes('tensor[')),
  );
  return same ? s0 : independent(real, eventDims);
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
