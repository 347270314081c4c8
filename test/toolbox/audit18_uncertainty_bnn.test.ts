/**
 * Audit probes (session 18) of `UncertaintyEvaluation` and the heteroscedastic model surgery on
 * models a TF.js user converted to Bayesian networks (`transformToBnn`): a Bayesian Dense mean
 * head (`outChannels`, no `units` in its config) in a Sequential and in a two-input functional
 * regressor; the aleatoric copy of a BNN trained on its ELBO (data loss + KL / N) and its
 * variance averaged over `mcSamples` weight draws (Kendall & Gal 2017, eq. 9).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, setSeed, toolbox, transforms } from '../../src/index.js';
import { disposeModel } from '../../src/layers/index.js';
import { glorot as g, maxDiff } from '../fixtures/layers.js';

/** A Sequential regressor with two outputs, converted at a tiny posterior scale. */
async function bnnSequential(): Promise<{ dnn: tf.LayersModel; bnn: tf.LayersModel }> {
  const dnn = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 5, activation: 'tanh', kernelInitializer: g(1) }),
      tf.layers.dense({ units: 2, kernelInitializer: g(2), name: 'mean_head' }),
    ],
  });
  const r = await transforms.transformToBnn(dnn, { posteriorSigma: 1e-8 });
  return { dnn, bnn: r.model };
}

/** A two-input functional regressor (Concatenate), converted at a tiny posterior scale. */
async function bnnFunctional(): Promise<{ dnn: tf.LayersModel; bnn: tf.LayersModel }> {
  const a = tf.input({ shape: [3], name: 'a' });
  const b = tf.input({ shape: [2], name: 'b' });
  const ha = tf.layers
    .dense({ units: 4, activation: 'relu', kernelInitializer: g(3) })
    .apply(a) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate().apply([ha, b]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 3, kernelInitializer: g(4), name: 'mean_head' })
    .apply(cat) as tf.SymbolicTensor;
  const dnn = tf.model({ inputs: [a, b], outputs: out });
  const r = await transforms.transformToBnn(dnn, { posteriorSigma: 1e-8 });
  return { dnn, bnn: r.model };
}

