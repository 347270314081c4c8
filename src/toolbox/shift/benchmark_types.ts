/**
 * The data types of the dataset-shift / OOD benchmark (Ovadia et al. 2019): the methods under
 * test (`[S, N, K]` sampled probabilities `p_s(y | x)`), the clean, shifted and OOD sets, the
 * options, and the result rows (accuracy, `NLL = -mean log pbar_y`, Brier, ECE, entropy
 * `H[pbar]`, conformal coverage/size, OOD AUROC).
 */
import type * as tf from '@tensorflow/tfjs';
import type { ConformalCalibration, ConformalScore } from '../posthoc/conformal.js';

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

/** Result of {@link shiftBenchmark}. */
export interface ShiftBenchmarkResult {
  rows: ShiftRow[];
  ood: OodRow[];
  summary: ShiftSummary[];
}
