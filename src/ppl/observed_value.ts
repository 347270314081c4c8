/**
 * The observed value of a sample site and its `obsMask` (Pyro's `obs` and `obs_mask`), checked
 * and made tensors before any handler sees them: `obs` a live numeric tensor or tensor-like, the
 * mask a bool tensor or rectangular boolean array whose shape broadcasts with the site's batch
 * shape `broadcast(dist.batchShape, batch(obs))` (numpy rules: dims from the right are equal or
 * one of them is 1).
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../distributions/distribution.js';
import { ArgumentError } from '../utils/errors.js';
import { rectangularShape } from '../utils/tensor.js';
import { shapeStr } from './site_validation.js';

/** `true` when shapes `a` and `b` broadcast (numpy rules). */
export function broadcasts(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 1; i <= Math.min(a.length, b.length); i++) {
    const x = a[a.length - i] as number;
    const y = b[b.length - i] as number;
    if (x !== y && x !== 1 && y !== 1) return false;
  }
  return true;
}

/** The broadcast of two shapes that {@link broadcasts}. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) =>
    Math.max(a[a.length - n + i] ?? 1, b[b.length - n + i] ?? 1),
  );
}

/**
 * The `obsMask` of site `name` as a bool tensor (the caller's, or a new one), checked before
 * anything is made: a live `bool` tensor, a boolean or a rectangular nested array of booleans,
 * whose shape broadcasts with the site's batch shape `broadcast(dist.batchShape, batch(obs))`
 * (Pyro: "broadcastable with `fn.batch_shape`") and has no more dims than the batch part of
 * `obs`. Errors name `obsMask`, the site and the expected shape.
 */
export function obsMaskTensor(
  name: string,
  m: tf.Tensor | tf.TensorLike,
  dist: Distribution,
  obs: tf.Tensor,
): tf.Tensor {
  const eventShape = dist.eventShape;
  const obsBatch = obs.shape.slice(0, Math.max(0, obs.rank - eventShape.length));
  const siteBatch = broadcasts(dist.batchShape, obsBatch)
    ? broadcastShape(dist.batchShape, obsBatch)
    : obsBatch;
  const expected =
    `expected a bool mask of the site's batch shape ${shapeStr(siteBatch)} or one that ` +
    `broadcasts to it (obs ${shapeStr(obs.shape)}, ${dist.name} batch shape ` +
    `${shapeStr(dist.batchShape)}, event shape ${shapeStr(eventShape)})`;
  const fail = (got: string): never => {
    throw new ArgumentError('obsMask', `sample('${name}'): ${expected}; got ${got}`);
  };
  let shape: readonly number[];
  if (m instanceof tf.Tensor) {
    if (m.isDisposed) fail('a disposed tensor');
    if (m.dtype !== 'bool') {
      fail(`a ${m.dtype} tensor (cast a 0/1 tensor with tf.cast(m, 'bool'))`);
    }
    shape = m.shape;
  } else {
    if (!Array.isArray(m) && typeof m !== 'boolean') {
      fail(ArrayBuffer.isView(m) ? 'a typed array (not booleans)' : typeof m);
    }
    const flat: unknown[] = Array.isArray(m) ? (m as unknown[]).flat(Infinity) : [m];
    const bad = flat.find((v) => typeof v !== 'boolean');
    if (bad !== undefined) {
      fail(`an array holding ${typeof bad} ${String(bad)} (masks are booleans, as in Pyro)`);
    }
    const s = rectangularShape(m);
    if (s === undefined) fail('a ragged nested array (rows of different lengths or nesting)');
    shape = s as number[];
  }
  if (
    shape.length > obsBatch.length ||
    !broadcasts(shape, obsBatch) ||
    !broadcasts(shape, dist.batchShape)
  ) {
    fail(`shape ${shapeStr(shape)}`);
  }
  if (m instanceof tf.Tensor) return m;
  const data = Array.isArray(m) ? ((m as unknown[]).flat(Infinity) as boolean[]) : [m as boolean];
  return tf.tensor(data, [...shape], 'bool');
}

/**
 * The observed value of site `name` as a tensor: a live tensor as it is, else `tf.tensor(obs)`.
 * @throws ArgumentError naming `obs` (and the site) for a disposed tensor or a value tfjs cannot
 *   make a tensor of, before any handler sees it.
 */
export function observedTensor(name: string, obs: tf.Tensor | tf.TensorLike): tf.Tensor {
  if (obs instanceof tf.Tensor) {
    if (obs.isDisposed) {
      throw new ArgumentError(
        'obs',
        `sample('${name}'): the observed tensor is disposed (keep the data alive while the model runs, e.g. during MCMC.run or SVI steps)`,
      );
    }
    if (obs.dtype === 'string') {
      throw new ArgumentError(
        'obs',
        `sample('${name}'): expected a numeric tensor, got a string one`,
      );
    }
    return obs;
  }
  let t: tf.Tensor | undefined;
  try {
    t = tf.tensor(obs);
  } catch {
    t = undefined;
  }
  if (t === undefined || t.dtype === 'string') {
    t?.dispose();
    throw new ArgumentError(
      'obs',
      `sample('${name}'): expected a tensor, a number or a (nested) array of numbers`,
    );
  }
  return t;
}
