/**
 * Temperature scaling (Guo et al. 2017): one scalar `T > 0` divides the logits of a trained
 * classifier, fitted by minimising the negative log-likelihood of held-out data. It changes the
 * confidence, never the argmax.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { optionsObject } from '../../utils/options.js';
import {
  PROBS_NOT_LOGITS,
  rowsLookLikeProbs,
  toHostLabels,
  toHostMatrix,
  toHostProbs,
  type ClassProbs,
  type HostMatrix,
  type ProbMatrix,
} from '../host.js';

/** Result of {@link fitTemperature}. */
export interface TemperatureFit {
  /** The fitted temperature `T` (logits are divided by it). */
  temperature: number;
  /** Held-out mean NLL at `T = 1`. */
  nllBefore: number;
  /** Held-out mean NLL at the fitted `T`. */
  nllAfter: number;
  /** Newton iterations used. */
  iterations: number;
  /**
   * Set when the fit hit its lower bound `T = 1/maxBeta` (0.01 by default): the logits separate
   * the calibration set perfectly, so the NLL keeps falling as `T -> 0` (the set is most likely
   * the training data); the text names the fix. Also set at the upper bound `T = maxBeta` (100),
   * where the logits are no better than uniform predictions on the labels (the NLL falls as
   * `T -> infinity`; labels that do not match the rows?). Also printed once per call with
   * `console.warn`.
   */
  warning?: string;
}

/** Options of {@link fitTemperature}. */
export interface TemperatureOptions {
  /** Largest inverse temperature searched, `1/T <= maxBeta` (default 100). */
  maxBeta?: number;
  /** Stop when the derivative of the mean NLL in `beta = 1/T` is below this (default 1e-10). */
  tol?: number;
}

/** Defaults of {@link TemperatureOptions}. */
const DEFAULT_MAX_BETA = 100;
const DEFAULT_TOL = 1e-10;

interface Moments {
  nll: number;
  grad: number;
  hess: number;
}

/**
 * Mean NLL of softmax(beta * z) and its first two derivatives in beta, in float64:
 * `d/dbeta = mean(E_p[z] - z_y)`, `d2/dbeta2 = mean(Var_p[z]) >= 0` (convex in beta).
 */
function nllMoments(z: Float64Array, rows: number, cols: number, y: Int32Array, beta: number) {
  const m: Moments = { nll: 0, grad: 0, hess: 0 };
  for (let i = 0; i < rows; i++) {
    let mx = -Infinity;
    for (let k = 0; k < cols; k++) mx = Math.max(mx, beta * (z[i * cols + k] as number));
    let s = 0;
    let s1 = 0;
    let s2 = 0;
    for (let k = 0; k < cols; k++) {
      const zk = z[i * cols + k] as number;
      const e = Math.exp(beta * zk - mx);
      s += e;
      s1 += e * zk;
      s2 += e * zk * zk;
    }
    const mean = s1 / s;
    const zy = z[i * cols + (y[i] as number)] as number;
    m.nll += mx + Math.log(s) - beta * zy;
    m.grad += mean - zy;
    m.hess += Math.max(s2 / s - mean * mean, 0);
  }
  m.nll /= rows;
  m.grad /= rows;
  m.hess /= rows;
  return m;
}

/**
 * Fit the temperature of a classifier on held-out logits by minimising the mean NLL
 *
 * $$T^\star = \arg\min_{T>0} -\frac1N\sum_n \log\operatorname{softmax}(z_n / T)_{y_n}.$$
 *
 * The NLL is convex in `beta = 1/T` (its second derivative is the mean variance of the logits under
 * the tempered softmax), so a safeguarded Newton iteration in float64 finds the global minimum;
 * when the held-out set is perfectly separated the minimum lies at `beta -> infinity` and
 * `1/maxBeta` is returned, with a `warning` (also `console.warn`ed, as deepprob's other warnings
 * are printed): a separable calibration set is usually the training set, and the temperature must
 * be fitted on held-out data.
 *
 * @param logits held-out logits `[N, K]` (never probabilities); of a binary classifier with one
 *   sigmoid output, its logit vector `z` `[N]` (the fit of `sigmoid(z / T)`, Platt scaling without
 *   its bias).
 * @param labels `N` integer labels.
 * @param options `maxBeta`, `tol`.
 * @example
 * ```ts
 * const { temperature } = toolbox.fitTemperature(valLogits, valLabels);
 * const calibrated = tf.softmax(tf.div(testLogits, temperature));
 * ```
 */
