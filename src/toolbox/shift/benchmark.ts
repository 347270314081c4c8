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
import { classificationMetrics } from '../metrics.js';
import { toHostLabels } from '../host.js';
import { auroc } from '../ood.js';
import {
  calibrateConformal,
  conformalSets,
  type ConformalCalibration,
} from '../posthoc/conformal.js';
import { bestTemperatureNll } from '../posthoc/temperature.js';
import type {
  OodRow,
  ShiftBenchmarkOptions,
  ShiftBenchmarkResult,
  ShiftRow,
  ShiftSummary,
} from './benchmark_types.js';
import { mean, predictSet, rowsOf, type Predicted } from './predict_set.js';
import { checkLabelValues, checkSet } from './set_checks.js';

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
