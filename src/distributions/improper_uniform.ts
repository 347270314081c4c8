/**
 * The improper flat density on a support (Pyro's `ImproperUniform`), for flat priors whose
 * values come from a guide or MCMC in the support's unconstrained space.
 *
 * $$\log p(x) = 0\quad\text{for } x \in S,$$
 *
 * summed (trivially) over the event dims. There is no normalizable density, so `sample` throws
 * a `NotDefinedError`; inference draws the site from a guide (or initializes it for MCMC).
 */
import * as tf from '@tensorflow/tfjs';
import { Distribution, type DistributionOptions } from './distribution.js';
import { Constraint } from '../constraints/constraints.js';
import { NotDefinedError } from '../utils/errors.js';
import { checkShape } from '../utils/tensor.js';
import './expanded.js';
import './independent.js';

/**
 * Improper uniform "distribution" on `support` with the given batch and event shapes.
 *
 * @example
 * ```ts
 * const flat = new ImproperUniform(constraints.positive, [3], []);
 * flat.logProb([1, 2, 3]);   // [0, 0, 0]
 * flat.sample();             // throws NotDefinedError
 * ```
 */
export class ImproperUniform extends Distribution {
  private readonly _support: Constraint;
  private readonly batch: number[];
  private readonly event: number[];

  /**
   * @param support the set of admissible values (e.g. `constraints.positive`).
   * @param batchShape batch shape. Default `[]`.
   * @param eventShape event shape; its rank must be at least `support.eventDim`. Default `[]`.
   * @param options validation flag and name.
   */
  constructor(
    support: Constraint,
    batchShape: number[] = [],
    eventShape: number[] = [],
    options: DistributionOptions = {},
  ) {
    super(options);
    if (!(support instanceof Constraint)) {
      throw this.constructionError('support', 'expected a Constraint (e.g. constraints.real)');
    }
    this.batch = checkShape(batchShape, 'batchShape');
    this.event = checkShape(eventShape, 'eventShape');
    if (this.event.length < support.eventDim) {
      throw this.constructionError(
        'eventShape',
        `the support ${support.name} has event dim ${support.eventDim}; got [${eventShape.join(',')}]`,
      );
    }
    this._support = support;
  }
  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [...this.event];
  }
  /** The support given at construction. */
  override get support(): Constraint {
    return this._support;
  }
  protected override _sample(): tf.Tensor {
    throw new NotDefinedError(
      `${this.name}: an improper uniform on ${this._support.name} has no normalizable density ` +
        'and cannot be sampled; give the site a guide (or an initial value for MCMC)',
    );
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const e = this.event.length;
    const batchOfX = x.shape.slice(0, x.rank - e);
    const rank = Math.max(batchOfX.length, this.batch.length);
    const a = [...Array<number>(rank - batchOfX.length).fill(1), ...batchOfX];
    const b = [...Array<number>(rank - this.batch.length).fill(1), ...this.batch];
    return tf.zeros(a.map((d, i) => Math.max(d, b[i] as number)));
  }
}
