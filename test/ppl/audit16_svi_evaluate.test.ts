/**
 * `SVI.evaluateLoss` is Pyro's `evaluate_loss`: the loss's own evaluation, which under
 * `TraceGraphELBO` leaves the decaying-average baselines where the steps put them (it had
 * called `differentiableLoss`, which moves them). Reference: the exact `-log p(x)` of a model
 * whose guide is the exact posterior (every draw's ELBO equals it).
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const xs = [0.7, -1.9, 2.3];
const N = xs.length;
const lik = (x: number, z: number): number => normalRef.pdf(x, 3 * z - 1.5, 1.2);
const exactLogit = xs.map((x) => Math.log(0.4 / 0.6) + Math.log(lik(x, 1)) - Math.log(lik(x, 0)));
const logpx = xs.map((x) => Math.log(0.4 * lik(x, 1) + 0.6 * lik(x, 0)));
const model = (obs: tf.Tensor): void => {
  ppl.plate('data', N, () => {
    const z = ppl.sample('z', new D.Bernoulli(tf.fill([N], 0.4)));
    ppl.sample('x', new D.Normal(tf.sub(tf.mul(z, 3), 1.5), 1.2), { obs });
  });
};
const guide = (): void => {
  const a = ppl.param('a', tf.tensor1d(exactLogit));
  ppl.plate('data', N, () =>
    ppl.sample('z', new D.Bernoulli({ logits: a }), { infer: { baseline: true } }),
  );
};

describe('SVI.evaluateLoss as Pyro evaluate_loss', () => {
  it('gives the loss without moving TraceGraphELBO baselines, and leaks nothing', () => {
    setSeed(3);
    const x = tf.tensor1d(xs);
    const elbo = new ppl.TraceGraphELBO();
    const svi = new ppl.SVI(model, guide, tf.train.sgd(0), elbo);
    for (let k = 0; k < 3; k++) svi.step(x);
    const before = elbo.baselines.get('z')?.values.slice();
    expect(before?.length).toBe(N);
    const tensors = tf.memory().numTensors;
    for (let k = 0; k < 4; k++) {
      const l = svi.evaluateLoss(x);
      expect(l).toBeCloseTo(-logpx.reduce((a, b) => a + b, 0), 4);
    }
    expect(tf.memory().numTensors).toBe(tensors);
    expect(elbo.baselines.get('z')?.values).toEqual(before);
    // a step still moves them
    svi.step(x);
    expect(elbo.baselines.get('z')?.values).not.toEqual(before);
    x.dispose();
  });
});
