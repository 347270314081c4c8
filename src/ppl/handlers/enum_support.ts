/**
 * What parallel enumeration can enumerate, and the checks on it: the support values of a discrete
 * site (`{0, 1}`, `lower..upper`, or the one-hot vectors `e_0, ..., e_{K-1}` of a
 * `OneHotCategorical`), whether a site has such a finite support (Pyro's `has_enumerate_support`),
 * the deepest batch dim the backend's kernels allow, and the argument checks of enumeration
 * (`numSamples`, enumerable latent sites). Used by the `enumerate` handler (`enum.ts`) and by the
 * inference algorithms that sum discrete sites out.
 */
import * as tf from '@tensorflow/tfjs';
import { finiteSupportValues, type Distribution } from '../../distributions/distribution.js';
import { ArgumentError } from '../../utils/errors.js';
import type { Message } from '../runtime.js';

/**
 * The support values `lower..upper` (finite integer intervals) or `{0, 1}` of a discrete site with
 * no event dims, as float32 like the family's draws (cast with `tf.cast(z, 'int32')` to index);
 * {@link enumerateSupportTable} also covers one-hot vectors.
 */
export function enumerateSupportValues(fn: Distribution, site: string): number[] {
  const values = finiteSupportValues(fn.support);
  if (values !== undefined) return values;
  throw new ArgumentError(
    site,
    `site '${site}': cannot enumerate the support ${fn.support.name} of ${fn.name} (expected ` +
      'a boolean or a finite integer interval with the same bounds for the whole batch)',
  );
}

/**
 * Whether `fn` can be enumerated: a boolean or finite integer-interval support with no event
 * dims (`Bernoulli`, `Categorical`, ...), or the one-hot vectors of length `K` (`OneHotCategorical`,
 * event shape `[K]`, possibly expanded), as Pyro's `has_enumerate_support`.
 */
export function isEnumerable(fn: Distribution): boolean {
  if (fn.eventShape.length === 0) return finiteSupportValues(fn.support) !== undefined;
  return fn.support.kind === 'oneHot' && fn.eventShape.length === 1;
}

/**
 * The `K` support values of a discrete site, float32 like the family's draws, as a table of shape
 * `[K, ...eventShape]` (from the family's `enumerateSupport(false)`): `[K]` holding
 * `lower..upper` or `{0, 1}` (cast with `tf.cast(z, 'int32')` to index), or `[K, K]` holding the
 * one-hot vectors `e_0, ..., e_{K-1}` of a `OneHotCategorical`.
 */
export function enumerateSupportTable(fn: Distribution, site: string): tf.Tensor {
  if (!isEnumerable(fn)) {
    throw new ArgumentError(
      site,
      `site '${site}': cannot enumerate the support ${fn.support.name} of ${fn.name} (expected ` +
        'a boolean or a finite integer interval with the same bounds for the whole batch and no ' +
        'event dims, or one-hot vectors)',
    );
  }
  return tf.tidy(() => {
    const v = fn.enumerateSupport(false);
    return tf.reshape(v, [v.shape[0] as number, ...fn.eventShape]);
  });
}

/**
 * The deepest batch dim an enumerated site may take on the WebGL, WebGPU and TensorFlow
 * backends: rank-6 tensors (5 batch dims and a `Categorical`'s event dim); their shaders stop at
 * 6 dims. (The wasm backend's XNNPACK binary kernels did too, leaving the output unwritten;
 * `ready()` folds their operands to at most 6 dims, `backend/kernels/binary_rank.ts`.)
 */
export const MAX_ENUM_RANK = 5;

/**
 * The deepest batch dim (plates and enumeration together) an enumerated site may take on the
 * current backend: 15 on `cpu` and `wasm` (their kernels broadcast, reduce, transpose and gather
 * tensors of rank 16 and more once `ready()` has fixed wasm's binary kernels; Pyro's own ceiling
 * is PyTorch's 25 dims on CUDA), {@link MAX_ENUM_RANK} elsewhere. A deeper site is an error
 * naming it, before any tensor of that rank is made.
 */
export function maxEnumRank(): number {
  const backend = tf.getBackend();
  return backend === 'cpu' || backend === 'wasm' ? 15 : MAX_ENUM_RANK;
}

/** Throw naming `numSamples` unless it is an integer >= 1. */
export function checkNumSamples(n: unknown, who: string): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new ArgumentError('numSamples', `${who}: expected an integer >= 1, got ${String(n)}`);
  }
}

/**
 * Throw unless the unobserved discrete site `msg` can be enumerated in parallel: a finite support
 * (see {@link isEnumerable}) and no other `enumerate`
 * annotation. Its message names `who` (the inference that enumerates it) and the site.
 */
export function checkEnumerable(msg: Message, who: string): void {
  const fn = msg.fn;
  if (fn === null) return;
  const e = msg.infer.enumerate;
  if (e !== undefined && e !== 'parallel') {
    throw new ArgumentError(
      'model',
      `${who}: discrete latent site '${msg.name}' asks for enumerate: '${String(e)}'; ${who} ` +
        "enumerates discrete latent sites in parallel (use enumerate: 'parallel' or none)",
    );
  }
  if (isEnumerable(fn)) return;
  throw new ArgumentError(
    'model',
    `${who}: latent site '${msg.name}' has the discrete support '${fn.support.name}' of ` +
      `${fn.name}, which cannot be enumerated (summed out); ${who} needs every discrete latent ` +
      'to have a finite support (a boolean or one integer interval for the whole batch with no ' +
      'event dims, or one-hot vectors): observe it, or write it with a finite support (e.g. a Categorical over a ' +
      'truncated range 0..K) or marginalize it out by hand',
  );
}
