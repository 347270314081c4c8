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

const LOG_2PI = Math.log(2 * Math.PI);
const normalLogpdf = (x: number, m: number, s: number): number =>
  -0.5 * LOG_2PI - Math.log(s) - (0.5 * (x - m) ** 2) / s ** 2;
const num = (t: tf.Tensor): number => t.dataSync()[0] as number;

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

describe('lift with a stochastic function as the prior (Pyro`s callable prior)', () => {
  /** Pyro's LiftHandlerTests guide: two Normal latents with four params. */
  const guide = (): tf.Tensor => {
    const loc1 = ppl.param('loc1', tf.tensor1d([0.3, -0.2]));
    const scale1 = ppl.param('scale1', tf.ones([2]));
    ppl.sample('latent1', new D.Normal(loc1, scale1));
    const loc2 = ppl.param('loc2', tf.tensor1d([1, 2]));
    const scale2 = ppl.param('scale2', tf.ones([2]));
    return ppl.sample('latent2', new D.Normal(loc2, scale2));
  };
  /** Pyro's scale1_prior: exp of a standard normal of the param's shape. */
  const scalePrior = (init: tf.Tensor | undefined, name: string): tf.Tensor =>
    tf.exp(ppl.sample(`${name}_u`, new D.Normal(tf.zerosLike(init as tf.Tensor), 1)));
  const locPrior = (init: tf.Tensor | undefined, name: string): tf.Tensor =>
    ppl.sample(`${name}_u`, new D.Normal(tf.zerosLike(init as tf.Tensor), 1));

  it('one function: the lifted sites are hidden, the function`s own sites are seen (test_splice)', () => {
    expectNoLeak(() => {
      const tr = ppl.trace(ppl.seed(ppl.lift(guide, scalePrior), 1)).getTrace();
      const names = tr.sites().map((s) => s.name);
      for (const p of ['loc1', 'scale1', 'loc2', 'scale2']) {
        expect(names).not.toContain(p);
        expect(names).toContain(`${p}_u`);
      }
      // latent2 ~ N(exp(loc2_u), exp(scale2_u)): the lifted values reach the model
      const loc2 = tf.tidy(() => Array.from(tf.exp(tr.value('loc2_u')).dataSync()));
      const sc2 = tf.tidy(() => Array.from(tf.exp(tr.value('scale2_u')).dataSync()));
      const l2 = Array.from(tr.value('latent2').dataSync());
      const ref =
        [0, 1].reduce(
          (a, i) =>
            a +
            normalLogpdf(l2[i] as number, loc2[i] as number, sc2[i] as number) +
            normalLogpdf(Math.log(loc2[i] as number), 0, 1) +
            normalLogpdf(Math.log(sc2[i] as number), 0, 1),
          0,
        ) +
        tf.tidy(() =>
          num(
            new D.Normal(tf.exp(tr.value('loc1_u')), tf.exp(tr.value('scale1_u')))
              .logProb(tr.value('latent1'))
              .sum(),
          ),
        ) +
        tf.tidy(() =>
          num(
            new D.Normal(0, 1).logProb(tf.concat([tr.value('loc1_u'), tr.value('scale1_u')])).sum(),
          ),
        );
      expect(tf.tidy(() => num(tr.logProbSum()))).toBeCloseTo(ref, 4);
      expect(ppl.getParamStore().names()).toEqual([]);
      tr.dispose();
    });
  });

  it('a record of functions: named params become sites holding the value, the rest stay params (test_unlifted_param)', () => {
    expectNoLeak(() => {
      const tr = ppl
        .trace(ppl.seed(ppl.lift(guide, { loc1: locPrior, scale1: scalePrior }), 2))
        .getTrace();
      for (const p of ['loc1', 'scale1']) {
        const s = tr.get(p);
        expect(s?.type).toBe('sample');
        expect(s?.infer['lifted']).toBe(true);
        expect(tr.has(`${p}_u`)).toBe(true);
      }
      const scale1 = tf.exp(tr.value('scale1_u'));
      expect(Array.from(tr.value('scale1').dataSync())).toEqual(Array.from(scale1.dataSync()));
      scale1.dispose();
      expect(tr.get('loc2')?.type).toBe('param');
      expect(tr.get('scale2')?.type).toBe('param');
      // the lifted sites add nothing to log p: only the functions' sites and the latents do
      const ref = tf.tidy(
        () =>
          num(
            new D.Normal(0, 1).logProb(tf.concat([tr.value('loc1_u'), tr.value('scale1_u')])).sum(),
          ) +
          num(
            new D.Normal(tr.value('loc1'), tr.value('scale1')).logProb(tr.value('latent1')).sum(),
          ) +
          num(
            new D.Normal(tr.value('loc2'), tr.value('scale2')).logProb(tr.value('latent2')).sum(),
          ),
      );
      expect(tf.tidy(() => num(tr.logProbSum()))).toBeCloseTo(ref, 4);
      tr.dispose();
      ppl.clearParamStore();
    });
  });

  it('gets the param`s initial value (a number, array, tensor or function); a repeated param is lifted once', () => {
    const seen: number[][] = [];
    const prior = (init: tf.Tensor | undefined): tf.Tensor => {
      seen.push(init === undefined ? [] : Array.from(init.dataSync()));
      return tf.add(init ?? 0, ppl.sample(`u${seen.length}`, new D.Normal(0, 1)));
    };
    const model = (): tf.Tensor => {
      const a = ppl.param('a', 2);
      const b = ppl.param('b', [1, 2]);
      const c = ppl.param('c', () => tf.scalar(-1));
      const a2 = ppl.param('a', 2);
      return tf.concat([tf.stack([a, a2, c]), b]);
    };
    expectNoLeak(() => {
      const out = tf.tidy(() => ppl.lift(model, prior)());
      const v = Array.from(out.dataSync());
      expect(seen).toEqual([[2], [1, 2], [-1]]);
      expect(v[0]).toBe(v[1]);
      return out;
    });
  });

  it('refuses a function that returns no tensor, naming prior and the param, leaking nothing', () => {
    const model = (): tf.Tensor => ppl.param('s', 1);
    expectNoLeak(() => {
      expect(() => ppl.lift(model, () => 3 as never)()).toThrow(
        /^prior: lift: the prior function of param 's' returned number; expected a tensor/,
      );
      expect(() => ppl.lift(model, { s: 'x' as never })).toThrow(
        /^prior: lift: param 's': expected a Distribution or a function, got string/,
      );
    });
  });
});

