/**
 * Per-particle log-densities of a vectorized run (Pyro's `site["log_prob"].reshape(P, -1).sum(-1)`):
 * model and guide run inside a plate of `P` particles at dim `d = -(maxPlateNesting + 1)`, so every
 * sample site's masked, scaled log-density has size `P` at dim `d`; summing every other dim gives
 * one value per particle,
 *
 * $$\ell_p = \sum_{\text{sites } s}\ \sum_{i \ne d} s_{\text{scale}}\,\log q_s(z_s)[\dots, p, \dots].$$
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import type { Message } from '../runtime.js';
import { siteLogProb, type Trace } from '../trace.js';

/**
 * One site's log-density summed per particle, shape `[P]` (untidied: call inside a tidy).
 * @param site a sample site recorded inside the particle plate.
 * @param numParticles the plate's size `P`. @param dim its (negative) dim.
 * @throws ArgumentError naming the site when its log-density has no dim of size `P` at `dim`
 *   (more nested plates than `maxPlateNesting`, or a site outside the particle plate).
 */
export function particleSiteLogProb(site: Message, numParticles: number, dim: number): tf.Tensor {
  if (site.fn === null || site.value === null) return tf.zeros([numParticles]);
  const lp = siteLogProb(site);
  const axis = lp.rank + dim;
  if (axis < 0 || lp.shape[axis] !== numParticles) {
    throw new ArgumentError(
      site.name,
      `site '${site.name}' has log-density shape [${lp.shape.join(',')}], without the ` +
        `${numParticles} particles at dim ${dim}: give maxPlateNesting as the largest number ` +
        'of nested plates of the model and guide',
    );
  }
  const axes: number[] = [];
  for (let i = 0; i < lp.rank; i++) if (i !== axis) axes.push(i);
  return axes.length > 0 ? tf.sum(lp, axes) : lp;
}

/**
 * The sum of {@link particleSiteLogProb} over the sample sites of `trace` that pass `filter`,
 * shape `[P]` (untidied).
 */
export function particleLogProb(
  trace: Trace,
  numParticles: number,
  dim: number,
  filter: (site: Message) => boolean = () => true,
): tf.Tensor {
  let total: tf.Tensor = tf.zeros([numParticles]);
  for (const s of trace.sampleSites()) {
    if (filter(s)) total = tf.add(total, particleSiteLogProb(s, numParticles, dim));
  }
  return total;
}
