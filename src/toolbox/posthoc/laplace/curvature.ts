/**
 * Generalised Gauss-Newton (GGN) curvature of a linear last layer `f = W^T phi + b` (laplace-torch's
 * `GGNCurvature` for the last layer), accumulated over mini-batches on the host in float64.
 *
 * Parameters are ordered `theta_{(d,k)} = W[d, k]` (`d` outer, `k` inner, the tfjs Dense kernel
 * `[D, K]` flattened), with the bias as the extra row `d = D` (`phi~ = [phi; 1]`). With the
 * Hessian of the negative log-likelihood in the outputs `Lambda_n` (softmax cross-entropy:
 * `diag(p) - p p^T`; a binary head's Bernoulli NLL of one logit: `p (1 - p)`; Gaussian
 * regression: `I / sigma^2`) and the Jacobian `J_n = phi~_n^T (x) I_K`,
 *
 * $$H = \sum_n J_n^T \Lambda_n J_n = \sum_n \tilde\phi_n\tilde\phi_n^T \otimes \Lambda_n .$$
 */
import * as tf from '@tensorflow/tfjs';
import type { OutputLikelihood } from './likelihood.js';

/** The likelihood of the network outputs. */
export type LaplaceLikelihood = 'classification' | 'regression';

/** Hessian structure. */
export type HessianStructure = 'diag' | 'kron' | 'full';

/** Curvature sums of one structure (host, float64). */
export interface CurvatureSums {
  structure: HessianStructure;
  /** Feature dimension including the bias row, `D1`. */
  d1: number;
  /** Outputs `K`. */
  k: number;
  /** Examples seen `N`. */
  n: number;
  /** `diag`: `[D1*K]` diagonal; `full`: `[D1K x D1K]` row-major; `kron`: `A = sum phi~ phi~^T` `[D1 x D1]`. */
  a: Float64Array;
  /** `kron` only: `G = sum Lambda_n` `[K x K]`. */
  g?: Float64Array;
}

/** Zero sums for a structure. */
export function emptyCurvature(structure: HessianStructure, d1: number, k: number): CurvatureSums {
  const p = d1 * k;
  if (structure === 'diag') return { structure, d1, k, n: 0, a: new Float64Array(p) };
  if (structure === 'full') return { structure, d1, k, n: 0, a: new Float64Array(p * p) };
  return { structure, d1, k, n: 0, a: new Float64Array(d1 * d1), g: new Float64Array(k * k) };
}

function addInto(target: Float64Array, t: tf.Tensor): void {
  const v = t.dataSync();
  for (let i = 0; i < v.length; i++) target[i] = (target[i] as number) + (v[i] as number);
}

/**
 * Add one batch to the curvature sums.
 *
 * @param sums the running sums (mutated).
 * @param features `phi~` with the bias column already appended, `[B, D1]`.
 * @param outputs network outputs `[B, K]` (logits for classification, means for regression).
 * @param lik the output likelihood (`'categorical'`, `'bernoulli'` or `'gaussian'`).
 * @param sigmaNoise regression noise standard deviation.
 */
export function accumulateCurvature(
  sums: CurvatureSums,
  features: tf.Tensor2D,
  outputs: tf.Tensor2D,
  lik: OutputLikelihood,
  sigmaNoise: number,
): void {
  const b = features.shape[0];
  const { d1, k } = sums;
  tf.tidy(() => {
    const cls = lik === 'categorical';
    // w_{n,k}: diagonal part of Lambda_n; the low-rank part -p p^T only for the softmax.
    const p = cls ? tf.softmax(outputs) : undefined;
    const w =
      lik === 'categorical'
        ? (p as tf.Tensor2D)
        : lik === 'bernoulli'
          ? tf.mul(tf.sigmoid(outputs), tf.sigmoid(tf.neg(outputs)))
          : tf.fill([b, k], 1 / (sigmaNoise * sigmaNoise));
    if (sums.structure === 'diag') {
      const lamDiag = cls ? tf.sub(w, tf.square(w)) : w;
      addInto(sums.a, tf.matMul(tf.square(features), lamDiag, true, false));
    } else if (sums.structure === 'kron') {
      addInto(sums.a, tf.matMul(features, features, true, false));
      const gDiag = tf.diag(tf.sum(w, 0));
      const g = cls
        ? tf.sub(gDiag, tf.matMul(p as tf.Tensor2D, p as tf.Tensor2D, true, false))
        : gDiag;
      addInto(sums.g as Float64Array, g);
    } else {
      // Block term sum_n phi_d phi_e w_k delta_kl, then the rank-one term for classification.
      const fw = tf.reshape(tf.mul(tf.expandDims(features, 2), tf.expandDims(w, 1)), [b, d1 * k]);
      const t1 = tf.matMul(fw, features, true, false).dataSync(); // [(d,k), e]
      const full = sums.a;
      const pk = d1 * k;
      for (let d = 0; d < d1; d++) {
        for (let kk = 0; kk < k; kk++) {
          const row = d * k + kk;
          for (let e = 0; e < d1; e++) {
            const col = e * k + kk;
            full[row * pk + col] = (full[row * pk + col] as number) + (t1[row * d1 + e] as number);
          }
        }
      }
      if (cls) {
        const x = tf.reshape(
          tf.mul(tf.expandDims(features, 2), tf.expandDims(p as tf.Tensor2D, 1)),
          [b, pk],
        );
        const low = tf.matMul(x, x, true, false).dataSync();
        for (let i = 0; i < full.length; i++) full[i] = (full[i] as number) - (low[i] as number);
      }
    }
  });
  sums.n += b;
}
