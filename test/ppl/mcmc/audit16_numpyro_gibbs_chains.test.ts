/**
 * Audit (NumPyro parity): the Gibbs kernels with `chainMethod: 'vectorized'` (documented as
 * supported) give draws from the same posterior as sequential chains; HMCGibbs with a conjugate
 * gibbsFn against the closed form.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';

const { sample } = ppl;

// x, y ~ N(0, 2^2), obs ~ N(x + y, 1), obs = 1: posterior of (x, y) Gaussian with
// precision [[1/4 + 1, 1], [1, 1/4 + 1]], mean = P^-1 [1, 1]
function model(o: tf.Tensor): void {
  const x = sample('x', new D.Normal(0, 2));
  const y = sample('y', new D.Normal(0, 2));
  sample('obs', new D.Normal(tf.add(x, y), 1), { obs: o });
}
const p11 = 1.25;
const det = p11 * p11 - 1;
const postMean = (p11 - 1) / det; // both coordinates
const postVar = p11 / det;

describe('HMCGibbs with a conjugate gibbsFn, sequential and vectorized chains', () => {
  for (const chainMethod of ['sequential', 'vectorized'] as const) {
    it(`${chainMethod}: x and y means and variances within 5 MC SE`, async () => {
      const gibbsFn: ppl.GibbsFn = ({ seed, hmcSites }) => {
        // x | y, obs ~ N(0.8 (1 - y), 0.8)
        const y = hmcSites.y as tf.Tensor;
        return { x: new D.Normal(tf.mul(0.8, tf.sub(1, y)), Math.sqrt(0.8)).sample([], seed) };
      };
      const o = tf.scalar(1);
      const m = new ppl.MCMC(
        new ppl.HMCGibbs(new ppl.NUTS(model), { gibbsFn, gibbsSites: ['x'] }),
        {
          numSamples: 250,
          warmupSteps: 150,
          numChains: 2,
          chainMethod,
          seed: 13,
          progressBar: false,
        },
      );
      await m.run(o);
      const g = m.getSamples({ groupByChain: true });
      for (const site of ['x', 'y']) {
        const ch = g[site]!.arraySync() as number[][];
        const flat = ch.flat();
        const ess = Math.max(ppl.mcmc.essBulk(ch), 20);
        const mean = flat.reduce((a, b) => a + b, 0) / flat.length;
        const v = flat.reduce((a, b) => a + (b - mean) ** 2, 0) / (flat.length - 1);
        expect(Math.abs(mean - postMean), site).toBeLessThan(5 * Math.sqrt(postVar / ess));
        expect(Math.abs(v / postVar - 1), site).toBeLessThan(5 * Math.sqrt(2 / ess));
      }
      tf.dispose([o, ...Object.values(g)]);
    }, 40000);
  }
});
