/**
 * Options of the prior-precision fit of a Laplace posterior (laplace-torch's
 * `optimize_prior_precision`) and its gridsearch: the scalar precision of a log grid with the lowest
 * validation negative log-likelihood under the GLM (`'glm'`) or sampled-network (`'nn'`)
 * predictive.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { integerOption } from '../../../utils/options.js';
import { nextSeed } from '../../../utils/seed.js';
import type { ModelInput } from '../../../layers/model_input.js';
import { checkLink, checkTargets, type LaplaceTargets } from './checks.js';
import type { LaplaceLikelihood } from './curvature.js';
import { classProbs, type OutputLikelihood } from './likelihood.js';

/** What the gridsearch needs of a Laplace posterior. */
export interface GridsearchHost {
  likelihood: LaplaceLikelihood;
  binary: boolean;
  outputLikelihood: OutputLikelihood;
  /** The fit's regression noise `sigma_0`. */
  sigmaNoise: number;
  outputDim(): number;
  /** Classes of the class probabilities (2 for a binary head). */
  classes(): number;
  /** Rows of `x`, checked against the model's input. */
  rows(x: ModelInput): number;
  /** Use the scalar prior precision `d`. */
  setPrecision(d: number): void;
  /** A function putting back the prior precisions in use now. */
  snapshot(): () => void;
  predictProbs(
    x: ModelInput,
    o: { link: 'probit' | 'mc' | 'bridge' | 'bridgeNorm'; numSamples: number; seed: number },
  ): tf.Tensor2D;
  glmPredictive(x: ModelInput): { mean: tf.Tensor2D; cov: tf.Tensor3D };
  nnSampleOutputs(x: ModelInput, numSamples: number, seed: number): tf.Tensor3D;
}

/** How `LaplacePosterior.optimizePriorPrecision` fits the prior precision. */
export interface PriorPrecisionOptions {
  /**
   * `'marglik'` (default): maximise the Laplace marginal likelihood; `'gridsearch'`: the scalar
   * precision of a log grid with the lowest validation NLL (needs `xVal`, `yVal`).
   */
  method?: 'marglik' | 'gridsearch';
  /**
   * `'marglik'`: `'scalar'` (default), `'layerwise'` (one per block) or `'diag'` (one per
   * parameter; `diag` / `full` structures). `'gridsearch'` takes `'scalar'` only.
   */
  priorStructure?: 'scalar' | 'layerwise' | 'diag';
  /** Gridsearch: validation inputs `[M, ...]` shaped like the model's input. */
  xVal?: ModelInput;
  /** Gridsearch: validation labels (`M` integers or one-hot rows `[M, K]`) or targets `[M, K]`. */
  yVal?: LaplaceTargets;
  /**
   * Gridsearch: `'glm'` (default, the linearised predictive) or `'nn'` (the network run with
   * sampled weights, `numSamples` draws; laplace-torch's `pred_type='nn'`).
   */
  predType?: 'glm' | 'nn';
  /**
   * Gridsearch, classification with `predType: 'glm'`: `'probit'` (default), `'mc'`, `'bridge'` or
   * `'bridgeNorm'` (ignored by `'nn'`, whose probabilities are the Monte Carlo mean).
   */
  link?: 'probit' | 'mc' | 'bridge' | 'bridgeNorm';
  /** Gridsearch: Monte Carlo draws for `'nn'` or `link: 'mc'` (default 100). */
  numSamples?: number;
  /** Gridsearch: seed of the draws, the same at every grid point. */
  seed?: number;
  /** Gridsearch: grid points (default 100), `log10 delta` evenly spaced on `[min, max]`. */
  gridSize?: number;
  /** Gridsearch: `log10` of the smallest precision (default -4). */
  logPriorPrecMin?: number;
  /** Gridsearch: `log10` of the largest precision (default 4). */
  logPriorPrecMax?: number;
}

/** The option names of `optimizePriorPrecision`. */
export const PRIOR_OPTIONS = [
  'method',
  'priorStructure',
  'xVal',
  'yVal',
  'predType',
  'link',
  'numSamples',
  'seed',
  'gridSize',
  'logPriorPrecMin',
  'logPriorPrecMax',
];

/** `fn()`, its `ArgumentError` on `from` (or `from[i]`) renamed to `to` (`to[i]`). */
export function renamed<T>(from: string, to: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ArgumentError && (e.argument === from || e.argument.startsWith(`${from}[`))) {
      const arg = to + e.argument.slice(from.length);
      throw new ArgumentError(arg, e.message.slice(e.argument.length + 2));
    }
    throw e;
  }
}

/**
 * The gridsearch of `optimizePriorPrecision` (laplace-torch's `method='gridsearch'`), options
 * checked first: the scalar precisions `10^(m + g (M - m) / (G - 1))` are tried in turn and the
 * first with the lowest validation NLL ({@link validationNll}) is set and returned; the prior in
 * use is put back if a prediction fails.
 *
 * @throws ArgumentError naming the option, `xVal` or `yVal`, before any work.
 */