export function fitTemperature(
  logits: ClassProbs,
  labels: tf.Tensor | ArrayLike<number>,
  options: TemperatureOptions = {},
): TemperatureFit {
  optionsObject(options, ['maxBeta', 'tol'], 'fitTemperature');
  const maxBeta = options.maxBeta ?? DEFAULT_MAX_BETA;
  const tol = options.tol ?? DEFAULT_TOL;
  if (!(maxBeta > 1) || !Number.isFinite(maxBeta)) {
    throw new ArgumentError('maxBeta', `expected a finite number > 1, got ${maxBeta}`);
  }
  if (!(tol > 0)) throw new ArgumentError('tol', `expected a number > 0, got ${tol}`);
  const m = logitRows(logits);
  if (m.rows === 0) throw new ArgumentError('logits', 'expected at least one row');
  for (let i = 0; i < m.values.length; i++) {
    if (!Number.isFinite(m.values[i] as number)) {
      throw new ArgumentError('logits', `expected finite values, got ${m.values[i]} at ${i}`);
    }
  }
  if (rowsLookLikeProbs(m.values, m.rows, m.cols))
    throw new ArgumentError('logits', PROBS_NOT_LOGITS);
  const fit = fitOnHost(m, toHostLabels(labels, m.rows, m.cols), maxBeta, tol);
  if (fit.temperature >= maxBeta) {
    const warning =
      `deepprob: warning: fitTemperature hit its upper bound T = ${maxBeta} (maxBeta): the ` +
      `logits are no better than uniform predictions on these ${m.rows} labels, so the NLL keeps ` +
      `falling as T -> infinity (${fit.nllBefore.toExponential(3)} at T = 1, ` +
      `${fit.nllAfter.toExponential(3)} at the bound, log K = ${Math.log(m.cols).toExponential(3)}). ` +
      'Check that the labels match the rows and classes of the logits.';
    console.warn(warning);
    return { ...fit, warning };
  }
  if (fit.temperature > 1 / maxBeta) return fit;
  const warning = separableWarning('fitTemperature', fit, m.rows, `${1 / maxBeta} (1/maxBeta)`);
  console.warn(warning);
  return { ...fit, warning };
}

/**
 * Logits on the host as rows `[N, K]`, `K >= 2`; a binary classifier's logit vector `z` `[N]` (a
 * rank-1 tensor, typed array or array of numbers) as the rows `[0, z]`, whose tempered softmax is
 * the tempered sigmoid, `softmax([0, z] / T)_1 = sigmoid(z / T)`. A column `[N, 1]` is refused with
 * that hint (one class: softmax over it is 1 whatever `T`).
 */
function logitRows(logits: ClassProbs): HostMatrix {
  const vector =
    (logits instanceof tf.Tensor && logits.rank === 1) ||
    ArrayBuffer.isView(logits) ||
    (Array.isArray(logits) && logits.length > 0 && logits.every((v) => typeof v === 'number'));
  if (!vector) {
    const m = toHostMatrix(logits as ProbMatrix, 'logits');
    if (m.rows > 0 && m.cols < 2) {
      throw new ArgumentError(
        'logits',
        `expected K >= 2 classes, got ${m.cols} (a binary classifier's one logit z? pass it as a vector [N], tf.reshape(z, [-1]): it is fitted as sigmoid(z / T))`,
      );
    }
    return m;
  }
  const z = logits instanceof tf.Tensor ? logits.dataSync() : (logits as ArrayLike<number>);
  const values = new Float64Array(2 * z.length);
  for (let i = 0; i < z.length; i++) values[2 * i + 1] = z[i] as number;
  return { values, rows: z.length, cols: 2 };
}

/**
 * The warning of a temperature fit that hit its lower bound (`T = 1/maxBeta` of
 * {@link fitTemperature}, `range[0]` of `fitMixtureTemperature`; kl_guard's style: what happened,
 * with the numbers, and the fix).
 */
export function separableWarning(
  fn: string,
  fit: TemperatureFit,
  n: number,
  bound: string,
): string {
  return (
    `deepprob: warning: ${fn} hit its lower bound T = ${bound}: ` +
    `the logits separate the ${n} calibration examples perfectly, so the NLL keeps falling as ` +
    `T -> 0 (${fit.nllBefore.toExponential(3)} at T = 1, ${fit.nllAfter.toExponential(3)} at the bound). ` +
    'This is what the training set gives; fit the temperature on held-out data (a validation ' +
    'split the model was not trained on) instead.'
  );
}

