/**
 * Audit probes (session 16) of DNN -> BNN conversion as a TF.js developer writes models: functional
 * multi-input / multi-output graphs, nested functional models, dilated / strided / transposed
 * convolutions, layer normalisation, regularised layers, the converted model's parameter count,
 * its independence from the DNN (dispose either), `file://` round trip, MC prediction shapes, the
 * KL a user reads, and refused options.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layers, setSeed, toolbox, transforms } from '../../src/index.js';
import { fileIO } from '../../src/node.js';
import { expectBadInput } from '../helpers.js';
import { glorot as g, maxDiff } from '../fixtures/layers.js';

function asList(t: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(t) ? t : [t];
}

/** Converted at sigma 1e-8: mean mode and a sampled call equal the DNN. */
async function expectSame(
  dnn: tf.LayersModel,
  x: tf.Tensor | tf.Tensor[],
  opts: transforms.TransformToBnnOptions = {},
  tol = 1e-5,
): Promise<transforms.BnnConversion> {
  const r = await transforms.transformToBnn(dnn, { posteriorSigma: 1e-8, ...opts });
  const want = asList(dnn.predict(x));
  layers.setMode(r.model, 'mean');
  const mean = asList(r.model.predict(x));
  layers.setMode(r.model, 'sample');
  const sampled = asList(r.model.predict(x));
  expect(mean).toHaveLength(want.length);
  want.forEach((w, i) => {
    expect(maxDiff(mean[i]!, w)).toBeLessThan(tol);
    expect(maxDiff(sampled[i]!, w)).toBeLessThan(tol * 10);
  });
  tf.dispose([...want, ...mean, ...sampled]);
  return r;
}

function twoHeaded(): tf.LayersModel {
  const img = tf.input({ shape: [9, 9, 2], name: 'img' });
  const meta = tf.input({ shape: [3], name: 'meta' });
  let h = tf.layers
    .conv2d({
      filters: 3,
      kernelSize: 3,
      dilationRate: 2,
      activation: 'relu',
      kernelInitializer: g(1),
      biasInitializer: 'ones',
    })
    .apply(img) as tf.SymbolicTensor; // 5x5
  h = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: g(2) })
    .apply(h) as tf.SymbolicTensor; // 3x3
  h = tf.layers.layerNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  const m = tf.layers
    .dense({ units: 4, activation: 'elu', kernelInitializer: g(3) })
    .apply(meta) as tf.SymbolicTensor;
  const z = tf.layers.concatenate().apply([h, m]) as tf.SymbolicTensor;
  const z2 = tf.layers.dropout({ rate: 0.3 }).apply(z) as tf.SymbolicTensor;
  const cls = tf.layers
    .dense({ units: 3, activation: 'softmax', name: 'cls', kernelInitializer: g(4) })
    .apply(z2) as tf.SymbolicTensor;
  const reg = tf.layers
    .dense({ units: 1, name: 'reg', useBias: false, kernelInitializer: g(5) })
    .apply(z2) as tf.SymbolicTensor;
  return tf.model({ inputs: [img, meta], outputs: [cls, reg], name: 'two_headed' });
}

