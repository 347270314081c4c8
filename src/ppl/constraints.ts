/**
 * Constraints of parameters: each maps an unconstrained real tensor `u` to the constrained space
 * and back. The parameter store optimizes `u` and hands out `forward(u)`.
 *
 * - `real`: `x = u`.
 * - `positive`: `x = softplus(u) = log(1 + e^u)`, `u = x + log(-expm1(-x))`.
 * - `positiveExp`: `x = e^u`, `u = log x`.
 * - `unitInterval`: `x = sigmoid(u)`, `u = log(x) - log(1 - x)`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { softplusInverse } from '../utils/tensor.js';

/** A bijection between the reals and a constrained set. */
export interface Constraint {
  readonly name: string;
  /** Unconstrained -> constrained. */
  forward(u: tf.Tensor): tf.Tensor;
  /** Constrained -> unconstrained. */
  inverse(x: tf.Tensor): tf.Tensor;
  /** Whether `x` lies in the set (checked on initial values). */
  check(x: number): boolean;
}

/** The whole real line: identity. */
export const real: Constraint = {
  name: 'real',
  forward: (u) => u,
  inverse: (x) => x,
  check: (x) => Number.isFinite(x),
};

/** `x > 0` through softplus (gradients stay bounded for large `u`, unlike `exp`). */
export const positive: Constraint = {
  name: 'positive',
  forward: (u) => tf.softplus(u),
  inverse: (x) => softplusInverse(x),
  check: (x) => x > 0 && Number.isFinite(x),
};

/** `x > 0` through `exp`. */
export const positiveExp: Constraint = {
  name: 'positiveExp',
  forward: (u) => tf.exp(u),
  inverse: (x) => tf.log(x),
  check: (x) => x > 0 && Number.isFinite(x),
};

/** `0 < x < 1` through the logistic sigmoid. */
export const unitInterval: Constraint = {
  name: 'unitInterval',
  forward: (u) => tf.sigmoid(u),
  inverse: (x) => tf.tidy(() => tf.sub(tf.log(x), tf.log1p(tf.neg(x)))),
  check: (x) => x > 0 && x < 1,
};