export function gridsearchPriorPrecision(
  host: GridsearchHost,
  o: PriorPrecisionOptions,
  structure: string,
): number {
  if (structure !== 'scalar') {
    throw new ArgumentError(
      'priorStructure',
      `gridsearch fits one scalar precision; got '${structure}' (use method 'marglik')`,
    );
  }
  if (o.xVal === undefined) throw new ArgumentError('xVal', 'gridsearch needs validation inputs');
  if (o.yVal === undefined) throw new ArgumentError('yVal', 'gridsearch needs validation targets');
  const predType = o.predType ?? 'glm';
  if (predType !== 'glm' && predType !== 'nn') {
    throw new ArgumentError('predType', `expected 'glm' or 'nn', got '${String(predType)}'`);
  }
  const cls = host.likelihood === 'classification';
  const link = cls ? checkLink(o.link ?? 'probit', host.binary) : undefined;
  if (!cls && o.link !== undefined) {
    throw new ArgumentError('link', "is for likelihood 'classification' (regression has none)");
  }
  const numSamples = integerOption(o.numSamples, 'numSamples', 100);
  const gridSize = integerOption(o.gridSize, 'gridSize', 100);
  const lo = o.logPriorPrecMin ?? -4;
  const hi = o.logPriorPrecMax ?? 4;
  for (const [v, name] of [
    [lo, 'logPriorPrecMin'],
    [hi, 'logPriorPrecMax'],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 30) {
      throw new ArgumentError(name, `expected a finite number in [-30, 30], got ${String(v)}`);
    }
  }
  if (hi < lo) {
    throw new ArgumentError('logPriorPrecMax', `expected >= logPriorPrecMin (${lo}), got ${hi}`);
  }
  const xVal = o.xVal;
  const m = renamed('x', 'xVal', () => host.rows(xVal));
  if (m < 1) throw new ArgumentError('xVal', 'expected at least 1 validation input, got 0');
  const yv = renamed('y', 'yVal', () =>
    checkTargets(o.yVal as LaplaceTargets, m, host.classes(), host.likelihood),
  );
  const seed = nextSeed(o.seed);
  const grid = Array.from({ length: gridSize }, (_, g) =>
    pow10(gridSize === 1 ? lo : lo + (g * (hi - lo)) / (gridSize - 1)),
  );
  const restore = host.snapshot();
  let best = Infinity;
  let bestDelta = grid[0] as number;
  try {
    for (const d of grid) {
      host.setPrecision(d);
      const nll = validationNll(host, o.xVal, yv, m, predType, link, numSamples, seed);
      if (nll < best) {
        best = nll;
        bestDelta = d;
      }
    }
  } catch (e) {
    restore();
    throw e;
  }
  host.setPrecision(bestDelta);
  return bestDelta;
}

/**
 * `10^e`, exact at integer exponents: `Math.pow(10, -4)` is `9.999999999999999e-5` in V8 (also at
 * -5, -17, ...), so that a grid end at an integer exponent is the number `1e-4` itself.
 */
function pow10(e: number): number {
  const k = Math.round(e);
  return Math.abs(e - k) < 1e-12 ? Number(`1e${k}`) : Math.pow(10, e);
}

/**
 * Mean validation NLL of the host's current posterior (float64 on the host): classification
 * `-(1/M) sum_m log p^(y_m | x_m)` with the predictive class probabilities (`'nn'`: the mean of
 * the sampled networks' probabilities), regression `-(1/M) sum_m log N(y_m; mu_m, diag(var_m) +
 * sigma^2 I)` with the GLM's mean and variance, or the sampled networks' mean and sample variance
 * `(1/(S-1)) sum_s (f_s - fbar)^2` (laplace-torch's `pred_type='nn'` moments).
 */
export function validationNll(
  host: GridsearchHost,
  x: ModelInput,
  y: Float64Array,
  m: number,
  predType: 'glm' | 'nn',
  link: 'probit' | 'mc' | 'bridge' | 'bridgeNorm' | undefined,
  numSamples: number,
  seed: number,
): number {
  const k = host.outputDim();
  if (link !== undefined) {
    let probs: tf.Tensor;
    if (predType === 'nn') {
      const f = host.nnSampleOutputs(x, numSamples, seed);
      probs = tf.tidy(() => tf.mean(classProbs(f, host.outputLikelihood), 0));
      f.dispose();
    } else {
      probs = host.predictProbs(x, { link, numSamples, seed });
    }
    const p = probs.dataSync();
    probs.dispose();
    const c = host.classes();
    let s = 0;
    for (let i = 0; i < m; i++)
      s -= Math.log(Math.max(p[i * c + (y[i] as number)] as number, 1e-300));
    return s / m;
  }
  let mean: Float32Array | Float64Array;
  let variance: Float32Array | Float64Array;
  if (predType === 'nn') {
    const f = host.nnSampleOutputs(x, numSamples, seed);
    // the sample variance with S - 1 (laplace-torch's samples.var(dim=0)); 0 for one draw
    const bessel = numSamples > 1 ? numSamples / (numSamples - 1) : 1;
    const [mu, v] = tf.tidy(() => {
      const mo = tf.moments(f, 0);
      return [mo.mean.dataSync(), tf.mul(mo.variance, bessel).dataSync()] as const;
    });
    f.dispose();
    mean = mu as Float32Array;
    variance = v as Float32Array;
  } else {
    const { mean: mu, cov } = host.glmPredictive(x);
    mean = mu.dataSync() as Float32Array;
    variance = tf.tidy(() => tf.sum(tf.mul(cov, tf.eye(k)), 2).dataSync()) as Float32Array;
    tf.dispose([mu, cov]);
  }
  const s0 = host.sigmaNoise * host.sigmaNoise;
  let s = 0;
  for (let i = 0; i < m * k; i++) {
    const v = (variance[i] as number) + s0;
    s += 0.5 * (Math.log(2 * Math.PI * v) + ((y[i] as number) - (mean[i] as number)) ** 2 / v);
  }
  return s / m;
}
