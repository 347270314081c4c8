/**
 * Gradients tfjs 4.22 lacks for its N-d gather and scatter kernels, so that `tf.gatherND`,
 * `tf.scatterND` and `tf.tensorScatterUpdate` (JAX's `x.at[idx].set(v)`, NumPyro's
 * `ops.index_update`: the imputed entries of a partly observed covariate) can be differentiated,
 * e.g. inside a model under NUTS or SVI. With `I` the `[..., k]` index tuples into the first `k`
 * dims and `dy` the output's cotangent:
 *
 * - `GatherNd(params, I)`, `y_m = params[I_m]`: `d params = ScatterNd(I, dy, params.shape)`
 *   (repeated tuples add up);
 * - `ScatterNd(I, u, shape)`, `y = Σ_m e_{I_m} u_m`: `d u_m = dy[I_m]` (`GatherNd(dy, I)`);
 * - `TensorScatterUpdate(x, I, u)`, `y = x` with `y[I_m] = u_m`:
 *   `d x = dy` with the updated entries zeroed (`TensorScatterUpdate(dy, I, 0)`),
 *   `d u_m = dy[I_m]` (for repeated tuples tfjs keeps one update and so the result is not
 *   differentiable there; every copy gets the cotangent).
 *
 * The indices get a zero gradient (they are integers). Each gradient is registered only where tfjs
 * has none, so a later tfjs's own gradients win.
 */
import * as tf from '@tensorflow/tfjs';

/** Register the three gradients where tfjs has none (idempotent). */
export function installScatterGrads(): void {
  if (tf.getGradient('GatherNd') === undefined) {
    tf.registerGradient({
      kernelName: 'GatherNd',
      inputsToSave: ['params', 'indices'],
      gradFunc: (dy, saved) => {
        const [params, indices] = saved as [tf.Tensor, tf.Tensor];
        return {
          params: () => tf.scatterND(indices, dy as tf.Tensor, params.shape),
          indices: () => tf.zerosLike(indices),
        };
      },
    });
  }
  if (tf.getGradient('ScatterNd') === undefined) {
    tf.registerGradient({
      kernelName: 'ScatterNd',
      inputsToSave: ['indices'],
      gradFunc: (dy, saved) => {
        const [indices] = saved as [tf.Tensor];
        return {
          indices: () => tf.zerosLike(indices),
          updates: () => tf.gatherND(dy as tf.Tensor, indices),
        };
      },
    });
  }
  if (tf.getGradient('TensorScatterUpdate') === undefined) {
    tf.registerGradient({
      kernelName: 'TensorScatterUpdate',
      inputsToSave: ['indices', 'updates'],
      gradFunc: (dy, saved) => {
        const [indices, updates] = saved as [tf.Tensor, tf.Tensor];
        const g = dy as tf.Tensor;
        return {
          tensor: () => tf.tensorScatterUpdate(g, indices, tf.zerosLike(updates)),
          indices: () => tf.zerosLike(indices),
          updates: () => tf.gatherND(g, indices),
        };
      },
    });
  }
}
