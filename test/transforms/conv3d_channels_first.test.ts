/**
 * DNN -> BNN conversion of volumetric models (`Conv3D`, `Conv3DTranspose`) and of channels-first
 * convolutions: a small video classifier converts and, in mean mode, predicts bit for bit as its
 * DNN; MOPED starts the posterior (`mu = w`, `sigma = 0.1 |w|`) and, with `mopedPrior`, the prior
 * means from the DNN weights; every channels-first convolution tfjs 4.22 runs (Conv2D,
 * DepthwiseConv2D, SeparableConv2D, Conv2DTranspose, Conv3D, Conv3DTranspose) converts to a
 * channels-first Bayesian layer equal to it in mean mode; a channels-first Conv1D, whose tfjs
 * output contradicts its declared shape, is refused naming the model.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Conv1DReparam,
  Conv3DVariational,
  MopedConv3DFlipout,
  setMode,
} from '../../src/layers/index.js';
import {
  TransformToBNN,
  conv3dView,
  defaultConvArgs,
  transformToBnn,
} from '../../src/transforms/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectBadInput, saveAndLoad } from '../helpers.js';

beforeAll(() => setSeed(41));
afterAll(() => clearSeed());

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

/** Give every weight of `m` a seeded random value (biases non-zero, so that they are checked). */
function randomize(m: tf.LayersModel, seed: number): void {
  m.layers.forEach((l, i) => {
    if (l.weights.length === 0) return;
    const ws = l
      .getWeights()
      .map((w, j) => tf.randomNormal(w.shape, 0, 0.3, 'float32', seed + 10 * i + j));
    l.setWeights(ws);
    tf.dispose(ws);
  });
}

/** A small video classifier: [frames, height, width, channels] -> 4 classes. */
function videoClassifier(): tf.LayersModel {
  const m = tf.sequential();
  m.add(
    tf.layers.conv3d({
      filters: 4,
      kernelSize: [2, 3, 3],
      strides: [1, 2, 2],
      padding: 'same',
      activation: 'relu',
      inputShape: [4, 8, 8, 2],
    }),
  );
  m.add(tf.layers.maxPooling3d({ poolSize: [1, 2, 2] }));
  m.add(tf.layers.conv3d({ filters: 3, kernelSize: 2, dilationRate: [1, 1, 1], padding: 'valid' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 4, activation: 'softmax' }));
  randomize(m, 1);
  return m;
}

