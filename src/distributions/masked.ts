/**
 * A distribution whose log-density is masked by a boolean (Pyro's `MaskedDistribution`, what
 * `dist.mask(m)` returns).
 *
 * With base batch shape `B`, event shape `E` and a mask `m` whose shape broadcasts with `B`, the
 * result has batch shape `B' = broadcast(B, shape(m))`, event shape `E`, the base's support and
 *
 * $$\log p_{\text{masked}}(x)_b = \begin{cases} \log p_{\text{base}}(x)_b & m_b \\ 0 &
 *   \text{otherwise}\end{cases}\qquad b \in B'$$
 *
 * (`where(m, log p, 0)`, so the gradient is zero at masked-out entries), while draws, `mean`,
 * `mode`, `variance`, `stddev` and `icdf` (the draws' quantile) are the base's broadcast to `B'`.
 * The mask applies to batch dims only: an event is kept or dropped whole. As in Pyro, `entropy`
 * and `cdf` are not defined,
 * and the only analytic KL is between two masked distributions:
 *
 * $$\mathrm{KL}(\mathrm{Masked}(p, m_p)\,\|\,\mathrm{Masked}(q, m_q)) =
 *   \mathrm{where}(m_p \wedge m_q,\ \mathrm{KL}(p\,\|\,q),\ 0);$$
 *
 * `KL(Masked(p, m) || q)` and `KL(p || Masked(q, m))` are not registered (a `NotRegisteredError`,
 * as Pyro raises `NotImplementedError`; `TraceMeanFieldELBO` then uses its Monte Carlo term).
 *
 * Masks are `true`, `false`, `bool` tensors or nested arrays of booleans. Pyro casts any tensor
 * with `.bool()`; here a numeric tensor or array is refused so that a 0/1 float (or a
 * probability) is never silently read as a mask: cast it with `tf.cast(m, 'bool')`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError, NotDefinedError } from '../utils/errors.js';
import { rectangularShape } from '../utils/tensor.js';
import {
  Distribution,
  registerMask,
  type DistributionOptions,
  type MaskInput,
} from './distribution.js';
import { ForwardingDistribution } from './forwarding.js';
import type { Constraint } from '../constraints/constraints.js';
import { ExpandedDistribution } from './expanded.js';
import { klDivergence, registerKL } from './kl.js';

const fmt = (s: readonly number[]): string => `[${s.join(',')}]`;

/** `broadcast(a, b)` in numpy style, or undefined when the shapes do not broadcast. */
function broadcastPair(a: readonly number[], b: readonly number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(x === 1 ? y : x);
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * A mask given as (nested) arrays of booleans: the new `bool` tensor of its rectangular shape.
 * @throws ArgumentError naming `mask` for an entry that is not a boolean or for ragged rows.
 * @internal
 */
export function boolArrayMask(mask: unknown[]): tf.Tensor {
  const flat = (mask as unknown[]).flat(Infinity);
  const bad = flat.find((v) => typeof v !== 'boolean');
  if (bad !== undefined) {
    throw new ArgumentError(
      'mask',
      `expected true, false, a bool tensor or arrays of booleans, got an array holding ` +
        `${typeof bad} ${String(bad)}`,
    );
  }
  const shape = rectangularShape(mask);
  if (shape === undefined) {
    throw new ArgumentError('mask', 'expected a rectangular array of booleans (ragged rows)');
  }
  return tf.tensor(flat as boolean[], shape, 'bool');
}

/**
 * The mask as a JS boolean or a `bool` tensor; `created` is true when the tensor is new (made
 * from arrays here, so owned by the distribution).
 */
function toMask(mask: unknown): { value: boolean | tf.Tensor; created: boolean } {
  if (typeof mask === 'boolean') return { value: mask, created: false };
  if (mask instanceof tf.Tensor) {
    if (mask.isDisposed) {
      throw new ArgumentError('mask', 'expected a live tensor, got a disposed one');
    }
    if (mask.dtype !== 'bool') {
      throw new ArgumentError(
        'mask',
        `expected a bool tensor, got dtype ${mask.dtype} (masks are boolean as in Pyro; ` +
          "cast a 0/1 tensor with tf.cast(m, 'bool'))",
      );
    }
    return { value: mask, created: false };
  }
  if (Array.isArray(mask)) {
    return { value: boolArrayMask(mask), created: true };
  }
  throw new ArgumentError(
    'mask',
    `expected true, false, a bool tensor or arrays of booleans, got ${
      mask === null ? 'null' : typeof mask
    }`,
  );
}

/**
 * `base` with its log-density masked by `mask`, over the batch shape `B' = broadcast(B, shape(m))`:
 *
 * $$\log p(x)_b = m_b \mathbin{?} \log p_{\text{base}}(x)_b : 0,\qquad X_b \sim p_{\text{base}, b}.$$
 *
 * The base stays
 * the caller's (not disposed by `dispose`); so does a mask given as a tensor, while a mask given
 * as arrays is converted to a tensor owned by this distribution.
 *
 * @example
 * ```ts
 * const d = new Normal(0, 1).expand([3]).mask([true, false, true]);
 * d.logProb(tf.tensor1d([0, 5, 1])); // [log N(0), 0, log N(1)]
 * ```
 */
export class MaskedDistribution extends ForwardingDistribution {
  /**
   * The base distribution broadcast to this batch shape (the caller's distribution itself when
   * the mask does not grow its batch shape, else an `expand` of it).
   */
  readonly base: Distribution;
  /** The mask: a JS boolean or a `bool` tensor that broadcasts to `batchShape`. */
  readonly maskValue: boolean | tf.Tensor;

  /**
   * @param base the distribution to mask.
   * @param mask `true`, `false`, a `bool` tensor or nested arrays of booleans; its shape must
   *   broadcast with `base.batchShape`.
   * @param options name and validation flag (default: the base's).
   * @throws ArgumentError naming `mask` for a non-boolean mask or one that does not broadcast.
   */
  constructor(base: Distribution, mask: MaskInput, options: DistributionOptions = {}) {
    super({
      name: options.name ?? (base instanceof Distribution ? base.name : undefined),
      validateArgs:
        options.validateArgs ?? (base instanceof Distribution ? base.validateArgs : undefined),
    });
    if (!(base instanceof Distribution)) {
      throw new ArgumentError('base', 'expected a Distribution');
    }
    const { value, created } = toMask(mask);
    if (created) this.own(value as tf.Tensor);
    let batch = base.batchShape;
    if (value instanceof tf.Tensor) {
      const b = broadcastPair(batch, value.shape);
      if (b === undefined) {
        throw this.constructionError(
          'mask',
          `${base.name}: a mask of shape ${fmt(value.shape)} does not broadcast with the batch ` +
            `shape ${fmt(batch)}`,
        );
      }
      batch = b;
    }
    this.maskValue = value;
    if (sameShape(batch, base.batchShape)) this.base = base;
    else if (base instanceof ExpandedDistribution) this.base = base.base.expand(batch);
    else this.base = base.expand(batch);
  }

  get batchShape(): number[] {
    return this.base.batchShape;
  }
  get eventShape(): number[] {
    return this.base.eventShape;
  }
  /** The base's (e.g. a sequence length read from the value). @internal */
  override eventShapeFor(valueShape: readonly number[]): number[] {
    return this.base.eventShapeFor(valueShape);
  }
  override get support(): Constraint {
    return this.base.support;
  }

  /** A masked-out entry scores 0 whatever its value (the base's rule applies to the others). */
  protected override get limitsAtNonFinite(): boolean {
    return false;
  }
  /** `where(mask, log p_base(x), 0)`, the mask broadcast to the log-probability's shape. */
  protected _logProb(x: tf.Tensor): tf.Tensor {
    const m = this.maskValue;
    if (m === true) return this.b._logProbAtNonFinite(x);
    if (m === false) {
      // as Pyro: zeros of broadcast(value's batch part, batchShape), the base never evaluated
      const vb = x.shape.slice(0, Math.max(0, x.rank - this.eventShape.length));
      return tf.zeros(broadcastPair(vb, this.batchShape) ?? this.batchShape);
    }
    if (m.isDisposed) {
      throw new ArgumentError('mask', `${this.name}: the mask tensor has been disposed`);
    }
    const lp = this.b._logProbAtNonFinite(x);
    return tf.where(tf.broadcastTo(m, lp.shape), lp, tf.zerosLike(lp));
  }
  /** Not defined (as in Pyro): a masked entry has no density to take the entropy of. */
  protected override _entropy(): tf.Tensor {
    throw new NotDefinedError(
      `${this.name}: entropy is not defined for a masked distribution (as in Pyro); ` +
        'use its base: d.base.entropy()',
    );
  }
}

/**
 * `KL(Masked(p, m_p) || Masked(q, m_q)) = where(m_p and m_q, KL(p || q), 0)` (Pyro's
 * `_kl_masked_masked`), shape `broadcast(p.batchShape, q.batchShape)`.
 *
 * @param p the first distribution.
 * @param q the second distribution.
 * @example
 * ```ts
 * klMaskedMasked(new Normal([0, 1], 1).mask([true, false]), new Normal(0, 2).mask(true)); // [KL, 0]
 * ```
 */
export function klMaskedMasked(p: MaskedDistribution, q: MaskedDistribution): tf.Tensor {
  const mp = p.maskValue;
  const mq = q.maskValue;
  for (const [m, name] of [
    [mp, 'p'],
    [mq, 'q'],
  ] as const) {
    if (m instanceof tf.Tensor && m.isDisposed) {
      throw new ArgumentError(name, 'the mask tensor has been disposed');
    }
  }
  const shape = broadcastPair(p.batchShape, q.batchShape);
  if (shape === undefined) {
    throw new ArgumentError(
      'q',
      `batch shapes do not broadcast: p ${fmt(p.batchShape)}, q ${fmt(q.batchShape)}`,
    );
  }
  return tf.tidy(() => {
    if (mp === false || mq === false) return tf.zeros(shape);
    // the KL of expanded bases is the KL of the inner families broadcast (as klExpandedExpanded)
    const raw = klDivergence(unexpanded(p.base), unexpanded(q.base));
    const kl = sameShape(raw.shape, shape) ? raw : tf.broadcastTo(raw, shape);
    if (mp === true && mq === true) return kl;
    const mask =
      mp === true
        ? (mq as tf.Tensor)
        : mq === true || mp === mq
          ? mp
          : tf.logicalAnd(mp, mq as tf.Tensor);
    return tf.where(tf.broadcastTo(mask, shape), kl, tf.zerosLike(kl));
  });
}

/** `d` without its `expand` wrappers (draws of an expanded entry are the inner family's). */
function unexpanded(d: Distribution): Distribution {
  let x = d;
  while (x instanceof ExpandedDistribution) x = x.base;
  return x;
}

registerKL(MaskedDistribution, MaskedDistribution, klMaskedMasked);
registerMask((d, mask) => new MaskedDistribution(d, mask));
