/**
 * The bounds of interval-type constraints (`interval(a, b)`, `greaterThan(a)`, ...): numbers or
 * tensors broadcasting with the values; checked, named and compared here.
 */
import * as tf from '@tensorflow/tfjs';
import { ArgumentError } from '../utils/errors.js';
import type { Bound } from './constraint.js';

/** A bound for names and messages: the number, the scalar tensor's value or `tensor[shape]`. */
export function boundName(b: Bound): string {
  if (typeof b === 'number') return String(b);
  return b.size === 1 ? String(b.dataSync()[0]) : `tensor[${b.shape.join(',')}]`;
}
/** Checks a bound argument: a non-NaN number or a live tensor (else an `ArgumentError` naming it). */
export function checkBound(b: Bound, name: string): Bound {
  if (typeof b === 'number') {
    if (Number.isNaN(b)) throw new ArgumentError(name, 'expected a number, got NaN');
    return b;
  }
  if (!(b instanceof tf.Tensor) || b.isDisposed) {
    throw new ArgumentError(name, 'expected a number or a live tensor');
  }
  return b;
}
/** Bound as something tf ops accept, cast to float32 for tensors. */
export function asOperand(b: Bound): tf.Tensor | number {
  return typeof b === 'number' ? b : b.dtype === 'float32' ? b : b.toFloat();
}

/** `[lower <= x <= upper]` elementwise (the closed-interval test of `interval`, `integerInterval`). */
export function between(x: tf.Tensor, lower: Bound, upper: Bound): tf.Tensor {
  return tf.logicalAnd(tf.greaterEqual(x, asOperand(lower)), tf.lessEqual(x, asOperand(upper)));
}
