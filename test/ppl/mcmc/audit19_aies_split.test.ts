/**
 * Audit 19: `AIES`'s `randomizeSplit` defaults to false, as NumPyro's (`AIES(...,
 * randomize_split=False)`; its `ESS` defaults to true, as ours). AIES used to permute the walkers
 * at every transition unless told not to. The default run now gives the draws of
 * `randomizeSplit: false` bit for bit (and not those of `true`); with the halves by index AIES
 * (NumPyro's default move mix) still samples a correlated 2-D Gaussian: means and variances
 * within 5 Monte Carlo standard errors from the walkers' ESS.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ppl } from '../../../src/index.js';
import type { Potential } from '../../../src/ppl/mcmc/potential.js';

// N((1, -1), [[1, 1.2], [1.2, 4]]): correlation 0.6
const M = [1, -1];
const C = [
  [1, 1.2],
  [1.2, 4],
];
const det = C[0]![0]! * C[1]![1]! - C[0]![1]! ** 2;
const P = [
  [C[1]![1]! / det, -C[0]![1]! / det],
  [-C[0]![1]! / det, C[0]![0]! / det],
];
const gauss: Potential = {
  dim: 2,
  valueAndGrad: (z) => {
    const d0 = z[0]! - M[0]!;
    const d1 = z[1]! - M[1]!;
    const g0 = P[0]![0]! * d0 + P[0]![1]! * d1;
    const g1 = P[1]![0]! * d0 + P[1]![1]! * d1;
    return { value: 0.5 * (d0 * g0 + d1 * g1), grad: Float64Array.of(g0, g1) };
  },
};

function run(k: ppl.AIES, numSamples = 20, warmupSteps = 20): ppl.MCMC {
  const m = new ppl.MCMC(k, {
    numSamples,
    warmupSteps,
    numChains: 8,
    chainMethod: 'vectorized',
    seed: 6,
    progressBar: false,
  });
  m.runSync();
  return m;
}
function draws(m: ppl.MCMC): number[] {
  const s = m.getSamples({ groupByChain: true });
  const out = Array.from(Object.values(s)[0]!.dataSync());
  tf.dispose(Object.values(s));
  return out;
}

describe("AIES's randomizeSplit defaults to false (NumPyro), ESS's to true", () => {
  it('the defaults; the default run is the randomizeSplit: false run', () => {
    expect(new ppl.AIES(gauss).randomizeSplit).toBe(false);
    expect(new ppl.ESS(gauss).randomizeSplit).toBe(true);
    expect(new ppl.AIES(gauss, { randomizeSplit: true }).randomizeSplit).toBe(true);
    const dflt = draws(run(new ppl.AIES(gauss)));
    expect(dflt).toEqual(draws(run(new ppl.AIES(gauss, { randomizeSplit: false }))));
    expect(dflt).not.toEqual(draws(run(new ppl.AIES(gauss, { randomizeSplit: true }))));
  });

  it('halves by index, DE and stretch moves mixed: a correlated Gaussian within 5 MC SE', () => {
    const before = tf.memory().numTensors;
    const k = new ppl.AIES(gauss, {
      moves: new Map([
        [ppl.AIES.DEMove(), 0.5],
        [ppl.AIES.StretchMove(), 0.5],
      ]),
    });
    const m = run(k, 500, 300);
    const s = m.getSamples({ groupByChain: true });
    const z = Object.values(s)[0]!.arraySync() as number[][][];
    tf.dispose(Object.values(s));
    for (let j = 0; j < 2; j++) {
      const ch = z.map((c) => c.map((d) => d[j]!));
      const flat = ch.flat();
      const ess = Math.max(ppl.mcmc.essBulk(ch), 20);
      const mean = flat.reduce((a, b) => a + b, 0) / flat.length;
      const v = flat.reduce((a, b) => a + (b - mean) ** 2, 0) / (flat.length - 1);
      const cv = C[j]![j]!;
      expect(Math.abs(mean - M[j]!), `mean ${j}`).toBeLessThan(5 * Math.sqrt(cv / ess));
      expect(Math.abs(v / cv - 1), `var ${j}`).toBeLessThan(5 * Math.sqrt(2 / ess));
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
