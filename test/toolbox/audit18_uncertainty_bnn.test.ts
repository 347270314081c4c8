/**
 * Audit probes (session 18) of `UncertaintyEvaluation` and the heteroscedastic model surgery on
 * models a TF.js user converted to Bayesian networks (`transformToBnn`): a Bayesian Dense mean
 * head (`outChannels`, no `units` in its config) in a Sequential and in a two-input functional
 * regressor.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, toolbox, transforms } from '../../src/index.js';
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
});
