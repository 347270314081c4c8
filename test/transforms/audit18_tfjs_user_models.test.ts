/**
 * Audit probes (session 18) of DNN -> BNN conversion on models a TF.js user writes: an Embedding ->
 * GlobalAveragePooling1D -> Dense text classifier trained first (its weights become the posterior
 * means), a Conv1D + MaxPooling1D regressor and a SeparableConv2D / DepthwiseConv2D +
 * BatchNormalization CNN; `file://` round trip of each converted model (classes, KL, seeded
 * draws); `model.fit` of the converted classifier with `compileBayesian`, `validationData`, early
 * stopping and `classWeight`, the ELBO falling.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layers, setSeed, transforms } from '../../src/index.js';
import { disposeModel } from '../../src/layers/index.js';
import { fileIO } from '../../src/node.js';
import { glorot as g, maxDiff } from '../fixtures/layers.js';

const dir = mkdtempSync(join(tmpdir(), 'deepprob-audit18-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function textClassifier(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.embedding({
        inputDim: 12,
        outputDim: 4,
        inputLength: 6,
        embeddingsInitializer: g(1),
      }),
      tf.layers.globalAveragePooling1d(),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: g(2) }),
    ],
  });
}

function conv1dRegressor(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv1d({
        inputShape: [12, 2],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: g(3),
      }),
      tf.layers.maxPooling1d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 1, kernelInitializer: g(4) }),
    ],
  });
}

function separableCnn(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.separableConv2d({
        inputShape: [8, 8, 3],
        filters: 4,
        kernelSize: 3,
        depthMultiplier: 2,
        activation: 'relu',
        depthwiseInitializer: g(5),
        pointwiseInitializer: g(6),
      }),
      tf.layers.batchNormalization({
        betaInitializer: 'ones',
        movingVarianceInitializer: tf.initializers.constant({ value: 2 }),
      }),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: g(7) }),
      tf.layers.batchNormalization(),
      tf.layers.globalMaxPooling2d({}),
      tf.layers.dense({ units: 2, kernelInitializer: g(8) }),
    ],
  });
}

/** Tokens `[N, 6]` in [0, 12) and labels: the class of the most frequent token group. */
function tokens(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const x = tf.tidy(() =>
    tf.floor(tf.randomUniform([n, 6], 0, 12, 'float32', seed)),
  ) as tf.Tensor2D;
  const y = tf.tidy(() =>
    tf.oneHot(tf.cast(tf.floorDiv(tf.max(x, 1), 4), 'int32') as tf.Tensor1D, 3),
  ) as tf.Tensor2D;
  return { x, y };
}

describe("audit18: converting TF.js users' models", () => {
  it('a trained text classifier: the converted model at sigma 1e-8 predicts as the DNN (sample and mean); fit with validation, early stopping and classWeight lowers the ELBO', async () => {
    const dnn = textClassifier();
    const { x, y } = tokens(24, 1);
    dnn.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy' });
    await dnn.fit(x, y, { epochs: 3, batchSize: 8, verbose: 0, shuffle: false });
    const r = await transforms.transformToBnn(dnn, { posteriorSigma: 1e-8 });
    expect(r.converted.map((c) => c.to)).toEqual(['DenseReparam']);
    const want = dnn.predict(x) as tf.Tensor;
    const sampled = r.model.predict(x) as tf.Tensor;
    layers.setMode(r.model, 'mean');
    const mean = r.model.predict(x) as tf.Tensor;
    expect(maxDiff(mean, want)).toBeLessThan(1e-6);
    expect(maxDiff(sampled, want)).toBeLessThan(1e-5);
    tf.dispose([want, sampled, mean]);
    layers.setMode(r.model, 'sample');
    layers.compileBayesian(r.model, {
      datasetSize: 24,
      optimizer: tf.train.adam(0.02),
      loss: 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
    setSeed(5);
    const before = tf.memory().numTensors;
    const h = await r.model.fit(x, y, {
      epochs: 6,
      batchSize: 8,
      verbose: 0,
      shuffle: false,
      validationData: [x, y],
      classWeight: { 0: 1, 1: 2, 2: 1 },
      callbacks: tf.callbacks.earlyStopping({ monitor: 'val_loss', patience: 10 }),
    });
    const loss = h.history.loss as number[];
    expect(loss).toHaveLength(6);
    expect(h.history.val_loss).toHaveLength(6);
    // the KL / N term dominates at sigma 1e-8 and falls as the posterior widens
    expect(loss[5]!).toBeLessThan(loss[0]!);
    for (const v of loss) expect(Number.isFinite(v)).toBe(true);
    // nothing left but Adam's two moments per trainable weight (embeddings, kernel/bias mu and rho)
    expect(tf.memory().numTensors - before).toBe(2 * r.model.trainableWeights.length);
    tf.dispose([x, y]);
    disposeModel(r.model);
    dnn.dispose();
  });

  for (const [what, make, xShape] of [
    ['Conv1D + MaxPooling1D regressor', conv1dRegressor, [4, 12, 2]],
    ['SeparableConv2D / DepthwiseConv2D + BatchNormalization CNN', separableCnn, [3, 8, 8, 3]],
  ] as const) {
    it(`${what}: converts, predicts as the DNN, and a file:// round trip keeps classes, KL and seeded draws`, async () => {
      const dnn = make();
      const x = tf.randomNormal([...xShape], 0, 1, 'float32', 9);
      const r = await transforms.transformToBnn(dnn, { posteriorSigma: 1e-8 });
      layers.setMode(r.model, 'mean');
      const want = dnn.predict(x) as tf.Tensor;
      const mean = r.model.predict(x) as tf.Tensor;
      expect(maxDiff(mean, want)).toBeLessThan(1e-5);
      tf.dispose([want, mean]);
      const bnn = (await transforms.transformToBnn(dnn, { moped: 0.2 })).model;
      const path = join(dir, what.replace(/[^a-z0-9]+/gi, '_'));
      await bnn.save(fileIO(path));
      const loaded = await tf.loadLayersModel(fileIO(path));
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(
        bnn.layers.map((l) => l.getClassName()),
      );
      const [k1, k2] = [layers.modelKL(bnn), layers.modelKL(loaded)];
      expect(k2.dataSync()[0]).toBeCloseTo(k1.dataSync()[0]!, 3);
      setSeed(3);
      const a = bnn.predict(x) as tf.Tensor;
      setSeed(3);
      const b = loaded.predict(x) as tf.Tensor;
      expect(maxDiff(a, b)).toBe(0);
      tf.dispose([k1, k2, a, b, x]);
      disposeModel(loaded);
      disposeModel(bnn);
      disposeModel(r.model);
      dnn.dispose();
    });
  }
});
