/**
 * Classification and calibration metrics on host arrays: accuracy, negative log-likelihood,
 * Brier score, expected and maximum calibration error with the reliability-diagram data. Every
 * metric takes a probability matrix `[N, K]` or, for a binary classifier with one sigmoid output,
 * the vector `[N]` of `p(y = 1)` (read as the rows `[1 - p, p]`; the Brier score and the
 * calibration bins of a vector follow scikit-learn's / torchmetrics' binary conventions).
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import {
  argmaxRow,
  toHostClassProbs,
  toHostLabels,
  type ClassProbs,
  type HostClassProbs,
} from './host.js';

/** Probabilities below this are clipped inside the log of {@link nll}. */
const EPS = 1e-12;

/**
 * Fraction of inputs whose most probable class is the label.
 *
 * $$\text{acc} = \frac1N\sum_n \mathbb{1}[\arg\max_k p_{n,k} = y_n]$$
 *
 * @param probs `[N, K]` probabilities (rows in `[0, 1]` summing to 1; for logits, `softmax` them
 *   first or compare `argMax` yourself), or a binary classifier's `p(y = 1)` `[N]` (class 1 when
 *   `p > 1/2`).
 * @param labels `N` integer labels.
 * @example
 * ```ts
 * accuracy([[0.9, 0.1], [0.3, 0.7]], [0, 0]); // 0.5
 * ```
 */
export function accuracy(probs: ClassProbs, labels: tf.Tensor | ArrayLike<number>): number {
  return rowMean(probs, labels, (m, i, y) => (argmaxRow(m, i) === y ? 1 : 0));
}

/**
 * `(1/N) sum_n f(m, n, y_n)` over checked probability rows `m` (`[N, K]`, N >= 1) and labels:
 * the shared body of the per-input metrics.
 */
function rowMean(
  probs: ClassProbs,
  labels: tf.Tensor | ArrayLike<number>,
  f: (m: HostClassProbs, i: number, y: number) => number,
): number {
  const m = toHostClassProbs(probs, 'probs');
  const y = toHostLabels(labels, m.rows, m.cols);
  let s = 0;
  for (let i = 0; i < m.rows; i++) s += f(m, i, y[i] as number);
  return s / m.rows;
}

/**
 * Mean negative log-likelihood of the labels (nats per input).
 *
 * $$\text{NLL} = -\frac1N\sum_n \log \max(p_{n,y_n}, 10^{-12})$$
 *
 * @param probs `[N, K]` probabilities, or a binary classifier's `p(y = 1)` `[N]` (the log loss).
 * @param labels `N` integer labels.
 * @example
 * ```ts
 * nll([[0.5, 0.5]], [1]); // log 2
 * ```
 */
export function nll(probs: ClassProbs, labels: tf.Tensor | ArrayLike<number>): number {
  return rowMean(
    probs,
    labels,
    (m, i, y) => -Math.log(Math.max(m.values[i * m.cols + y] as number, EPS)),
  );
}

/**
 * Brier score: mean over inputs of the squared distance between the probability vector and the
 * one-hot label (summed over classes, so between 0 and 2). Of a binary vector `p = p(y = 1)` it is
 * scikit-learn's `brier_score_loss`, the squared error of `p` alone (between 0 and 1, half the sum
 * over the two classes `[1 - p, p]`).
 *
 * $$\text{BS} = \frac1N\sum_n\sum_k (p_{n,k} - \mathbb{1}[k=y_n])^2,\qquad
 * \text{BS}_{\text{binary}} = \frac1N\sum_n (p_n - y_n)^2$$
 *
 * @param probs `[N, K]` probabilities, or a binary classifier's `p(y = 1)` `[N]`.
 * @param labels `N` integer labels.
 * @example
 * ```ts
 * brierScore([[1, 0]], [0]); // 0
 * brierScore([0.8, 0.3], [1, 0]); // (0.2^2 + 0.3^2) / 2
 * ```
 */
export function brierScore(probs: ClassProbs, labels: tf.Tensor | ArrayLike<number>): number {
  return rowMean(probs, labels, (m, i, y) => {
    let d2 = 0;
    for (let j = 0; j < m.cols; j++)
      d2 += ((m.values[i * m.cols + j] as number) - (j === y ? 1 : 0)) ** 2;
    return m.binary ? d2 / 2 : d2;
  });
}

/** One bin of a reliability diagram. */
export interface ReliabilityBin {
  /** Lower edge (exclusive, except 0 for the first bin). */
  lower: number;
  /** Upper edge (inclusive). */
  upper: number;
  /** Number of inputs whose confidence falls in the bin. */
  count: number;
  /** Fraction of those that are correct (NaN when empty). */
  accuracy: number;
  /** Their mean confidence (NaN when empty). */
  confidence: number;
}

