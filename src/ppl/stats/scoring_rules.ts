/**
 * Proper scoring rules of a sample forecast against the truth (Pyro's
 * `pyro.ops.stats.crps_empirical` and `energy_score_empirical`; Gneiting & Raftery 2007), lower
 * is better. With draws `x_1..x_N` of the forecast:
 *
 * $$\mathrm{CRPS} = \frac1N\sum_i |x_i - y| - \frac1{2N^2}\sum_{i,j} |x_i - x_j|$$
 *
 * computed from the sorted draws in `O(N log N)`:
 * `Σ_{i,j}|x_i - x_j| = 2 Σ_{i=1}^{N-1} i (N - i) (x_(i+1) - x_(i))`; and for vectors
 *
 * $$\mathrm{ES} = \frac1N\sum_i \lVert x_i - y\rVert - \frac1{2N^2}\sum_{i,j} \lVert x_i - x_j\rVert$$
 *
 * in `O(N^2 D)`. For `D = 1` the energy score is the CRPS.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { checkTensor, columnsOf } from './columns.js';

function checkTruth(pred: tf.Tensor, truth: tf.Tensor, tail: number[], what: string): void {
  checkTensor(truth, 'truth', 0);
  const ok = truth.rank === tail.length && truth.shape.every((d, i) => d === tail[i]);
  if (!ok) {
    throw new ArgumentError(
      'truth',
      `expected shape [${tail}] (${what} of pred [${pred.shape}]), got [${truth.shape}]`,
    );
  }
}

/**
 * The continuous ranked probability score of the draws `pred` (`[N, ...]`, draws along the first
 * axis) against `truth` (shape `pred.shape.slice(1)`); a tensor of the truth's shape.
 * @throws ArgumentError naming `pred` or `truth`.
 * @example
 * ```ts
 * const score = ppl.stats.crpsEmpirical(predictive.y, yTest); // [nTest]
 * ```
 */
export function crpsEmpirical(pred: tf.Tensor, truth: tf.Tensor): tf.Tensor {
  checkTensor(pred, 'pred');
  checkTruth(pred, truth, pred.shape.slice(1), 'all but the first axis');
  const { cols, n } = columnsOf(pred, 0, 'pred');
  const y = truth.dataSync();
  const out = new Float32Array(cols.length);
  cols.forEach((c, e) => {
    const t = y[e] as number;
    let abs = 0;
    for (let i = 0; i < n; i++) abs += Math.abs((c[i] as number) - t);
    c.sort();
    let pair = 0;
    for (let i = 1; i < n; i++) pair += i * (n - i) * ((c[i] as number) - (c[i - 1] as number));
    out[e] = abs / n - pair / (n * n);
  });
  return tf.tensor(out, truth.shape);
}

/**
 * The energy score of the vector draws `pred` (`[N, ..., D]`, draws along the first axis, the
 * vector along the last) against `truth` (`[..., D]`); a tensor of shape `truth.shape[:-1]`.
 * @throws ArgumentError naming `pred` or `truth`.
 */
export function energyScoreEmpirical(pred: tf.Tensor, truth: tf.Tensor): tf.Tensor {
  checkTensor(pred, 'pred', 2);
  checkTruth(pred, truth, pred.shape.slice(1), 'all but the first axis');
  const n = pred.shape[0] as number;
  const d = pred.shape[pred.rank - 1] as number;
  const p = pred.dataSync();
  const y = truth.dataSync();
  const m = y.length / d; // number of forecast vectors per draw
  const out = new Float32Array(m);
  const at = (i: number, e: number, k: number): number => p[(i * m + e) * d + k] as number;
  for (let e = 0; e < m; e++) {
    let toTruth = 0;
    let pair = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (at(i, e, k) - (y[e * d + k] as number)) ** 2;
      toTruth += Math.sqrt(s);
      for (let j = i + 1; j < n; j++) {
        let q = 0;
        for (let k = 0; k < d; k++) q += (at(i, e, k) - at(j, e, k)) ** 2;
        pair += 2 * Math.sqrt(q);
      }
    }
    out[e] = toTruth / n - pair / (2 * n * n);
  }
  return tf.tensor(out, truth.shape.slice(0, -1));
}
