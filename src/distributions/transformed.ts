/**
 * A distribution pushed forward through a bijector: `Y = f(X)`, `X ~ base`.
 *
 * By the change of variables,
 *
 * $$\log p_Y(y) = \log p_X\big(f^{-1}(y)\big) + \log\left|\det J_{f^{-1}}(y)\right|,$$
 *
 * and for a scalar, strictly monotone `f`: `F_Y(y) = F_X(f^{-1}(y))` when `f` is increasing and
 * `F_Y(y) = 1 - F_X(f^{-1}(y))` when it is decreasing.
 */
import * as tf from '@tensorflow/tfjs';
import { Bijector } from '../bijectors/bijector.js';
import { ScalarAffine } from '../bijectors/scalar_affine.js';
import { Affine } from '../bijectors/affine.js';
import { Chain } from '../bijectors/chain.js';
import { IndependentTransform } from '../bijectors/independent_transform.js';
import { Invert } from '../bijectors/invert.js';
import { Shift } from '../bijectors/shift.js';
import { Identity } from '../bijectors/identity.js';
import { ArgumentError, NotDefinedError, NotRegisteredError } from '../utils/errors.js';
import { broadcastShapes } from '../utils/tensor.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import { klDivergence, registerKL } from './kl.js';
import { maskLogProb, noGrad } from './special.js';
import { independent, type Constraint } from '../constraints/constraints.js';

/**
 * The distribution of `Y = f(X)` for `X ~ distribution` and a bijector `f` (MindSpore and TFP
 * `TransformedDistribution`).
 *
 * - `sample`/`rsample`: `f(x)` for base draws `x` (reparameterized when the base is).
 * - `logProb(y) = base.logProb(f^{-1}(y)) + log|det J_{f^{-1}}(y)|`, the log-det summed over the
 *   base's event dimensions that `f` treats elementwise.
 * - `cdf`, `logCdf`, `survival`: for scalar monotone bijectors (`bijector.isIncreasing` defined).
 * - `mean`, `mode`: `f(E[X])`, `f(mode X)` for an affine bijector (a constant Jacobian, as TFP:
 *   `ScalarAffine`, `Affine`, `Shift`, `Identity` and their chains, inverses, `Independent`s);
 *   `variance`, `stddev`, `entropy` for an elementwise affine one, `f(x) = a x + b` with
 *   `a = f(1) - f(0)`: `Var = a^2 Var X`, `H = H[X] + Σ_event log|a|`; otherwise they have no
 *   closed form in general and throw `NotDefinedError` (estimate them from samples).
 *
 * The base distribution and the bijector stay the caller's: `dispose()` frees neither.
 *
 * @example
 * ```ts
 * // A log-normal distribution: Y = exp(X), X ~ N(0, 0.5)
 * const d = new TransformedDistribution(new Normal(0, 0.5), new Exp());
 * d.logProb([1, 2]);   // lognormal log-density
 * d.cdf([1]);          // [0.5]
 * d.sample([1000]);    // positive draws
 * ```
 */
export class TransformedDistribution extends Distribution {
  /** The base distribution of `X` (the given one, or its `toEvent(n)` view, see the constructor). */
  readonly distribution: Distribution;
  /** The bijector `f`. */
  readonly bijector: Bijector;

