/**
 * The runtime's default rule for a message no handler gave a value: a sample site is drawn from
 * its distribution (`rsample` when it has one), a param site read from the parameter store, a
 * subsample site gets `k` distinct indices of `0..n-1` (a partial Fisher-Yates shuffle); and the
 * fallback for sites that cannot be drawn ({@link withUndrawableFallback}).
 */
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from '../distributions/distribution.js';
import { NotDefinedError } from '../utils/errors.js';
import { makeRng } from '../utils/seed.js';
import { getParamStore } from './param_store.js';
import type { Message } from './runtime.js';

/**
 * The default rule, applied when no handler produced a value: sample sites draw from their
 * distribution (reparameterized when it can, so gradients reach its parameters), param sites read
 * (or create) the parameter store entry, subsample sites draw indices without replacement.
 *
 * @internal (an implementation detail of the handlers; use the handler functions)
 */
export function defaultProcessMessage(msg: Message): void {
  if (msg.done || msg.value !== null) {
    msg.done = true;
    return;
  }
  if (msg.type === 'sample') {
    const fn = msg.fn as Distribution;
    try {
      msg.value = fn.hasRsample ? fn.rsample([], msg.seed) : fn.sample([], msg.seed);
    } catch (e) {
      if (undrawable === null || !(e instanceof NotDefinedError)) throw e;
      msg.value = undrawable(fn);
    }
  } else if (msg.type === 'param') {
    // a param hidden by `block` (stopped on its way out) is read but not captured by SVI, as
    // Pyro's param-only trace never sees it: blocking a param freezes it
    msg.value = getParamStore().get(msg.name, msg.init, msg.constraint, !msg.stop);
  } else {
    msg.value = subsampleIndices(msg.size, msg.subsampleSize, msg.seed);
  }
  msg.done = true;
}

/** The value a site that cannot be drawn gets (see {@link withUndrawableFallback}), or null. */
let undrawable: ((fn: Distribution) => tf.Tensor) | null = null;

/**
 * Run `body` with `fallback(fn)` as the value of any sample site whose distribution cannot be
 * drawn (`NotDefinedError`, e.g. an `ImproperUniform`) and that no handler gave a value: the
 * autoguides' prototype run, where sites hidden from the guide by `block` (e.g. the other parts
 * of a `SplitReparam`) still need a value for the rest of the model to run. @internal
 */
export function withUndrawableFallback<T>(
  fallback: (fn: Distribution) => tf.Tensor,
  body: () => T,
): T {
  const prev = undrawable;
  undrawable = fallback;
  try {
    return body();
  } finally {
    undrawable = prev;
  }
}

/** `k` distinct indices of `0..n-1` in random order (a partial Fisher-Yates shuffle). */
function subsampleIndices(n: number, k: number, seed: number | undefined): tf.Tensor {
  if (k >= n) return tf.range(0, n, 1, 'int32');
  const rng = makeRng(seed);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rng() * (n - i));
    const t = perm[i] as number;
    perm[i] = perm[j] as number;
    perm[j] = t;
  }
  return tf.tensor1d(perm.subarray(0, k), 'int32');
}
