/**
 * Argument checks shared by the Laplace fits (last layer and all layers): positive scalars, inputs
 * shaped like the model's input (and finite, for training), and training targets (`N` integer
 * labels in `[0, K)` for classification, finite `[N, K]` targets for regression), read to the host
 * once as float64.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import { checkInputsOf, inputList, type ModelInput } from '../../../layers/model_input.js';
import type { LaplaceLikelihood } from './curvature.js';

/** @throws ArgumentError naming `name` unless `0 < v < Infinity`. */
export function checkPositive(v: number, name: string): void {
  if (!(v > 0) || !Number.isFinite(v)) {
    throw new ArgumentError(name, `expected a finite number > 0, got ${v}`);
  }
}

/**
 * The training targets on the host, checked against `N` inputs and `K` outputs.
 * @throws ArgumentError naming `y` on a wrong count, a tensor whose first axis is not the `N`
 *   examples (e.g. regression targets `[K, N]`), a label outside `[0, K)` or a non-finite target.
 */
export function checkTargets(
  y: tf.Tensor | ArrayLike<number>,
  n: number,
  k: number,
  likelihood: LaplaceLikelihood,
): Float64Array {
  if (y instanceof tf.Tensor && y.rank >= 1 && y.shape[0] !== n) {
    // a tensor's rows are the examples: targets [K, N] (transposed) have the right count but
    // would be read in the wrong order
    throw new ArgumentError(
      'y',
      `expected ${n} rows (one per input), got a tensor of shape [${y.shape.join(', ')}]`,
    );
  }
  const v = Float64Array.from(y instanceof tf.Tensor ? y.dataSync() : y);
  const want = likelihood === 'classification' ? n : n * k;
  if (v.length !== want) {
    throw new ArgumentError(
      'y',
      `expected ${likelihood === 'classification' ? `${n} labels` : `targets [${n}, ${k}]`}, got ${v.length} values`,
    );
  }
  for (let i = 0; i < v.length; i++) {
    const t = v[i] as number;
    const ok =
      likelihood === 'classification' ? Number.isInteger(t) && t >= 0 && t < k : Number.isFinite(t);
    if (!ok) {
      throw new ArgumentError(
        'y',
        `expected ${likelihood === 'classification' ? `integer labels in [0, ${k})` : 'finite targets'}, got ${t} at ${i}`,
      );
    }
  }
  return v;
}

/**
 * Check `x` is a tensor `[N, ...]` shaped like `model`'s input (for a model with several inputs,
 * an array of one such tensor per input, `model.inputs` order; see `layers/model_input.ts`),
 * `N >= minRows` and, when `finite`, that every entry is finite (`sum(0 * x) = 0` exactly when no
 * entry is NaN or +-Infinity).
 *
 * @returns `N`.
 * @throws ArgumentError naming `x` (or `x[i]`) on a non-tensor, a wrong shape, too few rows or a
 *   non-finite entry.
 */
export function checkInputs(
  model: tf.LayersModel,
  x: ModelInput,
  options: { finite: boolean; minRows: number },
): number {
  const n = checkInputsOf(model, x);
  if (n < options.minRows) {
    throw new ArgumentError('x', `expected at least ${options.minRows} input(s), got ${n}`);
  }
  if (options.finite) {
    inputList(x).forEach((t, j) => {
      const probe = tf.tidy(() => tf.sum(tf.mul(tf.cast(t, 'float32'), 0)));
      const ok = probe.dataSync()[0] === 0;
      probe.dispose();
      if (ok) return;
      const v = t.dataSync();
      let i = 0;
      while (i < v.length && Number.isFinite(v[i] as number)) i++;
      const row = Math.floor(i / Math.max(1, t.size / n));
      throw new ArgumentError(
        Array.isArray(x) ? `x[${j}]` : 'x',
        `expected finite inputs, got ${String(v[i])} in row ${row} (flat index ${i})`,
      );
    });
  }
  return n;
}

/** The option names of `lastLayerLaplace` and `allLayersLaplace` (laplace-torch's, camelCase). */
export const LAPLACE_OPTIONS = [
  'likelihood',
  'hessianStructure',
  'priorPrecision',
  'sigmaNoise',
  'batchSize',
];

/** The option names of the Laplace `predictProbs` (laplace-torch's `link_approx` is `link`). */
export const PREDICT_OPTIONS = ['link', 'numSamples', 'seed'];

/**
 * The `link` of a Laplace `predictProbs` checked: `'probit'` (`softmax(μ / sqrt(1 + π σ² / 8))`),
 * `'mc'` (samples of the GLM predictive), `'bridge'` (the Laplace bridge's Dirichlet mean) or
 * `'bridgeNorm'` (laplace-torch's `'bridge_norm'`: the bridge with its variance normalised), the
 * bridges only for `K >= 2` logits (`binary`: a one-logit head).
 */
export function checkLink(
  link: unknown,
  binary: boolean,
): 'probit' | 'mc' | 'bridge' | 'bridgeNorm' {
  if (link !== 'probit' && link !== 'mc' && link !== 'bridge' && link !== 'bridgeNorm') {
    throw new ArgumentError(
      'link',
      `expected 'probit', 'mc', 'bridge' or 'bridgeNorm', got '${String(link)}'${link === 'bridge_norm' ? " (laplace-torch's 'bridge_norm' is 'bridgeNorm')" : ''}`,
    );
  }
  if ((link === 'bridge' || link === 'bridgeNorm') && binary) {
    throw new ArgumentError(
      'link',
      `'${link}' needs K >= 2 logits; a binary head (one logit) takes 'probit' or 'mc'`,
    );
  }
  return link;
}

/**
 * The `priorPrecision` fit option checked: a finite number `> 0`, or an array of such numbers
 * with one per block (`numBlocks`, layerwise) or one per parameter (`numParams`; not for `kron`,
 * whose Kronecker factors have no per-parameter prior term, as laplace-torch's `KronLaplace`).
 *
 * @throws ArgumentError naming `priorPrecision` (or `priorPrecision[i]`).
 */
export function checkPriorPrecision(
  v: unknown,
  numBlocks: number,
  numParams: number,
  structure: string,
): void {
  if (typeof v === 'number') {
    checkPositive(v, 'priorPrecision');
    return;
  }
  if (!Array.isArray(v) || (v.length !== numBlocks && v.length !== numParams)) {
    throw new ArgumentError(
      'priorPrecision',
      `expected a number, ${numBlocks} per-layer or ${numParams} per-parameter precisions, got ${Array.isArray(v) ? `${v.length} values` : String(v)}`,
    );
  }
  if (v.length !== numBlocks && structure === 'kron') {
    throw new ArgumentError(
      'priorPrecision',
      `${numParams} per-parameter precisions need hessianStructure 'diag' or 'full'; 'kron' takes a number or ${numBlocks} per-layer precisions (as laplace-torch's KronLaplace)`,
    );
  }
  (v as unknown[]).forEach((d, i) => checkPositive(d as number, `priorPrecision[${i}]`));
}