  /**
   * @param distribution the base distribution of `X`.
   * @param transforms the bijector `f`, or Pyro's list `[t1, ..., tn]` applied first to last
   *   (`f = t_n ∘ ... ∘ t_1`, a {@link Chain} of the reversed list); when its domain event rank
   *   exceeds the base's, that many rightmost batch dims of the base become event dims (torch:
   *   the base is wrapped in `Independent`, which {@link TransformedDistribution.distribution}
   *   then is); its parameters must broadcast to the base's `batchShape + eventShape` without
   *   enlarging it.
   * @param options name and validation flag.
   */
  constructor(
    distribution: Distribution,
    transforms: Bijector | readonly Bijector[],
    options: DistributionOptions = {},
  ) {
    super(options);
    if (!(distribution instanceof Distribution)) {
      throw new ArgumentError('distribution', 'expected a Distribution instance');
    }
    if (Array.isArray(transforms)) {
      const bad = transforms.findIndex((t) => !(t instanceof Bijector));
      if (bad >= 0) {
        throw new ArgumentError(
          'bijector',
          `expected Bijector instances, got a non-Bijector at ${bad}`,
        );
      }
    }
    // Pyro's list [t1, ..., tn] applies t1 first: the chain t_n ∘ ... ∘ t1 (Chain applies its last first)
    const bijector = Array.isArray(transforms)
      ? transforms.length === 1
        ? (transforms[0] as Bijector)
        : new Chain([...(transforms as readonly Bijector[])].reverse())
      : transforms;
    if (!(bijector instanceof Bijector)) {
      throw new ArgumentError('bijector', 'expected a Bijector instance or an array of them');
    }
    const eventRank = distribution.eventShape.length;
    const reinterpreted = bijector.domainEventDim - eventRank;
    if (reinterpreted > distribution.batchShape.length) {
      throw new ArgumentError(
        'bijector',
        `event rank ${bijector.domainEventDim} exceeds the event rank ${eventRank} of the base ` +
          `distribution, and its batch shape [${distribution.batchShape.join(',')}] has too few ` +
          `dims to read ${reinterpreted} of them as event dims`,
      );
    }
    // torch's TransformedDistribution: the base's rightmost batch dims become event dims
    // (Normal(zeros(K - 1), 1) through StickBreaking is a distribution over the simplex)
    const base = reinterpreted > 0 ? distribution.toEvent(reinterpreted) : distribution;
    const full = [...base.batchShape, ...base.eventShape];
    const paramShape = bijector.paramShape;
    const joint = broadcastShapes({ distribution: full, bijector: paramShape });
    if (joint.length !== full.length || joint.some((d, i) => d !== full[i])) {
      throw new ArgumentError(
        'bijector',
        `parameter shape [${paramShape.join(',')}] would enlarge the base shape ` +
          `[${full.join(',')}] (batch + event); give the base distribution the full batch shape`,
      );
    }
    this.distribution = base;
    this.bijector = bijector;
  }

  get batchShape(): number[] {
    return this.distribution.batchShape;
  }
  get eventShape(): number[] {
    const batch = this.distribution.batchShape;
    const full = this.bijector.forwardShape([...batch, ...this.distribution.eventShape]);
    return full.slice(batch.length);
  }
  /** The bijector's codomain, with the base's extra event dims reinterpreted. */
  override get support(): Constraint {
    const extra = this.distribution.eventShape.length - this.bijector.domainEventDim;
    return independent(this.bijector.codomain, Math.max(0, extra));
  }
  override get hasRsample(): boolean {
    return this.distribution.hasRsample;
  }

  protected override _sample(shape: number[], seed: number): tf.Tensor {
    return this.bijector.forward(this.distribution.sample(shape, seed));
  }
  protected override _rsample(shape: number[], seed: number): tf.Tensor {
    return this.bijector.forward(this.distribution.rsample(shape, seed));
  }
  /**
   * `log p_Y(y) = log p_X(T^{-1}(y)) - log|det J_T(T^{-1}(y))|` inside the codomain of `T`, and
   * `-Infinity` outside it (for an elementwise codomain other than the reals, e.g. `Exp`'s
   * `positive`: `logProb(-1)` was NaN from `log(-1)`); a value outside is scored at `T(0)` off
   * the gradient path, so that its gradient is 0 and not NaN.
   */
  protected _logProb(y: tf.Tensor): tf.Tensor {
    const c = this.bijector.codomain;
    if (c.eventDim !== 0 || c.kind === 'real') return this.logProbInside(y);
    const ok = noGrad((v) => c.check(v as tf.Tensor), y);
    const inside = tf.where(ok, y, this.bijector.forward(tf.zerosLike(y)));
    const lp = this.logProbInside(inside);
    const okEvent = noGrad((v) => this.support.check(v as tf.Tensor), y);
    return maskLogProb(okEvent, lp);
  }

  /** The change-of-variables density at a value inside the codomain. */
  private logProbInside(y: tf.Tensor): tf.Tensor {
    const { x, logDet } = this.bijector.inverseAndLogDet(y);
    const extra = this.distribution.eventShape.length - this.bijector.domainEventDim;
    const ld =
      extra === 0
        ? logDet
        : tf.sum(
            logDet,
            Array.from({ length: extra }, (_, i) => logDet.rank - extra + i),
          );
    return tf.add(this.distribution.logProb(x), ld);
  }

