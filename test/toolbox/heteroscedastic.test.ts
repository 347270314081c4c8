import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';

describe('Kendall–Gal heteroscedastic losses', () => {
  it('regression loss matches the closed form and its gradient', () => {
    const mu = [0.3, -1.2, 2.0];
    const s = [0.1, -0.7, 1.3];
    const y = [0.5, -1.0, 0.0];
    const host = (m: number[], v: number[]): number =>
      m.reduce(
        (a, mi, i) =>
          a +
          0.5 * Math.exp(-(v[i] as number)) * ((y[i] as number) - mi) ** 2 +
          0.5 * (v[i] as number),
        0,
      ) / m.length;
    const got = expectNoLeak(() => toolbox.heteroscedasticRegressionLoss([mu], [s], [y]));
    expect(got).toBeAllclose(host(mu, s), { rtol: 1e-5 });
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      toolbox.heteroscedasticRegressionLoss(a, b, [y]),
    );
    const [gm, gs] = g([tf.tensor2d([mu]), tf.tensor2d([s])]);
    expect(gm).toBeAllclose(
      finiteDiff((m) => host(m, s), mu, 1e-5),
      { rtol: 1e-3 },
    );
    expect(gs).toBeAllclose(
      finiteDiff((v) => host(mu, v), s, 1e-5),
      { rtol: 1e-3 },
    );
    tf.dispose([gm as tf.Tensor, gs as tf.Tensor]);
  });

  it('classification loss: no variance gives cross-entropy; huge variance gives log 2 for K = 2', () => {
    const logits = [
      [2.0, -1.0],
      [0.5, 0.7],
    ];
    const labels = [0, 1];
    const ce =
      -(
        Math.log(Math.exp(2) / (Math.exp(2) + Math.exp(-1))) +
        Math.log(Math.exp(0.7) / (Math.exp(0.5) + Math.exp(0.7)))
      ) / 2;
    const tiny = expectNoLeak(() =>
      toolbox.heteroscedasticClassificationLoss(
        logits,
        [
          [-40, -40],
          [-40, -40],
        ],
        labels,
        5,
        1,
      ),
    );
    expect(tiny).toBeAllclose(ce, { rtol: 1e-5 });
    const huge = expectNoLeak(() =>
      toolbox.heteroscedasticClassificationLoss(
        logits,
        [
          [16, 16],
          [16, 16],
        ],
        labels,
        4000,
        2,
      ),
    );
    expect(huge).toBeAllclose(Math.log(2), { rtol: 0.03 });
  });
});
