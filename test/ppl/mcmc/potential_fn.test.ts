/**
 * `potentialFromFn` (Pyro's/NumPyro's `potential_fn` + `init_params`): the potential and its
 * autodiff gradient against the closed form and finite differences, and NUTS over it recovering a
 * known target (a correlated Gaussian `x` and an independent `s ~ N(3, 0.5²)`) with its draws
 * stored by parameter name.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ppl } from '../../../src/index.js';
import { finiteDiff } from '../../helpers.js';

// x ~ N(0, Σ), Σ = [[1, 0.8], [0.8, 1]]: Σ⁻¹ = [[1, -0.8], [-0.8, 1]] / 0.36
const prec = [
  [1 / 0.36, -0.8 / 0.36],
  [-0.8 / 0.36, 1 / 0.36],
];
const fn: ppl.PotentialFn = ({ x, s }) => {
  const p = tf.tensor2d(prec);
  const xv = tf.reshape(x as tf.Tensor, [2, 1]);
  const quad = tf.mul(0.5, tf.sum(tf.mul(xv, tf.matMul(p, xv))));
  return tf.add(quad, tf.mul(2, tf.square(tf.sub(s as tf.Tensor, 3))));
};
const handU = (z: number[]): number => {
  const [a, b, s] = z as [number, number, number];
  return (
    0.5 * (prec[0]![0]! * a * a + 2 * prec[0]![1]! * a * b + prec[1]![1]! * b * b) +
    2 * (s - 3) ** 2
  );
};

describe('potentialFromFn', () => {
  it('gives U and dU/dz of the flat vector in the order of initParams', () => {
    const before = tf.memory().numTensors;
    const pot = ppl.potentialFromFn(fn, { x: [0.5, -1], s: 2 });
    expect(pot.dim).toBe(3);
    expect(Array.from(pot.initParams)).toEqual([0.5, -1, 2]);
    expect(pot.slots.map((s) => [s.name, s.shape, s.offset])).toEqual([
      ['x', [2], 0],
      ['s', [], 2],
    ]);
    const z = [0.3, -0.7, 3.4];
    const { value, grad } = pot.valueAndGrad(Float64Array.from(z));
    expect(value).toBeCloseTo(handU(z), 4);
    expect(Array.from(grad)).toBeAllclose(finiteDiff(handU, z), { rtol: 1e-3, atol: 1e-4 });
    expect(tf.memory().numTensors).toBe(before);
    const m = pot.constrain(Float64Array.from(z));
    expect(m.get('x')?.shape).toEqual([2]);
    expect(Array.from(m.get('s')?.values ?? [])).toBeAllclose([3.4]);
  });

  it('names bad arguments before any sampling', () => {
    expect(() => ppl.potentialFromFn(3 as never, { x: 0 })).toThrow(/^potentialFn:/);
    expect(() => ppl.potentialFromFn(fn, null as never)).toThrow(/^initParams:/);
    expect(() => ppl.potentialFromFn(fn, {})).toThrow(/^initParams:/);
    expect(() => ppl.potentialFromFn(fn, { x: 'a' as never })).toThrow(/^initParams: 'x'/);
    const before = tf.memory().numTensors;
    expect(() => ppl.potentialFromFn(({ x }) => tf.mul(x as tf.Tensor, 2), { x: [1, 2] })).toThrow(
      /^potentialFn: expected a scalar.*\[2\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const pot = ppl.potentialFromFn(fn, { x: [0, 0], s: 0 });
    expect(() => new ppl.MCMC(new ppl.NUTS(pot), { numSamples: 10, initParams: [0, 0] })).toThrow(
      /^initParams: expected 3 values/,
    );
    // a potential is not a model: Predictive and logLikelihood say so (they named 'model/guide'
    // and asked for 'a function or an object with a call method')
    const draws = { x: tf.zeros([4, 2]) };
    const notModel = /^model: expected a model function .*got a potential .*no sample sites to run/;
    expect(() => new ppl.Predictive(pot as never, { posteriorSamples: draws })).toThrow(notModel);
    expect(() => ppl.logLikelihood(pot as never, draws)).toThrow(notModel);
    draws.x.dispose();
  });

  it('NUTS over it recovers the target, stored by name, started at initParams', async () => {
    // finite only for |s - 3| < 0.9 (symmetric: E s = 3 still): no Uniform(-2, 2) start is finite
    const walled: ppl.PotentialFn = (p) =>
      tf.sub(fn(p), tf.log(tf.step(tf.sub(0.9, tf.abs(tf.sub(p['s'] as tf.Tensor, 3))))));
    const pot = ppl.potentialFromFn(walled, { x: [0, 0], s: 3.5 });
    expect(pot.valueAndGrad(Float64Array.from([0, 0, 0])).value).toBe(Infinity);
    const mcmc = new ppl.MCMC(new ppl.NUTS(pot), {
      numSamples: 800,
      warmupSteps: 400,
      seed: 5,
      progressBar: false,
    });
    await mcmc.run();
    const { x, s } = mcmc.getSamples();
    expect(x?.shape).toEqual([800, 2]);
    expect(s?.shape).toEqual([800]);
    const sum = mcmc.summary();
    const xs = sum['x']?.elements ?? [];
    const ss = sum['s']?.elements[0];
    const ess = Math.min(...xs.map((e) => e.essBulk), ss?.essBulk ?? 0);
    expect(ess).toBeGreaterThan(150);
    for (const e of xs) {
      expect(Math.abs(e.mean)).toBeLessThan(4 / Math.sqrt(ess));
      expect(Math.abs(e.sd - 1)).toBeLessThan(4 / Math.sqrt(2 * ess));
    }
    expect(Math.abs((ss?.mean ?? 0) - 3)).toBeLessThan((4 * 0.5) / Math.sqrt(ess));
    const xv = Array.from(x?.dataSync() ?? []);
    const a = xv.filter((_, i) => i % 2 === 0);
    const b = xv.filter((_, i) => i % 2 === 1);
    const corr =
      a.reduce((acc, v, i) => acc + (v - xs[0]!.mean) * (b[i]! - xs[1]!.mean), 0) /
      (a.length - 1) /
      (xs[0]!.sd * xs[1]!.sd);
    expect(Math.abs(corr - 0.8)).toBeLessThan(0.1);
    tf.dispose([x as tf.Tensor, s as tf.Tensor]);
  }, 600_000);

  it('runs chains vectorized in lockstep too, each stored by name', async () => {
    const pot = ppl.potentialFromFn(fn, { x: [0, 0], s: 3 });
    const mcmc = new ppl.MCMC(new ppl.NUTS(pot), {
      numSamples: 50,
      warmupSteps: 50,
      numChains: 2,
      chainMethod: 'vectorized',
      seed: 1,
      progressBar: false,
    });
    await mcmc.run();
    const { x, s } = mcmc.getSamples({ groupByChain: true });
    expect(x?.shape).toEqual([2, 50, 2]);
    expect(s?.shape).toEqual([2, 50]);
    tf.dispose([x as tf.Tensor, s as tf.Tensor]);
  }, 600_000);
});
