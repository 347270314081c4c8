/**
 * A distribution broadcast to a larger batch shape (Pyro's `ExpandedDistribution`, what
 * `dist.expand(batchShape)` returns).
 *
 * With base batch shape `B` and a target `B'` that `B` broadcasts to, the entries of `B'` are
 * independent draws of the base entry they broadcast from:
 *
 * $$X_{b'} \sim p_{\pi(b')},\qquad \log p(x) = \log p_{\text{base}}(x)\ \text{broadcast to } B'.$$
 *
 * Sampling draws the base with extra sample dims, one per grown dim, then moves them into place.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { broadcastShapes, checkShape } from '../utils/tensor.js';
import { Distribution, registerExpand, type DistributionOptions } from './distribution.js';
import type { DistributionHooks } from './hooks.js';
import type { Constraint } from '../constraints/constraints.js';
import { klDivergence, registerKL } from './kl.js';

/**
 * `base` broadcast to `batchShape`. The base stays the caller's (not disposed by `dispose`).
 *
 * @example
 * ```ts
 * const d = new Normal(0, 1).expand([3, 2]);
 * d.batchShape;           // [3, 2]
 * d.sample([5]).shape;    // [5, 3, 2], independent entries
 * ```
 */
export class ExpandedDistribution extends Distribution {
  /** The wrapped distribution. */
  readonly base: Distribution;
  private readonly newBatch: number[];
  /** Positions (in the new batch) whose size grows from a base size 1 or that are new. */
  private readonly grown: number[];

  /**
   * @param base the distribution to expand.
   * @param batchShape the new batch shape; the base batch shape must broadcast to it.
   * @param options name and validation flag.
   */
  constructor(base: Distribution, batchShape: number[], options: DistributionOptions = {}) {
    super({ name: options.name ?? base.name, ...options });
    if (!(base instanceof Distribution)) {
      throw new ArgumentError('base', 'expected a Distribution');
    }
    const target = checkShape(batchShape, 'batchShape');
    const old = base.batchShape;
    const lead = target.length - old.length;
    const bad =
      lead < 0 ||
      old.some((d, i) => {
        const t = target[lead + i] as number;
        return d !== t && d !== 1;
      });
    if (bad) {
      throw new ArgumentError(
        'batchShape',
        `${base.name} with batch shape [${old.join(',')}] cannot be expanded to ` +
          `[${target.join(',')}] (each existing dim must equal the new one or be 1)`,
      );
    }
    this.base = base;
    this.newBatch = target;
    this.grown = [];
    for (let i = 0; i < target.length; i++) {
      const o = i < lead ? undefined : old[i - lead];
      if (o === undefined || (o === 1 && target[i] !== 1)) this.grown.push(i);
    }
  }

  private get b(): DistributionHooks {
    return this.base as unknown as DistributionHooks;
  }
  get batchShape(): number[] {
    return [...this.newBatch];
  }
  get eventShape(): number[] {
    return this.base.eventShape;
  }
  /** The base's (e.g. a sequence length read from the value). @internal */
  override eventShapeFor(valueShape: readonly number[]): number[] {
    return this.base.eventShapeFor(valueShape);
  }
  override get hasRsample(): boolean {
    return this.base.hasRsample;
  }
  override get support(): Constraint {
    return this.base.support;
  }

