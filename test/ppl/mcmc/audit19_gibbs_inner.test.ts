/**
 * Audit 19: the inner kernel of `HMCGibbs` / `DiscreteHMCGibbs` / `MixedHMC` is an `HMC` or `NUTS`
 * kernel, as NumPyro's (`inner_kernel must be an HMC or NUTS sampler`). A gradient-free or ensemble
 * kernel (`SA`, `EllipticalSlice`, `AIES`, `ESS`: their chains move by their own samplers) was
 * accepted and failed only when the run started, with "run it through MCMC" (though it was) or a
 * `chainMethod` message; `BarkerMH`, `RandomWalkMH` and `HMCECS` were accepted too. Each is now an
 * ArgumentError naming `innerKernel` and the kernel's class when the Gibbs kernel is built; `HMC`
 * and `NUTS` still run (a conjugate HMCGibbs against its closed form within 5 MC SE).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { expectArgumentError } from '../../helpers.js';

const { sample } = ppl;

// x, y ~ N(0, 2^2), obs = 1 ~ N(x + y, 1): x | y ~ N(0.8 (1 - y), 0.8); y's marginal posterior is
// N(0.25 / 0.5625, 1.25 / 0.5625)
function model(): void {
  const x = sample('x', new D.Normal(0, 2));
  const y = sample('y', new D.Normal(0, 2));
  sample('obs', new D.Normal(tf.add(x, y), 1), { obs: tf.scalar(1) });
}
const gibbsFn: ppl.GibbsFn = ({ seed, hmcSites }) => {
  const y = hmcSites.y as tf.Tensor;
  return { x: new D.Normal(tf.mul(0.8, tf.sub(1, y)), Math.sqrt(0.8)).sample([], seed) };
};
function ecsModel(): void {
  const a = sample('a', new D.Normal(0, 1));
  ppl.plate('data', 20, { subsampleSize: 5 }, () =>
    sample('o', new D.Normal(a, 1), { obs: tf.zeros([5]) }),
  );
}

const others: [string, () => unknown][] = [
  ['SA', () => new ppl.SA(model)],
  ['EllipticalSlice', () => new ppl.EllipticalSlice(model)],
  ['AIES', () => new ppl.AIES(model)],
  ['ESS', () => new ppl.ESS(model)],
  ['BarkerMH', () => new ppl.BarkerMH(model)],
  ['RandomWalkMH', () => new ppl.RandomWalkMH(model)],
  ['HMCECS', () => new ppl.HMCECS(new ppl.NUTS(ecsModel))],
];

describe('Gibbs kernels take an HMC or NUTS inner kernel only (NumPyro)', () => {
  for (const [name, make] of others) {
    it(`${name} as the inner kernel: ArgumentError naming innerKernel and ${name}, nothing leaked`, () => {
      const inner = make() as ppl.mcmc.HamiltonianKernel;
      const before = tf.memory().numTensors;
      const msg = new RegExp(`expected an HMC or NUTS kernel.*got ${name}$`);
      expectArgumentError(
        () => new ppl.HMCGibbs(inner, { gibbsFn, gibbsSites: ['x'] }),
        'innerKernel',
        msg,
      );
      expectArgumentError(() => new ppl.DiscreteHMCGibbs(inner), 'innerKernel', msg);
      expectArgumentError(() => new ppl.MixedHMC(inner), 'innerKernel', /HMC kernel/);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('a non-kernel is refused naming innerKernel', () => {
    expectArgumentError(
      () => new ppl.HMCGibbs({} as never, { gibbsFn, gibbsSites: ['x'] }),
      'innerKernel',
      /got Object$/,
    );
    expectArgumentError(() => new ppl.DiscreteHMCGibbs(null as never), 'innerKernel', /got null$/);
  });

  for (const [name, make] of [
    ['HMC', () => new ppl.HMC(model, { trajectoryLength: 1.5 })],
    ['NUTS', () => new ppl.NUTS(model)],
  ] as const) {
    it(`${name} inside HMCGibbs: y's posterior mean and variance within 5 MC SE`, () => {
      const before = tf.memory().numTensors;
      const m = new ppl.MCMC(new ppl.HMCGibbs(make(), { gibbsFn, gibbsSites: ['x'] }), {
        numSamples: 600,
        warmupSteps: 200,
        numChains: 2,
        seed: 4,
        progressBar: false,
      });
      m.runSync();
      const g = m.getSamples({ groupByChain: true });
      const ch = g.y!.arraySync() as number[][];
      tf.dispose(Object.values(g));
      const flat = ch.flat();
      const ess = Math.max(ppl.mcmc.essBulk(ch), 20);
      const mean = flat.reduce((a, b) => a + b, 0) / flat.length;
      const v = flat.reduce((a, b) => a + (b - mean) ** 2, 0) / (flat.length - 1);
      const pm = 0.25 / 0.5625;
      const pv = 1.25 / 0.5625;
      expect(Math.abs(mean - pm)).toBeLessThan(5 * Math.sqrt(pv / ess));
      expect(Math.abs(v / pv - 1)).toBeLessThan(5 * Math.sqrt(2 / ess));
      expect(tf.memory().numTensors).toBe(before);
    }, 30000);
  }
});