describe('uncondition of a deterministic site (Pyro: every observed site becomes latent)', () => {
  it('makes it latent with wasObserved, keeping the value the model computes from the draws', () => {
    const model = (y: tf.Tensor): tf.Tensor => {
      const z = ppl.sample('z', new D.Normal(0, 1));
      const d = ppl.deterministic('d', tf.mul(z, 2));
      ppl.sample('y', new D.Normal(d, 1), { obs: y });
      return d;
    };
    expectNoLeak(() => {
      const y = tf.scalar(0.5);
      const tr = ppl
        .trace(ppl.seed(ppl.uncondition(ppl.condition(model, { z: 5 })), 1))
        .getTrace(y);
      const d = tr.get('d');
      // before: d stayed observed
      expect(d?.isObserved).toBe(false);
      expect(d?.infer['wasObserved']).toBe(true);
      expect(d?.infer['deterministic']).toBe(true);
      expect(num(d?.infer['obs'] as tf.Tensor)).toBeCloseTo(2 * num(tr.value('z')), 5);
      expect(num(tr.value('z'))).not.toBe(5);
      expect(num(tr.value('d'))).toBeCloseTo(2 * num(tr.value('z')), 5);
      expect(tr.get('y')?.isObserved).toBe(false);
      // log p: z and y only (a deterministic site has log-density 0)
      const ref =
        normalLogpdf(num(tr.value('z')), 0, 1) +
        normalLogpdf(num(tr.value('y')), num(tr.value('d')), 1);
      expect(tf.tidy(() => num(tr.logProbSum()))).toBeCloseTo(ref, 4);
      // Predictive still returns it as a deterministic site
      const pred = new ppl.Predictive(ppl.uncondition(model), { numSamples: 3 });
      const out = pred.call(y);
      expect(Object.keys(out).sort()).toEqual(['d', 'y', 'z']);
      tf.dispose(Object.values(out));
      tr.dispose();
      y.dispose();
    });
  });
});

describe('substitute: the sites it sets (between Pyro`s params-only and NumPyro`s every site)', () => {
  it('sets params and latent sites; observed, deterministic and subsample sites keep their values', () => {
    const model = (): void => {
      const p = ppl.param('p', 1);
      const z = ppl.sample('z', new D.Normal(p, 1));
      ppl.deterministic('d', tf.mul(z, 2));
      ppl.plate('n', 4, { subsampleSize: 2 }, () =>
        ppl.sample('y', new D.Normal(z, 1), { obs: tf.tensor1d([0.5, 0.5]) }),
      );
    };
    expectNoLeak(() => {
      const data = { p: 3, z: 2.5, d: 9, y: [7, 7], n: [0, 1] };
      const tr = ppl.trace(ppl.seed(ppl.substitute(model, data), 0)).getTrace();
      expect(num(tr.value('p'))).toBe(3);
      expect(num(tr.value('z'))).toBe(2.5);
      expect(num(tr.value('d'))).toBe(5);
      expect(Array.from(tr.value('y').dataSync())).toEqual([0.5, 0.5]);
      const free = ppl.trace(ppl.seed(ppl.substitute(model, { p: 3, z: 2.5 }), 0)).getTrace();
      expect(Array.from(tr.value('n').dataSync())).toEqual(Array.from(free.value('n').dataSync()));
      free.dispose();
      tr.dispose();
      ppl.clearParamStore();
    });
  });
});