describe('Conv3D conversion', () => {
  it('a video classifier converts and predicts as its DNN bit for bit in mean mode', async () => {
    const dnn = videoClassifier();
    const x = tf.randomNormal([3, 4, 8, 8, 2], 0, 1, 'float32', 7);
    const want = dnn.predict(x) as tf.Tensor;
    const before = tf.memory().numTensors;
    for (const estimator of ['reparam', 'local', 'flipout'] as const) {
      const { model, converted } = await transformToBnn(dnn, { estimator });
      const suffix = { reparam: 'Reparam', local: 'LocalReparam', flipout: 'Flipout' }[estimator];
      expect(converted.map((c) => `${c.from}->${c.to}`)).toEqual([
        `Conv3D->Conv3D${suffix}`,
        `Conv3D->Conv3D${suffix}`,
        `Dense->Dense${suffix}`,
      ]);
      setMode(model, 'mean');
      const got = model.predict(x) as tf.Tensor;
      expect(got.shape).toEqual([3, 4]);
      expect(maxAbsDiff(got, want), estimator).toBe(0);
      // sampled predictions vary around the DNN's (MOPED scale 0.1 |w|)
      setMode(model, 'sample');
      const s = model.predict(x) as tf.Tensor;
      const d = maxAbsDiff(s, want);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThan(0.5);
      tf.dispose([got, s]);
      model.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, want]);
    dnn.dispose();
  });

  it('MOPED: posterior mu = w, sigma = delta |w|, and the prior centred on the DNN weights', async () => {
    const dnn = videoClassifier();
    const t = new TransformToBNN(dnn, { estimator: 'flipout', moped: 0.2, mopedPrior: true });
    const { model } = await t.transformToBnnLayer('Conv3D', 'Conv3DFlipout');
    const layer = model.layers[0] as Conv3DVariational;
    expect(layer).toBeInstanceOf(MopedConv3DFlipout);
    const [w, b] = dnn.layers[0]!.getWeights() as [tf.Tensor, tf.Tensor];
    const post = layer.getPosterior();
    expect(maxAbsDiff(post.kernelMu, w)).toBe(0);
    const wantSigma = tf.tidy(() => tf.maximum(tf.mul(tf.abs(w), 0.2), 1e-8));
    expect(maxAbsDiff(post.kernelSigma, wantSigma) / 0.2).toBeLessThan(1e-5);
    expect(maxAbsDiff(post.biasMu!, b)).toBe(0);
    const prior = layer.getPriorMean();
    expect(maxAbsDiff(prior.kernel, w)).toBe(0);
    expect(maxAbsDiff(prior.bias!, b)).toBe(0);
    // the Dense layer was left deterministic by transformToBnnLayer('Conv3D', ...)
    expect(model.layers[4]!.getClassName()).toBe('Dense');
    tf.dispose([wantSigma, post.kernelMu, post.kernelSigma, post.biasMu!, post.biasSigma!]);
    tf.dispose([prior.kernel, prior.bias!]);
    model.dispose();
    // layers: 'conv' converts the 3-D convolutions only; a 2-D class cannot replace a Conv3D
    const convOnly = await transformToBnn(dnn, { layers: 'conv' });
    expect(convOnly.converted.map((c) => c.to)).toEqual(['Conv3DReparam', 'Conv3DReparam']);
    convOnly.model.dispose();
    await expectBadInput({
      call: 'ConvReparam for a Conv3D',
      run: () => t.transformToBnnLayer('Conv3D', 'ConvReparam'),
      arg: 'bnnLayerType',
      message: /cannot replace a Conv3D layer/,
    });
    dnn.dispose();
  });

  it('a Conv3DTranspose decoder converts and predicts as its DNN; the converted model trains', async () => {
    const input = tf.input({ shape: [2, 4, 4, 3] });
    const enc = tf.layers
      .conv3d({ filters: 4, kernelSize: 2, strides: 2, padding: 'same', activation: 'relu' })
      .apply(input) as tf.SymbolicTensor;
    const dec = tf.layers
      .conv3dTranspose({ filters: 2, kernelSize: [2, 3, 3], strides: 2, padding: 'same' })
      .apply(enc) as tf.SymbolicTensor;
    const out = tf.layers
      .conv3dTranspose({ filters: 1, kernelSize: 2, padding: 'valid', activation: 'sigmoid' })
      .apply(dec) as tf.SymbolicTensor;
    const dnn = tf.model({ inputs: input, outputs: out });
    randomize(dnn, 3);
    const x = tf.randomNormal([2, 2, 4, 4, 3], 0, 1, 'float32', 8);
    const want = dnn.predict(x) as tf.Tensor;
    expect(want.shape).toEqual([2, 3, 5, 5, 1]);
    const { model, converted, loss } = await transformToBnn(dnn, {
      estimator: 'local',
      lossFn: 'meanSquaredError',
    });
    expect(converted.map((c) => c.to)).toEqual([
      'Conv3DLocalReparam',
      'Conv3DTransposeLocalReparam',
      'Conv3DTransposeLocalReparam',
    ]);
    setMode(model, 'mean');
    const got = model.predict(x) as tf.Tensor;
    expect(maxAbsDiff(got, want)).toBe(0);
    setMode(model, 'sample');
    // one optimizer step through the Bayesian Conv3DTranspose (its own gradient)
    const before = model.layers[3]!.getWeights()[0]!.clone();
    const opt = tf.train.adam(0.01);
    const y = tf.tidy(() => tf.round(want));
    const l = tf.tidy(() => opt.minimize(() => loss.compute(x, y).loss, true) as tf.Scalar);
    expect(Number.isFinite(l.dataSync()[0]!)).toBe(true);
    expect(maxAbsDiff(before, model.layers[3]!.getWeights()[0]!)).toBeGreaterThan(0);
    tf.dispose([x, want, got, before, y, l]);
    opt.dispose();
    model.dispose();
    dnn.dispose();
  });
});

