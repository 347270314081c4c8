/**
 * `GumbelSoftmaxReparam` (Pyro's): a latent `RelaxedOneHotCategorical(t, π)` site drawn from its
 * parameter-free uniform noise (the Gumbel-softmax construction of its sampler),
 *
 * $$u_k \sim \mathcal U(0, 1),\qquad
 *   x = \operatorname{softmax}\!\Big(\frac{\log\pi - \log(-\log u)}{t}\Big),$$
 *
 * so that inference works on `<name>_uniform` (fixed, parameter-free prior) and `x` is a
 * deterministic, differentiable function of it and of the parameters. The rewritten model has the
 * same distribution of `x` (this is how `x` is sampled); the site becomes a point mass carrying
 * no density (Pyro's `Delta(value).mask(False)`), since the density of `x` is not needed: the
 * model's density is that of `u`.
 */
import * as tf from '@tensorflow/tfjs';
import { RelaxedOneHotCategorical } from '../../../distributions/relaxed_one_hot_categorical.js';
import { Uniform } from '../../../distributions/uniform.js';
import { Delta } from '../../../distributions/delta.js';
import { sample } from '../../runtime.js';
import type { Reparam, ReparamMessage } from '../reparam.js';
import { NO_REPARAM, latentFamily, rewrap } from './wrappers.js';

/** The smallest positive normal float32 (draws clamped to it, as the family's sampler). */
const TINY32 = 1.1754943508222875e-38;

/**
 * Sample a relaxed one-hot categorical site through its uniform noise.
 *
 * @example
 * ```ts
 * const m = reparam(model, { z: new GumbelSoftmaxReparam() }); // z_uniform ~ U(0, 1)^K
 * ```
 */
export class GumbelSoftmaxReparam implements Reparam {
  apply(msg: ReparamMessage): ReparamMessage {
    const { base, wrappers } = latentFamily(
      msg,
      'GumbelSoftmaxReparam',
      RelaxedOneHotCategorical,
      'a RelaxedOneHotCategorical',
    );
    const logits = base.logits;
    const noise = rewrap(new Uniform(tf.zerosLike(logits), 1).toEvent(1), wrappers);
    const u = sample(`${msg.name}_uniform`, noise, NO_REPARAM);
    const value = tf.tidy(() => {
      const uc = tf.clipByValue(u, 1e-30, 1 - 6e-8);
      const y = tf.div(
        tf.sub(logits, tf.log(tf.neg(tf.log(uc)))),
        tf.expandDims(base.temperature, -1),
      );
      return tf.clipByValue(tf.exp(tf.sub(y, tf.logSumExp(y, -1, true))), TINY32, 1);
    });
    return {
      name: msg.name,
      fn: new Delta(value, msg.fn.eventShape.length),
      value,
      isObserved: true,
    };
  }
}
