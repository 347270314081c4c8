/**
 * Split conformal prediction for classifiers (Vovk et al. 2005; Angelopoulos et al. 2021):
 * calibrate a score threshold on held-out data so that prediction sets contain the true label
 * with probability at least `1 - alpha`, whatever the model. Scores: `lac` (one minus the true
 * class probability), `aps` (adaptive prediction sets, Romano et al. 2020) and `raps`
 * (regularised APS, Angelopoulos et al. 2021).
 */
import type * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { booleanOption, optionsObject } from '../../utils/options.js';
import { makeRng } from '../../utils/seed.js';
import {
  checkProbRows,
  toHostLabels,
  toHostMatrix,
  type HostMatrix,
  type ProbMatrix,
} from '../host.js';

/** Conformity score of a prediction set method. */
export type ConformalScore = 'lac' | 'aps' | 'raps';

/** Options of {@link calibrateConformal}. */
export interface ConformalOptions {
  /** Miscoverage level: sets cover the label with probability `>= 1 - alpha` (default 0.1). */
  alpha?: number;
  /** Score (default `'aps'`). */
  score?: ConformalScore;
  /** RAPS penalty per rank beyond `kReg` (default 0.01; RAPS only). */
  lambda?: number;
  /** RAPS: ranks up to `kReg` are free (default 5). */
  kReg?: number;
  /** Randomise the APS/RAPS score with `u ~ U(0,1)` (exact coverage; default true). */
  randomized?: boolean;
  /** Seed of the randomisation (default: the global stream). */
  seed?: number;
}

/**
 * A calibrated conformal predictor (plain data: can be saved as JSON; `qhat = Infinity`, which
 * JSON writes as `null`, is read back as `Infinity` by {@link conformalSets}).
 */
export interface ConformalCalibration {
  score: ConformalScore;
  alpha: number;
  lambda: number;
  kReg: number;
  randomized: boolean;
  /**
   * The `ceil((n+1)(1-alpha))/n` empirical quantile of the calibration scores (`Infinity` when
   * `n < 1/alpha - 1`: too few examples for the level, every set is every class).
   */
  qhat: number;
  /** Number of calibration examples. */
  n: number;
  /**
   * Classes `K` of the calibration rows: {@link conformalSets} refuses test rows of another width
   * (absent from calibrations saved before it was recorded: then not checked).
   */
  numClasses?: number;
}

/** Prediction sets with their size and, given labels, the empirical coverage. */
export interface ConformalSets {
  /** Class indices of each input's set, most probable first. */
  sets: number[][];
  /** Mean set size. */
  meanSize: number;
  /** Fraction of inputs whose set contains the label (only with labels). */
  coverage?: number;
}

/** The option names of {@link calibrateConformal}. */
const CONFORMAL_OPTIONS = ['alpha', 'score', 'lambda', 'kReg', 'randomized', 'seed'];

/** A value as an error message shows it: a string quoted and named, so `'0.1'` is not read as 0.1. */
function shown(v: unknown): string {
  return typeof v === 'string' ? `the string '${v}'` : String(v);
}

function checkOptions(o: ConformalOptions): Required<Omit<ConformalOptions, 'seed'>> {
  const alpha = o.alpha ?? 0.1;
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha < 1)) {
    throw new ArgumentError('alpha', `expected a number in (0, 1), got ${shown(alpha)}`);
  }
  const score = o.score ?? 'aps';
  if (!['lac', 'aps', 'raps'].includes(score)) {
    throw new ArgumentError('score', `expected one of lac, aps, raps, got '${String(score)}'`);
  }
  const lambda = o.lambda ?? 0.01;
  if (typeof lambda !== 'number' || !(lambda >= 0) || !Number.isFinite(lambda)) {
    throw new ArgumentError('lambda', `expected a finite number >= 0, got ${shown(lambda)}`);
  }
  const kReg = o.kReg ?? 5;
  if (!Number.isInteger(kReg) || kReg < 0) {
    throw new ArgumentError('kReg', `expected an integer >= 0, got ${shown(kReg)}`);
  }
  return {
    alpha,
    score,
    lambda: score === 'raps' ? lambda : 0,
    kReg,
    randomized: booleanOption(o.randomized, 'randomized', true),
  };
}

/** Probability rows (entries in `[0, 1]`, rows summing to 1: `host.ts` `checkProbRows`). */
function checkProbs(m: HostMatrix): void {
  if (m.rows > 0) checkProbRows(m.values, m.rows, m.cols, 'probs');
}

/** Classes of row `i` sorted by decreasing probability (stable: lower index first on ties). */
function order(m: HostMatrix, i: number): number[] {
  const idx = Array.from({ length: m.cols }, (_, k) => k);
  return idx.sort((a, b) => {
    const d = (m.values[i * m.cols + b] as number) - (m.values[i * m.cols + a] as number);
    return d !== 0 ? d : a - b;
  });
}

/**
 * Score of class at rank `r` (0-based) of a sorted row:
 * `lac`: `1 - p_y`; `aps`/`raps`: `sum_{j<r} p_(j) + u p_(r) + lambda (r + 1 - kReg)^+`.
 */
function scoreAt(
  c: ReturnType<typeof checkOptions>,
  sorted: number[],
  probs: Float64Array,
  offset: number,
  r: number,
  u: number,
): number {
  const p = probs[offset + (sorted[r] as number)] as number;
  if (c.score === 'lac') return 1 - p;
  let above = 0;
  for (let j = 0; j < r; j++) above += probs[offset + (sorted[j] as number)] as number;
  return above + u * p + c.lambda * Math.max(0, r + 1 - c.kReg);
}

