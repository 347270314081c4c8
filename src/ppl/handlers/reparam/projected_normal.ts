/**
 * `ProjectedNormalReparam` (Pyro's and NumPyro's): a `ProjectedNormal(c)` latent on the sphere
 * sampled through the normal vector it projects,
 *
 * $$y \sim \mathcal N(0, I_d),\qquad x = \frac{y + c}{\lVert y + c\rVert},$$
 *
 * a change of variables with no density left at `x` (the site becomes a `deterministic`-like point
 * mass). The auxiliary site `<name>_normal` is a standard normal of the site's shape, so NUTS,
 * HMC and every autoguide work on it, and draws of `x` are on the sphere by construction.
 */
import { Normal } from '../../../distributions/normal.js';
import { ProjectedNormal, safeNormalize } from '../../../distributions/projected_normal.js';
import { ArgumentError } from '../../../utils/errors.js';
import * as tf from '@tensorflow/tfjs';
import { Delta } from '../../../distributions/delta.js';
import { sample } from '../../runtime.js';
import type { Reparam, ReparamMessage } from '../reparam.js';
import { NO_REPARAM, rewrap, unwrap } from './wrappers.js';

/**
 * Sample a `ProjectedNormal` site as a normalized normal vector.
 *
 * @example
 * ```ts
 * const m = reparam(model, { direction: new ProjectedNormalReparam() });
 * ```
 */
export class ProjectedNormalReparam implements Reparam {
  apply(msg: ReparamMessage): ReparamMessage {
    if (msg.isObserved) {
      throw new ArgumentError(
        msg.name,
        `ProjectedNormalReparam: site '${msg.name}' is observed; it reparameterizes latent ` +
          'sites only',
      );
    }
    const { base, wrappers } = unwrap(msg.fn);
    if (!(base instanceof ProjectedNormal)) {
      throw new ArgumentError(
        msg.name,
        `ProjectedNormalReparam: site '${msg.name}' has a ${base.name}; expected a ProjectedNormal`,
      );
    }
    const c = base.concentration;
    const noise = rewrap(new Normal(tf.zerosLike(c), 1).toEvent(1), wrappers);
    const y = sample(`${msg.name}_normal`, noise, NO_REPARAM);
    const value = safeNormalize(tf.add(y, c));
    return {
      name: msg.name,
      fn: new Delta(value, msg.fn.eventShape.length),
      value,
      isObserved: true,
    };
  }
}
