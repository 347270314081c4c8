/**
 * `ConjugateReparam(guide)` (Pyro's, experimental there too): a latent site `z ~ p` is drawn from
 * its conjugate update `u ∝ p q` by a density `q(z)` of the same family (a likelihood written as a
 * density of `z`, exact or approximate, `distributions.conjugateUpdate`), and keeps the importance
 * weight `p(z)/u(z)` as its density:
 *
 * $$z \sim u,\qquad p(z)\,q(z) = Z\,u(z),\qquad
 *   \log w(z) = \log\frac{p(z)}{u(z)} = \log Z - \log q(z).$$
 *
 * When `q(z) ∝ p(x | z)` exactly (the downstream likelihood), the new site's weight and the
 * likelihood together are `Z ∫ p(x|z) dz`, constant in `z`: the model then samples the exact
 * posterior (in MCMC, SVI and importance sampling alike); with an approximate `q` the weight
 * corrects the approximation. The new site is `<name>_updated`; the original site is a point mass
 * at its value carrying `log w` (Pyro's `Delta(value, log_density)`).
 *
 * Defined for Normal x Normal, Gamma x Gamma and Beta x Beta (elementwise, through `toEvent` and
 * `expand`); the guide is a distribution, or a function giving one at each run (Pyro's callable
 * guide, here without the model's arguments: close over them).
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../../../distributions/distribution.js';
import { Distribution as DistributionClass } from '../../../distributions/distribution.js';
import { conjugateUpdate, hasConjugateUpdate } from '../../../distributions/conjugate.js';
import { ArgumentError } from '../../../utils/errors.js';
import { Delta } from '../../../distributions/delta.js';
import { sample } from '../../runtime.js';
import type { Reparam, ReparamMessage } from '../reparam.js';
import { checkLatent, NO_REPARAM, rewrap, unwrap } from './wrappers.js';

/**
 * Draw a latent site from its conjugate update by a (likelihood-shaped) density of it.
 *
 * @example
 * ```ts
 * // prob ~ Beta(1, 1), data ~ Bernoulli(prob): the likelihood as a Beta density of prob
 * const lik = new Beta(1 + k, 1 + n - k);
 * const m = reparam(model, { prob: new ConjugateReparam(lik) }); // prob_updated ~ Beta(1+k, 1+n-k)
 * ```
 */
export class ConjugateReparam implements Reparam {
  private readonly guide: Distribution | (() => Distribution);

  /**
   * @param guide `q(z)`: a distribution of the site's family, or a function giving one.
   * @throws ArgumentError naming `guide`.
   */
  constructor(guide: Distribution | (() => Distribution)) {
    if (!(guide instanceof DistributionClass) && typeof guide !== 'function') {
      throw new ArgumentError(
        'guide',
        'expected a Distribution (e.g. a Beta likelihood of the site) or a function giving one',
      );
    }
    this.guide = guide;
  }

  apply(msg: ReparamMessage): ReparamMessage {
    checkLatent(msg, 'ConjugateReparam');
    const q = this.guide instanceof DistributionClass ? this.guide : this.guide();
    if (!(q instanceof DistributionClass)) {
      throw new ArgumentError(
        'guide',
        `ConjugateReparam: the guide of site '${msg.name}' gave ${String(q)}, not a Distribution`,
      );
    }
    const { base, wrappers } = unwrap(msg.fn);
    const qBase = unwrap(q).base;
    if (wrappers.some((w) => w.kind === 'mask')) {
      throw new ArgumentError(
        msg.name,
        `ConjugateReparam: site '${msg.name}' is masked; a masked site has no conjugate update here`,
      );
    }
    if (!hasConjugateUpdate(base, qBase)) {
      throw new ArgumentError(
        msg.name,
        `ConjugateReparam: site '${msg.name}' has a ${base.name} and the guide a ${qBase.name}; ` +
          'expected the same family among Normal, Gamma, Beta',
      );
    }
    const full = [...msg.fn.batchShape, ...msg.fn.eventShape];
    const qShape = [...qBase.batchShape, ...qBase.eventShape];
    const off = full.length - qShape.length;
    if (off < 0 || qShape.some((d, i) => d !== 1 && d !== full[off + i])) {
      throw new ArgumentError(
        'guide',
        `ConjugateReparam: the guide's shape [${qShape.join(',')}] does not broadcast to site ` +
          `'${msg.name}''s shape [${full.join(',')}]`,
      );
    }
    const { updated, logNormalizer } = conjugateUpdate(base, qBase);
    const eventDim = msg.fn.eventShape.length;
    const value = sample(`${msg.name}_updated`, rewrap(updated, wrappers), NO_REPARAM);
    const perElem = tf.broadcastTo(tf.sub(logNormalizer, qBase.logProb(value)), value.shape);
    const logDensity =
      eventDim === 0
        ? perElem
        : tf.sum(
            perElem,
            Array.from({ length: eventDim }, (_, i) => perElem.rank - eventDim + i),
          );
    return {
      name: msg.name,
      fn: new Delta(value, eventDim, { logDensity }),
      value,
      isObserved: true,
    };
  }
}
