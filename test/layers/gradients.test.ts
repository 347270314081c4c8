/**
 * Gradients reach mu and rho of kernel and bias for every layer, and match central finite
 * differences for a fixed seed (the same noise in every evaluation) on tiny layers.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BayesianLayer,
  ConvFlipout,
  ConvLocalReparam,
  ConvReparam,
  DenseFlipout,
  DenseLocalReparam,
  DenseReparam,
} from '../../src/layers/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { variableFiniteDiff } from '../helpers.js';
import { fixedArray } from './reference.js';

interface Case {
  name: string;
  make: () => BayesianLayer;
  xShape: number[];
}

const cases: Case[] = [
  {
    name: 'DenseReparam',
    make: () => new DenseReparam({ inChannels: 3, outChannels: 2, activation: 'tanh' }),
    xShape: [4, 3],
  },
  {
    name: 'DenseLocalReparam',
    make: () => new DenseLocalReparam({ inChannels: 3, outChannels: 2, activation: 'tanh' }),
    xShape: [4, 3],
  },
  {
    name: 'DenseFlipout',
    make: () => new DenseFlipout({ inChannels: 3, outChannels: 2, activation: 'tanh' }),
    xShape: [4, 3],
  },
  {
    name: 'ConvReparam',
    make: () =>
      new ConvReparam({
        inChannels: 2,
        outChannels: 2,
        kernelSize: 2,
        hasBias: true,
        activation: 'tanh',
      }),
    xShape: [2, 3, 3, 2],
  },
  {
    name: 'ConvLocalReparam',
    make: () =>
      new ConvLocalReparam({
        inChannels: 2,
        outChannels: 2,
        kernelSize: 2,
        hasBias: true,
        activation: 'tanh',
        padMode: 'valid',
      }),
    xShape: [2, 3, 3, 2],
  },
  {
    name: 'ConvFlipout',
    make: () =>
      new ConvFlipout({
        inChannels: 2,
        outChannels: 2,
        kernelSize: 2,
        hasBias: true,
        activation: 'tanh',
        stride: 2,
        padMode: 'pad',
        padding: 1,
      }),
    xShape: [2, 3, 3, 2],
  },
];

afterAll(() => clearSeed());

describe.each(cases)('$name gradients', (c) => {
  it('reach every mu and rho and match finite differences at a fixed seed', () => {
    const before = tf.memory().numTensors;
    const layer = c.make();
    const n = c.xShape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(fixedArray(n, 3, -1, 1), c.xShape);
    tf.dispose(layer.apply(x) as tf.Tensor);
    const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
    expect(weights.map((w) => w.name.split('/').pop())).toEqual([
      'kernel_mu',
      'kernel_rho',
      'bias_mu',
      'bias_rho',
    ]);
    // larger sigmas so that the rho gradients are not tiny
    tf.tidy(() => layer.setPosterior({ kernelSigma: 0.4, biasSigma: 0.3 }));
    const outShape = tf.tidy(() => (layer.apply(x) as tf.Tensor).shape);
    const cw = tf.tensor(
      fixedArray(
        outShape.reduce((a, b) => a * b, 1),
        5,
        -1,
        1,
      ),
      outShape,
    );
    const SEED = 1234;
    // objective: a weighted sum of one sampled output plus the KL
    const objective = (): tf.Scalar => {
      setSeed(SEED);
      return tf.add(tf.sum(tf.mul(layer.apply(x) as tf.Tensor, cw)), layer.kl()) as tf.Scalar;
    };
    const { value, grads } = tf.variableGrads(objective, weights);
    for (const w of weights) {
      const g = grads[w.name];
      expect(g, w.name).toBeDefined();
      expect(tf.tidy(() => tf.max(tf.abs(g!)).dataSync()[0])).toBeGreaterThan(1e-4);
    }
    for (const w of weights) {
      const fd = variableFiniteDiff(w, objective, 1e-2);
      expect(grads[w.name], w.name).toBeAllclose(fd, { rtol: 2e-2, atol: 2e-3 });
    }
    tf.dispose([value, x, cw, ...Object.values(grads)]);
    layer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
