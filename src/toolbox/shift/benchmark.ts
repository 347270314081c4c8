/**
 * The dataset-shift and out-of-distribution benchmark of Ovadia et al. (2019) as a pure function
 * over tensors: every method predicts every set; per shift level it reports accuracy, NLL, Brier
 * score, ECE, mean predictive entropy and the coverage / size of conformal prediction sets
 * calibrated in distribution; for every OOD set the AUROC of predictive entropy and mutual
 * information against the clean test set. Datasets are built by the caller (Node runner:
 * `runShiftBenchmark`).
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import { optionsObject } from '../../utils/options.js';
import { meanProbs, mutualInformation, predictiveEntropy } from '../decomposition.js';
import { classificationMetrics } from '../metrics.js';
import { checkProbRows, toHostLabels } from '../host.js';
import { auroc } from '../ood.js';
import {
  calibrateConformal,
  conformalSets,
  type ConformalCalibration,
  type ConformalScore,
} from '../posthoc/conformal.js';
import { bestTemperatureNll } from '../posthoc/temperature.js';

/** A method under test: returns `S` sampled probability vectors per input, `[S, N, K]`. */
export interface ShiftMethod {
  /** Display name (table row, chart line). */
  name: string;
  /** Predict one batch: `[S, B, K]` probabilities (`S = 1` for deterministic methods). */
  predict: (x: tf.Tensor) => tf.Tensor3D;
}

/** A labelled test set at one shift level. */
export interface ShiftSet {
  /** Shift family, e.g. `'clean'`, `'rotation'`, `'gaussian-noise'`. */
  family: string;
  /** Intensity (degrees, severity; 0 for clean). */
  level: number;
  /** Inputs `[N, ...]` (already transformed for the network). */
  x: tf.Tensor;
  /** `N` integer labels. */
  labels: ArrayLike<number>;
}

/** An unlabelled out-of-distribution set. */
export interface OodSet {
  name: string;
  x: tf.Tensor;
}

/** Options of {@link shiftBenchmark}. */
export interface ShiftBenchmarkOptions {
  methods: ShiftMethod[];
  /** The in-distribution test set (family `'clean'`, level 0). */
  clean: ShiftSet;
  /** Shifted sets (any families and levels). */
  shifted: ShiftSet[];
  /** OOD sets scored against `clean`. */
  ood?: OodSet[];
  /** Held-out in-distribution data for the conformal calibration (disjoint from `clean`). */
  calibration?: { x: tf.Tensor; labels: ArrayLike<number> };
  /** Conformal miscoverage level (default 0.05). */
  alpha?: number;
  /** Conformal score (default `'aps'`). */
  conformalScore?: ConformalScore;
  /** Calibration bins of the ECE (default 15). */
  numBins?: number;
  /** Inputs per prediction call (default 500). */
  batchSize?: number;
  /** Seed of the conformal randomisation (default 0). */
  seed?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Metrics of one method on one set. */
export interface ShiftRow {
  method: string;
  family: string;
  level: number;
  accuracy: number;
  nll: number;
  /**
   * The NLL after the one temperature that is best on this set's own labels
   * ({@link bestTemperatureNll}): the least NLL a temperature recalibration of the method reaches
   * here. `nll - nllBestT` is what calibration could still gain; the rest needs a better ranking.
   */
  nllBestT: number;
  brier: number;
  ece: number;
  /** Mean predictive entropy (nats). */
  entropy: number;
  /** Conformal coverage and mean set size (with `calibration`). */
  coverage?: number;
  setSize?: number;
}

/** OOD detection of one method on one OOD set. */
export interface OodRow {
  method: string;
  dataset: string;
  /** AUROC of the predictive entropy (OOD positive). */
  aurocEntropy: number;
  /** AUROC of the mutual information (0.5 for deterministic methods). */
  aurocMI: number;
}

/** Per-method summary: means over the levels of each family (clean excluded). */
export interface ShiftSummary {
  method: string;
  clean: ShiftRow;
  /** Family -> mean NLL / ECE / accuracy over its levels. */
  families: Record<string, { nll: number; nllBestT: number; ece: number; accuracy: number }>;
  /** OOD set -> AUROC (entropy, MI). */
  ood: Record<string, { entropy: number; mi: number }>;
  conformal?: ConformalCalibration;
}

/** The option names of {@link shiftBenchmark}. */
const SHIFT_OPTIONS = [
  'methods',
  'clean',
  'shifted',
  'ood',
  'calibration',
  'alpha',
  'conformalScore',
  'numBins',
  'batchSize',
  'seed',
  'log',
];

/** Result of {@link shiftBenchmark}. */
export interface ShiftBenchmarkResult {
  rows: ShiftRow[];
  ood: OodRow[];
  summary: ShiftSummary[];
}

interface Predicted {
  probs: Float64Array;
  rows: number;
  cols: number;
  entropy: Float64Array;
  mi: Float64Array;
}

/** Run `fn`; an `ArgumentError` from inside (about the returned samples) names the method and set. */
function named<T>(m: ShiftMethod, where: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ArgumentError && !e.argument.startsWith('methods[')) {
      throw new ArgumentError(`methods[${m.name}].predict on ${where}`, e.message);
    }
    throw e;
  }
}