describe('audit18: heteroscedastic copies of converted BNNs', () => {
  it('heteroscedasticRegressor of a Bayesian Dense head: log-variance head as wide as the output (0 at start), mean = the DNN', async () => {
    for (const make of [bnnSequential, bnnFunctional]) {
      const { dnn, bnn } = await make();
      const x =
        dnn.inputs.length === 1
          ? [tf.randomNormal([6, 3], 0, 1, 'float32', 5)]
          : [
              tf.randomNormal([6, 3], 0, 1, 'float32', 5),
              tf.randomNormal([6, 2], 0, 1, 'float32', 6),
            ];
      const before = tf.memory().numTensors;
      const het = await toolbox.heteroscedasticRegressor(bnn);
      layers.setMode(het, 'mean');
      const [mean, logVar] = het.predict(x.length === 1 ? x[0]! : x) as tf.Tensor[];
      const want = dnn.predict(x.length === 1 ? x[0]! : x) as tf.Tensor;
      // the log variance s = W h + b starts at W = 0, b = 0, one per output
      expect(logVar!.shape).toEqual(want.shape);
      expect(Math.max(...Array.from(logVar!.dataSync()).map(Math.abs))).toBe(0);
      expect(maxDiff(mean!, want)).toBeLessThan(1e-5);
      tf.dispose([mean!, logVar!, want]);
      disposeModel(het);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(x);
      disposeModel(bnn);
      dnn.dispose();
    }
  });

  it('UncertaintyEvaluation of a converted BNN regressor: aleatoric [N] > 0 (no raw tfjs error), nothing left after dispose', async () => {
    for (const make of [bnnSequential, bnnFunctional]) {
      const { dnn, bnn } = await make();
      const n = 16;
      const x =
        dnn.inputs.length === 1
          ? tf.randomNormal([n, 3], 0, 1, 'float32', 7)
          : [
              tf.randomNormal([n, 3], 0, 1, 'float32', 7),
              tf.randomNormal([n, 2], 0, 1, 'float32', 8),
            ];
      const y = tf.randomNormal([n, dnn.outputs[0]!.shape[1] as number], 0, 1, 'float32', 9);
      const before = tf.memory().numTensors;
      const ue = new toolbox.UncertaintyEvaluation({
        model: bnn,
        trainDataset: { x, y },
        taskType: 'regression',
        epochs: 1,
        batchSize: 8,
        seed: 1,
      });
      const ale = await ue.evalAleatoricUncertainty(x);
      expect(ale.shape).toEqual([n]);
      // s starts at 0 and one epoch of two Adam steps of size 1e-3 moves it little: sum_k e^s ~ D
      const d = y.shape[1] as number;
      for (const v of ale.dataSync()) {
        expect(v).toBeGreaterThan(0.9 * d);
        expect(v).toBeLessThan(1.1 * d);
      }
      ale.dispose();
      ue.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, y].flat());
      disposeModel(bnn);
      dnn.dispose();
    }
  });

  it('the aleatoric copy of a BNN is trained on its ELBO: the first epoch loss = 1/2 mean (y - mu)^2 + KL / N (s = 0 at start)', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4, activation: 'tanh', kernelInitializer: g(7) }),
        tf.layers.dense({ units: 2, kernelInitializer: g(8) }),
      ],
    });
    const bnn = (await transforms.transformToBnn(dnn, { posteriorSigma: 1e-6 })).model;
    const n = 12;
    const x = tf.randomNormal([n, 3], 0, 1, 'float32', 10);
    const y = tf.randomNormal([n, 2], 0, 1, 'float32', 11);
    // float64 reference: the DNN's output (the posterior means; sigma 1e-6 moves it by ~1e-6)
    const mu = dnn.predict(x) as tf.Tensor;
    const [m, t] = [mu.dataSync(), y.dataSync()];
    let sq = 0;
    for (let i = 0; i < m.length; i++) sq += (t[i]! - m[i]!) ** 2;
    const kl = layers.modelKL(bnn);
    const want = (0.5 * sq) / m.length + (kl.dataSync()[0] as number) / n;
    tf.dispose([mu, kl]);
    const losses: number[] = [];
    const ue = new toolbox.UncertaintyEvaluation({
      model: bnn,
      trainDataset: { x, y },
      taskType: 'regression',
      epochs: 1,
      batchSize: n,
      learningRate: 1e-12,
      onEpoch: (which, _e, loss) => {
        if (which === 'aleatoric') losses.push(loss);
      },
    });
    const ale = await ue.evalAleatoricUncertainty(x);
    expect(losses).toHaveLength(1);
    expect(Math.abs(losses[0]! - want)).toBeLessThan(1e-4 * want);
    ale.dispose();
    ue.dispose();
    tf.dispose([x, y]);
    disposeModel(bnn);
    dnn.dispose();
  });

  it('the aleatoric variance of a BNN is the mean over mcSamples weight draws of sum_k e^s (seeded), not one draw', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 6, activation: 'tanh', kernelInitializer: g(9) }),
        tf.layers.dense({ units: 2, kernelInitializer: g(10) }),
      ],
    });
    const bnn = (await transforms.transformToBnn(dnn, { moped: 0.5 })).model;
    const n = 10;
    const x = tf.randomNormal([n, 3], 0, 1, 'float32', 12);
    const y = tf.tidy(() =>
      tf.mul(tf.randomNormal([n, 2], 0, 1, 'float32', 13), tf.abs(tf.slice(x, [0, 0], [n, 1]))),
    );
    const T = 7;
    const ue = new toolbox.UncertaintyEvaluation({
      model: bnn,
      trainDataset: { x, y },
      taskType: 'regression',
      epochs: 5,
      batchSize: 5,
      learningRate: 0.05,
      mcSamples: T,
      seed: 2,
    });
    const het = await ue.aleatoricModel();
    const before = tf.memory().numTensors;
    setSeed(31);
    const got = await ue.evalAleatoricUncertainty(x);
    // the definition, draw by draw, on the same stream
    setSeed(31);
    const draws: Float32Array[] = [];
    for (let t = 0; t < T; t++) {
      const v = tf.tidy(() => tf.sum(tf.exp((het.predict(x) as tf.Tensor[])[1]!), -1));
      draws.push(v.dataSync() as Float32Array);
      v.dispose();
    }
    const g64 = got.dataSync();
    let spread = 0;
    for (let i = 0; i < n; i++) {
      const mean = draws.reduce((a, d) => a + d[i]!, 0) / T;
      expect(Math.abs(g64[i]! - mean)).toBeLessThan(1e-5 * mean);
      spread = Math.max(spread, Math.abs(draws[0]![i]! - mean) / mean);
    }
    // the draws differ, so one draw would not have passed
    expect(spread).toBeGreaterThan(1e-3);
    got.dispose();
    expect(tf.memory().numTensors).toBe(before);
    ue.dispose();
    tf.dispose([x, y]);
    disposeModel(bnn);
    dnn.dispose();
  });
});