  /**
   * Direction of the elementwise monotone bijector; throws where the CDF has no closed form (a
   * bijector that mixes coordinates or is not monotone, or, unless `anyBase`, a base with an
   * event shape).
   */
  private direction(method: string, anyBase = false): boolean {
    const inc = this.bijector.isIncreasing;
    const scalarBase = anyBase || this.distribution.eventShape.length === 0;
    if (!scalarBase || inc === undefined || !isElementwise(this.bijector)) {
      throw new NotDefinedError(
        `${this.name}: ${method} needs ${anyBase ? 'a' : 'a scalar base distribution and a'} ` +
          `monotone elementwise bijector, got ${this.bijector.name}` +
          (inc === undefined
            ? ' (its isIncreasing is undefined: neither increasing nor decreasing everywhere, ' +
              "or not declared; a monotone bijector declares `get isIncreasing()`, torch's " +
              '`Transform.sign`)'
            : ''),
      );
    }
    return inc;
  }
  /**
   * Quantile `T(F_X^{-1}(p))` for an increasing elementwise bijector `T`, `T(F_X^{-1}(1 - p))`
   * for a decreasing one (torch's `TransformedDistribution.icdf`); over a base with an event
   * shape (e.g. `Independent`), coordinate by coordinate.
   */
  protected override _icdf(p: tf.Tensor): tf.Tensor {
    const inc = this.direction('icdf', true);
    return this.bijector.forward(this.distribution.icdf(inc ? p : tf.sub(1, p)));
  }
  protected override _cdf(y: tf.Tensor): tf.Tensor {
    const inc = this.direction('cdf');
    const x = this.bijector.inverse(y);
    return inc ? this.distribution.cdf(x) : this.distribution.survival(x);
  }
  protected override _logCdf(y: tf.Tensor): tf.Tensor {
    const inc = this.direction('logCdf');
    const x = this.bijector.inverse(y);
    return inc ? this.distribution.logCdf(x) : this.distribution.logSurvival(x);
  }
  protected override _survival(y: tf.Tensor): tf.Tensor {
    const inc = this.direction('survival');
    const x = this.bijector.inverse(y);
    return inc ? this.distribution.survival(x) : this.distribution.cdf(x);
  }
  protected override _logSurvival(y: tf.Tensor): tf.Tensor {
    const inc = this.direction('logSurvival');
    const x = this.bijector.inverse(y);
    return inc ? this.distribution.logSurvival(x) : this.distribution.logCdf(x);
  }

  /** A NotDefinedError for a moment without a closed form through this bijector. */
  private noClosedForm(method: string): NotDefinedError {
    return new NotDefinedError(
      `${this.name}: ${method} has no closed form for bijector ${this.bijector.name}; ` +
        'estimate it from sample()',
    );
  }
  /**
   * The elementwise scale `a = f(1) - f(0)` of an elementwise affine bijector (`f(x) = a x + b`),
   * shape `batchShape + eventShape`; a NotDefinedError otherwise.
   */
  private affineScale(method: string): tf.Tensor {
    if (!isAffine(this.bijector) || !isElementwise(this.bijector)) {
      throw this.noClosedForm(method);
    }
    const shape = [...this.batchShape, ...this.eventShape];
    return tf.sub(this.bijector.forward(tf.ones(shape)), this.bijector.forward(tf.zeros(shape)));
  }
  /** `E[f(X)] = f(E[X])` for an affine `f` (TFP's constant-Jacobian bijectors). */
  protected override _mean(): tf.Tensor {
    if (!isAffine(this.bijector)) throw this.noClosedForm('mean');
    return this.bijector.forward(this.distribution.mean());
  }
  /** The mode of `f(X)` is `f(mode X)` for an affine `f` (a constant Jacobian). */
  protected override _mode(): tf.Tensor {
    if (!isAffine(this.bijector)) throw this.noClosedForm('mode');
    return this.bijector.forward(this.distribution.mode());
  }
  protected override _variance(): tf.Tensor {
    const a = this.affineScale('variance');
    return tf.mul(tf.square(a), this.distribution.variance());
  }
  protected override _stddev(): tf.Tensor {
    const a = this.affineScale('stddev');
    return tf.mul(tf.abs(a), this.distribution.stddev());
  }
  protected override _entropy(): tf.Tensor {
    const a = this.affineScale('entropy');
    // H[aX + b] = H[X] + sum over event dims of log|a|
    const logAbs = tf.log(tf.abs(a));
    const ev = this.eventShape.length;
    const perBatch =
      ev === 0
        ? logAbs
        : tf.sum(
            logAbs,
            Array.from({ length: ev }, (_, i) => logAbs.rank - ev + i),
          );
    return tf.add(this.distribution.entropy(), perBatch);
  }
}

