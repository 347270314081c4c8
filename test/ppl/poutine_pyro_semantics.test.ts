/**
 * Handler semantics checked against Pyro and NumPyro: `block` does not hide the seed stream
 * (NumPyro's `test_block_seed`), `lift` takes stochastic functions as priors (Pyro's
 * `LiftHandlerTests`), `uncondition` makes `deterministic` sites latent (Pyro's
 * `UnconditionMessenger` has no exception for them).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { handlerSeed } from '../../src/ppl/handlers/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => {
  ppl.clearParamStore();
  expect(ppl.HANDLER_STACK.length).toBe(0);
});

describe('seed through block (NumPyro`s test_block_seed)', () => {
  /** x, y, a subsampled plate n with z, then u: every kind of seeded site. */
  const fn = (): Record<string, number[]> => {
    const x = ppl.sample('x', new D.Normal(0, 1));
    const y = ppl.sample('y', new D.Normal(x, 1));
    const [idx, z] = ppl.plate('n', 10, { subsampleSize: 7 }, (i) => [
      i,
      ppl.sample('z', new D.Normal(y, 1)),
    ]);
    const u = ppl.sample('u', new D.Normal(z.mean(), 1));
    return Object.fromEntries(
      Object.entries({ x, y, idx, z, u }).map(([k, t]) => [k, Array.from(t.dataSync())]),
    );
  };
  const configs: [ppl.BlockOptions, string[]][] = [
    [{ hide: ['y'] }, ['x', 'n', 'z', 'u']],
    [{}, []],
    [{ hide: ['n'] }, ['x', 'y', 'z', 'u']],
    [{ hide: ['z', 'u'] }, ['x', 'y', 'n']],
    [{ expose: ['x', 'z'] }, ['x', 'z']],
    [{ hideTypes: ['subsample'] }, ['x', 'y', 'z', 'u']],
  ];
  it.each(configs)('seed(block(fn, %j)) draws what block(seed(fn)) does', (o, seen) => {
    expectNoLeak(() => {
      tf.tidy(() => {
        const t1 = ppl.trace(ppl.block(ppl.seed(fn, 17), o)).getTraceUntidied();
        const t2 = ppl.trace(ppl.seed(ppl.block(fn, o), 17)).getTraceUntidied();
        expect(t1.trace.sites().map((s) => s.name)).toEqual(seen);
        expect(t2.trace.sites().map((s) => s.name)).toEqual(seen);
        // before: the hidden sites drew from the global stream under seed(block(...))
        expect(t2.value).toEqual(t1.value);
        const again = ppl.seed(ppl.block(fn, o), 17)();
        expect(again).toEqual(t1.value);
      });
    });
  });
  it('an inner seed keeps seeding the sites it sees; handlerSeed crosses block', () => {
    const inner = ppl.seed(ppl.block(ppl.seed(fn, 3), { hide: ['y'] }), 99)();
    expect(inner).toEqual(ppl.seed(fn, 3)());
    // NumPyro's prng_key() is never blocked: the seed outside the block answers
    const a = ppl.seed(
      ppl.block(() => handlerSeed()),
      5,
    )();
    const b = ppl.seed(() => handlerSeed(), 5)();
    expect(a).toBe(b);
    expect(ppl.block(() => handlerSeed())()).toBeUndefined();
  });
  it('inferDiscrete under seed(block(...)) repeats its draws', () => {
    const model = (): tf.Tensor =>
      ppl.plate('data', 6, () => {
        const z = ppl.sample('z', new D.Bernoulli(0.5));
        ppl.sample('y', new D.Normal(z, 2), { obs: tf.tensor1d([0, 1, 0.5, 0.2, 1, 0.7]) });
        return z;
      });
    const draw = (): number[] =>
      tf.tidy(() =>
        Array.from(
          ppl
            .seed(ppl.block(ppl.inferDiscrete(model)), 4)()
            .dataSync(),
        ),
      );
    const d = draw();
    expect(draw()).toEqual(d);
    expect(tf.tidy(() => Array.from(ppl.seed(ppl.inferDiscrete(model), 4)().dataSync()))).toEqual(
      d,
    );
  });
});