/**
 * Predict a set in batches: mean probabilities, entropy and mutual information on the host; the
 * mean rows are checked to be probabilities, naming the method and `where` (the set).
 */
function predictSet(m: ShiftMethod, x: tf.Tensor, batchSize: number, where: string): Predicted {
  const n = x.shape[0] as number;
  const parts: { p: Float32Array; h: Float32Array; mi: Float32Array; k: number }[] = [];
  for (let i = 0; i < n; i += batchSize) {
    const size = Math.min(batchSize, n - i);
    const r = named(m, where, () =>
      tf.tidy(() => {
        const samples = m.predict(tf.slice(x, [i], [size]));
        if (samples.rank !== 3 || samples.shape[1] !== size) {
          throw new ArgumentError(
            `methods[${m.name}].predict`,
            `expected [S, ${size}, K] probabilities, got [${samples.shape.join(',')}]`,
          );
        }
        return {
          p: meanProbs(samples).dataSync() as Float32Array,
          h: predictiveEntropy(samples).dataSync() as Float32Array,
          mi: mutualInformation(samples).dataSync() as Float32Array,
          k: samples.shape[2],
        };
      }),
    );
    parts.push(r);
  }
  const k = parts[0]?.k ?? 0;
  if (parts.some((part) => part.k !== k)) {
    throw new ArgumentError(
      `methods[${m.name}].predict`,
      `returned different class counts on ${where}`,
    );
  }
  const probs = new Float64Array(n * k);
  const entropy = new Float64Array(n);
  const mi = new Float64Array(n);
  let off = 0;
  for (const part of parts) {
    probs.set(part.p, off * k);
    entropy.set(part.h, off);
    mi.set(part.mi, off);
    off += part.h.length;
  }
  if (n > 0) checkProbRows(probs, n, k, `methods[${m.name}].predict on ${where}`);
  return { probs, rows: n, cols: k, entropy, mi };
}

function rowsOf(p: Predicted): number[][] {
  return Array.from({ length: p.rows }, (_, i) =>
    Array.from(p.probs.subarray(i * p.cols, (i + 1) * p.cols)),
  );
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return a.length > 0 ? s / a.length : NaN;
}

function checkSet(s: ShiftSet, name: string): void {
  if (s === undefined || !(s.x instanceof tf.Tensor))
    throw new ArgumentError(name, 'expected {family, level, x: tensor, labels}');
  const n = s.x.shape[0] as number;
  if (s.labels === undefined || s.labels.length !== n) {
    throw new ArgumentError(`${name}.labels`, `expected ${n} labels, got ${s.labels?.length}`);
  }
  checkLabelValues(s.labels, `${name}.labels`);
}

