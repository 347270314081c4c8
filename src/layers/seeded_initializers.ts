/**
 * Weight initializers that follow deepprob's seed. tfjs's random initializers (`glorotUniform`,
 * `heNormal`, `randomNormal`, `truncatedNormal`, `orthogonal`, ... — every `VarianceScaling`,
 * `RandomUniform`, `RandomNormal`, `TruncatedNormal` and `Orthogonal`) draw from `Math.random`
 * unless built with a `seed`, so a model's initial weights do not reproduce under `setSeed` (torch's
 * `manual_seed` fixes `nn.Linear`'s). With this patch an initializer without its own seed, applied
 * while a global seed is set, draws with `seed = nextSeed()`: after `setSeed(s)` the initial weights
 * `W₀ = init(shape; seed_k)` are a function of `s` and of the order the weights are built in.
 * Without a global seed, or with an explicit `seed`, tfjs's behaviour is unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { nextSeed, seedState } from '../utils/seed.js';

interface InitializerLike {
  seed?: number | null;
  apply(shape: number[], dtype?: tf.DataType): tf.Tensor;
}

const MARK = Symbol.for('deepprob.seededInitializers');

/** The prototypes whose `apply` reads `this.seed` (a base class once, so subclasses inherit). */
function initializerPrototypes(): (InitializerLike & Record<symbol, unknown>)[] {
  const made = [
    tf.initializers.glorotUniform({}), // VarianceScaling, base of every glorot/he/leCun
    tf.initializers.randomUniform({}),
    tf.initializers.randomNormal({}),
    tf.initializers.truncatedNormal({}),
    tf.initializers.orthogonal({}),
  ];
  const protos = new Set<InitializerLike & Record<symbol, unknown>>();
  for (const init of made) {
    // the class that defines `apply` (GlorotUniform inherits VarianceScaling's)
    let p = Object.getPrototypeOf(init) as (InitializerLike & Record<symbol, unknown>) | null;
    while (p !== null && !Object.prototype.hasOwnProperty.call(p, 'apply')) {
      p = Object.getPrototypeOf(p) as (InitializerLike & Record<symbol, unknown>) | null;
    }
    if (p !== null) protos.add(p);
  }
  return [...protos];
}

/**
 * Patch the random initializers' `apply` once (idempotent; a no-op where a prototype is not
 * writable): applied without an own `seed` while `setSeed` is active, it runs with
 * `seed = nextSeed()`.
 */
export function installSeededInitializers(): void {
  for (const proto of initializerPrototypes()) {
    if (proto[MARK] === true) continue;
    const stock = proto.apply;
    const seeded = function (
      this: InitializerLike,
      shape: number[],
      dtype?: tf.DataType,
    ): tf.Tensor {
      if ((this.seed !== undefined && this.seed !== null) || seedState() === undefined) {
        return stock.call(this, shape, dtype);
      }
      const own = Object.getOwnPropertyDescriptor(this, 'seed');
      this.seed = nextSeed();
      try {
        return stock.call(this, shape, dtype);
      } finally {
        if (own === undefined) delete this.seed;
        else Object.defineProperty(this, 'seed', own);
      }
    };
    try {
      proto.apply = seeded;
      proto[MARK] = true;
    } catch {
      // a frozen prototype: keep tfjs's initializer
    }
  }
}
