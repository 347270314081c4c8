import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { HalfNormal, Normal } from '../../../src/distributions/index.js';
import { deterministic } from '../../../src/ppl/deterministic.js';
import { Predictive } from '../../../src/ppl/infer/predictive.js';
import { sample } from '../../../src/ppl/runtime.js';
import { plate } from '../../../src/ppl/handlers/plate.js';
import { MCMC, NUTS } from '../../../src/ppl/mcmc/index.js';
import { setSeed } from '../../../src/utils/seed.js';

describe('Predictive from posterior samples', () => {
  const model = (): void => {
    const mu = sample('mu', new Normal(0, 1));
    deterministic('twice', tf.mul(mu, 2));
    sample('y', new Normal(mu, 0.01));
  };

  it('draw i runs the model conditioned on the i-th posterior value', () => {
    setSeed(0);
    const mu = tf.tensor1d([0, 10, 20]);
    const before = tf.memory().numTensors;
    const out = new Predictive(model, { posteriorSamples: { mu } }).call();
    expect(Object.keys(out).sort()).toEqual(['twice', 'y']);
    expect(out.y?.shape).toEqual([3]);
    expect(out.y).toBeAllclose([0, 10, 20], { atol: 0.05 });
    expect(out.twice).toBeAllclose([0, 20, 40]);
    const only = new Predictive(model, { posteriorSamples: { mu }, returnSites: ['y'] }).call();
    expect(Object.keys(only)).toEqual(['y']);
    tf.dispose([...Object.values(out), ...Object.values(only)]);
    expect(tf.memory().numTensors).toBe(before);
    mu.dispose();
  });

  it('rejects mismatched leading dimensions and a conflicting numSamples', () => {
    const a = tf.zeros([3]);
    const b = tf.zeros([4]);
    expect(() => new Predictive(model, { posteriorSamples: { mu: a, s: b } })).toThrow(
      /posteriorSamples/,
    );
    expect(() => new Predictive(model, { posteriorSamples: { mu: a }, numSamples: 5 })).toThrow(
      /numSamples/,
    );
    tf.dispose([a, b]);
  });
});

describe('Predictive from chain-grouped MCMC samples (NumPyro batch_ndims=2)', () => {
  const regression = (x: tf.Tensor, y?: tf.Tensor): void => {
    const w = sample('w', new Normal(0, 1));
    const s = sample('s', new HalfNormal(1));
    const mean = deterministic('mean', tf.mul(w, x));
    plate('N', x.shape[0] as number, () => sample('y', new Normal(mean, s), { obs: y }));
  };

  it('batchNdims: 2 runs chains x draws and returns [chains, draws, ...]: values as computed directly', async () => {
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.tensor1d([1.1, 1.9, 3.2]);
    const m = new MCMC(new NUTS(regression), {
      numSamples: 6,
      warmupSteps: 20,
      numChains: 2,
      progressBar: false,
      seed: 3,
    });
    await m.run(x, y);
    const g = m.getSamples({ groupByChain: true });
    const flat = m.getSamples();
    const xNew = tf.tensor1d([-1, 0.5, 4, 10]);
    const before = tf.memory().numTensors;
    setSeed(11);
    const out = new Predictive(regression, { posteriorSamples: g, batchNdims: 2 }).call(xNew);
    expect(Object.keys(out).sort()).toEqual(['mean', 'y']);
    expect(out.mean?.shape).toEqual([2, 6, 4]);
    expect(out.y?.shape).toEqual([2, 6, 4]);
    // mean[c, d, j] = w[c, d] * xNew[j]
    const w = g.w?.arraySync() as number[][];
    expect(out.mean).toBeAllclose(
      w.flatMap((row) => row.flatMap((wc) => [-1, 0.5, 4, 10].map((xj) => wc * xj))),
      { rtol: 1e-5 },
    );
    // draw (c, d) is draw c * 6 + d of the flat samples: the same seed gives the same y
    setSeed(11);
    const ref = new Predictive(regression, { posteriorSamples: flat }).call(xNew);
    expect(ref.y?.shape).toEqual([12, 4]);
    expect(out.y).toBeAllclose(ref.y as tf.Tensor, { rtol: 1e-6 });
    tf.dispose([...Object.values(out), ...Object.values(ref)]);
    expect(tf.memory().numTensors).toBe(before);
    // without batchNdims the grouped samples are refused naming the option, not a tfjs error
    expect(() => new Predictive(regression, { posteriorSamples: g }).call(xNew)).toThrow(
      /batchNdims: 2/,
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, xNew, ...Object.values(g), ...Object.values(flat)]);
  }, 120_000);

  it('rejects a bad batchNdims, mismatched [chains, draws] and a conflicting numSamples', () => {
    const a = tf.zeros([2, 5]);
    const b = tf.zeros([2, 4]);
    const c = tf.zeros([10]);
    expect(
      () => new Predictive(regression, { posteriorSamples: { w: a }, batchNdims: 3 as 2 }),
    ).toThrow(/batchNdims: expected 1 or 2, got 3/);
    expect(() => new Predictive(regression, { numSamples: 2, batchNdims: 2 })).toThrow(
      /batchNdims: .*posteriorSamples only/,
    );
    expect(
      () => new Predictive(regression, { posteriorSamples: { w: a, s: b }, batchNdims: 2 }),
    ).toThrow(/posteriorSamples: .*\[chains, draws\].*w \[2,5\], s \[2,4\]/);
    expect(
      () => new Predictive(regression, { posteriorSamples: { w: a, s: c }, batchNdims: 2 }),
    ).toThrow(/site 's': expected a live tensor with leading \[chains, draws\]/);
    expect(
      () =>
        new Predictive(regression, { posteriorSamples: { w: a }, batchNdims: 2, numSamples: 5 }),
    ).toThrow(/numSamples: expected 10/);
    expect(
      new Predictive(regression, { posteriorSamples: { w: a }, batchNdims: 2 }).batchShape,
    ).toEqual([2, 5]);
    tf.dispose([a, b, c]);
  });
});
