/**
 * The Monte Carlo passes of `UncertaintyEvaluation`: the epistemic variance over dropout passes or
 * Bayesian weight draws, and the aleatoric variance of a heteroscedastic model averaged over its
 * weight draws when it has Bayesian layers.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelInput } from '../layers/model_input.js';
import { applyWithMcDropout } from './predictors.js';

/**
 * The variance over `T` passes of each output, `Var_t[f_t(x)]` as `[N, D]` (the output's non-batch
 * dims flattened).
 *
 * @param m the model.
 * @param x its inputs.
 * @param passes `T`.
 * @param sampleWeights true: the model's Bayesian layers draw their weights in each pass (they
 *   must be in `'sample'` mode); false: only the dropout layers run as in training (BatchNorm
 *   keeps its moving statistics: nothing of the model changes).
 * @param perPass what each pass's output is read as (default: as it is; a binary classifier's one
 *   output as its two classes).
 */
export function sampleVariance(
  m: tf.LayersModel,
  x: ModelInput,
  passes: number,
  sampleWeights: boolean,
  perPass: (o: tf.Tensor) => tf.Tensor = (o) => o,
): tf.Tensor2D {
  return tf.tidy(() => {
    const outs: tf.Tensor[] = [];
    for (let t = 0; t < passes; t++) {
      const o = perPass(
        (sampleWeights ? m.apply(x, { training: false }) : applyWithMcDropout(m, x)) as tf.Tensor,
      );
      outs.push(o.rank === 1 ? tf.expandDims(o, -1) : tf.reshape(o, [o.shape[0] as number, -1]));
    }
    return tf.moments(tf.stack(outs), 0).variance as tf.Tensor2D;
  });
}

/**
 * The aleatoric variance of a heteroscedastic model `x -> [output, s]`, summed over outputs and,
 * for `T` weight draws of its Bayesian layers, averaged over them (Kendall & Gal 2017, eq. 9):
 *
 * $$\frac{1}{T}\sum_{t=1}^{T} \sum_k e^{s_k(x;\, w_t)} \in \mathbb{R}^N$$
 *
 * (`T = 1` for a deterministic model).
 *
 * @param m the heteroscedastic model (its Bayesian layers in the mode they should run in).
 * @param x its inputs.
 * @param passes `T`.
 */
export function aleatoricVariance(m: tf.LayersModel, x: ModelInput, passes: number): tf.Tensor1D {
  return tf.tidy(() => {
    let total: tf.Tensor | undefined;
    for (let t = 0; t < passes; t++) {
      const [, logVar] = m.apply(x, { training: false }) as tf.Tensor[];
      const s = logVar as tf.Tensor;
      const v = tf.sum(tf.exp(tf.reshape(s, [s.shape[0] as number, -1])), -1);
      total = total === undefined ? v : tf.add(total, v);
    }
    return tf.div(total as tf.Tensor, passes) as tf.Tensor1D;
  });
}
