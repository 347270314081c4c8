/**
 * Audit probes (session 14): bad conversion options give an ArgumentError naming the option before
 * any model is built (no leak); odd but valid models convert.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { transforms } from '../../src/index.js';
import { expectBadInput } from '../helpers.js';
import { glorot as g } from '../fixtures/layers.js';

function mlp(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [4, 4, 1],
        filters: 2,
        kernelSize: 2,
        kernelInitializer: g(1),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: g(2) }),
      tf.layers.dense({ units: 3, kernelInitializer: g(3) }),
    ],
  });
}

describe('audit14: conversion options', () => {
  const dnn = mlp();
  const t = () => new transforms.TransformToBNN(dnn);
  const bad: [string, () => unknown, string | RegExp][] = [
    ['dnnFactor -1', () => transforms.transformToBnn(dnn, { dnnFactor: -1 }), 'dnnFactor'],
    ['dnnFactor NaN', () => transforms.transformToBnn(dnn, { dnnFactor: NaN }), 'dnnFactor'],
    [
      'dnnFactor string',
      () => transforms.transformToBnn(dnn, { dnnFactor: '2' as unknown as number }),
      'dnnFactor',
    ],
    [
      'bnnFactor Infinity',
      () => transforms.transformToBnn(dnn, { bnnFactor: Infinity }),
      'bnnFactor',
    ],
    ['moped 0', () => transforms.transformToBnn(dnn, { moped: 0 }), 'moped'],
    ['moped -0.1', () => transforms.transformToBnn(dnn, { moped: -0.1 }), 'moped'],
    [
      'posteriorSigma 0',
      () => transforms.transformToBnn(dnn, { posteriorSigma: 0 }),
      'posteriorSigma',
    ],
    [
      'posteriorSigma NaN',
      () => transforms.transformToBnn(dnn, { posteriorSigma: NaN }),
      'posteriorSigma',
    ],
    [
      'estimator Flipout',
      () => transforms.transformToBnn(dnn, { estimator: 'Flipout' as 'flipout' }),
      'estimator',
    ],
    ['init random', () => transforms.transformToBnn(dnn, { init: 'random' as 'fresh' }), 'init'],
    [
      'mopedPrior "yes"',
      () => transforms.transformToBnn(dnn, { mopedPrior: 'yes' as unknown as boolean }),
      'mopedPrior',
    ],
    ['layers "rnn"', () => transforms.transformToBnn(dnn, { layers: 'rnn' as 'all' }), 'layers'],
    ['lossFn bogus', () => transforms.transformToBnn(dnn, { lossFn: 'hinge' as 'mse' }), 'lossFn'],
    ['model null', () => transforms.transformToBnn(null as unknown as tf.LayersModel), 'model'],
    [
      'model a layer',
      () => transforms.transformToBnn(tf.layers.dense({ units: 1 }) as unknown as tf.LayersModel),
      'model',
    ],
    ['options a number', () => transforms.transformToBnn(dnn, 3 as unknown as object), 'options'],
    [
      'addDenseArgs repeats units (outChannels by its TF.js name)',
      () => transforms.transformToBnn(dnn, { addDenseArgs: { units: 4 } }),
      'addDenseArgs',
    ],
    [
      'addConvArgs repeats hasBias (as useBias)',
      () => transforms.transformToBnn(dnn, { addConvArgs: { useBias: false } }),
      'addConvArgs',
    ],
    [
      'addDenseArgs unknown key',
      () => transforms.transformToBnn(dnn, { addDenseArgs: { priorSgima: 0.1 } }),
      /addDenseArgs|priorSgima/,
    ],
    [
      'addDenseArgs priorSigma -1',
      () => transforms.transformToBnn(dnn, { addDenseArgs: { priorSigma: -1 } }),
      /priorSigma|addDenseArgs/,
    ],
    [
      'addConvArgs not an object',
      () =>
        transforms.transformToBnn(dnn, { addConvArgs: 5 as unknown as transforms.LayerArgsDict }),
      'addConvArgs',
    ],
    [
      'transformToBnnLayer unknown type',
      () => t().transformToBnnLayer('Embedding' as 'Dense', 'DenseReparam'),
      'dnnLayerType',
    ],
    [
      'transformToBnnLayer wrong kind',
      () => t().transformToBnnLayer('Dense', 'ConvReparam'),
      'bnnLayerType',
    ],
    [
      'transformToBnnLayer unknown class',
      () => t().transformToBnnLayer('Dense', 'DenseBogus'),
      'bnnLayerType',
    ],
    [
      'transformToBnnLayer addArgs repeats getter key',
      () =>
        t().transformToBnnLayer('Dense', 'DenseFlipout', {
          getArgs: (d: transforms.DenseView) => ({
            outChannels: d.outChannels,
            activation: d.activation,
          }),
          addArgs: { activation: 'relu' },
        }),
      'addArgs',
    ],
    [
      'getDenseArgs changes units',
      () =>
        t().transformToBnnModel({
          getDenseArgs: (d) => ({
            ...transforms.defaultDenseArgs(d),
            outChannels: d.outChannels + 1,
          }),
        }),
      'getDenseArgs',
    ],
    [
      'getDenseArgs returns a number',
      () =>
        t().transformToBnnModel({ getDenseArgs: () => 3 as unknown as transforms.LayerArgsDict }),
      'getDenseArgs',
    ],
    [
      'getConvArgs returns null',
      () =>
        t().transformToBnnModel({ getConvArgs: () => null as unknown as transforms.LayerArgsDict }),
      'getConvArgs',
    ],
    [
      'getConvArgs changes kernelSize (valid)',
      () =>
        t().transformToBnnModel({
          getConvArgs: (c) => ({ ...transforms.defaultConvArgs(c), kernelSize: 3 }),
        }),
      'getConvArgs',
    ],
    [
      'getConvArgs changes padding',
      () =>
        t().transformToBnnModel({
          getConvArgs: (c) => ({ ...transforms.defaultConvArgs(c), padMode: 'same' }),
        }),
      'getConvArgs',
    ],
    [
      'getArgs of one layer type changes units',
      () => t().transformToBnnLayer('Dense', 'DenseFlipout', { getArgs: () => ({ units: 2 }) }),
      'getArgs',
    ],
    [
      'addConvArgs changes the stride',
      () =>
        transforms.transformToBnn(dnn, { layers: 'conv', addConvArgs: { group: 1, dilation: 2 } }),
      /addConvArgs/,
    ],
  ];
  for (const [call, run, arg] of bad) {
    it(`refuses ${call} with an ArgumentError (no leak)`, async () => {
      await expectBadInput({ call, run, arg });
    });
  }

  it('a model with nothing to convert gives back an equal model with no converted layers', async () => {
    const m = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [2, 2] }),
        tf.layers.activation({ activation: 'softmax' }),
      ],
    });
    const x = tf.randomNormal([2, 2, 2]);
    const r = await transforms.transformToBnn(m);
    expect(r.converted).toEqual([]);
    const a = m.predict(x) as tf.Tensor;
    const b = r.model.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b, x]);
    r.model.dispose();
  });

  it("layers: 'dense' leaves convolutions; layers: 'conv' leaves Dense; the DNN itself is untouched", async () => {
    const before = dnn.getWeights().map((w) => Array.from(w.dataSync()));
    const d = await transforms.transformToBnn(dnn, { layers: 'dense' });
    expect(d.converted.map((c) => c.from)).toEqual(['Dense', 'Dense']);
    expect(d.model.layers[0]!.getClassName()).toBe('Conv2D');
    const c = await transforms.transformToBnn(dnn, { layers: 'conv', estimator: 'local' });
    expect(c.converted.map((x) => [x.from, x.to])).toEqual([['Conv2D', 'ConvLocalReparam']]);
    expect(c.model.layers[2]!.getClassName()).toBe('Dense');
    // training the converted model does not move the DNN's weights
    const opt = tf.train.adam(0.05);
    const x = tf.randomNormal([6, 4, 4, 1], 0, 1, 'float32', 3);
    const y = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
    for (let i = 0; i < 3; i++) opt.minimize(() => d.loss.compute(x, y).loss as tf.Scalar);
    dnn.getWeights().forEach((w, i) => expect(Array.from(w.dataSync())).toEqual(before[i]));
    opt.dispose();
    tf.dispose([x, y]);
    d.model.dispose();
    c.model.dispose();
  });

  it('a getter changing only the kernel (same output shape) is refused for init dnn, allowed fresh', async () => {
    // a 'same' conv: kernelSize 2 -> 3 keeps the output shape but not the weights' shape
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 2, padding: 'same' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2 }),
      ],
    });
    const getConvArgs = (c: transforms.ConvView): transforms.LayerArgsDict => ({
      ...transforms.defaultConvArgs(c),
      kernelSize: 3,
    });
    await expectBadInput({
      call: 'kernelSize 3 with init dnn',
      run: () => new transforms.TransformToBNN(m).transformToBnnModel({ getConvArgs }),
      arg: 'model',
      message: /kernel \[3, 3, 1, 2\] cannot start from the DNN kernel \[2, 2, 1, 2\]/,
    });
    const before = tf.memory().numTensors;
    const r = await new transforms.TransformToBNN(m, { init: 'fresh' }).transformToBnnModel({
      getConvArgs,
    });
    expect(r.model.layers[0]!.weights[0]!.shape).toEqual([3, 3, 1, 2]);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

describe('audit14: excludeLayers keeps named layers deterministic', () => {
  it('keeps the output layer and a nested layer as they are, converts the rest, predicts as the DNN', async () => {
    const inner = tf.sequential({
      name: 'feat',
      layers: [
        tf.layers.dense({
          inputShape: [4],
          units: 5,
          activation: 'relu',
          name: 'f1',
          kernelInitializer: g(1),
        }),
        tf.layers.dense({ units: 5, name: 'f2', kernelInitializer: g(2) }),
      ],
    });
    const inp = tf.input({ shape: [4] });
    const h = inner.apply(inp) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 2, name: 'head', kernelInitializer: g(3) })
      .apply(h) as tf.SymbolicTensor;
    const dnn = tf.model({ inputs: inp, outputs: out });
    const r = await transforms.transformToBnn(dnn, {
      excludeLayers: ['head', 'feat/f2'],
      posteriorSigma: 1e-8,
    });
    expect(r.converted.map((c) => c.path)).toEqual(['feat/f1']);
    expect(r.model.getLayer('head').getClassName()).toBe('Dense');
    const x = tf.randomNormal([3, 4], 0, 1, 'float32', 1);
    const [a, b] = [dnn.predict(x) as tf.Tensor, r.model.predict(x) as tf.Tensor];
    expect(Math.max(...Array.from(tf.abs(tf.sub(a, b)).dataSync()))).toBeLessThan(1e-5);
    tf.dispose([a, b, x]);
    r.model.dispose();
    // a bare name matches in nested models too; transformToBnnLayer honours it
    const t = new transforms.TransformToBNN(dnn, { excludeLayers: ['f1'] });
    const r2 = await t.transformToBnnLayer('Dense', 'DenseFlipout');
    expect(r2.converted.map((c) => c.path).sort()).toEqual(['feat/f2', 'head']);
    r2.model.dispose();
    dnn.dispose();
  });

  const m = mlp();
  const cases: [string, unknown][] = [
    ['a string', 'dense_1'],
    ['an unknown name', ['no_such_layer']],
    ['an empty name', ['']],
    ['a number', [3]],
  ];
  for (const [call, excludeLayers] of cases) {
    it(`refuses excludeLayers as ${call}`, async () => {
      await expectBadInput({
        call,
        run: () => transforms.transformToBnn(m, { excludeLayers } as object),
        arg: 'excludeLayers',
      });
    });
  }
});

describe('audit14: deepprob convert --exclude', () => {
  it('keeps the named layers of a model.save folder deterministic; an unknown name is refused', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { convertFile } = await import('../../src/app/convert.js');
    const { fileIO } = await import('../../src/utils/file_io.js');
    const dir = mkdtempSync(join(tmpdir(), 'deepprob-audit14-exclude-'));
    const dnn = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [3], units: 4, name: 'h' }),
        tf.layers.dense({ units: 2, name: 'out' }),
      ],
    });
    await dnn.save(fileIO(join(dir, 'dnn')));
    const r = await convertFile({
      model: join(dir, 'dnn'),
      out: join(dir, 'bnn'),
      exclude: ['out'],
    });
    expect(r.converted).toEqual(['h']);
    await expect(
      convertFile({ model: join(dir, 'dnn'), out: join(dir, 'bnn2'), exclude: ['nope'] }),
    ).rejects.toThrow(/^exclude: no layer named 'nope'/);
    dnn.dispose();
  });
});
