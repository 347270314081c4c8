/**
 * The sampled-network predictive of a Laplace posterior (laplace-torch's `pred_type='nn'`): the
 * layers with a posterior are set to each parameter draw in turn and the network is run as it is,
 * not linearised.
 */
import * as tf from '@tensorflow/tfjs';
import { writeExact } from '../exact_write.js';

/**
 * `run()` once per draw `theta_s` (the rows of `draws` `[S, P]`), with `layers` set to it, stacked:
 *
 * $$f_s = f(\,\cdot\,;\theta_s),\qquad s = 1..S,$$
 *
 * each draw laid over the layers' weights in order (per layer its `getWeights()` flattened, as
 * the posterior orders its parameters), exactly (a layer's weight constraints are not applied:
 * see `exact_write.ts`). The layers' own weights are put back bit for bit afterwards, also when
 * `run` throws; the `S` results are disposed once stacked.
 *
 * @returns `[S, ...]`, the results of `run` stacked.
 */
export function withSampledWeights(
  layers: readonly tf.layers.Layer[],
  draws: tf.Tensor2D,
  run: () => tf.Tensor,
): tf.Tensor3D {
  const saved = layers.map((l) => l.getWeights().map((w) => w.clone()));
  const outs: tf.Tensor[] = [];
  try {
    for (let s = 0; s < draws.shape[0]; s++) {
      let at = 0;
      layers.forEach((l, b) => {
        const vals = (saved[b] as tf.Tensor[]).map((w) => {
          const t = tf.tidy(() => tf.reshape(tf.slice(draws, [s, at], [1, w.size]), w.shape));
          at += w.size;
          return t;
        });
        try {
          writeExact(l.weights, vals);
        } finally {
          tf.dispose(vals);
        }
      });
      outs.push(run());
    }
    return tf.stack(outs) as tf.Tensor3D;
  } finally {
    layers.forEach((l, b) => writeExact(l.weights, saved[b] as tf.Tensor[]));
    tf.dispose(saved);
    tf.dispose(outs);
  }
}