describe('channels-first conversion', () => {
  const cases: [string, () => tf.layers.Layer, number[]][] = [
    [
      'Conv2D',
      () =>
        tf.layers.conv2d({
          filters: 4,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'relu',
          dataFormat: 'channelsFirst',
          inputShape: [2, 7, 6],
        }),
      [2, 2, 7, 6],
    ],
    [
      'DepthwiseConv2D',
      () =>
        tf.layers.depthwiseConv2d({
          kernelSize: 2,
          depthMultiplier: 2,
          dataFormat: 'channelsFirst',
          inputShape: [2, 7, 6],
        }),
      [2, 2, 7, 6],
    ],
    [
      // with a bias tfjs 4.22's own channels-first SeparableConv2D cannot predict (it adds an
      // NCHW bias to its NHWC result), so there is no DNN to compare with
      'SeparableConv2D',
      () =>
        tf.layers.separableConv2d({
          filters: 3,
          kernelSize: 2,
          useBias: false,
          dataFormat: 'channelsFirst',
          inputShape: [2, 7, 6],
        }),
      [2, 2, 7, 6],
    ],
    [
      'Conv2DTranspose',
      () =>
        tf.layers.conv2dTranspose({
          filters: 2,
          kernelSize: 3,
          strides: 2,
          dataFormat: 'channelsFirst',
          inputShape: [2, 4, 3],
        }),
      [2, 2, 4, 3],
    ],
    [
      'Conv3D',
      () =>
        tf.layers.conv3d({
          filters: 3,
          kernelSize: [2, 2, 3],
          padding: 'same',
          dataFormat: 'channelsFirst',
          inputShape: [2, 3, 4, 5],
        }),
      [2, 2, 3, 4, 5],
    ],
    [
      'Conv3DTranspose',
      () =>
        tf.layers.conv3dTranspose({
          filters: 2,
          kernelSize: 2,
          strides: [1, 2, 2],
          dataFormat: 'channelsFirst',
          inputShape: [2, 3, 2, 3],
        }),
      [2, 2, 3, 2, 3],
    ],
  ];

  it.each(cases)(
    '%s (channelsFirst) converts, equal to the DNN in mean mode',
    async (_n, make, shape) => {
      const dnn = tf.sequential({ layers: [make()] });
      randomize(dnn, 5);
      const x = tf.randomNormal(shape, 0, 1, 'float32', 9);
      const want = dnn.predict(x) as tf.Tensor;
      const { model, converted } = await transformToBnn(dnn, { estimator: 'flipout' });
      expect(converted.length).toBeGreaterThan(0);
      for (const l of model.layers) {
        expect((l.getConfig() as { dataFormat?: string }).dataFormat, l.name).toBe('channelsFirst');
      }
      setMode(model, 'mean');
      const got = model.predict(x) as tf.Tensor;
      expect(got.shape).toEqual(want.shape);
      expect(model.outputs[0]!.shape).toEqual(dnn.outputs[0]!.shape);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
      // a model of channels-first Bayesian layers saves and loads
      const loaded = await saveAndLoad(model);
      setMode(loaded, 'mean');
      const again = loaded.predict(x) as tf.Tensor;
      expect(maxAbsDiff(again, got)).toBe(0);
      tf.dispose([x, want, got, again]);
      model.dispose();
      loaded.dispose();
      dnn.dispose();
    },
  );

  it('a MindSpore-style getter that leaves dataFormat out still gets a channels-first layer', async () => {
    const dnn = tf.sequential({ layers: [cases[0]![1]()] });
    randomize(dnn, 6);
    const x = tf.randomNormal([2, 2, 7, 6], 0, 1, 'float32', 10);
    const want = dnn.predict(x) as tf.Tensor;
    const t = new TransformToBNN(dnn);
    const { model } = await t.transformToBnnModel({
      getConvArgs: (dp) => {
        const { dataFormat: _df, ...rest } = defaultConvArgs(dp);
        return rest;
      },
    });
    setMode(model, 'mean');
    const got = model.predict(x) as tf.Tensor;
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
    tf.dispose([x, want, got]);
    model.dispose();
    dnn.dispose();
  });

  it('a channels-first Conv1D (tfjs returns it channels-last) is refused naming the model', async () => {
    const dnn = tf.sequential({
      layers: [
        tf.layers.conv1d({
          filters: 3,
          kernelSize: 2,
          dataFormat: 'channelsFirst',
          inputShape: [4, 5],
        }),
      ],
    });
    await expectBadInput({
      call: 'conv1d channelsFirst',
      run: () => transformToBnn(dnn),
      arg: 'model',
      message: /channels-first Conv1D cannot be converted/,
    });
    dnn.dispose();
    // the Bayesian Conv1D itself takes channels-first inputs: [batch, channels, length]
    const l = new Conv1DReparam({ filters: 3, kernelSize: 2, dataFormat: 'channelsFirst' });
    const last = new Conv1DReparam({ filters: 3, kernelSize: 2 });
    last.build([null, 5, 4]);
    l.build([null, 4, 5]);
    l.setWeights(last.getWeights());
    const x = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 11);
    const xf = tf.transpose(x, [0, 2, 1]);
    setSeed(3);
    const a = last.apply(x) as tf.Tensor;
    setSeed(3);
    const b = l.apply(xf) as tf.Tensor;
    expect(b.shape).toEqual([2, 3, 4]);
    const bt = tf.transpose(b, [0, 2, 1]);
    expect(maxAbsDiff(a, bt)).toBe(0);
    tf.dispose([x, xf, a, b, bt]);
  });

  it('the Conv3D view reads either data format', () => {
    const l = tf.layers.conv3d({ filters: 2, kernelSize: 2, dataFormat: 'channelsFirst' });
    l.build([null, 3, 4, 4, 4]);
    const v = conv3dView(l);
    expect([v.inChannels, v.outChannels, v.dataFormat]).toEqual([3, 2, 'channelsFirst']);
    expect(v.kernelSize).toEqual([2, 2, 2]);
  });
});
