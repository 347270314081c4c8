/**
 * DNN -> BNN conversion of `SeparableConv2D` layers (Xception / MobileNet-style blocks): each
 * becomes its depthwise convolution (`<name>_depthwise`, a grouped Bayesian Conv2D taking the
 * layer's inputs, starting from the depthwise kernel) then its pointwise 1x1 convolution (the
 * layer's name, bias and activation, starting from the pointwise kernel and bias). With a
 * vanishing posterior scale the BNN predicts as the DNN (tfjs's `separableConv2d` is the same two
 * ops), in functional and Sequential models, for every estimator; names that would collide are
 * made unique; the converted model saves and loads.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConvVariational, MopedConvFlipout, setMode } from '../../src/layers/index.js';
import { TransformToBNN, transformToBnn, type Estimator } from '../../src/transforms/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { layerGraph } from './nets.js';
import { saveAndLoad } from '../helpers.js';

beforeAll(() => setSeed(5));
afterAll(() => clearSeed());

/** Random BN statistics so that the kept layers matter. */
function xceptionBlock(): tf.LayersModel {
  const input = tf.input({ shape: [10, 10, 3], name: 'image' });
  const apply = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    l.apply(x) as tf.SymbolicTensor;
  let x = apply(
    tf.layers.separableConv2d({
      filters: 8,
      kernelSize: 3,
      padding: 'same',
      depthMultiplier: 2,
      activation: 'relu',
      name: 'sep1',
    }),
    input,
  );
  x = apply(tf.layers.batchNormalization({ name: 'bn' }), x);
  const skip = apply(tf.layers.conv2d({ filters: 6, kernelSize: 1, strides: 2, name: 'skip' }), x);
  x = apply(
    tf.layers.separableConv2d({
      filters: 6,
      kernelSize: [3, 2],
      strides: 2,
      padding: 'same',
      useBias: false,
      name: 'sep2',
    }),
    x,
  );
  x = apply(tf.layers.add({ name: 'residual' }), [x, skip]);
  x = apply(tf.layers.globalAveragePooling2d({ name: 'gap' }), x);
  const out = apply(tf.layers.dense({ units: 4, name: 'logits' }), x);
  return tf.model({ inputs: input, outputs: out, name: 'xception_block' });
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);