  /** Draw from the base with one extra sample dim per grown dim, then move them into place. */
  private draw(shape: number[], seed: number, reparam: boolean): tf.Tensor {
    const extra = this.grown.map((i) => this.newBatch[i] as number);
    const raw = reparam
      ? this.b._rsample([...shape, ...extra], seed)
      : this.b._sample([...shape, ...extra], seed);
    const s = shape.length;
    const g = extra.length;
    const oldBatch = this.base.batchShape;
    const lead = this.newBatch.length - oldBatch.length;
    const event = this.base.eventShape;
    // raw: [...shape, ...extra, ...oldBatch, ...event]; drop the size-1 base dims that grew
    const keptOld: number[] = []; // positions in oldBatch that are kept
    oldBatch.forEach((_, j) => {
      if (!this.grown.includes(lead + j)) keptOld.push(j);
    });
    const squeezed = tf.reshape(raw, [
      ...shape,
      ...extra,
      ...keptOld.map((j) => oldBatch[j] as number),
      ...event,
    ]);
    // build the permutation: sample dims, then for each new batch position its source axis
    const perm: number[] = Array.from({ length: s }, (_, i) => i);
    for (let i = 0; i < this.newBatch.length; i++) {
      const gi = this.grown.indexOf(i);
      if (gi >= 0) perm.push(s + gi);
      else perm.push(s + g + keptOld.indexOf(i - lead));
    }
    for (let e = 0; e < event.length; e++) perm.push(s + g + keptOld.length + e);
    return tf.transpose(squeezed, perm);
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    return this.draw(shape, seed, false);
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return this.draw(shape, seed, true);
  }
  /** Broadcast a batch-shaped result (possibly with sample dims in front) to the new batch. */
  private toBatch(t: tf.Tensor, eventRank = 0): tf.Tensor {
    const nb = this.newBatch.length;
    const tail = eventRank === 0 ? [] : t.shape.slice(t.rank - eventRank);
    const batchPart = t.shape.slice(0, t.rank - eventRank);
    const rank = Math.max(batchPart.length, nb);
    const padded = [...Array<number>(rank - batchPart.length).fill(1), ...batchPart];
    const target = padded.map((d, i) => {
      const j = i - (rank - nb);
      return j >= 0 ? Math.max(d, this.newBatch[j] as number) : d;
    });
    const full = [...target, ...tail];
    if (full.length === t.rank && full.every((d, i) => d === t.shape[i])) return t;
    return tf.broadcastTo(tf.reshape(t, [...padded, ...tail]), full);
  }
  /**
   * The base's support values along a new leading dim (Pyro's `enumerate_support`), shape
   * `[K, ...batchShape, ...eventShape]` (`expand`, default) or `[K, 1, ..., 1, ...eventShape]`.
   * @param expand broadcast the values over the batch shape (default true).
   */
  override enumerateSupport(expand = true): tf.Tensor {
    if (typeof expand !== 'boolean') {
      throw new ArgumentError('expand', `expected true or false, got ${String(expand)}`);
    }
    const v = this.base.enumerateSupport(false); // [K, 1, ..., 1, ...event]
    const k = v.shape[0] as number;
    const batch = this.newBatch;
    const event = this.base.eventShape;
    return tf.tidy(() => {
      const r = tf.reshape(v, [k, ...batch.map(() => 1), ...event]);
      v.dispose();
      return expand ? tf.broadcastTo(r, [k, ...batch, ...event]) : r;
    });
  }
  protected _logProb(x: tf.Tensor): tf.Tensor {
    return this.toBatch(this.b._logProb(x));
  }
  protected override _cdf(x: tf.Tensor): tf.Tensor {
    return this.toBatch(this.b._cdf(x));
  }
  protected override _logCdf(x: tf.Tensor): tf.Tensor {
    return this.toBatch(this.b._logCdf(x));
  }
  /** The base's quantile, broadcast to the expanded batch (the base's error where it has none). */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    return this.toBatch(this.b._icdf(p));
  }
  private ev(): number {
    return this.base.eventShape.length;
  }
  protected override _mean(): tf.Tensor {
    return this.toBatch(this.b._mean(), this.ev());
  }
  protected override _mode(): tf.Tensor {
    return this.toBatch(this.b._mode(), this.ev());
  }
  protected override _variance(): tf.Tensor {
    return this.toBatch(this.b._variance(), this.ev());
  }
  protected override _stddev(): tf.Tensor {
    return this.toBatch(this.b._stddev(), this.ev());
  }
  protected override _entropy(): tf.Tensor {
    return this.toBatch(this.b._entropy());
  }
}

/**
 * `KL(expand(p) || expand(q))`: the base KL broadcast to the larger batch shape.
 * @param p the first distribution. @param q the second distribution.
 */
export function klExpandedExpanded(p: ExpandedDistribution, q: ExpandedDistribution): tf.Tensor {
  return tf.tidy(() => {
    const kl = klDivergence(p.base, q.base);
    const shape = p.batchShape.length >= q.batchShape.length ? p.batchShape : q.batchShape;
    return tf.broadcastTo(kl, shape);
  });
}

registerKL(ExpandedDistribution, ExpandedDistribution, klExpandedExpanded);

/**
 * `KL(expand(p) || q)` and `KL(p || expand(q))` against any other distribution: the KL of the
 * bases broadcast to the expanded batch shape (every expanded entry is a copy), as torch gives for
 * `kl_divergence(Normal(...).expand(...), Normal(...))` (there `expand` keeps the class). Before,
 * only `(Expanded, Expanded)` was registered and a one-sided pair raised `NotRegisteredError`.
 *
 * $$\mathrm{KL}(\mathrm{expand}(p, B)\,\|\,q)_b = \mathrm{KL}(p\,\|\,q)_b$$
 *
 * @param p the first distribution. @param q the second (either may be an `ExpandedDistribution`).
 */
export function klExpandedOneSided(p: Distribution, q: Distribution): tf.Tensor {
  return tf.tidy(() => {
    const pb = p instanceof ExpandedDistribution ? p.base : p;
    const qb = q instanceof ExpandedDistribution ? q.base : q;
    // broadcast to the pair's batch shape here too: callers such as TraceMeanFieldELBO call the
    // registered function directly (lookupKL), without klDivergence's final broadcast
    const batch = broadcastShapes({ p: p.batchShape, q: q.batchShape });
    return tf.broadcastTo(klDivergence(pb, qb), batch);
  });
}

registerKL(ExpandedDistribution, Distribution, klExpandedOneSided);
registerKL(Distribution, ExpandedDistribution, klExpandedOneSided);
registerExpand((d, batchShape) => new ExpandedDistribution(d, batchShape));
