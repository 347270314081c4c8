/**
 * `elboLoss({samples: S})`: the data term averaged over S weight samples per step, the KL once.
 * Checked against S separate forward passes drawn from the same seed stream.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DenseReparam, modelKL } from '../../src/layers/index.js';
import { elboLoss } from '../../src/train/loss.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

function net(): tf.Sequential {
  const m = tf.sequential();
  m.add(new DenseReparam({ inChannels: 3, outChannels: 4, hasBias: true, inputShape: [3] }));
  // a wide posterior, so that the weight samples differ visibly
  const [mu, rho, bMu, bRho] = m.getWeights();
  m.setWeights([
    tf.randomNormal(mu!.shape, 0, 1, 'float32', 3),
    tf.fill(rho!.shape, 0),
    tf.zeros(bMu!.shape),
    tf.fill(bRho!.shape, 0),
  ]);
  return m;
}

describe('elboLoss with several weight samples per step', () => {
  const x = tf.tensor2d([
    [1, -0.5, 2],
    [0.3, 0.8, -1],
    [-1.2, 0.1, 0.4],
    [0.5, 0.5, 0.5],
    [2, -2, 0],
  ]);
  const y = tf.tensor1d([0, 3, 1, 2, 3], 'int32');
  const ctx = { step: 0, epoch: 0, numBatches: 1 };
  const n = 100;

  it('is the mean of S single-sample NLLs (same seed stream) plus the KL / N once', () => {
    const m = net();
    const S = 4;
    setSeed(7);
    const r = tf.tidy(() => {
      const t = elboLoss({ datasetSize: n, samples: S })(m, x, y, ctx);
      return [t.loss, t.nll, t.kl].map((v) => v.dataSync()[0] as number);
    });
    setSeed(7);
    const nlls = tf.tidy(() =>
      Array.from({ length: S }, () => {
        const logits = m.apply(x) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(tf.oneHot(y, 4), logits).dataSync()[0] as number;
      }),
    );
    const kl = tf.tidy(() => modelKL(m).dataSync()[0] as number) / n;
    const mean = nlls.reduce((a, v) => a + v, 0) / S;
    // the samples differ, so averaging them is not a no-op
    expect(Math.max(...nlls) - Math.min(...nlls)).toBeGreaterThan(0.05);
    expect(r[1]).toBeAllclose(mean, { rtol: 1e-5 });
    expect(r[2]).toBeAllclose(kl, { rtol: 1e-5 });
    expect(r[0]).toBeAllclose(mean + kl, { rtol: 1e-5 });
    m.dispose();
  });

  it('S = 1 is the one-sample ELBO; an optimizer step leaks nothing', () => {
    const m = net();
    setSeed(7);
    const one = tf.tidy(
      () => elboLoss({ datasetSize: n, samples: 1 })(m, x, y, ctx).nll.dataSync()[0],
    );
    setSeed(7);
    const plain = tf.tidy(() => elboLoss({ datasetSize: n })(m, x, y, ctx).nll.dataSync()[0]);
    expect(one).toBe(plain);
    const opt = tf.train.adam(1e-2);
    const loss = elboLoss({ datasetSize: n, samples: 3 });
    tf.dispose(opt.minimize(() => loss(m, x, y, ctx).loss) ?? undefined); // creates the optimizer's slots
    expectNoLeak(() => {
      tf.dispose(opt.minimize(() => loss(m, x, y, ctx).loss, true) ?? undefined);
    });
    opt.dispose();
    m.dispose();
  });

  it('refuses a sample count that is not an integer >= 1, naming it', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => elboLoss({ datasetSize: n, samples: bad })).toThrow(ArgumentError);
      expect(() => elboLoss({ datasetSize: n, samples: bad })).toThrow(/samples/);
    }
  });
});