/**
 * Labels are integers `>= 0` (checked before any method runs; their upper bound, the class count,
 * once a method has predicted the set).
 */
function checkLabelValues(labels: ArrayLike<number>, name: string): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i] as number;
    if (!Number.isInteger(v) || v < 0) {
      throw new ArgumentError(name, `expected integer class labels >= 0, got ${String(v)} at ${i}`);
    }
  }
}

/**
 * Run the shift/OOD benchmark. For method `m` and a set with mean predictive `pbar`:
 * accuracy, `NLL = -mean log pbar_y`, Brier, ECE (equal-width bins), mean `H[pbar]`; with
 * `calibration`, split-conformal sets at level `1 - alpha` (calibrated once per method on the
 * held-out clean data) and their empirical coverage and mean size on every set; OOD AUROC of
 * `H[pbar]` and of the mutual information `H[pbar] - mean_s H[p_s]` (OOD positive).
 *
 * @example
 * ```ts
 * const r = toolbox.shiftBenchmark({ methods, clean, shifted, ood, calibration });
 * console.log(toolbox.formatShiftTable(r));
 * ```
 */
export function shiftBenchmark(options: ShiftBenchmarkOptions): ShiftBenchmarkResult {
  const result: ShiftBenchmarkResult = { rows: [], ood: [], summary: [] };
  for (const step of shiftSteps(options, result)) void step;
  return result;
}

/** Where {@link shiftBenchmarkSteps} stopped: the method it was in, and whether it had finished it. */
export interface ShiftStop {
  /** The method in progress at the stop. */
  method: string;
  /** True when that method's every set, OOD set and summary were done. */
  methodDone: boolean;
}

/**
 * {@link shiftBenchmark} that can stop between sets: after each set (clean, shifted, OOD) it
 * yields to the event loop and asks `shouldStop`; true ends it there with the rows done so far
 * (`summary` holds the methods finished) and `stopped` saying where. The figures of the rows it
 * returns are those of {@link shiftBenchmark}.
 *
 * @param options as {@link shiftBenchmark}'s.
 * @param shouldStop checked after every set.
 * @example
 * ```ts
 * const { result, stopped } = await toolbox.shiftBenchmarkSteps(options, () => stop.signal !== undefined);
 * ```
 */
export async function shiftBenchmarkSteps(
  options: ShiftBenchmarkOptions,
  shouldStop: () => boolean,
): Promise<{ result: ShiftBenchmarkResult; stopped?: ShiftStop }> {
  const result: ShiftBenchmarkResult = { rows: [], ood: [], summary: [] };
  const steps = shiftSteps(options, result);
  for (let n = steps.next(); n.done !== true; n = steps.next()) {
    await new Promise((r) => setTimeout(r, 0));
    if (shouldStop()) {
      const at = n.value;
      steps.return(undefined);
      // nothing left to do after the last method's summary: that is a complete run
      if (at.methodDone && result.summary.length === options.methods.length) return { result };
      return { result, stopped: at };
    }
  }
  return { result };
}

