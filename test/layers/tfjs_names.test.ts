import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

/** Copy a tf.layers layer's kernel (and bias) into a Bayesian layer's posterior means. */
function copyMeans(bayes: layers.BayesianLayer, plain: tf.layers.Layer): void {
  const [k, b] = plain.getWeights();
  const w = bayes.getWeights();
  const next = [k as tf.Tensor, w[1] as tf.Tensor];
  if (b !== undefined) next.push(b, w[3] as tf.Tensor);
  bayes.setWeights(next);
}

describe('Bayesian layers take TF.js argument names', () => {
  it('dense: units, useBias (default true), activation; mean mode equals tf.layers.dense', () => {
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
    const bayes = layers.denseFlipout({ units: 3, activation: 'tanh', mode: 'mean' });
    const plain = tf.layers.dense({ units: 3, activation: 'tanh' });
    const want = plain.apply(x) as tf.Tensor;
    bayes.apply(x);
    expect(bayes.outChannels).toBe(3);
    expect(bayes.hasBias).toBe(true);
    copyMeans(bayes, plain);
    expect(bayes.apply(x) as tf.Tensor).toBeAllclose(want, { atol: 1e-6 });
    const noBias = layers.denseReparam({ units: 2, useBias: false, inputShape: [4] });
    noBias.apply(x);
    expect(noBias.getWeights().map((t) => t.shape)).toEqual([
      [4, 2],
      [4, 2],
    ]);
    expect(noBias.getConfig()).toMatchObject({ outChannels: 2, hasBias: false });
    tf.dispose([x, want]);
  });

  it('conv: filters, kernelSize, strides, padding same/valid, dilationRate, bias by default; mean mode equals tf.layers.conv2d', () => {
    const x = tf.randomNormal([2, 9, 8, 3], 0, 1, 'float32', 4);
    const cases: {
      strides: number | [number, number];
      padding: 'same' | 'valid';
      dilationRate?: number;
    }[] = [
      { strides: 1, padding: 'same' },
      { strides: 2, padding: 'same' },
      { strides: [2, 1], padding: 'valid' },
      { strides: 1, padding: 'valid', dilationRate: 2 },
    ];
    for (const c of cases) {
      const plain = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', ...c });
      const want = plain.apply(x) as tf.Tensor;
      for (const make of [layers.convReparam, layers.convLocalReparam, layers.convFlipout]) {
        const bayes = make({ filters: 4, kernelSize: 3, activation: 'relu', mode: 'mean', ...c });
        bayes.apply(x);
        expect(bayes.hasBias).toBe(true);
        copyMeans(bayes, plain);
        const got = bayes.apply(x) as tf.Tensor;
        expect(got.shape).toEqual(want.shape);
        expect(got).toBeAllclose(want, { atol: 1e-5 });
        got.dispose();
      }
      want.dispose();
    }
    // TF.js's default padding is 'valid'; MindSpore's names keep 'same' and no bias.
    const tfjsStyle = layers.convReparam({ filters: 2, kernelSize: 3, inputShape: [9, 8, 3] });
    expect(tfjsStyle.computeOutputShape([null, 9, 8, 3])).toEqual([null, 7, 6, 2]);
    const msStyle = layers.convReparam({ outChannels: 2, kernelSize: 3 });
    expect(msStyle.computeOutputShape([null, 9, 8, 3])).toEqual([null, 9, 8, 2]);
    expect(msStyle.hasBias).toBe(false);
    x.dispose();
  });

  it('kernelInitializer / biasInitializer set the posterior means (objects or names)', () => {
    const x = tf.ones([1, 4]);
    const plain = tf.layers.dense({
      units: 3,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
    });
    plain.apply(x);
    const bayes = layers.denseReparam({
      units: 3,
      kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
      biasInitializer: 'ones',
    });
    bayes.apply(x);
    const [kMu, , bMu] = bayes.getWeights();
    expect(kMu as tf.Tensor).toBeAllclose(plain.getWeights()[0] as tf.Tensor, { atol: 0 });
    expect(bMu as tf.Tensor).toBeAllclose([1, 1, 1], { atol: 0 });
    const zeros = layers.convFlipout({ filters: 2, kernelSize: 1, kernelInitializer: 'zeros' });
    zeros.apply(tf.ones([1, 2, 2, 1]));
    expect(zeros.getWeights()[0] as tf.Tensor).toBeAllclose(tf.zeros([1, 1, 1, 2]), { atol: 0 });
    expect(() =>
      layers.denseReparam({ units: 2, kernelInitializer: 'orthogonal' as 'zeros' }),
    ).toThrow(/kernelInitializer: expected/);
    x.dispose();
  });

  it('a model in TF.js names trains with model.fit and does not leak', async () => {
    const model = tf.sequential({
      layers: [
        layers.convFlipout({
          inputShape: [6, 6, 1],
          filters: 2,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
        }),
        tf.layers.flatten(),
        layers.denseFlipout({ units: 2, activation: 'softmax' }),
      ],
    });
    layers.compileBayesian(model, {
      datasetSize: 8,
      optimizer: 'adam',
      loss: 'categoricalCrossentropy',
    });
    const x = tf.randomNormal([8, 6, 6, 1], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 0, 1, 0, 1, 0, 1], 'int32'), 2);
    await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
    expectNoLeak(() => {
      (model.predict(x) as tf.Tensor).dispose();
    });
    tf.dispose([x, y]);
    model.dispose();
  });
});
