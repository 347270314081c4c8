/**
 * Global and per-call seeds.
 *
 * `setSeed(n)` starts a deterministic stream of integer seeds (a SplitMix32 generator); every
 * sampler that is not given an explicit seed draws its seed from this stream through
 * {@link nextSeed}. Without `setSeed`, `nextSeed` draws from `Math.random`, so runs differ.
 */

import { ArgumentError } from './errors.js';

let state: number | undefined;

/**
 * Make every subsequent sampling call reproducible within this process.
 *
 * @param seed any finite number; the same seed gives the same sequence of samples.
 * @example
 * ```ts
 * setSeed(42);
 * const a = new Normal(0, 1).sample([3]);
 * setSeed(42);
 * const b = new Normal(0, 1).sample([3]); // equal to a
 * ```
 */
export function setSeed(seed: number): void {
  if (!Number.isFinite(seed))
    throw new ArgumentError('seed', `expected a finite number, got ${seed}`);
  state = Math.floor(seed) >>> 0;
}

/** Forget the global seed: sampling becomes non-deterministic again. */
export function clearSeed(): void {
  state = undefined;
}

/** SplitMix32 step: a well-mixed 32-bit integer from a 32-bit counter. */
function splitmix32(): number {
  state = ((state ?? 0) + 0x9e3779b9) >>> 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * The seed for the next sampling call: the explicit `seed` when one is given, otherwise the next
 * value of the global stream, otherwise a random one.
 */
export function nextSeed(seed?: number): number {
  if (seed !== undefined) {
    if (!Number.isFinite(seed))
      throw new ArgumentError('seed', `expected a finite number, got ${seed}`);
    return Math.floor(seed);
  }
  if (state !== undefined) return splitmix32();
  return Math.floor(Math.random() * 2 ** 31);
}

/**
 * A small deterministic uniform generator on [0, 1) (Mulberry32), for host-side sampling
 * (rejection samplers, shuffling) that must follow the same seeds as tensor sampling.
 *
 * Mulberry32's state after `n` draws is `a₀ + n·0x6d2b79f5 (mod 2³²)`, so `skip` starts the
 * stream `skip` draws in, in constant time (the same values as drawing and dropping `skip`).
 *
 * @param seed the seed (default: {@link nextSeed}).
 * @param skip draws to jump over (a non-negative integer; default 0).
 */
export function makeRng(seed?: number, skip = 0): () => number {
  if (!Number.isInteger(skip) || skip < 0) {
    throw new ArgumentError('skip', `expected a non-negative integer, got ${skip}`);
  }
  // skip mod 2^32 (the state's period), exactly for any safe integer
  const k = (skip % 4294967296) >>> 0;
  let a = ((nextSeed(seed) >>> 0) + Math.imul(k, 0x6d2b79f5)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `n` well-mixed seeds derived from one seed (a SplitMix32 hash of `seed + i`), for samplers that
 * need several independent random streams (e.g. a normal and a gamma draw) from one call's seed.
 *
 * @example
 * ```ts
 * const [sNormal, sGamma] = deriveSeeds(nextSeed(seed), 2);
 * ```
 */
export function deriveSeeds(seed: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let z = (Math.floor(seed) + Math.imul(i + 1, 0x9e3779b9)) >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    out.push((z ^ (z >>> 16)) >>> 0);
  }
  return out;
}

/**
 * The position of the global seed stream (its 32-bit counter), to save with a checkpoint; undefined
 * when no global seed is set. {@link restoreSeedState} continues the stream from it exactly.
 * @example
 * ```ts
 * const s = seedState(); nextSeed(); restoreSeedState(s); // the same nextSeed() again
 * ```
 */
export function seedState(): number | undefined {
  return state;
}

/**
 * Continue the global seed stream from a position returned by {@link seedState} (undefined
 * clears the seed).
 * @throws RangeError for anything but an unsigned 32-bit integer or undefined.
 */
export function restoreSeedState(s: number | undefined): void {
  if (s === undefined) {
    state = undefined;
    return;
  }
  if (!Number.isInteger(s) || s < 0 || s > 0xffffffff) {
    throw new RangeError(`seed state: expected an unsigned 32-bit integer, got ${s}`);
  }
  state = s;
}