/**
 * Calibrate split conformal prediction on held-out probabilities. With the calibration scores
 * `s_i = E(x_i, y_i, u_i)` and `n` examples, the threshold is the conformal quantile
 *
 * $$\hat q = s_{(\lceil (n+1)(1-\alpha)\rceil)}$$
 *
 * (the k-th smallest score; `+infinity` when `k > n`), which gives
 * `P(y in C(x)) >= 1 - alpha` for exchangeable data (Vovk et al. 2005). APS (`lambda = 0`) and
 * RAPS score a class by the probability mass ranked above it plus `u` times its own mass (`u = 1`
 * when not randomised) plus RAPS's rank penalty `lambda (rank - kReg)^+`.
 *
 * @param probs held-out probabilities `[n, K]` (e.g. a model's MC predictive).
 * @param labels `n` integer labels.
 * @param options `alpha`, `score`, `lambda`, `kReg`, `randomized`, `seed`.
 * @example
 * ```ts
 * const cal = toolbox.calibrateConformal(valProbs, valLabels, { alpha: 0.05, score: 'raps' });
 * const { sets, meanSize, coverage } = toolbox.conformalSets(testProbs, cal, testLabels);
 * ```
 */
export function calibrateConformal(
  probs: ProbMatrix,
  labels: tf.Tensor | ArrayLike<number>,
  options: ConformalOptions = {},
): ConformalCalibration {
  optionsObject(options, CONFORMAL_OPTIONS, 'calibrateConformal');
  const c = checkOptions(options);
  const m = toHostMatrix(probs, 'probs');
  if (m.rows === 0) throw new ArgumentError('probs', 'expected at least one calibration row');
  checkProbs(m);
  const y = toHostLabels(labels, m.rows, m.cols);
  const rng = makeRng(options.seed);
  const scores = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    const sorted = order(m, i);
    const r = sorted.indexOf(y[i] as number);
    const u = c.randomized ? rng() : 1;
    scores[i] = scoreAt(c, sorted, m.values, i * m.cols, r, u);
  }
  scores.sort();
  const k = Math.ceil((m.rows + 1) * (1 - c.alpha));
  const qhat = k > m.rows ? Infinity : (scores[k - 1] as number);
  return { ...c, qhat, n: m.rows, numClasses: m.cols };
}

/**
 * Prediction sets of a calibrated conformal predictor: `C(x) = {y : E(x, y, u) <= qhat}` (one
 * `u ~ U(0,1)` per input when randomised). APS/RAPS sets are the top-ranked classes up to the
 * last one whose score stays below `qhat`; randomised sets may be empty, as in Angelopoulos et
 * al. (`allowEmpty`), which keeps the coverage exact. Non-randomised APS/RAPS sets also keep the
 * class at which the ranked score first reaches `qhat` (Romano et al. 2020: the top
 * `L = min{r : E(x, y_(r), 1) >= qhat}` classes), so they are never empty; they contain
 * `{y : E(x, y, 1) <= qhat}`, so the coverage guarantee holds.
 *
 * @param probs test probabilities `[N, K]`.
 * @param calibration the result of {@link calibrateConformal}.
 * @param labels optional labels: then `coverage` is reported.
 * @param seed seed of the randomisation (default: the global stream).
 */
export function conformalSets(
  probs: ProbMatrix,
  calibration: ConformalCalibration,
  labels?: tf.Tensor | ArrayLike<number>,
  seed?: number,
): ConformalSets {
  // JSON writes qhat = Infinity as null
  const rawQhat: unknown =
    calibration !== null && typeof calibration === 'object' ? calibration.qhat : undefined;
  const qhat = rawQhat === null ? Infinity : rawQhat;
  if (typeof qhat !== 'number' || Number.isNaN(qhat)) {
    throw new ArgumentError('calibration', 'expected the result of calibrateConformal');
  }
  const c = checkOptions(calibration);
  const m = toHostMatrix(probs, 'probs');
  checkProbs(m);
  const want = calibration.numClasses;
  if (want !== undefined && m.rows > 0 && m.cols !== want) {
    throw new ArgumentError(
      'probs',
      `expected rows of ${String(want)} classes (the calibration's), got ${m.cols}`,
    );
  }
  const y = labels !== undefined ? toHostLabels(labels, m.rows, m.cols) : undefined;
  const rng = makeRng(seed);
  const sets: number[][] = [];
  let total = 0;
  let covered = 0;
  for (let i = 0; i < m.rows; i++) {
    const sorted = order(m, i);
    const u = c.randomized ? rng() : 1;
    const set: number[] = [];
    let last = -Infinity;
    for (let r = 0; r < m.cols; r++) {
      const score = scoreAt(c, sorted, m.values, i * m.cols, r, u);
      if (score <= qhat) {
        set.push(sorted[r] as number);
        last = score;
      } else if (c.score !== 'lac') {
        // APS/RAPS scores increase with the rank; non-randomised, the class at which the ranked
        // mass crosses qhat stays (unless an included class already reached it exactly)
        if (!c.randomized && last < qhat) set.push(sorted[r] as number);
        break;
      }
    }
    sets.push(set);
    total += set.length;
    if (y !== undefined && set.includes(y[i] as number)) covered++;
  }
  const out: ConformalSets = { sets, meanSize: m.rows > 0 ? total / m.rows : NaN };
  if (y !== undefined) out.coverage = m.rows > 0 ? covered / m.rows : NaN;
  return out;
}
