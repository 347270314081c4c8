/**
 * Metrics of regression with a Gaussian predictive `N(mu_i, sigma_i^2)` per target (Chung et al.
 * 2021's uncertainty-toolbox, properscoring, TFP): the mean negative log-likelihood, the closed-form
 * CRPS, the coverage of central prediction intervals (PICP) and the mean absolute calibration error
 * with its calibration curve. Inputs are tensors or number arrays of one shape `[N]` or `[N, D]`
 * (read elementwise); every sum is in float64 on the host.
 */
import * as tf from '@tensorflow/tfjs';
import { ndtr } from '../distributions/normal_cdf.js';
import { ArgumentError } from '../utils/errors.js';
import { normalQuantile } from '../utils/normal_quantile.js';

/** A regression input: a tensor or a number array of shape `[N]` or `[N, D]`. */
export type RegressionValues = tf.Tensor | ArrayLike<number> | ArrayLike<number>[];

/** The three checked inputs as flat float64 arrays of one length. */
interface HostRegression {
  mean: Float64Array;
  std: Float64Array;
  y: Float64Array;
}

/** `x` read into a flat `Float64Array` with its shape (`[N]` or `[N, D]`). */
function readValues(x: RegressionValues, name: string): { values: Float64Array; shape: number[] } {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 1 && x.rank !== 2) {
      throw new ArgumentError(name, `expected shape [N] or [N, D], got [${x.shape.join(',')}]`);
    }
    return { values: Float64Array.from(x.dataSync()), shape: [...x.shape] };
  }
  if (!Array.isArray(x) && !ArrayBuffer.isView(x)) {
    throw new ArgumentError(name, `expected a tensor or an array of numbers, got ${typeof x}`);
  }
  const items = x as ArrayLike<unknown>;
  if (items.length > 0 && Array.isArray(items[0])) {
    const rows = items as ArrayLike<number>[];
    const d = (rows[0] as ArrayLike<number>).length;
    const out = new Float64Array(rows.length * d);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (!Array.isArray(r) || r.length !== d) {
        throw new ArgumentError(name, `expected rows of length ${d}, row ${i} differs`);
      }
      for (let j = 0; j < d; j++) out[i * d + j] = checkNumber(r[j], name, i * d + j);
    }
    return { values: out, shape: [rows.length, d] };
  }
  const out = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) out[i] = checkNumber(items[i], name, i);
  return { values: out, shape: [items.length] };
}

function checkNumber(v: unknown, name: string, i: number): number {
  if (typeof v !== 'number') throw new ArgumentError(name, `expected a number at ${i}`);
  return v;
}

/**
 * `mean`, `std` and `y` checked (one non-empty shape; finite `mean`, `y` not NaN, `std > 0`) and
 * read to the host.
 */
function readRegression(
  mean: RegressionValues,
  std: RegressionValues,
  y: RegressionValues,
): HostRegression {
  const m = readValues(mean, 'mean');
  const s = readValues(std, 'std');
  const t = readValues(y, 'y');
  if (m.values.length === 0) throw new ArgumentError('mean', 'expected at least one value');
  for (const [name, v] of [
    ['std', s],
    ['y', t],
  ] as const) {
    if (v.shape.join(',') !== m.shape.join(',')) {
      throw new ArgumentError(
        name,
        `expected the shape of mean [${m.shape.join(',')}], got [${v.shape.join(',')}]`,
      );
    }
  }
  for (let i = 0; i < m.values.length; i++) {
    const mi = m.values[i] as number;
    const si = s.values[i] as number;
    const yi = t.values[i] as number;
    if (!Number.isFinite(mi))
      throw new ArgumentError('mean', `expected finite values, got ${mi} at ${i}`);
    if (!(si > 0) || !Number.isFinite(si)) {
      throw new ArgumentError('std', `expected finite values > 0, got ${si} at ${i}`);
    }
    if (Number.isNaN(yi)) throw new ArgumentError('y', `NaN at index ${i}`);
  }
  return { mean: m.values, std: s.values, y: t.values };
}

/**
 * Mean Gaussian negative log-likelihood of the targets (nats per value).
 *
 * $$\text{NLL} = \frac1N\sum_i \Big[\tfrac12\log(2\pi\sigma_i^2) + \frac{(y_i-\mu_i)^2}{2\sigma_i^2}\Big]$$
 *
 * @param mean predictive means `mu`, `[N]` or `[N, D]`.
 * @param std predictive standard deviations `sigma > 0`, the shape of `mean`.
 * @param y targets, the shape of `mean`.
 */
export function gaussianNll(
  mean: RegressionValues,
  std: RegressionValues,
  y: RegressionValues,
): number {
  const h = readRegression(mean, std, y);
  let s = 0;
  for (let i = 0; i < h.mean.length; i++) {
    const sd = h.std[i] as number;
    const z = ((h.y[i] as number) - (h.mean[i] as number)) / sd;
    s += 0.5 * Math.log(2 * Math.PI) + Math.log(sd) + 0.5 * z * z;
  }
  return s / h.mean.length;
}

/**
 * Mean continuous ranked probability score of Gaussian predictives, in closed form (Gneiting &
 * Raftery 2007; properscoring's `crps_gaussian`), with `z_i = (y_i - mu_i) / sigma_i`:
 *
 * $$\text{CRPS} = \frac1N\sum_i \sigma_i\Big[z_i\big(2\Phi(z_i)-1\big) + 2\varphi(z_i) - \frac1{\sqrt\pi}\Big]
 * = \frac1N\sum_i \Big(\mathbb E|X_i-y_i| - \tfrac12\mathbb E|X_i-X_i'|\Big)$$
 *
 * `Phi` is the project's `ndtr` (float32, relative error about 1e-6); the rest is float64.
 *
 * @param mean predictive means, `[N]` or `[N, D]`.
 * @param std predictive standard deviations `> 0`, the shape of `mean`.
 * @param y targets, the shape of `mean`.
 */