describe('audit16: converting TF.js models', () => {
  it('a two-input two-output functional model: same input/output names and shapes, predictions equal the DNN', async () => {
    const dnn = twoHeaded();
    const x = [
      tf.randomNormal([4, 9, 9, 2], 0, 1, 'float32', 1),
      tf.randomNormal([4, 3], 0, 1, 'float32', 2),
    ];
    for (const estimator of ['reparam', 'local', 'flipout'] as const) {
      const r = await expectSame(dnn, x, { estimator });
      expect(r.model.inputNames).toEqual(dnn.inputNames);
      expect(r.model.outputNames).toEqual(dnn.outputNames);
      expect(r.model.inputs.map((t) => t.shape)).toEqual(dnn.inputs.map((t) => t.shape));
      expect(r.model.outputs.map((t) => t.shape)).toEqual(dnn.outputs.map((t) => t.shape));
      expect(r.converted.map((c) => c.name).sort()).toEqual(
        dnn.layers
          .filter((l) => ['Conv2D', 'Dense'].includes(l.getClassName()))
          .map((l) => l.name)
          .sort(),
      );
      // layer names kept, weights named <layer>/kernel_mu ...
      expect(r.model.layers.map((l) => l.name)).toEqual(dnn.layers.map((l) => l.name));
      const cls = r.model.getLayer('cls');
      // tfjs makes variable names unique per process (a second conversion gets a _1 suffix)
      expect(cls.weights.map((w) => w.name.replace(/_\d+$/, ''))).toEqual([
        'cls/kernel_mu',
        'cls/kernel_rho',
        'cls/bias_mu',
        'cls/bias_rho',
      ]);
      layers.disposeModel(r.model);
    }
    tf.dispose(x);
    layers.disposeModel(dnn);
  });

  it('the converted two-headed model trains with compileBayesian and per-output losses (fit + earlyStopping callback)', async () => {
    setSeed(5);
    const dnn = twoHeaded();
    const r = await transforms.transformToBnn(dnn, { estimator: 'flipout' });
    layers.compileBayesian(r.model, {
      datasetSize: 16,
      optimizer: tf.train.adam(0.02),
      loss: { cls: 'categoricalCrossentropy', reg: 'meanSquaredError' },
    });
    const x = [
      tf.randomNormal([16, 9, 9, 2], 0, 1, 'float32', 3),
      tf.randomNormal([16, 3], 0, 1, 'float32', 4),
    ];
    const yc = tf.tidy(() => tf.oneHot(tf.argMax(x[1]!, 1), 3));
    const yr = tf.tidy(() => x[1]!.sum(1, true));
    const h = await r.model.fit(x, [yc, yr], {
      epochs: 20,
      batchSize: 8,
      verbose: 0,
      callbacks: tf.callbacks.earlyStopping({ monitor: 'loss', patience: 50 }),
    });
    const loss = h.history.loss as number[];
    expect(loss).toHaveLength(20);
    expect(loss[loss.length - 1]!).toBeLessThan(loss[0]!);
    tf.dispose([...x, yc, yr]);
    layers.disposeModel(r.model);
    layers.disposeModel(dnn);
  });

  it('a functional model nested in a functional model (applied once) converts inside and predicts as the DNN', async () => {
    const ii = tf.input({ shape: [6, 6, 1] });
    let t = tf.layers
      .conv2d({ filters: 2, kernelSize: 3, kernelInitializer: g(6) })
      .apply(ii) as tf.SymbolicTensor;
    t = tf.layers.maxPooling2d({ poolSize: 2 }).apply(t) as tf.SymbolicTensor;
    t = tf.layers.flatten().apply(t) as tf.SymbolicTensor;
    const backbone = tf.model({ inputs: ii, outputs: t, name: 'backbone' });
    const inp = tf.input({ shape: [6, 6, 1] });
    const f = backbone.apply(inp) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 2, kernelInitializer: g(7) })
      .apply(f) as tf.SymbolicTensor;
    const dnn = tf.model({ inputs: inp, outputs: out });
    const x = tf.randomNormal([3, 6, 6, 1], 0, 1, 'float32', 5);
    const r = await expectSame(dnn, x);
    expect(r.converted).toHaveLength(2);
    expect(layers.bayesianLayers(r.model)).toHaveLength(2);
    tf.dispose(x);
    layers.disposeModel(r.model);
    layers.disposeModel(dnn);
  });

  it('Conv2DTranspose (strides 2, valid), SeparableConv2D (multiplier 2, strides 2), DepthwiseConv2D (dilation 2) in one Sequential', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.depthwiseConv2d({
          inputShape: [9, 9, 2],
          kernelSize: 3,
          dilationRate: 2,
          depthMultiplier: 2,
          depthwiseInitializer: g(8),
          biasInitializer: 'ones',
          useBias: true,
        }),
        tf.layers.separableConv2d({
          filters: 3,
          kernelSize: 2,
          strides: 2,
          depthMultiplier: 2,
          depthwiseInitializer: g(9),
          pointwiseInitializer: g(10),
          activation: 'relu',
        }),
        tf.layers.conv2dTranspose({
          filters: 2,
          kernelSize: 3,
          strides: 2,
          padding: 'valid',
          kernelInitializer: g(11),
          biasInitializer: 'ones',
        }),
        tf.layers.activation({ activation: 'tanh' }),
      ],
    });
    const x = tf.randomNormal([2, 9, 9, 2], 0, 1, 'float32', 6);
    for (const estimator of ['reparam', 'local', 'flipout'] as const) {
      const r = await expectSame(dnn, x, { estimator });
      layers.disposeModel(r.model);
    }
    tf.dispose(x);
    layers.disposeModel(dnn);
  });

  it('Embedding -> GRU -> TimeDistributed-free Dense head, and Conv1D (dilated) -> LSTM: convert and predict as the DNN', async () => {
    const a = tf.sequential({
      layers: [
        tf.layers.embedding({
          inputDim: 10,
          outputDim: 4,
          inputLength: 5,
          embeddingsInitializer: g(12),
        }),
        tf.layers.gru({
          units: 3,
          returnSequences: true,
          kernelInitializer: g(13),
          recurrentInitializer: g(14),
        }),
        tf.layers.globalMaxPooling1d({}),
        tf.layers.dense({ units: 2, kernelInitializer: g(15) }),
      ],
    });
    const xa = tf.tensor2d([
      [1, 2, 3, 4, 5],
      [9, 0, 0, 7, 1],
    ]);
    const ra = await expectSame(a, xa, {}, 1e-5);
    expect(ra.model.layers[0]!.getClassName()).toBe('Embedding');
    const b = tf.sequential({
      layers: [
        tf.layers.conv1d({
          inputShape: [8, 2],
          filters: 3,
          kernelSize: 2,
          dilationRate: 2,
          kernelInitializer: g(16),
        }),
        tf.layers.lstm({ units: 2, kernelInitializer: g(17), recurrentInitializer: g(18) }),
      ],
    });
    const xb = tf.randomNormal([3, 8, 2], 0, 1, 'float32', 7);
    const rb = await expectSame(b, xb, { estimator: 'local' });
    tf.dispose([xa, xb]);
    [ra.model, rb.model, a, b].forEach((m) => layers.disposeModel(m));
  });

  it('parameter count: every converted weight twice, the other layers as they were', async () => {
    const dnn = twoHeaded();
    const r = await transforms.transformToBnn(dnn);
    const convertedDnn = dnn.layers
      .filter((l) => ['Conv2D', 'Dense'].includes(l.getClassName()))
      .reduce((s, l) => s + l.countParams(), 0);
    expect(r.model.countParams()).toBe(dnn.countParams() + convertedDnn);
    expect(layers.numBayesianParams(r.model)).toBe(convertedDnn);
    const text = r.summary();
    for (const c of r.converted) expect(text).toContain(c.name);
    layers.disposeModel(r.model);
    layers.disposeModel(dnn);
  });

  it('the converted model and the DNN are independent: disposing either leaves the other working, nothing leaks', async () => {
    const dnn = twoHeaded();
    const x = [
      tf.randomNormal([2, 9, 9, 2], 0, 1, 'float32', 8),
      tf.randomNormal([2, 3], 0, 1, 'float32', 9),
    ];
    const ref = asList(dnn.predict(x));
    const before = tf.memory().numTensors;
    const r1 = await transforms.transformToBnn(dnn, { posteriorSigma: 1e-8 });
    layers.disposeModel(r1.model);
    expect(tf.memory().numTensors).toBe(before);
    const again = asList(dnn.predict(x));
    ref.forEach((t, i) => expect(maxDiff(again[i]!, t)).toBe(0));
    const r2 = await transforms.transformToBnn(dnn, { posteriorSigma: 1e-8 });
    layers.disposeModel(dnn);
    layers.setMode(r2.model, 'mean');
    const y = asList(r2.model.predict(x));
    ref.forEach((t, i) => expect(maxDiff(y[i]!, t)).toBeLessThan(1e-5));
    tf.dispose([...x, ...ref, ...again, ...y]);
    layers.disposeModel(r2.model);
  });

  it('file:// round trip with fileIO: same weights, same mean and seeded-sample predictions, same KL', async () => {
    const dnn = twoHeaded();
    const r = await transforms.transformToBnn(dnn, { estimator: 'flipout', moped: 0.2 });
    const dir = mkdtempSync(join(tmpdir(), 'audit16-'));
    try {
      await r.model.save(fileIO(dir));
      const back = await tf.loadLayersModel(fileIO(dir));
      const x = [
        tf.randomNormal([3, 9, 9, 2], 0, 1, 'float32', 10),
        tf.randomNormal([3, 3], 0, 1, 'float32', 11),
      ];
      setSeed(9);
      const s1 = asList(r.model.predict(x));
      setSeed(9);
      const s2 = asList(back.predict(x));
      s1.forEach((t, i) => expect(maxDiff(s2[i]!, t)).toBe(0));
      layers.setMode(r.model, 'mean');
      layers.setMode(back, 'mean');
      const m1 = asList(r.model.predict(x));
      const m2 = asList(back.predict(x));
      m1.forEach((t, i) => expect(maxDiff(m2[i]!, t)).toBe(0));
      const k1 = layers.modelKL(r.model);
      const k2 = layers.modelKL(back);
      expect(k2.dataSync()[0]).toBe(k1.dataSync()[0]);
      expect(back.layers.map((l) => l.getClassName())).toEqual(
        r.model.layers.map((l) => l.getClassName()),
      );
      tf.dispose([...x, ...s1, ...s2, ...m1, ...m2, k1, k2]);
      layers.disposeModel(back);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    layers.disposeModel(r.model);
    layers.disposeModel(dnn);
  });

  it('the KL a user reads is the closed form of N(w_DNN, (delta |w|)^2) against the prior, float64', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [4],
          units: 3,
          kernelInitializer: g(19),
          biasInitializer: g(20),
        }),
      ],
    });
    const delta = 0.1;
    const r = await transforms.transformToBnn(dnn, {
      moped: delta,
      addDenseArgs: { priorSigma: 0.5 },
    });
    const l = layers.bayesianLayers(r.model)[0]!;
    const [k, b] = dnn.getWeights();
    let want = 0;
    const ws = l.getWeights();
    for (const [w, rho] of [
      [k!, ws[1]!],
      [b!, ws[3]!],
    ] as const) {
      const wv = w.dataSync();
      const rv = rho.dataSync();
      for (let i = 0; i < wv.length; i++) {
        const s = Math.log1p(Math.exp(rv[i]!));
        // posterior scale from MOPED: delta |w| (float32 softplus inverse)
        expect(s).toBeCloseTo(Math.max(delta * Math.abs(wv[i]!), 0), 4);
        want += Math.log(0.5 / s) + (s * s + wv[i]! ** 2) / (2 * 0.25) - 0.5;
      }
    }
    const kl = layers.modelKL(r.model);
    expect(Math.abs(kl.dataSync()[0]! - want) / Math.abs(want)).toBeLessThan(1e-4);
    kl.dispose();
    layers.disposeModel(r.model);
    layers.disposeModel(dnn);
  });

  it('MC prediction: predictSamples gives [S, N, K] probabilities whose mean is near the DNN for small moped', async () => {
    setSeed(11);
    const dnn = twoHeaded();
    const single = tf.model({ inputs: dnn.inputs, outputs: dnn.outputs[0]! });
    const r = await transforms.transformToBnn(single, { moped: 0.01 });
    const x = [
      tf.randomNormal([5, 9, 9, 2], 0, 1, 'float32', 12),
      tf.randomNormal([5, 3], 0, 1, 'float32', 13),
    ];
    const probs = toolbox.stochasticPredictor(r.model).predictSamples(x, 7);
    expect(probs.shape).toEqual([7, 5, 3]);
    const rows = tf.tidy(() => tf.sum(probs, -1));
    rows.dataSync().forEach((v) => expect(v).toBeCloseTo(1, 5));
    const want = single.predict(x) as tf.Tensor;
    const mean = tf.tidy(() => tf.mean(probs, 0));
    expect(maxDiff(mean, want)).toBeLessThan(0.05);
    tf.dispose([...x, probs, rows, want, mean]);
    layers.disposeModel(r.model);
    layers.disposeModel(dnn);
  });

  it('a Dense with a kernelRegularizer / kernelConstraint: converted or refused, never silently different', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.dense({
          inputShape: [3],
          units: 2,
          kernelRegularizer: tf.regularizers.l2({ l2: 0.01 }),
          kernelInitializer: g(21),
        }),
      ],
    });
    const x = tf.randomNormal([2, 3], 0, 1, 'float32', 14);
    const r = await expectSame(dnn, x);
    tf.dispose(x);
    layers.disposeModel(r.model);
    layers.disposeModel(dnn);
  });

  it('a converted Bidirectional(LSTM) + shared Dense model: fit loss = mse + sum of each distinct layer KL / N, once', async () => {
    const seq = tf.input({ shape: [4, 3] });
    const h = tf.layers
      .bidirectional({
        layer: tf.layers.lstm({ units: 2, kernelInitializer: g(30) }) as tf.RNN,
        mergeMode: 'sum',
      })
      .apply(seq) as tf.SymbolicTensor;
    const head = tf.layers.dense({ units: 2, kernelInitializer: g(31) });
    const a = head.apply(h) as tf.SymbolicTensor;
    const b = head.apply(
      tf.layers.activation({ activation: 'tanh' }).apply(h) as tf.SymbolicTensor,
    ) as tf.SymbolicTensor;
    const dnn = tf.model({
      inputs: seq,
      outputs: tf.layers.add().apply([a, b]) as tf.SymbolicTensor,
    });
    const r = await transforms.transformToBnn(dnn, { moped: 0.1, lossFn: 'mse' });
    const bl = layers.bayesianLayers(r.model);
    expect(bl).toHaveLength(3); // forward, backward, the shared head
    layers.setMode(r.model, 'mean');
    layers.compileBayesian(r.model, {
      datasetSize: 20,
      optimizer: tf.train.sgd(0),
      loss: 'meanSquaredError',
    });
    const x = tf.randomNormal([5, 4, 3], 0, 1, 'float32', 20);
    const p = r.model.predict(x) as tf.Tensor;
    const y = tf.zerosLike(p);
    const hist = await r.model.fit(x, y, { epochs: 1, batchSize: 5, verbose: 0 });
    const mse = tf.mean(tf.square(p)).dataSync()[0]!;
    const kl = layers.modelKL(r.model);
    const want = mse + kl.dataSync()[0]! / 20;
    expect((hist.history.loss![0] as number) / want).toBeCloseTo(1, 4);
    tf.dispose([x, p, y, kl]);
    layers.disposeModel(r.model);
    layers.disposeModel(dnn);
  });

  describe('refused options (ArgumentError naming them, nothing leaked)', () => {
    let small: tf.LayersModel | undefined;
    const dnn = (): tf.LayersModel => small as tf.LayersModel;
    beforeAll(() => {
      small = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
    });
    afterAll(() => layers.disposeModel(dnn()));
    const cases: Array<[string, () => Promise<unknown>, string | RegExp]> = [
      [
        'a layer instead of a model',
        () => transforms.transformToBnn(tf.layers.dense({ units: 2 }) as unknown as tf.LayersModel),
        'model',
      ],
      [
        'estimator bbb',
        () => transforms.transformToBnn(dnn(), { estimator: 'bbb' as 'reparam' }),
        'estimator',
      ],
      [
        "layers 'conv2d'",
        () => transforms.transformToBnn(dnn(), { layers: 'conv2d' as 'conv' }),
        'layers',
      ],
      [
        'posteriorSigma -1',
        () => transforms.transformToBnn(dnn(), { posteriorSigma: -1 }),
        'posteriorSigma',
      ],
      ['moped NaN', () => transforms.transformToBnn(dnn(), { moped: Number.NaN }), 'moped'],
      [
        'unknown key posteriorSigmas',
        () =>
          transforms.transformToBnn(dnn(), {
            posteriorSigmas: 0.1,
          } as unknown as transforms.TransformToBnnOptions),
        'posteriorSigmas',
      ],
      ['dnnFactor -1', () => transforms.transformToBnn(dnn(), { dnnFactor: -1 }), 'dnnFactor'],
      [
        "init 'random'",
        () => transforms.transformToBnn(dnn(), { init: 'random' as 'fresh' }),
        'init',
      ],
      [
        'addDenseArgs priorSigma 0',
        () => transforms.transformToBnn(dnn(), { addDenseArgs: { priorSigma: 0 } }),
        /priorSigma|addDenseArgs/,
      ],
      ['an empty tf.sequential()', () => transforms.transformToBnn(tf.sequential()), 'model'],
      [
        'TransformToBNN over an empty tf.sequential()',
        async () => new transforms.TransformToBNN(tf.sequential()),
        'model',
      ],
    ];
    for (const [what, run, arg] of cases) {
      it(what, async () => expectBadInput({ call: what, run, arg }));
    }
  });
});
