/**
 * Out-of-distribution detection metrics from any uncertainty score: a higher score should mean
 * "more likely out of distribution". Out-of-distribution inputs are the positive class.
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import { toHostVector } from './host.js';

/** Scores of both sets, sorted by decreasing score, with labels 1 = OOD (positive). */
function sortedScores(
  inScores: Scores,
  outScores: Scores,
): { score: Float64Array; positive: Uint8Array; nPos: number; nNeg: number } {
  const a = toHostVector(inScores, 'inScores');
  const b = toHostVector(outScores, 'outScores');
  if (a.length === 0) throw new ArgumentError('inScores', 'expected at least one score');
  if (b.length === 0) throw new ArgumentError('outScores', 'expected at least one score');
  const n = a.length + b.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  const val = (i: number): number =>
    i < a.length ? (a[i] as number) : (b[i - a.length] as number);
  idx.sort((i, j) => val(j) - val(i));
  const score = new Float64Array(n);
  const positive = new Uint8Array(n);
  idx.forEach((i, r) => {
    score[r] = val(i);
    positive[r] = i >= a.length ? 1 : 0;
  });
  return { score, positive, nPos: b.length, nNeg: a.length };
}

/** Uncertainty scores, one per input: a tensor or an array. */
export type Scores = tf.Tensor | ArrayLike<number>;

/** One point of a ROC / precision–recall sweep, at threshold `score >= threshold`. */
export interface OperatingPoint {
  threshold: number;
  tpr: number;
  fpr: number;
  precision: number;
}

/**
 * The operating points at every distinct threshold, from the highest score down (ties between
 * in- and out-of-distribution scores are crossed together).
 *
 * @param inScores scores of in-distribution inputs (negatives).
 * @param outScores scores of out-of-distribution inputs (positives).
 */
export function rocCurve(inScores: Scores, outScores: Scores): OperatingPoint[] {
  const { score, positive, nPos, nNeg } = sortedScores(inScores, outScores);
  const pts: OperatingPoint[] = [{ threshold: Infinity, tpr: 0, fpr: 0, precision: 1 }];
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < score.length; r++) {
    if (positive[r] === 1) tp++;
    else fp++;
    if (r + 1 < score.length && score[r + 1] === score[r]) continue;
    pts.push({
      threshold: score[r] as number,
      tpr: tp / nPos,
      fpr: fp / nNeg,
      precision: tp / (tp + fp),
    });
  }
  return pts;
}

/** `sum_i f(pts[i-1], pts[i])` over consecutive operating points. */
function sumOverSteps(
  pts: readonly OperatingPoint[],
  f: (p: OperatingPoint, q: OperatingPoint) => number,
): number {
  let sum = 0;
  for (let i = 1; i < pts.length; i++)
    sum += f(pts[i - 1] as OperatingPoint, pts[i] as OperatingPoint);
  return sum;
}

/**
 * Area under the ROC curve: the probability that a random out-of-distribution input scores
 * higher than a random in-distribution one, ties counting one half (Mann–Whitney U).
 *
 * $$\text{AUROC} = P(s_{out} > s_{in}) + \tfrac12 P(s_{out} = s_{in})$$
 *
 * @param inScores scores of in-distribution inputs.
 * @param outScores scores of out-of-distribution inputs.
 * @example
 * ```ts
 * auroc([0.1, 0.2], [0.3, 0.4]); // 1
 * ```
 */
export function auroc(inScores: Scores, outScores: Scores): number {
  // trapezoids between consecutive operating points
  return sumOverSteps(
    rocCurve(inScores, outScores),
    (p, q) => ((q.fpr - p.fpr) * (q.tpr + p.tpr)) / 2,
  );
}

/**
 * Area under the precision–recall curve with out-of-distribution as positive, computed as the
 * average precision (step interpolation, as scikit-learn's `average_precision_score`):
 *
 * $$\text{AP} = \sum_t (R_t - R_{t-1})\,P_t$$
 *
 * @param inScores scores of in-distribution inputs.
 * @param outScores scores of out-of-distribution inputs.
 * @example
 * ```ts
 * aupr([0.1, 0.2], [0.3, 0.4]); // 1
 * ```
 */
export function aupr(inScores: Scores, outScores: Scores): number {
  // recall steps weighted by the precision reached
  return sumOverSteps(rocCurve(inScores, outScores), (p, q) => (q.tpr - p.tpr) * q.precision);
}

/**
 * False-positive rate at the first threshold whose true-positive rate reaches `tpr` (default
 * 95%): the fraction of in-distribution inputs flagged when 95% of the out-of-distribution
 * inputs are caught.
 *
 * $$\text{FPR@95} = \min\{\text{FPR}(t) : \text{TPR}(t) \ge 0.95\}$$
 *
 * @param inScores scores of in-distribution inputs.
 * @param outScores scores of out-of-distribution inputs.
 * @param tpr target true-positive rate in (0, 1].
 * @example
 * ```ts
 * fprAtTpr([0.1, 0.5], [0.3, 0.4]); // 0.5
 * ```
 */
export function fprAtTpr(inScores: Scores, outScores: Scores, tpr = 0.95): number {
  if (!(tpr > 0 && tpr <= 1))
    throw new ArgumentError('tpr', `expected a value in (0, 1], got ${tpr}`);
  for (const p of rocCurve(inScores, outScores)) if (p.tpr >= tpr - 1e-12) return p.fpr;
  return 1;
}

/** The three detection metrics of {@link oodMetrics}. */
export interface OodMetrics {
  auroc: number;
  aupr: number;
  fpr95: number;
}

/**
 * AUROC, AUPR (OOD positive) and FPR at 95% TPR in one call.
 *
 * @param inScores uncertainty scores of in-distribution inputs.
 * @param outScores uncertainty scores of out-of-distribution inputs.
 */
export function oodMetrics(inScores: Scores, outScores: Scores): OodMetrics {
  return {
    auroc: auroc(inScores, outScores),
    aupr: aupr(inScores, outScores),
    fpr95: fprAtTpr(inScores, outScores, 0.95),
  };
}
