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
import { Distribution, type TensorInput } from './distribution.js';
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

  /**
   * The common preamble of the families whose parameters are all positive (`rate`, `scale`,
   * `concentration`): convert each to float32 (owned), check it is finite and > 0 under
   * `validateArgs`, and fix the batch shape to their broadcast. Call once, in the constructor.
   * @param values the parameters by name (the name is used in error messages).
   */
  protected positiveParams<K extends string>(values: Record<K, TensorInput>): Record<K, tf.Tensor> {
    const out = {} as Record<K, tf.Tensor>;
    for (const name of Object.keys(values) as K[]) out[name] = this.param(values[name], name);
    for (const name of Object.keys(out) as K[]) this.checkPositive(out[name], name);
    this.setBatchShape(out);
    return out;
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
