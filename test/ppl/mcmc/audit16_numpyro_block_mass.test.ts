/**
 * Audit (NumPyro parity): `fullMass` as blocks of site names (NumPyro's
 * `dense_mass=[("a", "b")]`): a block-diagonal adapted inverse mass matrix, the posterior it
 * samples, and the refusals.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import { expectArgumentErrorNaming } from '../../helpers.js';

const { sample } = ppl;

// a ~ N(0, 1), b | a ~ N(2a, 0.5), c ~ N(1, 3) (2-vector, independent):
// Cov(a, b) = 2, Var(b) = 4.25; c uncorrelated
function model(): void {
  const a = sample('a', new D.Normal(0, 1));
  sample('b', new D.Normal(tf.mul(2, a), 0.5));
  sample('c', new D.Normal(tf.ones([2]), 3).toEvent(1));
}

describe("fullMass as blocks of site names (NumPyro's dense_mass=[('a', 'b')])", () => {
  it('adapts a dense block for a and b, a diagonal for c; samples the joint', async () => {
    const before = tf.memory().numTensors;
    const m = new ppl.MCMC(new ppl.NUTS(model, { fullMass: [['a', 'b']] }), {
      numSamples: 400,
      warmupSteps: 400,
      numChains: 2,
      seed: 7,
      progressBar: false,
    });
    await m.run();
    for (const ch of m.lastState!.chains) {
      const im = ch.inverseMass;
      expect(im.length).toBe(16);
      // the a-b block is dense and close to [[1, 2], [2, 4.25]] (correlation 0.97)
      expect(im[1]! / Math.sqrt(im[0]! * im[5]!)).toBeGreaterThan(0.85);
      // every entry outside the block and off the diagonal is exactly 0
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          const inBlock = i < 2 && j < 2;
          if (!inBlock && i !== j) expect(im[i * 4 + j]).toBe(0);
        }
      }
      // c's variances (9) on the diagonal, within a factor 2
      expect(im[10]! / 9).toBeGreaterThan(0.5);
      expect(im[15]! / 9).toBeLessThan(2);
    }
    const g = m.getSamples({ groupByChain: true });
    const a = g.a!.arraySync() as number[][];
    const b = g.b!.arraySync() as number[][];
    const fa = a.flat();
    const fb = b.flat();
    const n = fa.length;
    const ma = fa.reduce((p, v) => p + v, 0) / n;
    const mb = fb.reduce((p, v) => p + v, 0) / n;
    const cov = fa.reduce((p, v, i) => p + (v - ma) * (fb[i]! - mb), 0) / (n - 1);
    const ess = ppl.mcmc.essBulk(a);
    expect(Math.abs(ma)).toBeLessThan(5 / Math.sqrt(ess));
    expect(Math.abs(cov - 2)).toBeLessThan(5 * Math.sqrt((1 * 4.25 + 4) / ess));
    tf.dispose(Object.values(g));
    expect(tf.memory().numTensors).toBe(before);
  }, 40000);

  it('bad blocks are ArgumentErrors naming fullMass, before any sampling', async () => {
    expectArgumentErrorNaming(() => new ppl.NUTS(model, { fullMass: [] }), 'fullMass');
    expectArgumentErrorNaming(() => new ppl.NUTS(model, { fullMass: [[]] }), 'fullMass');
    expectArgumentErrorNaming(
      () => new ppl.NUTS(model, { fullMass: [['a'], ['a', 'b']] }),
      'fullMass',
      "'a'",
    );
    expectArgumentErrorNaming(() => new ppl.NUTS(model, { fullMass: [[1]] } as never), 'fullMass');
    const pot = ppl.potentialFromFn(({ x }) => tf.mul(0.5, tf.square(x!)), { x: 0 });
    expectArgumentErrorNaming(() => new ppl.NUTS(pot, { fullMass: [['x']] }), 'fullMass');
    expectArgumentErrorNaming(
      () =>
        new ppl.MCMC(new ppl.NUTS(model, { fullMass: [['a', 'b']] }), {
          numSamples: 5,
          numChains: 2,
          chainMethod: 'parallel',
          progressBar: false,
        }),
      'fullMass',
    );
    // a name that is no latent site: refused naming it when the run starts
    const m = new ppl.MCMC(new ppl.NUTS(model, { fullMass: [['a', 'zz']] }), {
      numSamples: 5,
      warmupSteps: 5,
      progressBar: false,
    });
    let err: unknown;
    try {
      await m.run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect(String((err as Error).message)).toContain("'zz'");
    expect(String((err as Error).message)).toContain('fullMass');
  });

  it('vectorized chains and a continuation keep the block structure', async () => {
    const m = new ppl.MCMC(new ppl.NUTS(model, { fullMass: [['c'], ['a', 'b']] }), {
      numSamples: 20,
      warmupSteps: 100,
      numChains: 2,
      chainMethod: 'vectorized',
      seed: 3,
      progressBar: false,
    });
    await m.run();
    m.postWarmupState = m.lastState;
    await m.run();
    const im = m.lastState!.chains[0]!.inverseMass;
    // a, b (0, 1) and c (2, 3) are two blocks: the cross entries are 0
    for (const [i, j] of [
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
    ] as const) {
      expect(im[i * 4 + j]).toBe(0);
      expect(im[j * 4 + i]).toBe(0);
    }
    expect(im[0 * 4 + 1]).not.toBe(0);
    tf.dispose(Object.values(m.getSamples()));
  }, 30000);

  // session 17: blocks of the inner kernel's sites work inside HMCGibbs (NumPyro's dense_mass on
  // the inner kernel; audit17_numpyro_inner_block_mass.test.ts); a block naming a Gibbs site is
  // refused
  it('inside HMCGibbs a block naming a Gibbs site is refused naming fullMass, nothing leaked', async () => {
    const before = tf.memory().numTensors;
    const gibbsFn: ppl.GibbsFn = ({ seed }) => ({ a: new D.Normal(0, 1).sample([], seed) });
    let err: unknown;
    try {
      const m = new ppl.MCMC(
        new ppl.HMCGibbs(new ppl.NUTS(model, { fullMass: [['b', 'a']] }), {
          gibbsFn,
          gibbsSites: ['a'],
        }),
        { numSamples: 5, warmupSteps: 5, progressBar: false },
      );
      await m.run();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect(String((err as Error).message)).toContain('fullMass');
    expect(tf.memory().numTensors).toBe(before);
  });
});
