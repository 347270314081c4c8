/**
 * The common base of the families with a scalar event: the batch shape is the broadcast of the
 * parameters' shapes, the event shape is `[]`.
 *
 * $$\text{batchShape} = \operatorname{broadcast}(\text{shape}(\theta_1), \ldots, \text{shape}(\theta_k)),
 *   \qquad \text{eventShape} = [\,]$$
 *
 * Each family converts and checks its parameters, then calls {@link ScalarDistribution.setBatchShape}
 * once; its samplers read the shape through `_batchShape`.
 */
import type * as tf from '@tensorflow/tfjs';
import { Distribution } from './distribution.js';
// side-effect imports: they enable `dist.expand()` / `dist.toEvent()` for every family
import './expanded.js';
import './independent.js';

/**
 * Abstract scalar-event distribution.
 *
 * @example
 * ```ts
 * class Rate extends ScalarDistribution {
 *   readonly rate: tf.Tensor;
 *   constructor(rate: TensorInput) {
 *     super();
 *     this.rate = this.param(rate, 'rate');
 *     this.setBatchShape({ rate: this.rate }); // batchShape = rate.shape, eventShape = []
 *   }
 *   ...
 * }
 * ```
 */
export abstract class ScalarDistribution extends Distribution {
  private batch: number[] = [];

  /**
   * Fix the batch shape to the broadcast of the parameters' shapes (call once, at the end of the
   * constructor); throws an `ArgumentError` naming the parameters when they do not broadcast.
   */
  protected setBatchShape(params: Record<string, tf.Tensor>): void {
    const shapes: Record<string, readonly number[]> = {};
    for (const [name, t] of Object.entries(params)) shapes[name] = t.shape;
    this.batch = this.broadcastParams(shapes);
  }

  get batchShape(): number[] {
    return [...this.batch];
  }
  get eventShape(): number[] {
    return [];
  }
  /** The batch shape without a copy, for the families' samplers (do not mutate). */
  protected get _batchShape(): number[] {
    return this.batch;
  }
}
