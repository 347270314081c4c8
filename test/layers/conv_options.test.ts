/**
 * Conv2D options (MindSpore's padMode, padding, stride, dilation, group) against a float64
 * loop convolution, in 'mean' mode (posterior means) and for the variance in all estimators'
 * shared formula via the local-reparam layer's frozen op; plus the computed output shapes.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ConvFlipout, type ConvVariationalArgs } from '../../src/layers/index.js';
import { fixedArray, refConv2d, type RefConvOptions } from './reference.js';

interface Case extends RefConvOptions {
  name: string;
  kernelSize: [number, number];
  inC: number;
  outC: number;
  hw: [number, number];
}

const cases: Case[] = [
  { name: 'same 3x3', kernelSize: [3, 3], inC: 2, outC: 3, hw: [5, 6], padMode: 'same' },
  { name: 'valid 3x2', kernelSize: [3, 2], inC: 2, outC: 3, hw: [5, 6], padMode: 'valid' },
  {
    name: 'pad [1,2,0,1] stride 2',
    kernelSize: [3, 3],
    inC: 1,
    outC: 2,
    hw: [6, 5],
    padMode: 'pad',
    padding: [1, 2, 0, 1],
    stride: [2, 2],
  },
  {
    name: 'same stride 2 (odd input)',
    kernelSize: [3, 3],
    inC: 2,
    outC: 2,
    hw: [7, 5],
    padMode: 'same',
    stride: [2, 2],
  },
  {
    name: 'dilation 2',
    kernelSize: [3, 3],
    inC: 2,
    outC: 2,
    hw: [7, 7],
    padMode: 'same',
    dilation: [2, 2],
  },
  {
    name: 'stride 2 and dilation 2 (valid)',
    kernelSize: [2, 3],
    inC: 1,
    outC: 2,
    hw: [8, 9],
    padMode: 'valid',
    stride: [2, 2],
    dilation: [2, 2],
  },
  {
    name: 'stride 2 and dilation 2 (same)',
    kernelSize: [3, 3],
    inC: 2,
    outC: 2,
    hw: [7, 8],
    padMode: 'same',
    stride: [2, 2],
    dilation: [2, 2],
  },
  { name: 'group 2', kernelSize: [3, 3], inC: 4, outC: 6, hw: [5, 5], padMode: 'same', group: 2 },
  {
    name: 'depthwise multiplier 2, pad, stride 2',
    kernelSize: [3, 3],
    inC: 2,
    outC: 4,
    hw: [6, 5],
    padMode: 'pad',
    padding: [1, 1, 0, 2],
    stride: [2, 2],
    group: 2,
  },
  {
    name: 'depthwise group 3',
    kernelSize: [2, 2],
    inC: 3,
    outC: 3,
    hw: [4, 4],
    padMode: 'valid',
    group: 3,
  },
];

describe.each(cases)('Conv option $name', (c) => {
  it('matches the float64 loop convolution in mean mode and reports the output shape', () => {
    const before = tf.memory().numTensors;
    const args: ConvVariationalArgs = {
      inChannels: c.inC,
      outChannels: c.outC,
      kernelSize: c.kernelSize,
      hasBias: false,
      mode: 'mean',
      ...(c.padMode === undefined ? {} : { padMode: c.padMode }),
      ...(c.padding === undefined ? {} : { padding: c.padding }),
      ...(c.stride === undefined ? {} : { stride: c.stride }),
      ...(c.dilation === undefined ? {} : { dilation: c.dilation }),
      ...(c.group === undefined ? {} : { group: c.group }),
    };
    const layer = new ConvFlipout(args);
    const xShape = [2, c.hw[0], c.hw[1], c.inC];
    const xData = fixedArray(
      xShape.reduce((a, b) => a * b, 1),
      17,
    );
    const x = tf.tensor(xData, xShape);
    tf.dispose(layer.apply(x) as tf.Tensor);
    const kShape = [c.kernelSize[0], c.kernelSize[1], c.inC / (c.group ?? 1), c.outC];
    const kData = fixedArray(
      kShape.reduce((a, b) => a * b, 1),
      23,
    );
    tf.tidy(() => layer.setPosterior({ kernelMu: tf.tensor(kData, kShape) }));
    const y = layer.apply(x) as tf.Tensor;
    const ref = refConv2d({ data: xData, shape: xShape }, { data: kData, shape: kShape }, c);
    expect(y.shape).toEqual(ref.shape);
    expect(layer.computeOutputShape([null, c.hw[0], c.hw[1], c.inC])).toEqual([
      null,
      ...ref.shape.slice(1),
    ]);
    expect(y).toBeAllclose(ref.data, { rtol: 1e-4, atol: 1e-5 });
    // sampling runs with the same options and keeps the shape; gradients exist for every option
    layer.mode = 'sample';
    const s = layer.apply(x) as tf.Tensor;
    expect(s.shape).toEqual(ref.shape);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(layer.apply(x) as tf.Tensor)) as tf.Scalar,
      layer.trainableWeights.map((w) => w.read() as tf.Variable),
    );
    const gMu = grads[(layer.trainableWeights[0]!.read() as tf.Variable).name]!;
    expect(gMu.shape).toEqual(kShape);
    expect(tf.tidy(() => tf.sum(tf.abs(gMu)).dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    tf.dispose([x, y, s]);
    layer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
