/**
 * Elementwise selection and support-mask ops of the families: the one-kernel `select`, broadcasting
 * `whereB`, the comparisons off the gradient tape (`noGrad`, `gt`, `ge`, `lt`, `le`, `eq`, `andB`,
 * `orB`, `notB`: an indicator has zero gradient), `maskLogProb` (`-Infinity` outside the support),
 * `safe` branch inputs, `isCount`, `mulNoNan` (`0 log 0 = 0`) and `openUniform` draws.
 */
import * as tf from '@tensorflow/tfjs';
import { broadcastTo } from '../utils/tensor.js';

/**
 * `tf.where(cond, a, b)`; for a boolean `cond` and `a`, `b` of its shape and one dtype, the single
 * `Select` kernel (`tf.where` first clones each of the three: three more kernels per call).
 */
export function select(cond: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (
    cond.dtype === 'bool' &&
    a.dtype === b.dtype &&
    tf.util.arraysEqual(cond.shape, a.shape) &&
    tf.util.arraysEqual(a.shape, b.shape)
  ) {
    const inputs = { condition: cond, t: a, e: b } as unknown as tf.NamedTensorMap;
    return tf.engine().runKernel('Select', inputs) as tf.Tensor;
  }
  return tf.where(cond, a, b);
}

/** The broadcast shape of some tensors (numpy rules). */
export function bshape(...ts: tf.Tensor[]): number[] {
  return ts.reduce<number[]>((s, t) => tf.backend_util.assertAndGetBroadcastShape(s, t.shape), []);
}

/** `a * b`, but 0 where `a == 0` even if `b` is infinite (the `0 log 0 = 0` convention). */
export function mulNoNan(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const zero = eq(a, 0);
    const shape = bshape(a, b);
    const bSafe = select(broadcastTo(zero, shape), tf.zeros(shape), broadcastTo(b, shape));
    return tf.mul(a, bSafe);
  });
}

/**
 * A boolean (or any non-differentiable) function of tensors computed off the gradient tape:
 * `noGrad(f, a, b)` equals `f(a, b)` and has zero gradient with respect to `a` and `b`, so a
 * support test such as `x > 0` can feed a `tf.where` inside a differentiated `logProb` (tfjs has
 * no gradient for comparison ops; a stopped-gradient condition is exact since the indicator is
 * piecewise constant).
 */
export function noGrad(f: (...xs: tf.Tensor[]) => tf.Tensor, ...xs: tf.Tensor[]): tf.Tensor {
  const g = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const inputs = args.slice(0, xs.length) as tf.Tensor[];
    const shapes = inputs.map((t) => t.shape);
    return {
      value: f(...inputs),
      // zeros of the inputs' shapes (the inputs may be disposed by backward time)
      gradFunc: () => shapes.map((s) => tf.zeros(s)),
    };
  });
  return g(...xs);
}

/** `a > b` off the gradient tape (see {@link noGrad}). */
export const gt = (a: tf.Tensor, b: tf.Tensor | number): tf.Tensor =>
  noGrad((x, y) => tf.greater(x as tf.Tensor, y as tf.Tensor), a, toT(b));
/** `a >= b` off the gradient tape. */
export const ge = (a: tf.Tensor, b: tf.Tensor | number): tf.Tensor =>
  noGrad((x, y) => tf.greaterEqual(x as tf.Tensor, y as tf.Tensor), a, toT(b));
/** `a < b` off the gradient tape. */
export const lt = (a: tf.Tensor, b: tf.Tensor | number): tf.Tensor =>
  noGrad((x, y) => tf.less(x as tf.Tensor, y as tf.Tensor), a, toT(b));
/** `a <= b` off the gradient tape. */
export const le = (a: tf.Tensor, b: tf.Tensor | number): tf.Tensor =>
  noGrad((x, y) => tf.lessEqual(x as tf.Tensor, y as tf.Tensor), a, toT(b));
/** `a == b` off the gradient tape. */
export const eq = (a: tf.Tensor, b: tf.Tensor | number): tf.Tensor =>
  noGrad((x, y) => tf.equal(x as tf.Tensor, y as tf.Tensor), a, toT(b));
/** Logical AND off the gradient tape. */
export const andB = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
  noGrad((x, y) => tf.logicalAnd(x as tf.Tensor, y as tf.Tensor), a, b);
/** Logical OR off the gradient tape. */
export const orB = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
  noGrad((x, y) => tf.logicalOr(x as tf.Tensor, y as tf.Tensor), a, b);
/** Logical NOT off the gradient tape. */
export const notB = (a: tf.Tensor): tf.Tensor => noGrad((x) => tf.logicalNot(x as tf.Tensor), a);
function toT(b: tf.Tensor | number): tf.Tensor {
  return typeof b === 'number' ? tf.scalar(b) : b;
}

/** `logp` where `ok`, `-Infinity` elsewhere (the log-density outside the support). */
export function maskLogProb(ok: tf.Tensor, logp: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = bshape(ok, logp);
    return select(broadcastTo(ok, shape), broadcastTo(logp, shape), tf.fill(shape, -Infinity));
  });
}

/** `x` where `ok`, `fallback` elsewhere: a safe input for a branch that `maskLogProb` discards. */
export function safe(ok: tf.Tensor, x: tf.Tensor, fallback: number): tf.Tensor {
  return tf.tidy(() => {
    const shape = bshape(ok, x);
    return select(broadcastTo(ok, shape), broadcastTo(x, shape), tf.fill(shape, fallback));
  });
}

/** True where `x` is a non-negative integer. */
export function isCount(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => andB(ge(x, 0), eq(x, tf.floor(x))));
}

/** Uniform draws on the open interval (0, 1): never exactly 0, so `log u` is finite. */
export function openUniform(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, 1e-30, 1, 'float32', seed);
}

/** `tf.where` with numpy broadcasting of all three arguments. */
export function whereB(cond: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const shape = bshape(cond, a, b);
    return select(broadcastTo(cond, shape), broadcastTo(a, shape), broadcastTo(b, shape));
  });
}