describe('SeparableConv2D conversion', () => {
  let dnn: tf.LayersModel;
  let x: tf.Tensor;
  let want: tf.Tensor;
  beforeAll(() => {
    dnn = xceptionBlock();
    x = tf.randomNormal([3, 10, 10, 3], 0, 1, 'float32', 9);
    want = dnn.predict(x) as tf.Tensor;
  });
  afterAll(() => {
    dnn.dispose();
    tf.dispose([x, want]);
  });

  it.each(['reparam', 'local', 'flipout'] as Estimator[])(
    '%s: each separable layer becomes depthwise + pointwise Bayesian convolutions predicting as the DNN',
    async (estimator) => {
      const before = tf.memory().numTensors;
      const { model, converted, summary } = await transformToBnn(dnn, {
        estimator,
        posteriorSigma: 1e-8,
      });
      try {
        const g0 = layerGraph(dnn);
        const g1 = layerGraph(model);
        // the inserted depthwise layers sit right before their pointwise layers, which keep the
        // DNN layer's name and take the depthwise output
        expect(g1.map((l) => l.name)).toEqual([
          'image',
          'sep1_depthwise',
          'sep1',
          'bn',
          'sep2_depthwise',
          'sep2',
          'skip',
          'residual',
          'gap',
          'logits',
        ]);
        const inbound = Object.fromEntries(g1.map((l) => [l.name, l.inbound]));
        const inbound0 = Object.fromEntries(g0.map((l) => [l.name, l.inbound]));
        expect(inbound.sep1_depthwise).toEqual(inbound0.sep1);
        expect(inbound.sep1).toEqual([['sep1_depthwise']]);
        expect(inbound.sep2_depthwise).toEqual(inbound0.sep2);
        expect(inbound.sep2).toEqual([['sep2_depthwise']]);
        expect(inbound.residual).toEqual(inbound0.residual);
        expect(converted.map((c) => `${c.name}:${c.from}`)).toEqual([
          'sep1_depthwise:SeparableConv2D',
          'sep1:SeparableConv2D',
          'sep2_depthwise:SeparableConv2D',
          'sep2:SeparableConv2D',
          'skip:Conv2D',
          'logits:Dense',
        ]);
        const layer = (n: string) => model.getLayer(n) as ConvVariational;
        expect(layer('sep1_depthwise').group).toBe(3);
        expect(layer('sep1_depthwise').outChannels).toBe(6);
        expect(layer('sep1_depthwise').hasBias).toBe(false);
        expect(layer('sep1').kernelSize).toEqual([1, 1]);
        expect(layer('sep1').activation).toBe('relu');
        expect(layer('sep2').hasBias).toBe(false);
        expect(layer('sep2_depthwise').stride).toEqual([2, 2]);
        expect(summary().match(/\[Bayesian\]/g)?.length).toBe(6);
        const sampled = model.predict(x) as tf.Tensor;
        expect(maxDiff(sampled, want)).toBeLessThan(1e-4);
        setMode(model, 'mean');
        const mean = model.predict(x) as tf.Tensor;
        expect(maxDiff(mean, want)).toBeLessThan(1e-5);
        tf.dispose([sampled, mean]);
      } finally {
        model.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('dense-only conversion leaves separable layers; transformToBnnLayer converts only them (MOPED twins with mopedPrior)', async () => {
    // a kept separable layer with depthMultiplier 2 is rebuilt with it (tfjs 4.22's getConfig
    // leaves it out) and predicts as the DNN's
    const dense = await transformToBnn(dnn, { layers: 'dense', posteriorSigma: 1e-8 });
    expect(dense.model.getLayer('sep1').getClassName()).toBe('SeparableConv2D');
    setMode(dense.model, 'mean');
    const kept = dense.model.predict(x) as tf.Tensor;
    expect(maxDiff(kept, want)).toBeLessThan(1e-5);
    kept.dispose();
    dense.model.dispose();
    const t = new TransformToBNN(dnn, { mopedPrior: true, estimator: 'flipout' });
    const { model, converted } = await t.transformToBnnLayer('SeparableConv2D', 'ConvFlipout', {
      addArgs: { priorSigma: 0.05 },
    });
    expect(converted.map((c) => c.name)).toEqual([
      'sep1_depthwise',
      'sep1',
      'sep2_depthwise',
      'sep2',
    ]);
    expect(model.getLayer('sep1')).toBeInstanceOf(MopedConvFlipout);
    expect(model.getLayer('skip').getClassName()).toBe('Conv2D');
    const dw = model.getLayer('sep1_depthwise') as ConvVariational;
    expect(dw.prior).toEqual({ type: 'normal', mu: 0, sigma: 0.05 });
    // the MOPED prior of the depthwise part is centred on the DNN's depthwise kernel
    const [dk] = dnn.getLayer('sep1').getWeights();
    const prior = dw.getWeights()[dw.getWeights().length - 1] as tf.Tensor;
    expect(Array.from(prior.dataSync())).toEqual(Array.from((dk as tf.Tensor).dataSync()));
    setMode(model, 'mean');
    const mean = model.predict(x) as tf.Tensor;
    expect(maxDiff(mean, want)).toBeLessThan(1e-5);
    mean.dispose();
    model.dispose();
  });

  it('a Sequential model starting with a separable layer, a colliding name, save and load', async () => {
    const seq = tf.sequential({
      layers: [
        tf.layers.separableConv2d({
          filters: 4,
          kernelSize: 3,
          inputShape: [6, 6, 2],
          name: 'sep',
        }),
        tf.layers.conv2d({ filters: 3, kernelSize: 1, name: 'sep_depthwise' }),
        tf.layers.flatten({ name: 'flat' }),
      ],
    });
    const xs = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 2);
    const y0 = seq.predict(xs) as tf.Tensor;
    const { model, converted } = await transformToBnn(seq, { posteriorSigma: 1e-8 });
    expect(converted.map((c) => c.name)).toEqual(['sep_depthwise_1', 'sep', 'sep_depthwise']);
    expect(model.layers.map((l) => l.name)).toEqual([
      'sep_depthwise_1',
      'sep',
      'sep_depthwise',
      'flat',
    ]);
    expect(model.inputs[0]?.shape).toEqual([null, 6, 6, 2]);
    setMode(model, 'mean');
    const y1 = model.predict(xs) as tf.Tensor;
    expect(maxDiff(y1, y0)).toBeLessThan(1e-5);
    const loaded = await saveAndLoad(model);
    setMode(loaded, 'mean');
    const y2 = loaded.predict(xs) as tf.Tensor;
    expect(maxDiff(y2, y1)).toBe(0);
    tf.dispose([xs, y0, y1, y2]);
    model.dispose();
    loaded.dispose();
    seq.dispose();
  });
});
