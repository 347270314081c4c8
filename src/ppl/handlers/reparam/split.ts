/**
 * `SplitReparam(sections, dim)` (Pyro's and NumPyro's `SplitReparam`): a site whose event has
 * size `n = Σ_i n_i` along `dim` becomes independent auxiliary sites `<name>_split_<i>` of size
 * `n_i` there (flat, improper densities on the site's support), and the site their concatenation,
 *
 * $$x = [x_0, x_1, \dots]_{\text{dim}},\qquad x_i \sim \text{ImproperUniform}(S),\qquad
 *   \log p \text{ kept at } x:\ \text{Delta}(x, \{\text{logDensity}: \log p(x)\}),$$
 *
 * so that different parts of one vector can get different guides or reparameterizers (e.g. an
 * `AutoDelta` for one part and an `AutoNormal` for another, composed with `AutoGuideList`). An
 * observed site is split into observed parts. The support must be a product over the split dim
 * (`real`, `positive`, ... made an event by `toEvent`, or a structured support, e.g. a simplex,
 * whose own event dims are right of `dim`).
 */
import * as tf from '@tensorflow/tfjs';
import { IndependentConstraint, type Constraint } from '../../../constraints/constraints.js';
import { ImproperUniform } from '../../../distributions/improper_uniform.js';
import { ArgumentError } from '../../../utils/errors.js';
import { Delta } from '../../../distributions/delta.js';
import { sample } from '../../runtime.js';
import type { Reparam, ReparamMessage } from '../reparam.js';
import { NO_REPARAM } from './wrappers.js';

/** The event dims of the innermost (non-`independent`) part of a support. */
function baseEventDim(c: Constraint): number {
  return c instanceof IndependentConstraint ? baseEventDim(c.base) : c.eventDim;
}

/**
 * Split a vector-valued site into parts along an event dim.
 *
 * @example
 * ```ts
 * // x ~ Normal(0, 1).expand([5]).toEvent(1): parts x_split_0 of size 2 and x_split_1 of size 3
 * const m = reparam(model, { x: new SplitReparam([2, 3], -1) });
 * ```
 */
export class SplitReparam implements Reparam {
  readonly sections: number[];
  readonly dim: number;
  /**
   * @param sections the sizes of the parts along `dim` (positive integers summing to its size).
   * @param dim a negative event dim of the site (`-1`: the last).
   */
  constructor(sections: number[], dim: number) {
    if (
      !Array.isArray(sections) ||
      sections.length === 0 ||
      sections.some((n) => !Number.isInteger(n) || n < 1)
    ) {
      throw new ArgumentError(
        'sections',
        `expected a non-empty array of positive integers, got ${JSON.stringify(sections)}`,
      );
    }
    if (!Number.isInteger(dim) || dim >= 0) {
      throw new ArgumentError('dim', `expected a negative integer (an event dim), got ${dim}`);
    }
    this.sections = [...sections];
    this.dim = dim;
  }
  apply(msg: ReparamMessage): ReparamMessage {
    const fn = msg.fn;
    const event = fn.eventShape;
    const k = -this.dim;
    if (event.length < k) {
      throw new ArgumentError(
        msg.name,
        `SplitReparam: site '${msg.name}' has event shape [${event.join(',')}]; dim ${this.dim} ` +
          'is not one of its event dims (declare the dims to split an event with .toEvent(n))',
      );
    }
    const at = event.length - k;
    const size = event[at] as number;
    const total = this.sections.reduce((a, b) => a + b, 0);
    if (total !== size) {
      throw new ArgumentError(
        'sections',
        `SplitReparam: the sections [${this.sections.join(',')}] sum to ${total}; site ` +
          `'${msg.name}' has size ${size} at dim ${this.dim}`,
      );
    }
    const support = fn.support;
    if (baseEventDim(support) >= k) {
      throw new ArgumentError(
        msg.name,
        `SplitReparam: site '${msg.name}' has the support ${support.name}, which does not ` +
          `factor along dim ${this.dim} (a part of a ${support.name} value is not one)`,
      );
    }
    const obsParts =
      msg.value === null ? null : tf.split(msg.value, this.sections, msg.value.rank - k);
    const parts = this.sections.map((n, i) => {
      const shape = [...event];
      shape[at] = n;
      const flat = new ImproperUniform(support, fn.batchShape, shape);
      const infer = NO_REPARAM.infer;
      return obsParts === null
        ? sample(`${msg.name}_split_${i}`, flat, { infer })
        : sample(`${msg.name}_split_${i}`, flat, { obs: obsParts[i] as tf.Tensor, infer });
    });
    const value =
      msg.value ?? (parts.length === 1 ? (parts[0] as tf.Tensor) : tf.concat(parts, -k));
    const logDensity = fn.logProb(value);
    return {
      name: msg.name,
      fn: new Delta(value, event.length, { logDensity }),
      value,
      isObserved: true,
    };
  }
}