/**
 * `KL(f(X) || f(Z)) = KL(X || Z)` for the same bijector `f` (a bijection preserves the KL).
 * Registered for pairs of transformed distributions. "The same" is torch's transform equality:
 * the same object, or bijectors of the same class whose parameters hold equal values (two
 * `new Exp()`, two `ScalarAffine(2, 1)`, chains of equal parts); throws `NotRegisteredError`
 * otherwise.
 */
export function klTransformedTransformed(
  p: TransformedDistribution,
  q: TransformedDistribution,
): tf.Tensor {
  if (!sameValue(p.bijector, q.bijector)) {
    throw new NotRegisteredError(
      `KL(${p.name} || ${q.name}): analytic only when both use the same bijector (the same ` +
        'object, or the same class with equal parameters); use monteCarloKL',
    );
  }
  return klDivergence(p.distribution, q.distribution);
}

/** Own fields of a bijector that do not change the map (a label, a checking switch). */
const NOT_THE_MAP = new Set(['name', 'validateArgs']);

/**
 * Structural equality of bijector parameters: identical values; tensors of the same dtype,
 * shape and values; arrays and typed arrays elementwise; bijectors and plain objects of the same
 * class field by field (but {@link NOT_THE_MAP}). Anything else only when identical.
 */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof tf.Tensor || b instanceof tf.Tensor) {
    if (!(a instanceof tf.Tensor && b instanceof tf.Tensor)) return false;
    if (a.isDisposed || b.isDisposed || a.dtype !== b.dtype) return false;
    if (
      a.shape.length !== b.shape.length ||
      a.shape.some((n: number, i: number) => n !== b.shape[i])
    )
      return false;
    const x = a.dataSync();
    const y = b.dataSync();
    return x.every((v, i) => v === y[i]);
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!(a instanceof Float32Array && b instanceof Float32Array)) return false;
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    return a.every((v, i) => sameValue(v, b[i]));
  }
  const proto = Object.getPrototypeOf(a) as unknown;
  if (proto !== Object.getPrototypeOf(b)) return false;
  if (!(a instanceof Bijector) && proto !== Object.prototype) return false;
  const ka = Object.keys(a).filter((k) => !NOT_THE_MAP.has(k));
  const kb = Object.keys(b).filter((k) => !NOT_THE_MAP.has(k));
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && sameValue(ra[k], rb[k]));
}

registerKL(TransformedDistribution, TransformedDistribution, klTransformedTransformed);

/**
 * True for a bijector that acts on each coordinate alone (so that a quantile or CDF maps through
 * it): scalar bijectors, `Affine`, and `IndependentTransform`/`Chain`/`Invert` of such.
 */
/**
 * Whether `b` is affine, `f(x) = A x + c` (a constant Jacobian: TFP's `is_constant_jacobian`):
 * `ScalarAffine`, `Affine`, `Shift`, `Identity` and their compositions, inverses and
 * `IndependentTransform`s.
 */
function isAffine(b: Bijector): boolean {
  if (b instanceof IndependentTransform) return isAffine(b.base);
  if (b instanceof Invert) return isAffine(b.bijector);
  if (b instanceof Chain) return b.bijectors.every(isAffine);
  return (
    b instanceof ScalarAffine || b instanceof Affine || b instanceof Shift || b instanceof Identity
  );
}

function isElementwise(b: Bijector): boolean {
  if (b instanceof IndependentTransform) return isElementwise(b.base);
  if (b instanceof Invert) return isElementwise(b.bijector);
  if (b instanceof Chain) return b.bijectors.every(isElementwise);
  if (b instanceof Affine) return true;
  return b.domainEventDim === 0 && b.codomainEventDim === 0;
}
