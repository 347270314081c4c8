import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HalfNormal, Normal } from '../../../src/distributions/index.js';
import { ChainRng, MCMC, ModelPotential, NUTS, initialPoint } from '../../../src/ppl/mcmc/index.js';
import { sample } from '../../../src/ppl/runtime.js';

const x = [0.3, -1.2, 2.2, 0.9];

/** mu ~ N(0, 10), s ~ HalfNormal(2), x_i ~ N(mu, s), written to broadcast over a leading chain dim. */
function model(obs: tf.Tensor): void {
  const mu = sample('mu', new Normal(0, 10));
  const s = sample('s', new HalfNormal(2));
  sample('x', new Normal(tf.expandDims(mu, -1), tf.expandDims(s, -1)), { obs });
}

describe('vectorized chains', () => {
  it('a batched potential evaluation equals the per-point evaluations', () => {
    const obs = tf.tensor1d(x);
    const { sites } = initialPoint(model, [obs], 'uniform', new ChainRng(0));
    const pot = new ModelPotential(model, [obs], sites);
    const zs = [
      Float64Array.from([0.1, -0.3]),
      Float64Array.from([1.5, 0.7]),
      Float64Array.from([-2, 1.1]),
    ];
    const before = tf.memory().numTensors;
    const batch = pot.valueAndGradBatch(zs);
    expect(tf.memory().numTensors).toBe(before);
    zs.forEach((z, c) => {
      const one = pot.valueAndGrad(z);
      const b = batch[c];
      expect(b?.value).toBeCloseTo(one.value, 3);
      expect(Array.from(b?.grad ?? [])).toBeAllclose(Array.from(one.grad), {
        rtol: 1e-4,
        atol: 1e-4,
      });
    });
    obs.dispose();
  });

  it('vectorized NUTS: every chain samples the posterior; seeded runs repeat exactly', async () => {
    const obs = tf.tensor1d(x);
    const run = async (n: number) => {
      const m = new MCMC(new NUTS(model), {
        numSamples: n,
        warmupSteps: n,
        numChains: 3,
        chainMethod: 'vectorized',
        seed: 4,
        progressBar: false,
      });
      await m.run(obs);
      return m;
    };
    const short = await run(10);
    const g = short.getSamples({ groupByChain: true });
    expect(g.mu?.shape).toEqual([3, 10]);
    const again = await run(10);
    const g2 = again.getSamples({ groupByChain: true });
    expect(Array.from(g2.mu?.dataSync() ?? [])).toEqual(Array.from(g.mu?.dataSync() ?? []));
    tf.dispose([...Object.values(g), ...Object.values(g2)]);
    const m = await run(150);
    const e = m.summary().mu?.elements[0];
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    // the posterior mean of mu is close to the sample mean (weak priors), R-hat over 3 chains ~ 1
    expect(Math.abs((e?.mean as number) - mean)).toBeLessThan(0.35);
    expect(e?.rHat).toBeLessThan(1.1);
    obs.dispose();
  }, 600_000);
});
