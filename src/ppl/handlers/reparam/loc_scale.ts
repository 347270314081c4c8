/**
 * `LocScaleReparam` (Pyro's `pyro.infer.reparam.LocScaleReparam`): automatic non-centring of a
 * location-scale site `x ~ F(loc, scale)` with centring `c ∈ [0, 1]`,
 *
 * $$x_{dec} \sim F(c\,\mathrm{loc}, \mathrm{scale}^{c}),\qquad
 *   x = \mathrm{loc} + \mathrm{scale}^{1-c}\,(x_{dec} - c\,\mathrm{loc}).$$
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../../distributions/distribution.js';
import { AsymmetricLaplace } from '../../../distributions/asymmetric_laplace.js';
import { LocationScaleDistribution } from '../../../distributions/location_scale.js';
import { SkewNormal } from '../../../distributions/skew_normal.js';
import { StudentT } from '../../../distributions/student_t.js';
import { unitInterval } from '../../../constraints/constraints.js';
import { ArgumentError } from '../../../utils/errors.js';
import { Delta } from '../../../distributions/delta.js';
import { param, sample } from '../../runtime.js';
import type { Reparam, ReparamMessage } from '../reparam.js';
import { NO_REPARAM, rewrap, unwrap } from './wrappers.js';

/** A location-scale family on the real line: its `loc`, `scale`, and a maker at new ones. */
export interface LocScaleFamily {
  loc: tf.Tensor;
  scale: tf.Tensor;
  /** The same family (same shape parameters) at another location and scale. */
  make(loc: tf.Tensor, scale: tf.Tensor): Distribution;
}

/**
 * `d` as a location-scale family on the real line (Pyro's check: `loc` and `scale` parameters, an
 * unconstrained support), its shape parameters kept (Pyro's `shape_params`): the
 * `LocationScaleDistribution`s on the reals (Normal, Cauchy, Laplace, Logistic, Gumbel,
 * SoftLaplace), `StudentT` (`df`), `AsymmetricLaplace` (`asymmetry`), `SkewNormal` (`skewness`);
 * null for the others.
 */
export function locScaleFamily(d: Distribution): LocScaleFamily | null {
  const { loc, scale } = d as Partial<LocScaleFamily>;
  if (!(loc instanceof tf.Tensor) || !(scale instanceof tf.Tensor)) return null;
  if (d instanceof LocationScaleDistribution && d.support.kind === 'real') {
    const Family = d.constructor as new (loc: tf.Tensor, scale: tf.Tensor) => Distribution;
    return { loc, scale, make: (l, s) => new Family(l, s) };
  }
  if (d instanceof StudentT) return { loc, scale, make: (l, s) => new StudentT(d.df, l, s) };
  if (d instanceof AsymmetricLaplace) {
    return { loc, scale, make: (l, s) => new AsymmetricLaplace(l, s, d.asymmetry) };
  }
  if (d instanceof SkewNormal) {
    return { loc, scale, make: (l, s) => new SkewNormal(l, s, d.skewness) };
  }
  return null;
}

/**
 * Non-centre a location-scale site (Normal, Cauchy, Laplace, Logistic, Gumbel, StudentT,
 * AsymmetricLaplace, SkewNormal, ...; shape parameters such as `df` kept).
 *
 * @example
 * ```ts
 * // eight schools, non-centred
 * const nc = reparam(model, { theta: new LocScaleReparam(0) });
 * ```
 */
export class LocScaleReparam implements Reparam {
  readonly centered: number | tf.Tensor | undefined;
  constructor(centered?: number | tf.Tensor) {
    if (typeof centered === 'number' && !(centered >= 0 && centered <= 1)) {
      throw new ArgumentError('centered', `expected a number in [0, 1], got ${centered}`);
    }
    this.centered = centered;
  }
  apply(msg: ReparamMessage): ReparamMessage {
    if (msg.isObserved) {
      throw new ArgumentError(msg.name, `LocScaleReparam: site '${msg.name}' is observed`);
    }
    const { base, wrappers } = unwrap(msg.fn);
    const family = locScaleFamily(base);
    if (family === null) {
      throw new ArgumentError(
        msg.name,
        `LocScaleReparam: site '${msg.name}' has a ${base.name}; expected a location-scale ` +
          'family on the real line (Normal, Cauchy, Laplace, Logistic, Gumbel, StudentT, ...)',
      );
    }
    if (this.centered === 1) return msg;
    // as Pyro: one learnable centring per event element, shared over the batch (plate) dims
    const eventShape = msg.fn.eventShape;
    const c =
      this.centered ??
      param(`${msg.name}_centered`, () => tf.fill(eventShape, 0.5), { constraint: unitInterval });
    const { loc, scale } = family;
    const decLoc = tf.mul(loc, c);
    const decScale = c === 0 ? tf.onesLike(scale) : tf.pow(scale, c);
    const dec = rewrap(family.make(decLoc, decScale), wrappers);
    const xDec = sample(`${msg.name}_decentered`, dec, NO_REPARAM);
    const oneMinus = typeof c === 'number' ? 1 - c : tf.sub(1, c);
    const value = tf.add(loc, tf.mul(tf.pow(scale, oneMinus), tf.sub(xDec, decLoc)));
    return { name: msg.name, fn: new Delta(value, eventShape.length), value, isObserved: true };
  }
}
