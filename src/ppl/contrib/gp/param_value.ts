/**
 * Hyperparameter values of the GP modules (Pyro's `pyro.contrib.gp`): a number, a (nested) array
 * of numbers or a tensor, checked (finite, numeric, in the hyperparameter's constraint `C`, i.e.
 * `C.check(θ)` true everywhere) and copied to host float32 data before any work.
 */
import * as tf from '@tensorflow/tfjs';
import type { Constraint } from '../../constraints.js';
import { ArgumentError } from '../../../utils/errors.js';

/** A hyperparameter value: a number, a (nested) array of numbers or a tensor. */
export type ParamValue = number | number[] | number[][] | tf.Tensor;

/**
 * Check a scalar hyperparameter value: a number, or a tensor of one value of rank `<= 1`.
 * @throws ArgumentError naming `arg` otherwise.
 * @internal
 */
export function checkScalar(v: ParamValue, arg: string): void {
  const scalar = typeof v === 'number' || (v instanceof tf.Tensor && v.size === 1 && v.rank <= 1);
  if (!scalar) throw new ArgumentError(arg, 'expected a scalar');
}

/**
 * A value as host data, checked finite and against `constraint`, before any work.
 * @throws ArgumentError naming `arg` when it is not numeric, not finite or outside `constraint`.
 * @internal
 */
export function hostValue(
  v: unknown,
  arg: string,
  constraint: Constraint,
): { data: Float32Array; shape: number[] } {
  let t: tf.Tensor;
  if (v instanceof tf.Tensor) {
    if (v.isDisposed) throw new ArgumentError(arg, 'expected a live tensor, got a disposed one');
    if (v.dtype === 'string' || v.dtype === 'complex64') {
      throw new ArgumentError(arg, `expected a numeric tensor, got ${v.dtype}`);
    }
    t = v.dtype === 'float32' ? v.clone() : tf.cast(v, 'float32');
  } else if (
    typeof v === 'number' ||
    (Array.isArray(v) &&
      v.flat(2).length > 0 &&
      v.flat(2).every((x: unknown) => typeof x === 'number'))
  ) {
    try {
      t = tf.tensor(v as number | number[] | number[][], undefined, 'float32');
    } catch {
      throw new ArgumentError(arg, 'expected a number or a rectangular array of numbers');
    }
  } else {
    throw new ArgumentError(
      arg,
      `expected a number, an array of numbers or a tensor, got ${v === null ? 'null' : typeof v}`,
    );
  }
  try {
    const data = t.dataSync() as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i] as number)) {
        throw new ArgumentError(arg, `expected finite values, got ${data[i]} at index ${i}`);
      }
    }
    const ok = tf.tidy(() => constraint.check(t).all().dataSync()[0] === 1);
    if (!ok) {
      const shown = data.length <= 8 ? `[${Array.from(data).join(', ')}]` : `shape [${t.shape}]`;
      throw new ArgumentError(arg, `expected values in ${constraint.name}, got ${shown}`);
    }
    return { data: Float32Array.from(data), shape: [...t.shape] };
  } finally {
    t.dispose();
  }
}
