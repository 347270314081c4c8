/**
 * Reinterpret batch dimensions of a distribution as event dimensions.
 *
 * $$p(x) = \prod_{i \in \text{reinterpreted dims}} p_{\text{base}}(x_i),\qquad
 *   \log p(x) = \sum_i \log p_{\text{base}}(x_i)$$
 *
 * With base batch shape `[...B, ...R]` (`R` of rank `reinterpretedBatchNdims`) and event shape `E`,
 * the result has batch shape `B` and event shape `[...R, ...E]`. `logProb`, `entropy` and
 * `logCdf` (of the joint CDF `prod_i F_i(x_i)`) sum the base values over `R`; the moments are
 * the base's. `KL(Ind(p) || Ind(q))` sums the base KL over `R`.
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, registerToEvent, type DistributionOptions } from './distribution.js';
import { ForwardingDistribution } from './forwarding.js';
import { independent, type Constraint } from '../constraints/constraints.js';
import { ArgumentError } from '../utils/errors.js';
import { klDivergence, registerKL } from './kl.js';

/**
 * Treat the rightmost `reinterpretedBatchNdims` batch dimensions of `base` as event dimensions.
 * The base distribution stays the caller's (not disposed by `dispose`).
 *
 * @example
 * ```ts
 * const d = new Independent(new Normal(tf.zeros([3, 4]), 1), 1);
 * d.batchShape;          // [3]
 * d.eventShape;          // [4]
 * d.logProb(tf.ones([3, 4])); // shape [3]
 * ```
 */
export class Independent extends ForwardingDistribution {
  /** The underlying distribution. */
  readonly base: Distribution;
  /** Number of base batch dims read as event dims. */
  readonly reinterpretedBatchNdims: number;

  /**
   * @param base the distribution to reinterpret.
   * @param reinterpretedBatchNdims how many rightmost batch dims become event dims; default all.
   */
  constructor(
    base: Distribution,
    reinterpretedBatchNdims?: number,
    options: DistributionOptions = {},
  ) {
    super(options);
    if (!(base instanceof Distribution)) {
      throw this.constructionError('base', 'expected a Distribution');
    }
    const rank = base.batchShape.length;
    const n = reinterpretedBatchNdims ?? rank;
    if (!Number.isInteger(n) || n < 0 || n > rank) {
      throw this.constructionError(
        'reinterpretedBatchNdims',
        `expected an integer in [0, ${rank}] (the base batch rank), got ${n}`,
      );
    }
    this.base = base;
    this.reinterpretedBatchNdims = n;
  }

  get batchShape(): number[] {
    const bs = this.base.batchShape;
    return bs.slice(0, bs.length - this.reinterpretedBatchNdims);
  }
  get eventShape(): number[] {
    const bs = this.base.batchShape;
    return [...bs.slice(bs.length - this.reinterpretedBatchNdims), ...this.base.eventShape];
  }
  /** The reinterpreted dims and the base's event shape for the value (e.g. an HMM's length). @internal */
  override eventShapeFor(valueShape: readonly number[]): number[] {
    const bs = this.base.batchShape;
    return [
      ...bs.slice(bs.length - this.reinterpretedBatchNdims),
      ...this.base.eventShapeFor(valueShape),
    ];
  }
  /** The base support with the reinterpreted dims as event dims. */
  override get support(): Constraint {
    return independent(this.base.support, this.reinterpretedBatchNdims);
  }

  /** Sum the rightmost `reinterpretedBatchNdims` axes of a batch-shaped tensor. */
  private reduce(t: tf.Tensor): tf.Tensor {
    const n = this.reinterpretedBatchNdims;
    if (n === 0) return t;
    const axes = Array.from({ length: n }, (_, i) => t.rank - n + i);
    return tf.sum(t, axes);
  }

  protected _logProb(x: tf.Tensor): tf.Tensor {
    return this.reduce(this.b._logProbAtNonFinite(x));
  }
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    return this.reduce(this.b._logCdfAtNonFinite(x));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return tf.exp(this._logCdf(x));
  }
  protected override _entropy(): tf.Tensor {
    return this.reduce(this.b._entropy());
  }
}

/**
 * `KL(Ind(p) || Ind(q)) = sum over the reinterpreted dims of KL(p.base || q.base)`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klIndependentIndependent(new Independent(new Normal([0, 0], 1)), new Independent(new Normal([1, 0], 2))); // same as klDivergence(p, q)
 * ```
 */
export function klIndependentIndependent(p: Independent, q: Independent): tf.Tensor {
  if (p.reinterpretedBatchNdims !== q.reinterpretedBatchNdims) {
    throw new ArgumentError(
      'q',
      `reinterpretedBatchNdims differ (${p.reinterpretedBatchNdims} vs ${q.reinterpretedBatchNdims})`,
    );
  }
  return tf.tidy(() => {
    const kl = klDivergence(p.base, q.base);
    const n = p.reinterpretedBatchNdims;
    if (n === 0) return kl;
    const axes = Array.from({ length: n }, (_, i) => kl.rank - n + i);
    return tf.sum(kl, axes);
  });
}

registerKL(Independent, Independent, klIndependentIndependent);
registerToEvent((d, n) => new Independent(d, n));
