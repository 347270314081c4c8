/**
 * Audit (NumPyro parity, session 17): `fullMass` as blocks of site names on the inner kernel of
 * `HMCGibbs` / `DiscreteHMCGibbs` / `HMCECS` (NumPyro's `HMCGibbs(NUTS(model,
 * dense_mass=[("b", "c")]), ...)`): the adapted inverse mass is block-diagonal over the inner
 * coordinates, the posterior is right (Monte Carlo within 5 SE), and a block naming a Gibbs site
 * or a subsample plate is refused naming `fullMass`.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';

const { sample } = ppl;

// a ~ N(0, 1) (the Gibbs site), b ~ N(0, 1), c | b ~ N(2b, 0.5), d ~ N(1, 3):
// Var(c) = 4.25, Cov(b, c) = 2; a, d independent of (b, c)
function model(): void {
  sample('a', new D.Normal(0, 1));
  const b = sample('b', new D.Normal(0, 1));
  sample('c', new D.Normal(tf.mul(2, b), 0.5));
  sample('d', new D.Normal(1, 3));
}
const gibbsFn: ppl.GibbsFn = ({ seed }) => ({ a: new D.Normal(0, 1).sample([], seed) });

async function refused(f: () => unknown | Promise<unknown>, ...texts: string[]): Promise<void> {
  let err: unknown;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ArgumentError);
  for (const t of texts) expect(String((err as Error).message)).toContain(t);
}

const corr = (x: number[], y: number[]): { cov: number; n: number } => {
  const n = x.length;
  const mx = x.reduce((p, v) => p + v, 0) / n;
  const my = y.reduce((p, v) => p + v, 0) / n;
  return { cov: x.reduce((p, v, i) => p + (v - mx) * (y[i]! - my), 0) / (n - 1), n };
};

describe('block fullMass inside the Gibbs kernels', () => {
  it('HMCGibbs(NUTS(fullMass [[b, c]])): dense b-c block, diagonal d, joint posterior', async () => {
    const before = tf.memory().numTensors;
    const m = new ppl.MCMC(
      new ppl.HMCGibbs(new ppl.NUTS(model, { fullMass: [['b', 'c']] }), {
        gibbsFn,
        gibbsSites: ['a'],
      }),
      { numSamples: 300, warmupSteps: 300, numChains: 2, seed: 5, progressBar: false },
    );
    await m.run();
    for (const ch of m.lastState!.chains) {
      const im = ch.inverseMass;
      // inner coordinates b, c, d: a 3 x 3 matrix
      expect(im.length).toBe(9);
      expect(im[1]! / Math.sqrt(im[0]! * im[4]!)).toBeGreaterThan(0.8);
      for (const [i, j] of [
        [0, 2],
        [1, 2],
        [2, 0],
        [2, 1],
      ] as const)
        expect(im[i * 3 + j]).toBe(0);
      expect(im[8]! / 9).toBeGreaterThan(0.4);
      expect(im[8]! / 9).toBeLessThan(2.5);
    }
    const g = m.getSamples({ groupByChain: true });
    const b = g.b!.arraySync() as number[][];
    const c = g.c!.arraySync() as number[][];
    const a = g.a!.arraySync() as number[][];
    const ess = Math.min(ppl.mcmc.essBulk(b), ppl.mcmc.essBulk(c));
    const { cov } = corr(b.flat(), c.flat());
    // Var of the sample covariance of a bivariate normal: (σ_b² σ_c² + σ_bc²) / n
    expect(Math.abs(cov - 2)).toBeLessThan(5 * Math.sqrt((4.25 + 4) / ess));
    const fa = a.flat();
    const ma = fa.reduce((p, v) => p + v, 0) / fa.length;
    expect(Math.abs(ma)).toBeLessThan(5 / Math.sqrt(ppl.mcmc.essBulk(a)));
    tf.dispose(Object.values(g));
    expect(tf.memory().numTensors).toBe(before);
  }, 60000);

  it('vectorized chains and a continuation keep the inner block structure', async () => {
    const m = new ppl.MCMC(
      new ppl.HMCGibbs(new ppl.HMC(model, { fullMass: [['d'], ['b', 'c']], numSteps: 4 }), {
        gibbsFn,
        gibbsSites: ['a'],
      }),
      {
        numSamples: 20,
        warmupSteps: 80,
        numChains: 2,
        chainMethod: 'vectorized',
        seed: 2,
        progressBar: false,
      },
    );
    await m.run();
    m.postWarmupState = m.lastState;
    await m.run();
    const im = m.lastState!.chains[1]!.inverseMass;
    expect(im[2]).toBe(0);
    expect(im[5]).toBe(0);
    expect(im[1]).not.toBe(0);
    tf.dispose(Object.values(m.getSamples()));
  }, 60000);

  it('a block naming a Gibbs site is refused naming fullMass and the site, before any work', async () => {
    const before = tf.memory().numTensors;
    await refused(
      () =>
        new ppl.HMCGibbs(new ppl.NUTS(model, { fullMass: [['a', 'b']] }), {
          gibbsFn,
          gibbsSites: ['a'],
        }),
      'fullMass',
      "'a'",
      'Gibbs site',
    );
    // DiscreteHMCGibbs: its Gibbs sites are found at setup; refused when the run starts
    const disc = (): void => {
      const k = sample('k', new D.Bernoulli(0.3));
      sample('x', new D.Normal(tf.mul(k, 2), 1));
      sample('y', new D.Normal(0, 1));
    };
    const m = new ppl.MCMC(
      new ppl.DiscreteHMCGibbs(new ppl.NUTS(disc, { fullMass: [['k', 'x']] })),
      { numSamples: 5, warmupSteps: 5, progressBar: false },
    );
    await refused(() => m.run(), 'fullMass', "'k'", 'Gibbs site');
    // a name that is no site at all still names it
    const m2 = new ppl.MCMC(
      new ppl.HMCGibbs(new ppl.NUTS(model, { fullMass: [['b', 'zz']] }), {
        gibbsFn,
        gibbsSites: ['a'],
      }),
      { numSamples: 5, warmupSteps: 5, progressBar: false },
    );
    await refused(() => m2.run(), 'fullMass', "'zz'");
    expect(tf.memory().numTensors).toBe(before);
  }, 30000);

  it('DiscreteHMCGibbs with a block over its continuous sites runs with a dense x-y block', async () => {
    const disc = (): void => {
      const k = sample('k', new D.Bernoulli(0.3));
      const x = sample('x', new D.Normal(tf.mul(k, 2), 1));
      sample('y', new D.Normal(tf.mul(x, 1.5), 0.5));
    };
    const m = new ppl.MCMC(
      new ppl.DiscreteHMCGibbs(new ppl.NUTS(disc, { fullMass: [['x', 'y']] })),
      { numSamples: 30, warmupSteps: 150, seed: 4, progressBar: false },
    );
    await m.run();
    const im = m.lastState!.chains[0]!.inverseMass;
    expect(im.length).toBe(4);
    expect(im[1]).not.toBe(0);
    expect(im[1]).toBe(im[2]);
    tf.dispose(Object.values(m.getSamples()));
  }, 30000);

  it('MixedHMC(HMC(fullMass [[x, y]])): dense x-y block over the continuous sites; the discrete site refused', async () => {
    const disc = (): void => {
      const k = sample('k', new D.Bernoulli(0.3));
      const x = sample('x', new D.Normal(tf.mul(k, 2), 1));
      sample('y', new D.Normal(tf.mul(x, 1.5), 0.5));
    };
    const m = new ppl.MCMC(
      new ppl.MixedHMC(new ppl.HMC(disc, { fullMass: [['x', 'y']], trajectoryLength: 1.2 })),
      { numSamples: 30, warmupSteps: 150, seed: 6, progressBar: false },
    );
    await m.run();
    const im = m.lastState!.chains[0]!.inverseMass;
    expect(im.length).toBe(4);
    expect(im[1]).not.toBe(0);
    tf.dispose(Object.values(m.getSamples()));
    const bad = new ppl.MCMC(
      new ppl.MixedHMC(new ppl.HMC(disc, { fullMass: [['k', 'x']], trajectoryLength: 1.2 })),
      { numSamples: 5, warmupSteps: 5, progressBar: false },
    );
    await refused(() => bad.run(), 'fullMass', "'k'", 'Gibbs site');
  }, 30000);

  it('HMCECS(NUTS(fullMass [[a, b]])): dense a-b block; a block naming the subsample plate is refused', async () => {
    const n = 60;
    const xs = Array.from({ length: n }, (_, i) => Math.sin(i) * 2);
    const ys = xs.map((x, i) => 0.5 + 1.5 * x + Math.cos(3 * i));
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(ys);
    const reg = (xt: tf.Tensor, yt: tf.Tensor): void => {
      const a = sample('a', new D.Normal(0, 10));
      const b = sample('b', new D.Normal(0, 10));
      ppl.plate('data', n, { subsampleSize: 20 }, (idx) => {
        sample('y', new D.Normal(tf.add(a, tf.mul(b, tf.gather(xt, idx))), 1), {
          obs: tf.gather(yt, idx),
        });
      });
    };
    const m = new ppl.MCMC(
      new ppl.HMCECS(new ppl.NUTS(reg, { fullMass: [['a', 'b']], maxTreeDepth: 4 }), {
        numBlocks: 4,
      }),
      { numSamples: 10, warmupSteps: 120, seed: 1, progressBar: false },
    );
    m.runSync(x, y);
    const im = m.lastState!.chains[0]!.inverseMass;
    expect(im.length).toBe(4);
    expect(im[1]).not.toBe(0);
    tf.dispose(Object.values(m.getSamples()));
    const bad = new ppl.MCMC(
      new ppl.HMCECS(new ppl.NUTS(reg, { fullMass: [['a', 'data']] }), { numBlocks: 2 }),
      { numSamples: 5, warmupSteps: 5, progressBar: false },
    );
    await refused(() => bad.runSync(x, y), 'fullMass', "'data'", 'subsample');
    tf.dispose([x, y]);
  }, 60000);
});
