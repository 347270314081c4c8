/**
 * `TransformReparam` (Pyro's `pyro.infer.reparam.TransformReparam`): a site
 * `x ~ T_# base` becomes `x_base ~ base`, `x = T(x_base)`.
 */
import { TransformedDistribution } from '../../../distributions/transformed.js';
import { ArgumentError } from '../../../utils/errors.js';
import { Delta } from '../../../distributions/delta.js';
import { sample } from '../../runtime.js';
import type { Reparam, ReparamMessage } from '../reparam.js';
import { NO_REPARAM, rewrap, unwrap } from './wrappers.js';

/**
 * Sample a transformed distribution's base and push the draw through its bijector.
 *
 * @example
 * ```ts
 * const m = reparam(model, { x: new TransformReparam() }); // x ~ LogNormal as exp(x_base)
 * ```
 */
export class TransformReparam implements Reparam {
  apply(msg: ReparamMessage): ReparamMessage {
    if (msg.isObserved) {
      throw new ArgumentError(msg.name, `TransformReparam: site '${msg.name}' is observed`);
    }
    const { base, wrappers } = unwrap(msg.fn);
    if (!(base instanceof TransformedDistribution)) {
      throw new ArgumentError(
        msg.name,
        `TransformReparam: site '${msg.name}' has a ${base.name}; expected a TransformedDistribution`,
      );
    }
    const inner = rewrap(base.distribution, wrappers);
    const x = sample(`${msg.name}_base`, inner, NO_REPARAM);
    const value = base.bijector.forward(x);
    return {
      name: msg.name,
      fn: new Delta(value, msg.fn.eventShape.length),
      value,
      isObserved: true,
    };
  }
}