/** What {@link calibration} returns. */
export interface Calibration {
  /** Expected calibration error. */
  ece: number;
  /** Maximum calibration error (over non-empty bins). */
  mce: number;
  /** Reliability-diagram data, one entry per bin. */
  bins: ReliabilityBin[];
}

/**
 * Expected and maximum calibration error over `numBins` equal-width confidence bins, with the
 * reliability-diagram data (Naeini et al. 2015; Guo et al. 2017). The confidence of input `n`
 * is `c_n = max_k p_{n,k}`; bin `b` holds the inputs with `b/B < c_n <= (b+1)/B`. Of a binary
 * vector `p = p(y = 1)` the bins are over `c_n = p_n` and a bin's accuracy is its fraction of
 * positives (torchmetrics' `BinaryCalibrationError`, scikit-learn's `calibration_curve`):
 * `acc(B_b) = mean_{n in B_b} 1[y_n = 1]`.
 *
 * $$\text{ECE} = \sum_b \frac{|B_b|}{N}\,\big|\text{acc}(B_b) - \text{conf}(B_b)\big|,\qquad
 * \text{MCE} = \max_{b:\,|B_b|>0} \big|\text{acc}(B_b) - \text{conf}(B_b)\big|$$
 *
 * @param probs `[N, K]` probabilities, or a binary classifier's `p(y = 1)` `[N]`.
 * @param labels `N` integer labels.
 * @param numBins number of bins `B` (default 15).
 * @example
 * ```ts
 * const { ece, mce, bins } = calibration(probs, labels, 10);
 * ```
 */
export function calibration(
  probs: ClassProbs,
  labels: tf.Tensor | ArrayLike<number>,
  numBins = 15,
): Calibration {
  if (!Number.isInteger(numBins) || numBins < 1) {
    throw new ArgumentError('numBins', `expected a positive integer, got ${numBins}`);
  }
  const m = toHostClassProbs(probs, 'probs');
  const y = toHostLabels(labels, m.rows, m.cols);
  const count = new Float64Array(numBins);
  const hit = new Float64Array(numBins);
  const conf = new Float64Array(numBins);
  for (let i = 0; i < m.rows; i++) {
    // a binary vector: the confidence is p(y = 1) and a hit is y = 1 (torchmetrics' binary ECE)
    const k = m.binary ? 1 : argmaxRow(m, i);
    const c = m.values[i * m.cols + k] as number;
    const b = binOf(c, numBins);
    count[b] = (count[b] as number) + 1;
    conf[b] = (conf[b] as number) + c;
    if (k === y[i]) hit[b] = (hit[b] as number) + 1;
  }
  let ece = 0;
  let mce = 0;
  const bins: ReliabilityBin[] = [];
  for (let b = 0; b < numBins; b++) {
    const n = count[b] as number;
    const acc = n > 0 ? (hit[b] as number) / n : NaN;
    const cf = n > 0 ? (conf[b] as number) / n : NaN;
    if (n > 0) {
      const gap = Math.abs(acc - cf);
      ece += (n / m.rows) * gap;
      mce = Math.max(mce, gap);
    }
    bins.push({
      lower: b / numBins,
      upper: (b + 1) / numBins,
      count: n,
      accuracy: acc,
      confidence: cf,
    });
  }
  return { ece, mce, bins };
}

/**
 * The bin `b` with `b/B < c <= (b+1)/B` (edges compared as the numbers `b/B`, so a confidence on an
 * edge such as `7/25` lands in the bin below it even where `c B` rounds above the integer;
 * `c <= 0` in bin 0).
 */
function binOf(c: number, numBins: number): number {
  let b = Math.min(numBins - 1, Math.max(0, Math.ceil(c * numBins) - 1));
  while (b > 0 && c <= b / numBins) b--;
  while (b < numBins - 1 && c > (b + 1) / numBins) b++;
  return b;
}

/** Summary of {@link classificationMetrics}. */
export interface ClassificationMetrics {
  accuracy: number;
  nll: number;
  brier: number;
  ece: number;
  mce: number;
}

/**
 * Accuracy, NLL, Brier score, ECE and MCE in one call.
 *
 * @param probs `[N, K]` probabilities, or a binary classifier's `p(y = 1)` `[N]`.
 * @param labels `N` integer labels.
 * @param numBins calibration bins (default 15).
 */
export function classificationMetrics(
  probs: ClassProbs,
  labels: tf.Tensor | ArrayLike<number>,
  numBins = 15,
): ClassificationMetrics {
  const cal = calibration(probs, labels, numBins);
  return {
    accuracy: accuracy(probs, labels),
    nll: nll(probs, labels),
    brier: brierScore(probs, labels),
    ece: cal.ece,
    mce: cal.mce,
  };
}
