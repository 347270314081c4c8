/**
 * Assemble an {@link UncertaintyReport} from host arrays: predictive probabilities and labels of
 * the in-distribution test set, and any number of uncertainty scores for both sets.
 */
import { ArgumentError } from '../../utils/errors.js';
import { calibration, classificationMetrics } from '../metrics.js';
import { oodMetrics } from '../ood.js';
import { checkImageDataUri } from './image_uri.js';
import type { GalleryItem, ScoreSummary, UncertaintyReport } from './types.js';

/** One score given to {@link buildReport}. */
export interface ScoreInput {
  key: string;
  name: string;
  description: string;
  /** Scores of the in-distribution inputs (length `N`). */
  inScores: ArrayLike<number>;
  /** Scores of the out-of-distribution inputs. */
  outScores: ArrayLike<number>;
}

/** Inputs of {@link buildReport}. */
export interface ReportInput {
  title?: string;
  model: { name: string; kind: string; checkpoint?: string };
  inName: string;
  outName: string;
  /** Predictive probabilities of the in-distribution set, flat row-major `[N, K]`. */
  probs: ArrayLike<number>;
  numClasses: number;
  labels: ArrayLike<number>;
  /** Scores; the first one orders the gallery. */
  scores: ScoreInput[];
  mcSamples?: number;
  /** Calibration bins (default 15). */
  numBins?: number;
  /** Histogram bins (default 30). */
  histogramBins?: number;
  /** Images per gallery row (default 12). */
  gallerySize?: number;
  /** PNG data URI of test image `i` (optional). */
  image?: (index: number) => string;
  classNames?: string[];
}

function rows(flat: ArrayLike<number>, n: number, k: number): number[][] {
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: k }, (_, j) => flat[i * k + j] as number),
  );
}

function mean(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] as number;
  return s / Math.max(1, v.length);
}

/**
 * Histogram of both sets on shared equal-width bins spanning the joint range of their finite
 * values: `bins` bins with edges `e_i = lo (1 - i/bins) + hi (i/bins)`, value `v` in bin
 * `min(bins - 1, floor((v - lo) / w))`, `w = (hi - lo) / bins`, all formed without overflow
 * (`lo = -1e308, hi = 1e308` has `hi - lo = inf`). `±Infinity` values are counted in
 * `omittedIn` / `omittedOut`, not binned (their bin is not defined); a constant set gets the bin
 * `[v, v + max(1, 1e-6 |v|)]`.
 */
function sharedHistogram(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  bins: number,
): ScoreSummary['histogram'] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of [a, b]) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as number;
      if (!Number.isFinite(x)) continue;
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
  }
  if (!(lo <= hi)) [lo, hi] = [0, 1]; // no finite value
  if (!(hi > lo)) {
    // one value: a bin of width max(1, 1e-6 |v|) from it (towards 0 at the float64 maximum)
    const d = Math.max(1, Math.abs(lo) * 1e-6);
    if (Number.isFinite(lo + d)) hi = lo + d;
    else lo -= d;
  }
  const width = hi / bins - lo / bins;
  const offset = (x: number): number => {
    const d = (x - lo) / width;
    return Number.isFinite(d) ? d : x / width - lo / width;
  };
  const omitted = [0, 0];
  const count = (v: ArrayLike<number>, set: 0 | 1): number[] => {
    const c = new Array<number>(bins).fill(0);
    for (let i = 0; i < v.length; i++) {
      const x = v[i] as number;
      if (!Number.isFinite(x)) {
        omitted[set] = (omitted[set] as number) + 1;
        continue;
      }
      const k = Math.min(bins - 1, Math.max(0, Math.floor(offset(x))));
      c[k] = (c[k] as number) + 1;
    }
    return c;
  };
  const h: ScoreSummary['histogram'] = {
    edges: Array.from({ length: bins + 1 }, (_, i) =>
      i === bins ? hi : lo * (1 - i / bins) + hi * (i / bins),
    ),
    countsIn: count(a, 0),
    countsOut: count(b, 1),
  };
  if ((omitted[0] as number) + (omitted[1] as number) > 0) {
    h.omittedIn = omitted[0] as number;
    h.omittedOut = omitted[1] as number;
  }
  return h;
}

/** `value` is a string (a report's names reach HTML and JSON as text). */
function checkText(value: unknown, argument: string): void {
  if (typeof value !== 'string') {
    throw new ArgumentError(argument, `expected a string, got ${typeof value}`);
  }
}

