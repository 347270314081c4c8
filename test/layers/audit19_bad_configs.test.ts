/**
 * Audit 19: bad Bayesian layer configs as a TF.js user writes them are ArgumentErrors naming the
 * argument as the user spelled it, with the value the user gave (not an internal form).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { layers } from '../../src/index.js';
import { expectArgumentError } from '../helpers.js';

const L = layers as unknown as Record<string, new (a: Record<string, unknown>) => tf.layers.Layer>;

describe('audit19: bad configs name the argument as written', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    // TF.js spellings of the 2-D kinds: named strides / dilationRate, not stride / dilation
    ['ConvReparam', { filters: 2, kernelSize: 3, strides: 0 }, 'strides', /got 0/],
    ['ConvFlipout', { filters: 2, kernelSize: 3, strides: [1, -2] }, 'strides', /got \[1,-2\]/],
    [
      'ConvLocalReparam',
      { filters: 2, kernelSize: 3, dilationRate: [1, 0] },
      'dilationRate',
      /got \[1,0\]/,
    ],
    ['Conv2DTransposeReparam', { filters: 2, kernelSize: 2, strides: -1 }, 'strides', /got -1/],
    // MindSpore spellings keep their names
    ['ConvReparam', { outChannels: 2, kernelSize: 3, stride: 0 }, 'stride', /got 0/],
    ['ConvReparam', { outChannels: 2, kernelSize: 3, dilation: 0 }, 'dilation', /got 0/],
    // 1-D: the value as given, not its 2-D lift [1, n]
    ['Conv1DReparam', { filters: 2, kernelSize: 0 }, 'kernelSize', /got 0$/],
    ['Conv1DFlipout', { filters: 2, kernelSize: 2.5 }, 'kernelSize', /got 2\.5$/],
    ['Conv1DLocalReparam', { filters: 2, kernelSize: 2, strides: 0 }, 'strides', /got 0$/],
    ['Conv1DReparam', { filters: 2, kernelSize: 2, dilationRate: -1 }, 'dilationRate', /got -1$/],
    [
      'Conv1DReparam',
      { filters: 2, kernelSize: 2, padding: 'causal', dilationRate: 0 },
      'dilationRate',
      /got 0$/,
    ],
    [
      'Conv1DReparam',
      { filters: 2, kernelSize: [0], padding: 'causal' },
      'kernelSize',
      /got \[0\]$/,
    ],
    // the gate activation of a recurrent layer is recurrentActivation, not activation
    ['LSTMReparam', { units: 2, recurrentActivation: 'foo' }, 'recurrentActivation', /got 'foo'/],
    [
      'GRUFlipout',
      { units: 2, recurrentActivation: 'sigmoidd' },
      'recurrentActivation',
      /got 'sigmoidd'/,
    ],
    ['GRUFlipout', { units: 2, activation: 'bad' }, 'activation', /got 'bad'/],
    // tfjs's own Layer arguments, which tfjs takes unchecked
    ['DenseReparam', { units: 2, trainable: 'no' }, 'trainable', /true or false, got no/],
    ['ConvFlipout', { filters: 2, kernelSize: 2, trainable: 0 }, 'trainable', /got 0/],
    ['LSTMLocalReparam', { units: 2, trainable: 'false' }, 'trainable', /got false/],
    ['DenseFlipout', { units: 2, name: 5 }, 'name', /expected a string, got 5/],
  ];
  for (const [cls, args, name, text] of cases) {
    it(`${cls} ${JSON.stringify(args)} -> ${name}`, () => {
      expectArgumentError(() => new L[cls]!(args), name, text);
    });
  }

  it('trainable true / false and a string or empty name (tfjs: a generated one) are accepted', () => {
    expect(new layers.DenseReparam({ units: 2, trainable: false }).trainable).toBe(false);
    expect(new layers.DenseReparam({ units: 2, trainable: true }).trainable).toBe(true);
    expect(new layers.DenseReparam({ units: 2, name: 'head' }).name).toBe('head');
    expect(new layers.DenseReparam({ units: 2, name: '' }).name).toMatch(/^dense_reparam/);
  });
});
