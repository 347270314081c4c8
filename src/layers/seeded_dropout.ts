/**
 * Dropout that follows deepprob's seed. tfjs's `Dropout` layer draws its mask from a fresh random
 * seed on every training call unless the layer was built with a fixed `seed` (and then it draws
 * the same mask on every call), so dropout networks do not reproduce under `setSeed`. With this
 * patch a `Dropout` layer (or a subclass such as `SpatialDropout1D`) without its own seed takes the
 * seed of each training call from deepprob's stream, `nextSeed()`: after `setSeed(s)` the masks
 * are a function of `s` (the trainer seeds every epoch), and without a global seed they stay
 * random as in stock tfjs. Layers built with an explicit `seed` keep tfjs's behaviour.
 */
import * as tf from '@tensorflow/tfjs';
import { nextSeed } from '../utils/seed.js';

type Call = (
  this: DropoutLike,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: tf.serialization.ConfigDict,
) => tf.Tensor | tf.Tensor[];

interface DropoutLike {
  seed?: number | null;
  call: Call;
}

const MARK = Symbol.for('deepprob.seededDropout');

/**
 * Patch tfjs's `Dropout.prototype.call` once (idempotent; a no-op where the prototype is not
 * writable): a training call of a layer without its own `seed` runs with `seed = nextSeed()`.
 */
export function installSeededDropout(): void {
  const proto = Object.getPrototypeOf(tf.layers.dropout({ rate: 0.5 })) as DropoutLike &
    Record<symbol, unknown>;
  if (proto[MARK] === true) return;
  const stock = proto.call;
  const seeded: Call = function (this: DropoutLike, inputs, kwargs) {
    // a layer restored from JSON has `seed: null` (no own seed), a fresh one `undefined`
    if ((this.seed !== undefined && this.seed !== null) || kwargs['training'] !== true) {
      return stock.call(this, inputs, kwargs);
    }
    const own = Object.getOwnPropertyDescriptor(this, 'seed');
    this.seed = nextSeed();
    try {
      return stock.call(this, inputs, kwargs);
    } finally {
      if (own === undefined) delete this.seed;
      else Object.defineProperty(this, 'seed', own);
    }
  };
  try {
    proto.call = seeded;
    proto[MARK] = true;
  } catch {
    // a frozen prototype: keep tfjs's dropout
  }
}
