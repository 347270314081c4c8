import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox, setSeed, clearSeed } from '../../src/index.js';
import { applyWithMcDropout } from '../../src/toolbox/predictors.js';

/** Dense -> BatchNorm -> Dropout(rate) -> Dense(3) logits, with non-trivial moving statistics. */
function bnNet(rate: number): tf.Sequential {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [4],
        units: 6,
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.batchNormalization(),
      tf.layers.dropout({ rate }),
      tf.layers.dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  const bn = m.layers[1] as tf.layers.Layer;
  // gamma, beta, moving mean, moving variance
  bn.setWeights([
    tf.tensor1d([1.5, 0.5, 1, 2, 1, 0.8]),
    tf.tensor1d([0.1, -0.2, 0.3, 0, 0.5, -0.1]),
    tf.tensor1d([0.3, -0.1, 0.2, 0.4, -0.3, 0]),
    tf.tensor1d([0.5, 2, 1, 0.7, 1.2, 3]),
  ]);
  return m;
}

const xTest = tf.tensor2d([
  [5.1, 4.2, 6.3, 5.5],
  [4.0, 6.1, 5.2, 4.4],
  [6.2, 5.3, 4.1, 5.9],
  [5.5, 5.0, 5.8, 4.7],
]);

describe('MC dropout keeps BatchNorm at inference and the model unchanged', () => {
  it('mcDropoutPredictor: moving statistics unchanged; a sample of an input does not depend on its batch', () => {
    const m = bnNet(1e-6); // dropout practically never drops: each sample is the inference output
    const stats0 = (m.layers[1] as tf.layers.Layer).getWeights().map((w) => w.arraySync());
    const ref = tf.tidy(() => tf.softmax(m.predict(xTest) as tf.Tensor)); // moving statistics
    const p = toolbox.mcDropoutPredictor(m);
    const batch = p.predictSamples(xTest, 5);
    const alone = p.predictSamples(xTest.slice(0, 1), 5);
    // before: the batch statistics of the four inputs (alone: zero variance, every row = beta)
    expect(batch).toBeAllclose(tf.stack(Array.from({ length: 5 }, () => ref)), { atol: 1e-5 });
    expect(alone).toBeAllclose(tf.stack(Array.from({ length: 5 }, () => ref.slice(0, 1))), {
      atol: 1e-5,
    });
    // before: moving mean 0.3 -> 0.34 after 10 training-mode passes
    const stats1 = (m.layers[1] as tf.layers.Layer).getWeights().map((w) => w.arraySync());
    expect(stats1).toEqual(stats0);
    // the wrapping of the dropout layer is undone: a plain training call is stock tfjs again
    expect(Object.getOwnPropertyDescriptor(m.layers[2] as object, 'call')).toBeUndefined();
    tf.dispose([batch, alone, ref]);
    m.dispose();
  });

  it('applyWithMcDropout still samples the dropout masks (rate 0.5: samples differ)', () => {
    const m = bnNet(0.5);
    const before = tf.memory().numTensors;
    const a = applyWithMcDropout(m, xTest) as tf.Tensor;
    const b = applyWithMcDropout(m, xTest) as tf.Tensor;
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
    expect(diff).toBeGreaterThan(1e-3);
    tf.dispose([a, b]);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

describe('UncertaintyEvaluation epistemic passes keep BatchNorm at inference', () => {
  it('equals a hand-run MC dropout with moving statistics; the model is unchanged', async () => {
    const m = bnNet(0.3);
    const [dense1, bn, drop, dense2] = m.layers as tf.layers.Layer[];
    const stats0 = (bn as tf.layers.Layer).getWeights().map((w) => w.arraySync());
    const pred0 = tf.tidy(() => (m.predict(xTest) as tf.Tensor).arraySync());
    const ue = new toolbox.UncertaintyEvaluation({
      model: m,
      taskType: 'classification',
      numClasses: 3,
      mcSamples: 6,
    });
    setSeed(5);
    const epi = await ue.evalEpistemicUncertainty(xTest);
    // the reference: dropout masks from the same seed stream, BatchNorm on its moving statistics
    setSeed(5);
    const ref = tf.tidy(() => {
      const passes = Array.from({ length: 6 }, () => {
        const h = (bn as tf.layers.Layer).apply((dense1 as tf.layers.Layer).apply(xTest), {
          training: false,
        }) as tf.Tensor;
        const d = (drop as tf.layers.Layer).apply(h, { training: true }) as tf.Tensor;
        return (dense2 as tf.layers.Layer).apply(d) as tf.Tensor;
      });
      return tf.moments(tf.stack(passes), 0).variance;
    });
    clearSeed();
    // before: normalised with the batch's statistics and updated the moving statistics
    expect(epi).toBeAllclose(ref, { rtol: 1e-4, atol: 1e-7 });
    expect(Math.max(...Array.from(epi.dataSync()))).toBeGreaterThan(1e-3);
    const stats1 = (bn as tf.layers.Layer).getWeights().map((w) => w.arraySync());
    expect(stats1).toEqual(stats0);
    const pred1 = tf.tidy(() => (m.predict(xTest) as tf.Tensor).arraySync());
    expect(pred1).toEqual(pred0);
    tf.dispose([epi, ref]);
    ue.dispose();
    m.dispose();
  });
});
