import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HalfNormal, Normal } from '../../../src/distributions/index.js';
import { MCMC, NUTS, HMC } from '../../../src/ppl/mcmc/index.js';
import { sample } from '../../../src/ppl/runtime.js';
import { ArgumentError } from '../../../src/utils/errors.js';

const x = [0.3, -1.2, 2.2, 0.9, 1.4];

function model(): void {
  const mu = sample('mu', new Normal(0, 10));
  const s = sample('s', new HalfNormal(2));
  sample('x', new Normal(mu, s), { obs: tf.tensor1d(x) });
}

async function draws(
  kernel: NUTS | HMC,
  chainMethod: 'sequential' | 'parallel',
  numChains: number,
): Promise<{ mu: number[]; s: number[]; m: MCMC }> {
  const m = new MCMC(kernel, {
    numSamples: 150,
    warmupSteps: 150,
    numChains,
    chainMethod,
    seed: 9,
    progressBar: false,
  });
  await m.run();
  const g = m.getSamples({ groupByChain: true });
  const out = { mu: Array.from(g.mu!.dataSync()), s: Array.from(g.s!.dataSync()), m };
  expect(g.mu!.shape).toEqual([numChains, 150]);
  tf.dispose(Object.values(g));
  return out;
}

describe("chainMethod: 'parallel' (worker threads)", () => {
  it('gives the same draws as sequential chains with the same seed (NUTS, 3 chains; HMC, 2 chains)', async () => {
    const before = tf.memory().numTensors;
    const seq = await draws(new NUTS(model), 'sequential', 3);
    const par = await draws(new NUTS(model), 'parallel', 3);
    expect(par.mu).toEqual(seq.mu);
    expect(par.s).toEqual(seq.s);
    expect(par.m.getExtraFields().map((s) => s.compiled)).toEqual([true, true, true]);
    expect(par.m.getExtraFields()[1]?.treeDepth).toEqual(seq.m.getExtraFields()[1]?.treeDepth);
    // the chains differ from each other and sample the posterior (mean of mu near the data mean)
    expect(par.mu.slice(0, 150)).not.toEqual(par.mu.slice(150, 300));
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    expect(Math.abs((par.m.summary().mu?.elements[0]?.mean as number) - mean)).toBeLessThan(0.5);
    const hs = await draws(new HMC(model, { trajectoryLength: 1 }), 'sequential', 2);
    const hp = await draws(new HMC(model, { trajectoryLength: 1 }), 'parallel', 2);
    expect(hp.mu).toEqual(hs.mu);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('names what is needed when the potential cannot be recorded, and needs await run()', async () => {
    const hostRead = (): void => {
      const a = sample('a', new Normal(0, 1));
      sample('y', new Normal(tf.scalar(a.dataSync()[0] as number), 1), { obs: tf.scalar(0.5) });
    };
    const m = new MCMC(new NUTS(hostRead), {
      numSamples: 5,
      numChains: 2,
      chainMethod: 'parallel',
      progressBar: false,
    });
    await expect(m.run()).rejects.toThrow(ArgumentError);
    await expect(m.run()).rejects.toThrow(/recorded potential/);
    expect(() => m.runSync()).toThrow(/await run/);
    const off = new MCMC(new NUTS(model, { compile: false }), {
      numSamples: 5,
      chainMethod: 'parallel',
      progressBar: false,
    });
    await expect(off.run()).rejects.toThrow(/compile: false/);
  });
});
