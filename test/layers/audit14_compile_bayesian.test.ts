/**
 * Issue 18 audit: `layers.compileBayesian(model, {datasetSize, klWeight})` as a TF.js user calls
 * it. The loss `model.fit` reports must be the per-example negative ELBO
 *
 * $$\mathcal{L} = \frac{1}{|B|}\sum_{i\in B} \ell(y_i, f_w(x_i)) + \frac{\beta}{N}\sum
 *   \Big(-\log\sigma + \frac{\sigma^2 + \mu^2}{2} - \frac12\Big)$$
 *
 * (the Gaussian KL to `N(0, 1)` in closed form), checked against a float64 computation in plain
 * JS with the learning rate 0 and posterior scales so small that the draw is the mean; and
 * mistakes in its arguments (a `metric` typo that tfjs ignores) are refused naming the key.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { layers, ready } from '../../src/index.js';
import { ArgumentError } from '../../src/utils/errors.js';

beforeAll(async () => {
  await ready();
});

const softplus = (x: number): number => Math.log1p(Math.exp(x));

/** A one-layer regression BNN with posterior scale softplus(rho) and a N(0, 1) prior. */
function net(rho: number): tf.Sequential {
  return tf.sequential({
    layers: [
      layers.denseReparam({
        inputShape: [3],
        units: 2,
        priorMu: 0,
        priorSigma: 1,
        posteriorRhoInitial: [rho, 0],
        kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.7, seed: 3 }),
        biasInitializer: tf.initializers.randomNormal({ mean: 0.2, stddev: 0.3, seed: 4 }),
      }),
    ],
  });
}

describe('compileBayesian: the loss fit minimises is NLL + beta KL / N', () => {
  for (const [N, beta] of [
    [40, 1],
    [40, 0.25],
    [7, 1],
  ] as const) {
    it(`N = ${N}, klWeight = ${beta}`, async () => {
      const rho = -11; // sigma = 1.7e-5: the sampled weights are the means to ~1e-5
      const model = net(rho);
      const x = tf.randomNormal([N, 3], 0, 1, 'float32', 7);
      const y = tf.randomNormal([N, 2], 0, 1, 'float32', 8);
      layers.compileBayesian(model, {
        datasetSize: N,
        klWeight: beta,
        optimizer: tf.train.sgd(0),
        loss: 'meanSquaredError',
      });
      const h = await model.fit(x, y, { epochs: 1, batchSize: N, verbose: 0, shuffle: false });
      const reported = h.history['loss']?.[0] as number;

      // float64 reference: MSE of the mean network + beta/N * KL(q || N(0, 1)) in closed form
      const byName = (s: string): number[] =>
        Array.from(
          model.weights
            .find((w) => w.name.endsWith(s))
            ?.read()
            .dataSync() ?? [],
        );
      const [W, b] = [byName('kernel_mu'), byName('bias_mu')];
      const sig = [...byName('kernel_rho'), ...byName('bias_rho')].map(softplus);
      const mus = [...W, ...b];
      const xs = x.arraySync() as number[][];
      const ys = y.arraySync() as number[][];
      let se = 0;
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < 2; j++) {
          let f = b[j] as number;
          for (let k = 0; k < 3; k++) f += (xs[i]?.[k] as number) * (W[k * 2 + j] as number);
          se += (f - (ys[i]?.[j] as number)) ** 2;
        }
      }
      const mse = se / (N * 2);
      const kl = mus.reduce(
        (a, m, i) => a - Math.log(sig[i] as number) + ((sig[i] as number) ** 2 + m * m) / 2 - 0.5,
        0,
      );
      expect(mus).toHaveLength(8);
      const expected = mse + (beta * kl) / N;
      expect((beta * kl) / N).toBeGreaterThan(0.1 * mse); // the KL term is not negligible here
      expect(Math.abs(reported - expected)).toBeLessThan(2e-4 * expected);
      tf.dispose([x, y]);
      model.dispose();
    });
  }

  it('unknown keys (a metric typo tfjs would ignore) are refused before compiling', () => {
    const model = net(-5);
    const bad: [Record<string, unknown>, string][] = [
      [{ datasetSize: 10, optimizer: 'adam', loss: 'meanSquaredError', metric: ['mse'] }, 'metric'],
      [
        { datasetSize: 10, optimizer: 'adam', loss: 'meanSquaredError', dataset_size: 3 },
        'dataset_size',
      ],
      [{ datasetSize: 0, optimizer: 'adam', loss: 'meanSquaredError' }, 'datasetSize'],
      [{ datasetSize: 10, klWeight: -1, optimizer: 'adam', loss: 'meanSquaredError' }, 'klWeight'],
    ];
    for (const [args, name] of bad) {
      let err: unknown;
      try {
        layers.compileBayesian(model, args as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).argument).toBe(name);
      expect(model.optimizer).toBeUndefined(); // nothing was compiled
    }
    model.dispose();
  });
});
