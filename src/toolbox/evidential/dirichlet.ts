/**
 * What an evidential classifier predicts: a Dirichlet over class probabilities, summarised by
 * its mean (the predictive probabilities) and the uncertainty mass `u = K / S`.
 */
import * as tf from '@tensorflow/tfjs';
import type { TensorInput } from '../../utils/tensor.js';
import { toHostLabels } from '../host.js';
import { checkEvidence, checkTarget } from './common.js';
import { histogram, type Histogram } from '../histogram.js';

/** The Dirichlet summary of {@link dirichletOutputs}; the caller disposes the tensors. */
export interface DirichletOutputs {
  /** `alpha = e + 1`, `[N, K]`. */
  alpha: tf.Tensor2D;
  /** Dirichlet strength `S = sum_k alpha_k`, `[N]`. */
  strength: tf.Tensor1D;
  /** Expected probabilities `alpha / S`, `[N, K]`. */
  probs: tf.Tensor2D;
  /** Uncertainty mass `u = K / S` in (0, 1], `[N]`. */
  uncertainty: tf.Tensor1D;
  /** Belief masses `b_k = e_k / S` (with `u + sum_k b_k = 1`), `[N, K]`. */
  belief: tf.Tensor2D;
}

/**
 * Dirichlet parameters, expected probabilities and uncertainty mass from evidence.
 *
 * $$\alpha_k = e_k + 1,\quad S = \sum_k\alpha_k,\quad \hat p_k = \frac{\alpha_k}{S},\quad
 * b_k = \frac{e_k}{S},\quad u = \frac{K}{S}$$
 *
 * @param evidence `[N, K]` non-negative evidence.
 * @example
 * ```ts
 * const { probs, uncertainty } = dirichletOutputs(softplusEvidence(logits));
 * ```
 */
export function dirichletOutputs(evidence: TensorInput): DirichletOutputs {
  return tf.tidy(() => {
    const e = checkEvidence(evidence);
    const k = e.shape[1];
    const alpha = tf.add(e, 1) as tf.Tensor2D;
    const strength = tf.sum(alpha, -1) as tf.Tensor1D;
    const s = tf.expandDims(strength, -1);
    return {
      alpha,
      strength,
      probs: tf.div(alpha, s) as tf.Tensor2D,
      uncertainty: tf.div(k, strength) as tf.Tensor1D,
      belief: tf.div(e, s) as tf.Tensor2D,
    };
  });
}

/** Statistics tracked during evidential training (as labml's `TrackStatistics`). */
export interface EvidentialStatistics {
  /** Number of inputs. */
  count: number;
  /** Fraction with `argmax e = y`. */
  accuracy: number;
  /** Mean total evidence `sum_k e_k` over all inputs. */
  meanEvidence: number;
  /** Mean total evidence over correctly / wrongly classified inputs (NaN if none). */
  meanEvidenceCorrect: number;
  meanEvidenceWrong: number;
  /** Mean uncertainty mass `u` over correct / wrong predictions (NaN if none). */
  meanUCorrect: number;
  meanUWrong: number;
  /** Mean expected probability of the predicted class over correct / wrong predictions. */
  meanProbCorrect: number;
  meanProbWrong: number;
  /** Histograms of `u` on [0, 1] (20 bins) for correct and wrong predictions. */
  uHistogramCorrect: Histogram;
  uHistogramWrong: Histogram;
}

/** Whether `labels` is given as rows (`[N, K]` tensor or array of arrays) rather than labels. */
function isOneHot(labels: unknown): labels is tf.Tensor2D | number[][] {
  if (labels instanceof tf.Tensor) return labels.rank === 2;
  return Array.isArray(labels) && Array.isArray(labels[0]);
}

/** The label of each one-hot (or soft) row: the first `argmax_k y_k`, as labml's `target.argmax`. */
function oneHotLabels(rows: tf.Tensor2D | number[][], shape: readonly number[]): Int32Array {
  return tf.tidy(() => {
    const y = checkTarget(rows instanceof tf.Tensor ? rows : tf.tensor2d(rows), shape);
    return tf.argMax(y, -1).dataSync() as Int32Array;
  });
}

/**
 * Accuracy, mean evidence and `u`, and histograms of `u`, split by correct vs wrong predictions
 * (labml's `TrackStatistics`). With `p̂ = alpha / S` and `u = K / S` per input, the prediction is
 * `argmax_k e_k` (the first on ties) and the tracked means are those of `u`, `sum_k e_k` and
 * `max_k p̂_k` over the correct and the wrong predictions.
 *
 * @param evidence `[N, K]` evidence (read to the host).
 * @param labels `N` integer labels, or one-hot (or soft) rows `[N, K]` as labml's targets (the
 *   label of a row is its argmax).
 * @example
 * ```ts
 * const s = evidentialStatistics(evidence, labels);
 * console.log(s.meanUCorrect, s.meanUWrong);
 * ```
 */
export function evidentialStatistics(
  evidence: tf.Tensor,
  labels: tf.Tensor | ArrayLike<number> | number[][],
): EvidentialStatistics {
  const e = checkEvidence(evidence);
  const [n, k] = e.shape;
  const ev = e.dataSync();
  let y: Int32Array;
  try {
    y = isOneHot(labels)
      ? oneHotLabels(labels, e.shape)
      : toHostLabels(labels as tf.Tensor | ArrayLike<number>, n, k, 'labels', 'evidence');
  } finally {
    if (e !== evidence) e.dispose();
  }
  const uCorrect: number[] = [];
  const uWrong: number[] = [];
  let hits = 0;
  let evSum = 0;
  let evCorrect = 0;
  let evWrong = 0;
  let pCorrect = 0;
  let pWrong = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bv = -Infinity;
    let total = 0;
    for (let j = 0; j < k; j++) {
      const v = ev[i * k + j] as number;
      total += v;
      if (v > bv) {
        bv = v;
        best = j;
      }
    }
    const s = total + k;
    const u = k / s;
    const p = (bv + 1) / s;
    evSum += total;
    if (best === y[i]) {
      hits++;
      uCorrect.push(u);
      evCorrect += total;
      pCorrect += p;
    } else {
      uWrong.push(u);
      evWrong += total;
      pWrong += p;
    }
  }
  const nc = uCorrect.length;
  const nw = uWrong.length;
  const mean = (xs: number[]): number =>
    xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  return {
    count: n,
    accuracy: n ? hits / n : NaN,
    meanEvidence: n ? evSum / n : NaN,
    meanEvidenceCorrect: nc ? evCorrect / nc : NaN,
    meanEvidenceWrong: nw ? evWrong / nw : NaN,
    meanUCorrect: mean(uCorrect),
    meanUWrong: mean(uWrong),
    meanProbCorrect: nc ? pCorrect / nc : NaN,
    meanProbWrong: nw ? pWrong / nw : NaN,
    uHistogramCorrect: histogram(uCorrect),
    uHistogramWrong: histogram(uWrong),
  };
}
