/**
 * Argument checks shared by the Laplace fits (last layer and all layers): positive scalars and
 * training targets (`N` integer labels in `[0, K)` for classification, finite `[N, K]` targets
 * for regression), read to the host once as float64.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../../utils/errors.js';
import type { LaplaceLikelihood } from './curvature.js';

/** @throws ArgumentError naming `name` unless `0 < v < Infinity`. */
export function checkPositive(v: number, name: string): void {
  if (!(v > 0) || !Number.isFinite(v)) {
    throw new ArgumentError(name, `expected a finite number > 0, got ${v}`);
  }
}

/**
 * The training targets on the host, checked against `N` inputs and `K` outputs.
 * @throws ArgumentError naming `y` on a wrong count, a label outside `[0, K)` or a non-finite target.
 */
export function checkTargets(
  y: tf.Tensor | ArrayLike<number>,
  n: number,
  k: number,
  likelihood: LaplaceLikelihood,
): Float64Array {
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
