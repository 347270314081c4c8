/**
 * The checks of the benchmark's labelled sets before any method runs: a tensor `x` `[N, ...]` and
 * `N` integer labels `y_i >= 0`.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../../utils/errors.js';
import type { ShiftSet } from './benchmark_types.js';

/**
 * A set is `{family, level, x, labels}` with `x` a tensor `[N, ...]` and `N` labels.
 * @throws ArgumentError naming the set (`name`) or its labels.
 */
export function checkSet(s: ShiftSet, name: string): void {
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
export function checkLabelValues(labels: ArrayLike<number>, name: string): void {
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i] as number;
    if (!Number.isInteger(v) || v < 0) {
      throw new ArgumentError(name, `expected integer class labels >= 0, got ${String(v)} at ${i}`);
    }
  }
}
