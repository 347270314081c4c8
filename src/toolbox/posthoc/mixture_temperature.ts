/**
 * Temperature scaling of a Monte Carlo predictive (a Bayesian network, MC dropout, an ensemble):
 * every sample's logits are divided by one `T` before the samples' softmaxes are averaged, so the
 * spread between samples (the epistemic part) is kept while each sample is sharpened or softened.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { optionsObject } from '../../utils/options.js';
import { PROBS_NOT_LOGITS, rowsLookLikeProbs, toHostLabels } from '../host.js';
import { separableWarning, type TemperatureFit } from './temperature.js';

/** Options of {@link fitMixtureTemperature}. */
export interface MixtureTemperatureOptions {
  /** Smallest and largest temperature searched (default `[0.05, 20]`). */
  range?: [number, number];
}

/** Mean NLL of the tempered mixture `(1/S) sum_s softmax(beta z_s)` in float64. */
function mixtureNll(
  z: Float32Array,
  s: number,
  n: number,
  k: number,
  y: Int32Array,
  beta: number,
): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    let py = 0;
    for (let j = 0; j < s; j++) {
      const o = (j * n + i) * k;
      let mx = -Infinity;
      for (let c = 0; c < k; c++) mx = Math.max(mx, beta * (z[o + c] as number));
      let den = 0;
      for (let c = 0; c < k; c++) den += Math.exp(beta * (z[o + c] as number) - mx);
      py += Math.exp(beta * (z[o + (y[i] as number)] as number) - mx) / den;
    }
    total -= Math.log(Math.max(py / s, 1e-300));
  }
  return total / n;
}

/**
 * Fit one temperature of a Monte Carlo predictive on held-out data:
 *
 * $$T^\star = \arg\min_{T>0} -\frac1N\sum_n \log \frac1S\sum_{s=1}^S
 *   \operatorname{softmax}(z_{s,n}/T)_{y_n}.$$
 *
 * The mixture's NLL need not be convex in `1/T`, so the minimum is found on a grid of 121
 * temperatures log-spaced over `range`, refined by golden-section search between the grid
 * neighbours of the best point (float64). With `S = 1` it is {@link fitTemperature}'s problem.
 *
 * @param logitSamples held-out logits of `S` samples, `[S, N, K]` (never probabilities).
 * @param labels `N` integer labels.
 * @param options `range`.
 * @returns the temperature and the held-out NLL before (`T = 1`) and after (`iterations`: the
 *   golden-section steps).
 * @throws ArgumentError naming `logitSamples`, `labels` or `range`.
 * @example
 * ```ts
 * const fit = toolbox.fitMixtureTemperature(calLogits, calLabels); // calLogits: [S, N, K]
 * const probs = tf.mean(tf.softmax(tf.div(testLogits, fit.temperature)), 0);
 * ```
 */
export function fitMixtureTemperature(
  logitSamples: tf.Tensor,
  labels: tf.Tensor | ArrayLike<number>,
  options: MixtureTemperatureOptions = {},
): TemperatureFit {
  optionsObject(options, ['range'], 'fitMixtureTemperature');
  if (!(logitSamples instanceof tf.Tensor) || logitSamples.isDisposed || logitSamples.rank !== 3) {
    throw new ArgumentError('logitSamples', 'expected a live [S, N, K] tensor of logits');
  }
  const [s, n, k] = logitSamples.shape as [number, number, number];
  if (s < 1 || n < 1) throw new ArgumentError('logitSamples', 'expected S >= 1 and N >= 1');
  if (k < 2) throw new ArgumentError('logitSamples', `expected K >= 2 classes, got ${k}`);
  const [lo, hi] = options.range ?? [0.05, 20];
  if (!(lo > 0) || !(hi > lo) || !Number.isFinite(hi)) {
    throw new ArgumentError('range', `expected 0 < min < max < Infinity, got [${lo}, ${hi}]`);
  }
  const y = toHostLabels(labels, n, k);
  const z = logitSamples.dataSync() as Float32Array;
  for (let i = 0; i < z.length; i++) {
    if (!Number.isFinite(z[i] as number)) {
      throw new ArgumentError('logitSamples', `expected finite values, got ${z[i]} at ${i}`);
    }
  }
  if (rowsLookLikeProbs(z, s * n, k)) throw new ArgumentError('logitSamples', PROBS_NOT_LOGITS);
  // f(u) = NLL at T = exp(u)
  const f = (u: number): number => mixtureNll(z, s, n, k, y, Math.exp(-u));
  const points = 121;
  const a = Math.log(lo);
  const b = Math.log(hi);
  const grid = Array.from({ length: points }, (_, i) => a + ((b - a) * i) / (points - 1));
  const values = grid.map(f);
  let best = 0;
  for (let i = 1; i < points; i++) if ((values[i] as number) < (values[best] as number)) best = i;
  let left = grid[Math.max(0, best - 1)] as number;
  let right = grid[Math.min(points - 1, best + 1)] as number;
  const g = (Math.sqrt(5) - 1) / 2;
  let c = right - g * (right - left);
  let d = left + g * (right - left);
  let fc = f(c);
  let fd = f(d);
  let iterations = 0;
  for (; iterations < 60 && right - left > 1e-9; iterations++) {
    if (fc < fd) {
      right = d;
      d = c;
      fd = fc;
      c = right - g * (right - left);
      fc = f(c);
    } else {
      left = c;
      c = d;
      fc = fd;
      d = left + g * (right - left);
      fd = f(d);
    }
  }
  let u = 0.5 * (left + right);
  let after = f(u);
  if ((values[best] as number) < after) {
    u = grid[best] as number;
    after = values[best] as number;
  }
  const fit = { temperature: Math.exp(u), nllBefore: f(0), nllAfter: after, iterations };
  if (u > a + 1e-6) return fit;
  // the NLL still falls at the smallest temperature searched: separable calibration data
  const warning = separableWarning('fitMixtureTemperature', fit, n, `${lo} (range[0])`);
  console.warn(warning);
  return { ...fit, warning };
}