/**
 * The names and descriptions of a report are strings, `image` a function: checked before any
 * number is computed (a number as a name would fail late, in the HTML escaping).
 */
function checkReportTexts(input: ReportInput): void {
  if (input.title !== undefined) checkText(input.title, 'title');
  if (input.model === null || typeof input.model !== 'object') {
    throw new ArgumentError('model', 'expected an object { name, kind, checkpoint? }');
  }
  checkText(input.model.name, 'model.name');
  checkText(input.model.kind, 'model.kind');
  if (input.model.checkpoint !== undefined) checkText(input.model.checkpoint, 'model.checkpoint');
  checkText(input.inName, 'inName');
  checkText(input.outName, 'outName');
  input.scores.forEach((s, i) => {
    checkText(s.key, `scores[${i}].key`);
    checkText(s.name, `scores[${i}].name`);
    checkText(s.description, `scores[${i}].description`);
  });
  if (input.classNames !== undefined) {
    if (!Array.isArray(input.classNames)) {
      throw new ArgumentError('classNames', 'expected an array of strings');
    }
    input.classNames.forEach((c, i) => checkText(c, `classNames[${i}]`));
  }
  if (input.image !== undefined && typeof input.image !== 'function') {
    throw new ArgumentError(
      'image',
      `expected a function (index) => data URI, got ${typeof input.image}`,
    );
  }
}

/**
 * Compute every number of the report: metrics and reliability bins of the predictive
 * distribution, OOD metrics and histograms for each score, and the gallery of the most and least
 * certain in-distribution inputs under the first score.
 *
 * @param input probabilities, labels, scores and names.
 * @example
 * ```ts
 * const report = buildReport({ model: { name: 'bayes-lenet5', kind: 'bayesian' }, inName: 'mnist',
 *   outName: 'fashion-mnist', probs, numClasses: 10, labels, scores });
 * ```
 */
export function buildReport(input: ReportInput): UncertaintyReport {
  const k = input.numClasses;
  const n = input.labels.length;
  if (input.probs.length !== n * k) {
    throw new ArgumentError(
      'probs',
      `expected ${n} x ${k} = ${n * k} values, got ${input.probs.length}`,
    );
  }
  if (input.scores.length === 0) throw new ArgumentError('scores', 'expected at least one score');
  checkReportTexts(input);
  for (const s of input.scores) {
    if (s.inScores.length !== n) {
      throw new ArgumentError(
        `scores.${s.key}.inScores`,
        `expected ${n} values, got ${s.inScores.length}`,
      );
    }
  }
  const numBins = input.numBins ?? 15;
  const p = rows(input.probs, n, k);
  const m = classificationMetrics(p, input.labels, numBins);
  const cal = calibration(p, input.labels, numBins);
  const scores: ScoreSummary[] = input.scores.map((s) => ({
    key: s.key,
    name: s.name,
    description: s.description,
    ood: oodMetrics(s.inScores, s.outScores),
    meanIn: mean(s.inScores),
    meanOut: mean(s.outScores),
    histogram: sharedHistogram(s.inScores, s.outScores, input.histogramBins ?? 30),
  }));
  const primary = input.scores[0] as ScoreInput;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (primary.inScores[a] as number) - (primary.inScores[b] as number),
  );
  const g = Math.min(input.gallerySize ?? 12, Math.floor(n / 2));
  const item = (i: number): GalleryItem => {
    const probs = p[i] as number[];
    const prediction = probs.indexOf(Math.max(...probs));
    const it: GalleryItem = {
      index: i,
      label: input.labels[i] as number,
      prediction,
      probs,
      score: primary.inScores[i] as number,
    };
    if (input.image !== undefined) it.image = checkImageDataUri(input.image(i), `image(${i})`);
    return it;
  };
  const report: UncertaintyReport = {
    title:
      input.title ??
      `Uncertainty report: ${input.model.name} (${input.inName} vs ${input.outName})`,
    createdAt: new Date().toISOString(),
    model: input.model,
    inDistribution: { name: input.inName, count: n },
    outOfDistribution: { name: input.outName, count: primary.outScores.length },
    metrics: { ...m, numBins },
    reliability: cal.bins,
    scores,
    gallery: {
      mostCertain: order.slice(0, g).map(item),
      leastCertain: order
        .slice(n - g)
        .reverse()
        .map(item),
    },
  };
  if (input.mcSamples !== undefined) report.mcSamples = input.mcSamples;
  if (input.classNames !== undefined) report.classNames = input.classNames;
  return report;
}
