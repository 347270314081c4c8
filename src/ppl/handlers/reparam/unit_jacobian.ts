/**
 * `UnitJacobianReparam(transform, suffix)` (Pyro's): a site `x ~ p` is sampled in the coordinates
 * of an invertible map `T` of unit Jacobian determinant (an orthogonal change of basis along a
 * time axis, e.g. a DCT or a Haar transform), applied to the unconstrained value
 * `u = B^{-1}(x)`, `B = bijectTo(support)`:
 *
 * $$x_T = T\big(B^{-1}(x)\big) \sim (T \circ B^{-1})_\# p,\qquad x = B\big(T^{-1}(x_T)\big),$$
 *
 * `log p_{x_T}(x_T) = log p(x) + log|det J_B(u)| - log|det J_T(u)|`: a pure change of variables, so
 * the posterior of `x` is unchanged; the new site `<name>_<suffix>` carries the density and the
 * original site becomes a deterministic point mass (log-density 0). An observed site is observed
 * in the new coordinates (`x_T = T(B^{-1}(obs))`).
 *
 * `T` acts on the trailing `k` dims of the site (its event rank): they must be event dims of the
 * site (Pyro's `experimental_allow_batch` is not offered; declare the time dim as an event dim
 * with `.toEvent(n)`).
 */
import { Chain } from '../../../bijectors/chain.js';
import { Invert } from '../../../bijectors/invert.js';
import { Bijector } from '../../../bijectors/bijector.js';
import { TransformedDistribution } from '../../../distributions/transformed.js';
import { bijectTo } from '../../../distributions/transform_to.js';
import { ArgumentError } from '../../../utils/errors.js';
import { Delta } from '../../../distributions/delta.js';
import { sample } from '../../runtime.js';
import type { Reparam, ReparamMessage } from '../reparam.js';
import { NO_REPARAM } from './wrappers.js';

/**
 * Sample a site in the coordinates of a unit-Jacobian transform of its unconstrained value.
 *
 * @example
 * ```ts
 * const m = reparam(model, { x: new UnitJacobianReparam(new HaarTransform(-1), 'haar') });
 * ```
 */
export class UnitJacobianReparam implements Reparam {
  /** The transform `T`. */
  readonly transform: Bijector;
  /** The suffix of the new site's name (`<name>_<suffix>`). */
  readonly suffix: string;

  /**
   * @param transform a bijector of unit Jacobian determinant (its log-det is still counted).
   * @param suffix the new site's suffix (default `'transformed'`).
   * @throws ArgumentError naming `transform` or `suffix`.
   */
  constructor(transform: Bijector, suffix = 'transformed') {
    if (!(transform instanceof Bijector)) {
      throw new ArgumentError('transform', 'expected a Bijector instance');
    }
    if (typeof suffix !== 'string' || suffix.length === 0) {
      throw new ArgumentError('suffix', `expected a non-empty string, got ${String(suffix)}`);
    }
    this.transform = transform;
    this.suffix = suffix;
  }

  /** The reparameterizer's name in messages. */
  protected get label(): string {
    return this.constructor.name;
  }

  apply(msg: ReparamMessage): ReparamMessage {
    const fn = msg.fn;
    const eventDim = fn.eventShape.length;
    const k = this.transform.domainEventDim;
    if (k > eventDim) {
      throw new ArgumentError(
        msg.name,
        `${this.label}: site '${msg.name}' has event shape [${fn.eventShape.join(',')}] and ` +
          `batch shape [${fn.batchShape.join(',')}]; the transform acts on its last ${k} dim(s), ` +
          'which must be event dims (cannot transform along a batch dim: declare the time dim ' +
          'as an event dim, e.g. dist.toEvent(1), outside any plate over it)',
      );
    }
    if (fn.support.isDiscrete) {
      throw new ArgumentError(
        msg.name,
        `${this.label}: site '${msg.name}' has the discrete support ${fn.support.name}; ` +
          'expected a continuous site',
      );
    }
    const toSupport = bijectTo(fn.support);
    const map = new Chain([this.transform, new Invert(toSupport)]);
    const moved = new TransformedDistribution(fn, map);
    const name = `${msg.name}_${this.suffix}`;
    if (msg.value !== null) {
      const obs = map.forward(msg.value);
      sample(name, moved, { obs, infer: NO_REPARAM.infer });
      return { ...msg, fn: new Delta(msg.value, eventDim), isObserved: true };
    }
    const xT = sample(name, moved, NO_REPARAM);
    const value = map.inverse(xT);
    return { name: msg.name, fn: new Delta(value, eventDim), value, isObserved: true };
  }
}