export function gaussianCrps(
  mean: RegressionValues,
  std: RegressionValues,
  y: RegressionValues,
): number {
  const h = readRegression(mean, std, y);
  const n = h.mean.length;
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++)
    z[i] = ((h.y[i] as number) - (h.mean[i] as number)) / (h.std[i] as number);
  const phiT = tf.tidy(() => ndtr(tf.tensor1d(Float32Array.from(z))));
  const cdf = phiT.dataSync();
  phiT.dispose();
  let s = 0;
  for (let i = 0; i < n; i++) {
    const zi = z[i] as number;
    const pdf = Math.exp(-0.5 * zi * zi) / Math.sqrt(2 * Math.PI);
    s +=
      (h.std[i] as number) * (zi * (2 * (cdf[i] as number) - 1) + 2 * pdf - 1 / Math.sqrt(Math.PI));
  }
  return s / n;
}

/** What {@link intervalCoverage} returns. */
export interface IntervalCoverage {
  /** Fraction of targets inside their central interval (PICP). */
  coverage: number;
  /** Mean width `2 z sigma_i` of the intervals. */
  meanWidth: number;
}

/**
 * Prediction interval coverage probability (PICP) of the central `level` intervals
 * `mu_i ± z sigma_i`, `z = Φ^{-1}((1 + level) / 2)`, and their mean width:
 *
 * $$\text{PICP} = \frac1N\sum_i \mathbb 1\big[|y_i-\mu_i| \le z\sigma_i\big],\qquad
 * \bar w = \frac1N\sum_i 2z\sigma_i$$
 *
 * @param mean predictive means, `[N]` or `[N, D]`.
 * @param std predictive standard deviations `> 0`, the shape of `mean`.
 * @param y targets, the shape of `mean`.
 * @param level the nominal coverage, in `(0, 1)` (default 0.95).
 */
export function intervalCoverage(
  mean: RegressionValues,
  std: RegressionValues,
  y: RegressionValues,
  level = 0.95,
): IntervalCoverage {
  if (typeof level !== 'number' || !(level > 0 && level < 1)) {
    throw new ArgumentError('level', `expected a number in (0, 1), got ${String(level)}`);
  }
  const h = readRegression(mean, std, y);
  const z = normalQuantile((1 + level) / 2);
  let inside = 0;
  let width = 0;
  for (let i = 0; i < h.mean.length; i++) {
    const half = z * (h.std[i] as number);
    if (Math.abs((h.y[i] as number) - (h.mean[i] as number)) <= half) inside++;
    width += 2 * half;
  }
  return { coverage: inside / h.mean.length, meanWidth: width / h.mean.length };
}

/** Options of {@link regressionCalibrationError}. */
export interface RegressionCalibrationOptions {
  /** Number of levels `p` in the grid `linspace(0.01, 0.99, numLevels)` (default 99, at least 2). */
  numLevels?: number;
}

/** What {@link regressionCalibrationError} returns. */
export interface RegressionCalibration {
  /** Mean absolute calibration error over the levels. */
  mace: number;
  /** Root mean squared calibration error over the levels. */
  rmsce: number;
  /** Maximum absolute calibration error (miscalibration area's sup). */
  maxError: number;
  /** The levels `p` (the x-axis of the calibration curve). */
  expected: number[];
  /** The observed fraction of targets below the `p`-quantile, per level. */
  observed: number[];
}

/**
 * Calibration of Gaussian predictive quantiles (uncertainty-toolbox's `mean_absolute_calibration_error`,
 * Kuleshov et al. 2018): over the levels `p_k` of a grid, the observed fraction of targets below
 * the predicted `p_k`-quantile, and its mean absolute gap to `p_k`:
 *
 * $$\hat p_k = \frac1N\sum_i \mathbb 1\big[y_i \le \mu_i + \sigma_i\Phi^{-1}(p_k)\big],\qquad
 * \text{MACE} = \frac1K\sum_k |\hat p_k - p_k|$$
 *
 * @param mean predictive means, `[N]` or `[N, D]`.
 * @param std predictive standard deviations `> 0`, the shape of `mean`.
 * @param y targets, the shape of `mean`.
 * @param options `numLevels`: the grid size `K` (default 99).
 */
export function regressionCalibrationError(
  mean: RegressionValues,
  std: RegressionValues,
  y: RegressionValues,
  options: RegressionCalibrationOptions = {},
): RegressionCalibration {
  const k = options.numLevels ?? 99;
  if (!Number.isInteger(k) || k < 2) {
    throw new ArgumentError('options.numLevels', `expected an integer >= 2, got ${String(k)}`);
  }
  const h = readRegression(mean, std, y);
  const n = h.mean.length;
  // The standardized residuals, sorted: the observed fraction below Φ^{-1}(p) is a count.
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++)
    z[i] = ((h.y[i] as number) - (h.mean[i] as number)) / (h.std[i] as number);
  z.sort();
  const expected: number[] = [];
  const observed: number[] = [];
  let abs = 0;
  let sq = 0;
  let max = 0;
  for (let j = 0; j < k; j++) {
    const p = 0.01 + (0.98 * j) / (k - 1);
    const q = normalQuantile(p);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((z[mid] as number) <= q) lo = mid + 1;
      else hi = mid;
    }
    const obs = lo / n;
    expected.push(p);
    observed.push(obs);
    const d = Math.abs(obs - p);
    abs += d;
    sq += d * d;
    max = Math.max(max, d);
  }
  return { mace: abs / k, rmsce: Math.sqrt(sq / k), maxError: max, expected, observed };
}