/** {@link fitTemperature} on checked host logits and labels. */
function fitOnHost(m: HostMatrix, y: Int32Array, maxBeta: number, tol: number): TemperatureFit {
  const at = (b: number): Moments => nllMoments(m.values, m.rows, m.cols, y, b);
  const before = at(1);
  // Bracket the root of the derivative in [lo, hi] (the derivative is increasing in beta).
  let lo = 0;
  let hi = maxBeta;
  const atHi = at(hi);
  let beta: number;
  let iterations = 0;
  if (at(0).grad >= 0) {
    // the labels' logits are on average no higher than the mean logit (or every logit is
    // equal): the NLL falls all the way to beta = 0, uniform predictions; stop at T = maxBeta
    beta = 1 / maxBeta;
  } else if (atHi.grad <= 0) {
    beta = hi; // separable data: the NLL keeps falling as beta grows
  } else {
    beta = 1;
    for (; iterations < 100; iterations++) {
      const g = at(beta);
      if (Math.abs(g.grad) < tol) break;
      if (g.grad > 0) hi = beta;
      else lo = beta;
      let next = g.hess > 0 ? beta - g.grad / g.hess : NaN;
      if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
      if (Math.abs(next - beta) < 1e-14 * Math.max(1, beta)) {
        beta = next;
        break;
      }
      beta = next;
    }
  }
  if (!(beta > 0)) beta = 1 / maxBeta; // all-equal logits: any temperature; keep it finite
  const after = at(beta);
  return { temperature: 1 / beta, nllBefore: before.nll, nllAfter: after.nll, iterations };
}

/**
 * Divide logits by a temperature: `z / T` (a new tensor; `softmax` of it gives the calibrated
 * probabilities).
 *
 * @param logits `[N, K]` logits.
 * @param temperature `T > 0`.
 */
export function temperatureScale(logits: tf.Tensor, temperature: number): tf.Tensor {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new ArgumentError('temperature', `expected a finite number > 0, got ${temperature}`);
  }
  if (!(logits instanceof tf.Tensor)) throw new ArgumentError('logits', 'expected a tensor');
  return tf.tidy(() => tf.div(logits, tf.scalar(temperature)));
}

/** Probabilities below this are clamped before the log (the metrics' NLL clamp). */
const PROB_FLOOR = 1e-12;

/**
 * The NLL of predictive probabilities after the one temperature that is best **on these very
 * labels** (in hindsight): with `z = log max(p, 1e-12)`,
 *
 * $$\mathrm{NLL}^\star = \min_{T>0} -\frac1N\sum_n \log\operatorname{softmax}(z_n / T)_{y_n}
 * \le \mathrm{NLL}(p),$$
 *
 * i.e. the least NLL any temperature recalibration of this predictive (deterministic or a Monte
 * Carlo mixture, tempered as a whole) can reach on this set. It cannot be used to calibrate (it
 * reads the test labels); it tells apart what calibration could still gain from what needs a
 * better ranking of the classes: on a shifted set, a method whose NLL is already near its
 * `NLL*` is as calibrated there as a temperature can make it.
 *
 * @param probs `[N, K]` probabilities (a tensor or rows).
 * @param labels `N` integer labels.
 * @returns `{ temperature, nll }`: the best temperature and the NLL there.
 * @example
 * ```ts
 * const { nll } = toolbox.bestTemperatureNll(shiftedProbs, shiftedLabels);
 * ```
 */
export function bestTemperatureNll(
  probs: ProbMatrix,
  labels: tf.Tensor | ArrayLike<number>,
): { temperature: number; nll: number } {
  const h = toHostProbs(probs, 'probs');
  if (h.cols < 2) throw new ArgumentError('probs', `expected K >= 2 classes, got ${h.cols}`);
  const z = h.values.map((p) => Math.log(Math.max(p, PROB_FLOOR)));
  const y = toHostLabels(labels, h.rows, h.cols);
  const fit = fitOnHost(
    { values: z, rows: h.rows, cols: h.cols },
    y,
    DEFAULT_MAX_BETA,
    DEFAULT_TOL,
  );
  return { temperature: fit.temperature, nll: fit.nllAfter };
}
