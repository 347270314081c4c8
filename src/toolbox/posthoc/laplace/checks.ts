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
 * Training targets of a Laplace fit: a tensor, a flat array, or an array of rows (`[N, K]` targets,
 * or one-hot label rows).
 */
export type LaplaceTargets = tf.Tensor | ArrayLike<number> | ReadonlyArray<ArrayLike<number>>;

/**
 * The training targets on the host, checked against `N` inputs and `K` outputs (`K` classes for
 * classification). Classification takes `N` integer labels in `[0, K)` (`[N]` or `[N, 1]`) or,
 * for `K >= 2`, one-hot rows `[N, K]` (read as the index of their 1, as torch users pass
 * `y.argmax(-1)`); regression takes `[N, K]` targets (a tensor, flat, or an array of rows).
 *
 * @throws ArgumentError naming `y` on a wrong count, a tensor whose first axis is not the `N`
 *   examples (e.g. regression targets `[K, N]`), rows of different lengths, a row that is not
 *   one-hot, a label outside `[0, K)` or a non-finite target.
 */
export function checkTargets(
  y: LaplaceTargets,
  n: number,
  k: number,
  likelihood: LaplaceLikelihood,
): Float64Array {
  const cls = likelihood === 'classification';
  let v: Float64Array;
  let rowLength = 1;
  if (y instanceof tf.Tensor) {
    if (y.rank >= 1 && y.shape[0] !== n) {
      // a tensor's rows are the examples: targets [K, N] (transposed) have the right count but
      // would be read in the wrong order
      throw new ArgumentError(
        'y',
        `expected ${n} rows (one per input), got a tensor of shape [${y.shape.join(', ')}]`,
      );
    }
    v = Float64Array.from(y.dataSync());
    if (y.rank === 2) rowLength = y.shape[1] as number;
  } else if (Array.isArray(y) && y.length > 0 && y.every((r) => isRow(r))) {
    const rows = y as ReadonlyArray<ArrayLike<number>>;
    rowLength = rows[0]?.length ?? 0;
    const bad = rows.findIndex((r) => r.length !== rowLength);
    if (bad >= 0) {
      throw new ArgumentError(
        'y',
        `expected rows of one length (${rowLength}), got ${(rows[bad] as ArrayLike<number>).length} at row ${bad}`,
      );
    }
    if (rows.length !== n) {
      throw new ArgumentError('y', `expected ${n} rows (one per input), got ${rows.length}`);
    }
    v = new Float64Array(n * rowLength);
    rows.forEach((r, i) => v.set(Array.from(r, Number), i * rowLength));
  } else if (Array.isArray(y) || ArrayBuffer.isView(y)) {
    v = Float64Array.from(y as ArrayLike<number>, Number);
  } else {
    throw new ArgumentError(
      'y',
      `expected a tensor or an array of ${cls ? 'labels' : 'targets'}, got ${y === null ? 'null' : typeof y}`,
    );
  }
  if (cls && k >= 2 && rowLength === k && v.length === n * k) v = oneHotLabels(v, n, k);
  const want = cls ? n : n * k;
  if (v.length !== want) {
    throw new ArgumentError(
      'y',
      `expected ${cls ? `${n} labels (or one-hot rows [${n}, ${k}])` : `targets [${n}, ${k}]`}, got ${v.length} values`,
    );
  }
  for (let i = 0; i < v.length; i++) {
    const t = v[i] as number;
    const ok = cls ? Number.isInteger(t) && t >= 0 && t < k : Number.isFinite(t);
    if (!ok) {
      throw new ArgumentError(
        'y',
        `expected ${cls ? `integer labels in [0, ${k})` : 'finite targets'}, got ${t} at ${i}`,
      );
    }
  }
  return v;
}

function isRow(r: unknown): r is ArrayLike<number> {
  return Array.isArray(r) || (ArrayBuffer.isView(r) && !(r instanceof DataView));
}

/**
 * The labels of one-hot rows `[N, K]`: `y_n = argmax_k Y_nk`, each row all 0 but one 1.
 * @throws ArgumentError naming `y` at the first row that is not one-hot.
 */
function oneHotLabels(v: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let ones = 0;
    let at = -1;
    for (let c = 0; c < k; c++) {
      const t = v[i * k + c] as number;
      if (t === 1) {
        ones++;
        at = c;
      } else if (t !== 0) {
        ones = -1;
        break;
      }
    }
    if (ones !== 1) {
      throw new ArgumentError(
        'y',
        `expected integer labels [${n}] or one-hot rows [${n}, ${k}] (one 1, the rest 0); row ${i} is not one-hot`,
      );
    }
    out[i] = at;
  }
  return out;
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
