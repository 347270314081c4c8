/**
 * The option types of SWAG ({@link Swag}, {@link swagPredictor}): the rank `K` of the deviation
 * matrix, the sampling options (covariance scale `s`, low-rank part on/off, seed) of
 *
 * $$\tilde\theta = \bar\theta + \sqrt{s}\Big(\Sigma_{diag}^{1/2} z_1 + \frac{D z_2}{\sqrt{K-1}}\Big),$$
 *
 * the `bn_update` inputs, and their check before any draw.
 */
import { ArgumentError } from '../../utils/errors.js';
import type { OutputKind } from '../class_outputs.js';
import type { ModelInput } from '../../layers/model_input.js';

/** Options of {@link Swag}. */
export interface SwagOptions {
  /** Maximum number of deviation columns `K` kept for the low-rank part (default 20; 0: diagonal only). */
  rank?: number;
}

/** Options of {@link Swag.sample} and {@link swagPredictor}. */
export interface SwagSampleOptions {
  /** Covariance scale `s` (default 0.5, as Maddox et al.). */
  scale?: number;
  /** Use the low-rank part (default true; false: SWAG-diagonal). */
  lowRank?: boolean;
  /** Seed of the draw(s). */
  seed?: number;
}

/** Training inputs for SWAG's `bn_update` (see `bn_update.ts`). */
export interface SwagBnUpdate {
  /**
   * Training inputs `[N, ...]` shaped like the model's input (an array of one tensor per input for a
   * multi-input model; kept by reference: keep them alive).
   */
  x: ModelInput;
  /** Inputs per training-mode pass (default 128). */
  batchSize?: number;
}

/**
 * Check the sample options (`scale` finite `>= 0`, `lowRank` a boolean, `seed` finite) before any
 * draw; @returns the scale `s` (default 0.5).
 * @throws ArgumentError naming the option.
 */
export function checkSampleOptions(options: SwagSampleOptions): number {
  const scale = options.scale ?? 0.5;
  if (typeof scale !== 'number' || !(scale >= 0) || !Number.isFinite(scale)) {
    throw new ArgumentError('scale', `expected a finite number >= 0, got ${String(scale)}`);
  }
  if (options.lowRank !== undefined && typeof options.lowRank !== 'boolean') {
    throw new ArgumentError('lowRank', `expected true or false, got ${String(options.lowRank)}`);
  }
  if (
    options.seed !== undefined &&
    (typeof options.seed !== 'number' || !Number.isFinite(options.seed))
  ) {
    throw new ArgumentError('seed', `expected a finite number, got ${String(options.seed)}`);
  }
  return scale;
}

/** Options of {@link swagPredictor}. */
export interface SwagPredictorOptions extends SwagSampleOptions {
  /**
   * Maddox et al.'s `bn_update`: for every sampled weight vector, recompute the BatchNormalization
   * moving statistics on one training-mode pass over `x` before predicting (the model's own
   * statistics are restored after). Default: the inputs a {@link trainSwag} run with
   * `bnUpdate: true` kept, else none (the statistics of the training run are used as they are);
   * `false` turns it off. A model without BatchNormalization layers is unaffected.
   */
  bnUpdate?: SwagBnUpdate | false;
  /**
   * What the model outputs (see `OutputKind`): `'auto'` (default: a classifier's logits, softmax
   * or one binary output, as `class_outputs.ts` reads it), `'logits'`, `'probs'`, or
   * `'regression'`: the sampled models' outputs as they are, `[S, N, D]`.
   */
  output?: OutputKind;
}
