/**
 * Audit probes (session 14): a converted regressor and a converted Conv3D/TimeDistributed/
 * Bidirectional classifier train with the ELBO (loss decreases), predict with MC samples around
 * the DNN (MC mean within its standard error), save and load to the same predictions.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers, transforms } from '../../src/index.js';
import { setSeed } from '../../src/utils/seed.js';
import { saveAndLoad } from '../helpers.js';
import { glorot as g } from '../fixtures/layers.js';

function values(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

describe('audit14: converted models train, sample, save', () => {
  it('a converted regressor (mse) fine-tunes with the ELBO: loss decreases, KL term present', async () => {
    setSeed(3);
    const dnn = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 8, activation: 'tanh', kernelInitializer: g(1) }),
        tf.layers.dense({ units: 2, kernelInitializer: g(2) }),
      ],
    });
    const x = tf.randomNormal([64, 3], 0, 1, 'float32', 4);
    const y = tf.tidy(() =>
      tf.concat([tf.sum(x, 1, true), tf.sin(tf.slice(x, [0, 0], [-1, 1]))], 1),
    );
    const r = await transforms.transformToBnn(dnn, {
      lossFn: 'mse',
      bnnFactor: 1 / 64,
      estimator: 'flipout',
    });
    const opt = tf.train.adam(0.02);
    const first = r.loss.compute(x, y);
    const nll0 = first.nll.dataSync()[0]!;
    const kl0 = first.kl.dataSync()[0]!;
    expect(kl0).toBeGreaterThan(0);
    // the loss is dnnFactor * mse + bnnFactor * KL
    expect(first.loss.dataSync()[0]!).toBeCloseTo(nll0 + kl0 / 64, 3);
    tf.dispose([first.loss, first.nll, first.kl, first.output]);
    opt.minimize(() => r.loss.compute(x, y).loss as tf.Scalar); // makes Adam's moments
    const before = tf.memory().numTensors;
    for (let i = 0; i < 60; i++) opt.minimize(() => r.loss.compute(x, y).loss as tf.Scalar);
    expect(tf.memory().numTensors).toBe(before);
    layers.setMode(r.model, 'mean');
    const nll1 = tf.tidy(() => r.loss.compute(x, y).nll.dataSync()[0]!);
    expect(nll1).toBeLessThan(0.5 * nll0);
    opt.dispose();
    r.model.dispose();
    dnn.dispose();
    tf.dispose([x, y]);
  });

  it('MC predictions scatter around the DNN: sample mean within 4 SE, spread grows with moped', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [4], units: 6, kernelInitializer: g(1) }),
        tf.layers.dense({ units: 1, kernelInitializer: g(2) }),
      ],
    });
    // a linear net: E[out] = DNN out exactly (weights independent, zero-mean noise, products of
    // independent layers have the product of means)
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 9);
    const want = values(dnn.predict(x) as tf.Tensor);
    setSeed(11);
    const spreads: number[] = [];
    for (const moped of [0.05, 0.3]) {
      const r = await transforms.transformToBnn(dnn, { moped, estimator: 'reparam' });
      const S = 400;
      const draws: number[][] = [];
      for (let s = 0; s < S; s++) draws.push(values(r.model.predict(x) as tf.Tensor));
      let spread = 0;
      for (let i = 0; i < want.length; i++) {
        const col = draws.map((d) => d[i]!);
        const m = col.reduce((a, b) => a + b, 0) / S;
        const sd = Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / (S - 1));
        expect(Math.abs(m - want[i]!)).toBeLessThan(4 * (sd / Math.sqrt(S)) + 1e-6);
        expect(sd).toBeGreaterThan(0);
        spread += sd;
      }
      spreads.push(spread);
      r.model.dispose();
    }
    expect(spreads[1]!).toBeGreaterThan(3 * spreads[0]!);
    x.dispose();
    dnn.dispose();
  });

  it('Conv3D + TimeDistributed(Conv2D) + Bidirectional(SimpleRNN) convert, save and reload to the same mean and seeded-sample predictions', async () => {
    const vid = tf.input({ shape: [4, 6, 6, 1] });
    let a = tf.layers
      .conv3d({ filters: 2, kernelSize: 2, kernelInitializer: g(1) })
      .apply(vid) as tf.SymbolicTensor;
    a = tf.layers.flatten().apply(a) as tf.SymbolicTensor;
    let b = tf.layers
      .timeDistributed({
        layer: tf.layers.conv2d({ filters: 3, kernelSize: 3, kernelInitializer: g(2) }),
      })
      .apply(vid) as tf.SymbolicTensor;
    b = tf.layers.timeDistributed({ layer: tf.layers.flatten() }).apply(b) as tf.SymbolicTensor;
    b = tf.layers
      .bidirectional({
        layer: tf.layers.simpleRNN({
          units: 3,
          kernelInitializer: g(3),
          recurrentInitializer: g(4),
        }) as tf.RNN,
        mergeMode: 'concat',
      })
      .apply(b) as tf.SymbolicTensor;
    const h = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 3, activation: 'softmax', kernelInitializer: g(5) })
      .apply(h) as tf.SymbolicTensor;
    const dnn = tf.model({ inputs: vid, outputs: out });
    const x = tf.randomNormal([2, 4, 6, 6, 1], 0, 1, 'float32', 1);
    const r = await transforms.transformToBnn(dnn, { estimator: 'flipout', moped: 0.2 });
    expect(
      r.converted.map((c) => `${c.from}${c.wrapper !== undefined ? '@' + c.wrapper : ''}`).sort(),
    ).toEqual(['Conv2D@TimeDistributed', 'Conv3D', 'Dense', 'SimpleRNN@Bidirectional']);
    expect(r.summary()).toMatch(/Flipout/);
    layers.setMode(r.model, 'mean');
    const want = values(dnn.predict(x) as tf.Tensor);
    const mean = values(r.model.predict(x) as tf.Tensor);
    mean.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5));
    const loaded = await saveAndLoad(r.model);
    layers.setMode(loaded, 'mean');
    expect(values(loaded.predict(x) as tf.Tensor)).toEqual(mean);
    layers.setMode(r.model, 'sample');
    layers.setMode(loaded, 'sample');
    setSeed(5);
    const s1 = values(r.model.predict(x) as tf.Tensor);
    setSeed(5);
    const s2 = values(loaded.predict(x) as tf.Tensor);
    s1.forEach((v, i) => expect(Math.abs(v - s2[i]!)).toBeLessThan(1e-6));
    // samples differ from the mean (the posterior is not a point)
    expect(Math.max(...s1.map((v, i) => Math.abs(v - mean[i]!)))).toBeGreaterThan(1e-4);
    // KL of the reloaded model is the same
    const k1 = values(layers.modelKL(r.model));
    const k2 = values(layers.modelKL(loaded));
    expect(k2[0]!).toBeCloseTo(k1[0]!, 3);
    loaded.dispose();
    r.model.dispose();
    dnn.dispose();
    x.dispose();
  });

  it('mopedPrior: KL is zero at conversion when posterior sigma equals priorSigma (closed form)', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [3],
          units: 2,
          kernelInitializer: g(1),
          biasInitializer: 'glorotNormal',
        }),
      ],
    });
    const r = await transforms.transformToBnn(dnn, {
      mopedPrior: true,
      posteriorSigma: 0.3,
      addDenseArgs: { priorSigma: 0.3 },
    });
    expect(Math.abs(values(layers.modelKL(r.model))[0]!)).toBeLessThan(1e-4);
    r.model.dispose();
    // scalar prior N(0, 1), posterior N(w, 0.3^2): KL = sum log(1/0.3) + (0.09 + w^2)/2 - 1/2
    const r2 = await transforms.transformToBnn(dnn, {
      posteriorSigma: 0.3,
      addDenseArgs: { priorSigma: 1 },
    });
    const w = dnn.getWeights().flatMap((t) => Array.from(t.dataSync()));
    const want = w.reduce((acc, wi) => acc + Math.log(1 / 0.3) + (0.09 + wi * wi) / 2 - 0.5, 0);
    expect(values(layers.modelKL(r2.model))[0]!).toBeCloseTo(want, 3);
    r2.model.dispose();
    dnn.dispose();
  });
});

describe('audit14: a converted model trains with tfjs model.fit', () => {
  it('compileBayesian + fit: first loss = CE + KL / N (mean mode check), loss decreases, no leak', async () => {
    setSeed(1);
    const dnn = tf.sequential({
      layers: [
        tf.layers.conv1d({
          inputShape: [6, 2],
          filters: 3,
          kernelSize: 3,
          activation: 'relu',
          kernelInitializer: g(1),
        }),
        tf.layers.globalAveragePooling1d(),
        tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: g(2) }),
      ],
    });
    const n = 48;
    const x = tf.randomNormal([n, 6, 2], 0, 1, 'float32', 2);
    const y = tf.tidy(() =>
      tf
        .argMax(tf.sum(x, 1), 1)
        .toFloat()
        .add(tf.greater(tf.sum(x, [1, 2]), 3).toFloat())
        .clipByValue(0, 2),
    );
    const r = await transforms.transformToBnn(dnn, { estimator: 'local', moped: 0.1 });
    layers.compileBayesian(r.model, {
      datasetSize: n,
      optimizer: tf.train.adam(0.03),
      loss: 'sparseCategoricalCrossentropy',
    });
    // in mean mode: tfjs's evaluate is the data term only (it adds no layer losses); one
    // full-batch fit step starts from CE + KL / N
    layers.setMode(r.model, 'mean');
    const ce = tf.tidy(() => {
      const p = r.model.predict(x) as tf.Tensor;
      return -tf.mean(tf.sum(tf.mul(tf.oneHot(y.toInt(), 3), tf.log(p)), 1)).dataSync()[0]!;
    });
    const kl = values(layers.modelKL(r.model))[0]!;
    const evaluated = values(r.model.evaluate(x, y, { batchSize: n }) as tf.Scalar)[0]!;
    expect(evaluated).toBeCloseTo(ce, 4);
    const h0 = await r.model.fit(x, y, { epochs: 1, batchSize: n, verbose: 0 });
    expect((h0.history.loss as number[])[0]!).toBeCloseTo(ce + kl / n, 3);
    layers.setMode(r.model, 'sample');
    const before = tf.memory().numTensors;
    const h = await r.model.fit(x, y, { epochs: 15, batchSize: 16, verbose: 0, shuffle: false });
    const losses = h.history.loss as number[];
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    expect(tf.memory().numTensors).toBe(before);
    r.model.dispose();
    dnn.dispose();
    tf.dispose([x, y]);
  });
});

describe('audit14: frozen layers stay frozen', () => {
  it('a DNN layer with trainable false converts to a frozen Bayesian layer; training moves only the rest', async () => {
    const frozen = tf.layers.dense({
      inputShape: [3],
      units: 4,
      activation: 'relu',
      kernelInitializer: g(1),
      name: 'frozen',
    });
    frozen.trainable = false;
    const dnn = tf.sequential({
      layers: [frozen, tf.layers.dense({ units: 2, kernelInitializer: g(2), name: 'head' })],
    });
    const r = await transforms.transformToBnn(dnn, { lossFn: 'mse' });
    expect(r.model.getLayer('frozen').trainable).toBe(false);
    expect(r.model.getLayer('head').trainable).toBe(true);
    const frozenBefore = r.model
      .getLayer('frozen')
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    const headBefore = r.model
      .getLayer('head')
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    const x = tf.randomNormal([8, 3], 0, 1, 'float32', 1);
    const y = tf.randomNormal([8, 2], 0, 1, 'float32', 2);
    const opt = tf.train.adam(0.05);
    for (let i = 0; i < 3; i++) r.loss.trainStep(opt, x, y);
    r.model
      .getLayer('frozen')
      .getWeights()
      .forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(frozenBefore[i]));
    const moved = r.model
      .getLayer('head')
      .getWeights()
      .some((w, i) => Array.from(w.dataSync()).some((v, j) => v !== headBefore[i]![j]));
    expect(moved).toBe(true);
    opt.dispose();
    tf.dispose([x, y]);
    r.model.dispose();
    dnn.dispose();
  });
});
