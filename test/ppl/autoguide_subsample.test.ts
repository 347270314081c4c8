/**
 * Per-site autoguides (AutoNormal, AutoDelta) on local latents of a subsampled plate, as Pyro's:
 * full-size parameters, each run drawing the plate's indices (replayed by the model) and scaling
 * the visited members' log-density by size / subsampleSize.
 *
 *   mu ~ N(0, 1),  z_i ~ N(mu, 1),  y_i ~ N(z_i, 1),  i = 1..N, minibatches of B.
 *
 * Joint MAP (exact, host float64): z_i = (mu + y_i)/2 and mu = (sum y / 2) / (N/2 + 1); without
 * the N/B scaling the minibatch objective's optimum would be mu = 2/3 instead of 0.8 here.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl, setSeed } from '../../src/index.js';

afterEach(() => {
  ppl.clearParamStore();
});

const N = 8;
const B = 4;
const ys = Array.from({ length: N }, (_, i) => -1 + (4 * i) / (N - 1)); // not centred
const y = tf.tensor1d(ys);
const model = (): void => {
  const mu = ppl.sample('mu', new D.Normal(0, 1));
  ppl.plate('data', N, { subsampleSize: B }, (ind) => {
    const z = ppl.sample('z', new D.Normal(mu, 1));
    ppl.sample('y', new D.Normal(z, 1), { obs: tf.gather(y, ind) });
  });
};

describe('autoguides on a subsampled plate', () => {
  it('the guide draws the plate indices, the model replays them, both scaled by N/B', () => {
    setSeed(3);
    const before = tf.memory().numTensors;
    const guide = new ppl.AutoNormal(model);
    const gt = ppl.trace(() => guide.call()).getTrace();
    const mt = ppl.trace(ppl.replay(model, { trace: gt })).getTrace();
    const gi = Array.from(gt.value('data').dataSync());
    expect(gi.length).toBe(B);
    expect(Array.from(mt.value('data').dataSync())).toEqual(gi);
    expect(gt.value('z').shape).toEqual([B]);
    expect(gt.get('z')?.scale).toBe(N / B);
    expect(mt.get('z')?.scale).toBe(N / B);
    expect(gt.get('mu')?.scale).toBe(1);
    // the guide's z at the visited members: loc gathered from the full-size parameter
    const loc = ppl.getParamStore().value('AutoNormal.locs.z');
    expect(loc.shape).toEqual([N]);
    loc.dispose();
    gt.dispose();
    mt.dispose();
    guide.dispose();
    ppl.clearParamStore();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('AutoDelta reaches the joint MAP of every local latent', () => {
    setSeed(1);
    const guide = new ppl.AutoDelta(model, { initLoc: 'feasible' });
    // Adam, then a smaller step with the iterates averaged (the minibatch gradient of mu is
    // never zero, so single iterates jitter around the optimum)
    const sum = new Float64Array(N + 1);
    let count = 0;
    for (const [lr, steps, average] of [
      [0.1, 400, false],
      [0.01, 300, true],
    ] as const) {
      const opt = tf.train.adam(lr);
      const svi = new ppl.SVI(model, guide, opt, new ppl.TraceELBO());
      for (let i = 0; i < steps; i++) {
        svi.step();
        if (!average) continue;
        const m = guide.median();
        sum[0] = (sum[0] as number) + (m.mu?.dataSync()[0] as number);
        m.z?.dataSync().forEach((v, j) => {
          sum[j + 1] = (sum[j + 1] as number) + v;
        });
        tf.dispose(Object.values(m));
        count++;
      }
      opt.dispose();
    }
    const mu = ys.reduce((a, b) => a + b, 0) / 2 / (N / 2 + 1);
    const mean = Array.from(sum, (v) => v / count);
    expect(mean[0]).toBeCloseTo(mu, 1);
    expect(Math.abs((mean[0] as number) - mu)).toBeLessThan(0.05);
    expect(mean.slice(1)).toBeAllclose(
      ys.map((v) => (mu + v) / 2),
      { atol: 0.03 },
    );
    const med = guide.median();
    expect(med.z?.shape).toEqual([N]);
    tf.dispose(Object.values(med));
    guide.dispose();
  });

  it('a plate subsampled with indices given by the model is refused (the guide cannot know them)', () => {
    const idx = tf.tensor1d([0, 2, 5, 7], 'int32');
    const given = (): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('data', N, { subsample: idx }, (ind) => {
        const z = ppl.sample('z', new D.Normal(mu, 1));
        ppl.sample('y', new D.Normal(z, 1), { obs: tf.gather(y, ind) });
      });
    };
    const before = tf.memory().numTensors;
    for (const g of [new ppl.AutoNormal(given), new ppl.AutoDelta(given)]) {
      expect(() => g.call()).toThrow(
        /^z: latent site 'z' is inside plate 'data' subsampled with indices given by the model/,
      );
    }
    expect(tf.memory().numTensors).toBe(before);
    idx.dispose();
  });

  it('the joint guides refuse it, naming the site and the per-site guides', () => {
    const g = new ppl.AutoMultivariateNormal(model);
    expect(() => g.call()).toThrow(/^z: latent site 'z' is inside a subsampled plate.*AutoNormal/);
  });
});
