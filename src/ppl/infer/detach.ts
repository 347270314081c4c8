/**
 * A tensor detached from the gradient tape, so that no gradient reaches what it was computed from,
 *
 * $$\operatorname{detach}(x) = x,\qquad \partial\operatorname{detach}(x)/\partial\theta = 0,$$
 *
 * for every dtype. A float tensor goes through `stopGradient` (a `customGrad` with zero gradient).
 * That leaves its output on the tape's path from the parameters when its input is there, which is
 * harmless for floats but not for indices: a Categorical draw made from learned probabilities and
 * used by `gather` makes tfjs refuse the gradient at those `int32` indices. An `int32` or `bool`
 * tensor, or a draw of a non-reparameterized site (a discrete draw, small), is therefore copied
 * through the host, off the tape.
 */
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from '../../utils/tensor.js';
import type { Message } from '../runtime.js';

/**
 * `t`'s values as a new tensor without a gradient path (untidied: call inside a tidy).
 * @param t any tensor.
 * @param viaHost copy through the host, off the tape (default: for a non-float dtype); give true
 *   for a draw of a non-reparameterized site, whose float values may become indices downstream.
 * @returns a new tensor with `t`'s shape, dtype and values.
 */
export function detach<T extends tf.Tensor>(t: T, viaHost = t.dtype !== 'float32'): T {
  if (!viaHost) return stopGradient(t);
  return tf.tensor(t.dataSync(), t.shape, t.dtype) as T;
}

/** A site's value detached: through the host when its distribution cannot be reparameterized. */
export function detachSiteValue(site: Message): tf.Tensor | null {
  if (site.value === null) return null;
  const discrete = site.fn !== null && !site.fn.hasRsample;
  return detach(site.value, discrete || site.value.dtype !== 'float32');
}
