/**
 * GaussianHMM as an observed site: a plate of sequences (the model expanded, its length read from
 * the data), SVI with AutoNormal over the observation noise scale, Predictive drawing sequences.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** A local-level model `z_t = z_{t-1} + w_t`, `y_t = z_t + v_t` with observation scale `sigma`. */
const localLevel = (sigma: tf.Tensor | number, duration?: number): D.GaussianHMM =>
  new D.GaussianHMM(
    new D.Normal([0], [2]).toEvent(1),
    [[1]],
    new D.Normal([0], [0.3]).toEvent(1),
    [[1]],
    new D.Normal(tf.zeros([1]), tf.reshape(sigma, [1])).toEvent(1),
    duration === undefined ? {} : { duration },
  );

describe('GaussianHMM in models', { timeout: 600_000 }, () => {
  it('in a plate of sequences the site scores each sequence by the Kalman filter; SVI with AutoNormal recovers the observation scale', () => {
    setSeed(3);
    const truth = localLevel(0.6, 40);
    const ys = truth.sample([3], 7); // [3, 40, 1]
    const model = (y: tf.Tensor): void => {
      const sigma = ppl.sample('sigma', new D.LogNormal(0, 1));
      ppl.plate('seqs', y.shape[0]!, () => {
        ppl.sample('y', localLevel(sigma), { obs: y });
      });
    };
    const tr = ppl.trace(ppl.condition(model, { sigma: tf.scalar(0.6) })).getTrace(ys);
    const site = tr.get('y')!;
    expect(site.fn!.batchShape).toEqual([3]);
    const got = tf.tidy(() => Array.from(site.fn!.logProb(ys).dataSync()));
    const want = tf.tidy(() => Array.from(truth.logProb(ys).dataSync()));
    expect(got).toBeAllclose(want, { atol: 1e-3 });
    tr.dispose();

    const guide = new ppl.AutoNormal(model);
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    svi.step(ys);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 120; i++) svi.step(ys);
    expect(tf.memory().numTensors).toBe(before);
    const med = guide.median(ys);
    const sigma = med.sigma!.dataSync()[0]!;
    tf.dispose(Object.values(med));
    // 120 observations: the scale is known to about 0.6 / sqrt(2 * 120) ~ 0.04, plus the
    // confounding with the level noise
    expect(Math.abs(sigma - 0.6)).toBeLessThan(0.15);
    ys.dispose();
    truth.dispose();
  });

  it('Predictive draws sequences of the given duration', () => {
    const model = (): void => {
      const sigma = ppl.sample('sigma', new D.LogNormal(0, 1));
      ppl.sample('y', localLevel(sigma, 5));
    };
    const before = tf.memory().numTensors;
    const out = new ppl.Predictive(model, { numSamples: 3, returnSites: ['y'] }).call();
    expect(out.y!.shape).toEqual([3, 5, 1]);
    tf.dispose(Object.values(out));
    expect(tf.memory().numTensors).toBe(before);
  });
});
