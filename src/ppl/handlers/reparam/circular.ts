/**
 * `CircularReparam` (Pyro's and NumPyro's `CircularReparam`): a von Mises latent `θ ~ VM(μ, κ)`
 * sampled as an unconstrained real wrapped onto one period,
 *
 * $$u \sim \text{ImproperUniform}(\mathbb R),\qquad
 *   \theta = \big((u + \pi) \bmod 2\pi\big) - \pi \in [-\pi, \pi),$$
 *
 * with the site's density kept at `θ`: the site becomes `Delta(θ, {logDensity: log VM(θ; μ, κ)})`.
 * The density of `u` is the periodic extension of the von Mises density, so HMC/NUTS moves freely
 * across `±π` (the default `bijectTo(circular)` maps the reals onto `(-π, π)` by a sigmoid, which
 * puts a barrier at the wrap-around point: a posterior with mean near `±π` is split in two).
 * For MCMC; the auxiliary site `<name>_unwrapped` has no normalizable density, so it cannot be
 * drawn forward (nor fitted by a guide over all reals), as in Pyro.
 */
import * as tf from '@tensorflow/tfjs';
import { real } from '../../../constraints/constraints.js';
import { ImproperUniform } from '../../../distributions/improper_uniform.js';
import { VonMises } from '../../../distributions/von_mises.js';
import { Delta } from '../../../distributions/delta.js';
import { sample } from '../../runtime.js';
import type { Reparam, ReparamMessage } from '../reparam.js';
import { NO_REPARAM, latentFamily, rewrap } from './wrappers.js';

/**
 * Sample a von Mises site as a wrapped real (for NUTS/HMC on circular latents).
 *
 * @example
 * ```ts
 * const m = reparam(model, { phase: new CircularReparam() });
 * const mcmc = new MCMC(new NUTS(m), { numSamples: 1000 });
 * ```
 */
export class CircularReparam implements Reparam {
  apply(msg: ReparamMessage): ReparamMessage {
    const { base, wrappers } = latentFamily(msg, 'CircularReparam', VonMises, 'a VonMises');
    const flat = rewrap(new ImproperUniform(real, base.batchShape, base.eventShape), wrappers);
    const u = sample(`${msg.name}_unwrapped`, flat, NO_REPARAM);
    const value = tf.sub(tf.mod(tf.add(u, Math.PI), 2 * Math.PI), Math.PI);
    const logDensity = msg.fn.logProb(value);
    return {
      name: msg.name,
      fn: new Delta(value, msg.fn.eventShape.length, { logDensity }),
      value,
      isObserved: true,
    };
  }
}
