/**
 * `StackedDistribution`: the distribution of a site made at every step of a {@link scan} (NumPyro
 * records such a site once, with the steps' distributions stacked along a leading time dim).
 */
import * as tf from '@tensorflow/tfjs';
import type { Constraint } from '../../../constraints/constraints.js';
import { Distribution } from '../../../distributions/distribution.js';
import { ArgumentError } from '../../../utils/errors.js';
import { deriveSeeds } from '../../../utils/seed.js';
import { broadcastShape } from '../../observed_value.js';

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * The joint distribution of the values `x_0, ..., x_{T-1}` of one site across the `T` steps of a
 * scan, each step `t` with its own (conditional) distribution `p_t`: batch shape
 * `[T, ...B]` with `B` the broadcast of the steps' batch shapes, the steps' common event shape, and
 *
 * $$\log p(x)_{t, b} = \log p_t(x_t)_b, \qquad x_t = x[t],$$
 *
 * elementwise over time and batch (so a trace sums `Σ_t Σ_b log p_t(x_t)_b`, the log-density of
 * the hand-written loop). Draws stack independent draws of the steps (`x_t ~ p_t` given the
 * values the steps were built from; not the joint of the recursion, which only the model's run
 * gives). The support is the first step's (a scanned site's support must not vary with `t`).
 * The steps' distributions are borrowed, never disposed by this one.
 */
export class StackedDistribution extends Distribution {
  /** The per-step distributions, in time order. */
  readonly steps: readonly Distribution[];
  private readonly stepBatch: number[];

  /**
   * @param steps the distributions of the `T >= 1` steps, in time order, with one event shape.
   * @param stepBatch the batch shape `B` of one step (default: the broadcast of the steps' batch
   *   shapes); given, every step's batch shape must broadcast to it (e.g. a step's value may be
   *   larger than its distribution's batch).
   * @throws ArgumentError naming `steps` for an empty list or differing event shapes, or
   *   `stepBatch` when a step's batch shape does not broadcast to it.
   */
  constructor(steps: readonly Distribution[], stepBatch?: readonly number[]) {
    super();
    const first = steps[0];
    if (!Array.isArray(steps) || first === undefined) {
      throw new ArgumentError('steps', 'StackedDistribution: expected at least one distribution');
    }
    let batch: number[] = [];
    for (const [t, d] of steps.entries()) {
      if (!sameShape(d.eventShape, first.eventShape)) {
        throw new ArgumentError(
          'steps',
          `StackedDistribution: step ${t} has event shape [${d.eventShape.join(',')}], step 0 ` +
            `[${first.eventShape.join(',')}] (every step needs one event shape)`,
        );
      }
      batch = broadcastShape(batch, d.batchShape);
    }
    if (stepBatch !== undefined) {
      if (!sameShape(broadcastShape(stepBatch, batch), stepBatch)) {
        throw new ArgumentError(
          'stepBatch',
          `StackedDistribution: the steps' batch shape [${batch.join(',')}] does not broadcast ` +
            `to [${stepBatch.join(',')}]`,
        );
      }
      batch = [...stepBatch];
    }
    this.steps = [...steps];
    this.stepBatch = batch;
  }

  get batchShape(): number[] {
    return [this.steps.length, ...this.stepBatch];
  }

  get eventShape(): number[] {
    return (this.steps[0] as Distribution).eventShape;
  }

  override get support(): Constraint {
    return (this.steps[0] as Distribution).support;
  }

  override get hasRsample(): boolean {
    return this.steps.every((d) => d.hasRsample);
  }

  protected override get limitsAtNonFinite(): boolean {
    return false; // each step's own logProb sends infinities to its limits
  }

  /** Index of the time axis in a value of rank `rank` (its dims left of batch + event). */
  private timeAxis(rank: number): number {
    return rank - this.stepBatch.length - this.eventShape.length - 1;
  }

  /**
   * A log-density tensor of this site (`[...lead, T, ...B]`, e.g. its masked, scaled `logProb`)
   * summed over time: `Σ_t ℓ[..., t, ...]`, of shape `[...lead, ...B]`, the site's log-density
   * as one factor (what enumeration contracts: its dims are the plates' and the enumerated
   * sites' the steps depend on, never the time dim).
   * @param lp a tensor of rank `>= 1 + B.length` with the time dim left of `B`.
   */
  sumOverTime(lp: tf.Tensor): tf.Tensor {
    const axis = lp.rank - this.stepBatch.length - 1;
    if (axis < 0) return lp;
    return tf.sum(lp, axis);
  }

  protected _logProb(x: tf.Tensor): tf.Tensor {
    const T = this.steps.length;
    const axis = this.timeAxis(x.rank);
    const parts: tf.Tensor[] =
      axis < 0
        ? Array.from({ length: T }, () => x)
        : x.shape[axis] === T
          ? tf.unstack(x, axis)
          : Array.from({ length: T }, () => tf.squeeze(x, [axis]));
    const lead = Math.max(axis, 0);
    const lps = parts.map((p, t) => (this.steps[t] as Distribution).logProb(p));
    const shape = [...(lps[0] as tf.Tensor).shape.slice(0, lead), ...this.stepBatch];
    const full = lps.map((lp) => (sameShape(lp.shape, shape) ? lp : tf.broadcastTo(lp, shape)));
    return tf.stack(full, lead);
  }

  private draw(shape: number[], seed: number, reparam: boolean): tf.Tensor {
    const seeds = deriveSeeds(seed, this.steps.length);
    const full = [...shape, ...this.stepBatch, ...this.eventShape];
    const xs = this.steps.map((d, t) => {
      const x = reparam ? d.rsample(shape, seeds[t]) : d.sample(shape, seeds[t]);
      return sameShape(x.shape, full) ? x : tf.broadcastTo(x, full);
    });
    return tf.stack(xs, shape.length);
  }

  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return this.draw(shape, seed, true);
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    return this.draw(shape, seed, this.hasRsample);
  }
}