/** The benchmark as steps: fills `result`, yielding after every set and every method. */
function* shiftSteps(
  options: ShiftBenchmarkOptions,
  result: ShiftBenchmarkResult,
): Generator<ShiftStop, void> {
  if (options === null || typeof options !== 'object') {
    throw new ArgumentError(
      'options',
      `expected the benchmark's options {methods, clean, shifted, ...}, got ${String(options)}`,
    );
  }
  optionsObject(options, SHIFT_OPTIONS, 'shiftBenchmark');
  const { methods, clean, shifted } = options;
  if (!Array.isArray(methods) || methods.length === 0) {
    throw new ArgumentError('methods', 'expected a non-empty array of {name, predict}');
  }
  const names = new Set<string>();
  methods.forEach((m, i) => {
    if (typeof m?.name !== 'string' || typeof m.predict !== 'function') {
      throw new ArgumentError(
        `methods[${i}]`,
        'expected {name: string, predict: (x) => [S, N, K] probabilities}',
      );
    }
    // rows, summaries and chart lines are keyed by the name
    if (names.has(m.name)) {
      throw new ArgumentError(
        'methods',
        `expected distinct method names, got '${m.name}' twice (at ${i})`,
      );
    }
    names.add(m.name);
  });
  checkSet(clean, 'clean');
  if (!Array.isArray(shifted)) throw new ArgumentError('shifted', 'expected an array of sets');
  shifted.forEach((s, i) => checkSet(s, `shifted[${i}]`));
  const ood = options.ood ?? [];
  ood.forEach((o, i) => {
    if (!(o?.x instanceof tf.Tensor))
      throw new ArgumentError(`ood[${i}]`, 'expected {name, x: tensor}');
  });
  const bins = options.numBins ?? 15;
  if (!Number.isInteger(bins) || bins < 1) {
    throw new ArgumentError('numBins', `expected a positive integer, got ${bins}`);
  }
  if (options.seed !== undefined && !Number.isFinite(options.seed)) {
    throw new ArgumentError('seed', `expected a finite number, got ${options.seed}`);
  }
  const batchSize = options.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ArgumentError('batchSize', `expected a positive integer, got ${batchSize}`);
  }
  const alpha = options.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) {
    throw new ArgumentError('alpha', `expected a number in (0, 1), got ${alpha}`);
  }
  const score = options.conformalScore ?? 'aps';
  if (!['lac', 'aps', 'raps'].includes(score)) {
    throw new ArgumentError(
      'conformalScore',
      `expected one of lac, aps, raps, got '${String(score)}'`,
    );
  }
  if (options.calibration !== undefined) {
    const c = options.calibration;
    if (
      !(c?.x instanceof tf.Tensor) ||
      (!Array.isArray(c.labels) && !ArrayBuffer.isView(c.labels))
    ) {
      throw new ArgumentError('calibration', 'expected {x: tensor, labels}');
    }
    if (c.labels.length !== c.x.shape[0]) {
      throw new ArgumentError(
        'calibration.labels',
        `expected ${c.x.shape[0]} labels, got ${c.labels.length}`,
      );
    }
    checkLabelValues(c.labels, 'calibration.labels');
  }
  const log = options.log ?? ((): void => undefined);
  const { rows, summary } = result;
  const oodRows: OodRow[] = result.ood;
  for (const m of methods) {
    let cal: ConformalCalibration | undefined;
    if (options.calibration !== undefined) {
      const pc = predictSet(m, options.calibration.x, batchSize, 'calibration');
      toHostLabels(
        options.calibration.labels,
        pc.rows,
        pc.cols,
        'calibration.labels',
        'calibration.x',
      );
      cal = calibrateConformal(rowsOf(pc), options.calibration.labels, {
        alpha,
        score,
        seed: options.seed ?? 0,
      });
    }
    let cleanPred: Predicted | undefined;
    let cleanRow: ShiftRow | undefined;
    for (const [si, s] of [clean, ...shifted].entries()) {
      const where = si === 0 ? 'clean' : `shifted[${si - 1}]`;
      const p = predictSet(m, s.x, batchSize, where);
      toHostLabels(s.labels, p.rows, p.cols, `${where}.labels`, `${where}.x`);
      const probs = rowsOf(p);
      const cm = classificationMetrics(probs, s.labels, bins);
      const row: ShiftRow = {
        method: m.name,
        family: s.family,
        level: s.level,
        accuracy: cm.accuracy,
        nll: cm.nll,
        nllBestT: bestTemperatureNll(probs, s.labels).nll,
        brier: cm.brier,
        ece: cm.ece,
        entropy: mean(p.entropy),
      };
      if (cal !== undefined) {
        const cs = conformalSets(probs, cal, s.labels, (options.seed ?? 0) + 1);
        row.coverage = cs.coverage as number;
        row.setSize = cs.meanSize;
      }
      rows.push(row);
      if (s === clean) {
        cleanPred = p;
        cleanRow = row;
      }
      log(
        `${m.name} ${s.family} ${s.level}: acc ${(100 * row.accuracy).toFixed(2)}% NLL ${row.nll.toFixed(3)} ECE ${row.ece.toFixed(3)}`,
      );
      yield { method: m.name, methodDone: false };
    }
    const oodSummary: Record<string, { entropy: number; mi: number }> = {};
    for (const o of ood) {
      const p = predictSet(m, o.x, batchSize, `ood '${o.name}'`);
      const cp = cleanPred as Predicted;
      const r: OodRow = {
        method: m.name,
        dataset: o.name,
        aurocEntropy: auroc(cp.entropy, p.entropy),
        aurocMI: auroc(cp.mi, p.mi),
      };
      oodRows.push(r);
      oodSummary[o.name] = { entropy: r.aurocEntropy, mi: r.aurocMI };
      log(
        `${m.name} OOD ${o.name}: AUROC entropy ${r.aurocEntropy.toFixed(3)} MI ${r.aurocMI.toFixed(3)}`,
      );
      yield { method: m.name, methodDone: false };
    }
    const families: ShiftSummary['families'] = {};
    for (const fam of [...new Set(shifted.map((s) => s.family))]) {
      const fr = rows.filter((r) => r.method === m.name && r.family === fam);
      families[fam] = {
        nll: mean(fr.map((r) => r.nll)),
        nllBestT: mean(fr.map((r) => r.nllBestT)),
        ece: mean(fr.map((r) => r.ece)),
        accuracy: mean(fr.map((r) => r.accuracy)),
      };
    }
    summary.push({
      method: m.name,
      clean: cleanRow as ShiftRow,
      families,
      ood: oodSummary,
      ...(cal !== undefined ? { conformal: cal } : {}),
    });
    yield { method: m.name, methodDone: true };
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/**
 * A plain-text table of the summary: one line per method with clean accuracy/NLL/ECE, mean NLL
 * and ECE over the levels of each shift family, OOD AUROC (entropy / MI) and conformal coverage
 * and set size in distribution.
 */
export function formatShiftTable(result: ShiftBenchmarkResult): string {
  if (result === null || typeof result !== 'object' || !Array.isArray(result.summary)) {
    throw new ArgumentError('result', 'expected the result of shiftBenchmark');
  }
  const fams = [...new Set(result.summary.flatMap((s) => Object.keys(s.families)))];
  const oods = [...new Set(result.summary.flatMap((s) => Object.keys(s.ood)))];
  const head = [
    pad('method', 22),
    'acc%  ',
    'NLL   ',
    'ECE   ',
    ...fams.map((f) => pad(`${f} NLL/ECE`, 20)),
    ...oods.map((o) => pad(`${o} AUROC H/MI`, 24)),
    'cover/size',
  ].join(' ');
  const lines = [head, '-'.repeat(head.length)];
  for (const s of result.summary) {
    const c = s.clean;
    lines.push(
      [
        pad(s.method, 22),
        pad((100 * c.accuracy).toFixed(2), 6),
        pad(c.nll.toFixed(3), 6),
        pad(c.ece.toFixed(3), 6),
        ...fams.map((f) =>
          pad(`${s.families[f]?.nll.toFixed(3)} / ${s.families[f]?.ece.toFixed(3)}`, 20),
        ),
        ...oods.map((o) => pad(`${s.ood[o]?.entropy.toFixed(3)} / ${s.ood[o]?.mi.toFixed(3)}`, 24)),
        c.coverage !== undefined
          ? `${(100 * c.coverage).toFixed(1)}% / ${c.setSize?.toFixed(2)}`
          : '-',
      ].join(' '),
    );
  }
  return lines.join('\n');
}
