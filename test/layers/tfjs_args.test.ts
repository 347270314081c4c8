import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { fromTfjsArgs } from '../../src/layers/tfjs_args.js';
import { resolveInitializer } from '../../src/layers/initializers.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { layers } from '../../src/index.js';

describe('TF.js argument names', () => {
  it('maps dense names and keeps the others', () => {
    const r = fromTfjsArgs({ units: 16, useBias: false, activation: 'relu', name: 'd' }, 'dense');
    expect(r.args).toEqual({ outChannels: 16, hasBias: false, activation: 'relu', name: 'd' });
    expect(r.defaultHasBias).toBe(true);
    expect(fromTfjsArgs({ outChannels: 3 }, 'dense').args).toEqual({ outChannels: 3 });
    expect(fromTfjsArgs({ units: 3, outChannels: 3 }, 'dense').args).toEqual({ outChannels: 3 });
  });

  it('maps conv names; padding strings become padMode, numbers keep MindSpore meaning', () => {
    const r = fromTfjsArgs(
      { filters: 8, kernelSize: [3, 5], strides: 2, padding: 'valid', dilationRate: [1, 2] },
      'conv',
    );
    expect(r.args).toEqual({
      outChannels: 8,
      kernelSize: [3, 5],
      stride: 2,
      padMode: 'valid',
      dilation: [1, 2],
    });
    expect(r.defaultHasBias).toBe(true); // TF.js default
    expect(fromTfjsArgs({ filters: 2, kernelSize: 3 }, 'conv').args).toEqual({
      outChannels: 2,
      kernelSize: 3,
      padMode: 'valid', // TF.js default padding
    });
    expect(fromTfjsArgs({ outChannels: 2, kernelSize: 3 }, 'conv').args).toEqual({
      outChannels: 2,
      kernelSize: 3, // MindSpore default padMode 'same' is applied by the layer
    });
    const ms = fromTfjsArgs({ outChannels: 8, kernelSize: 3, padMode: 'pad', padding: 1 }, 'conv');
    expect(ms.args).toEqual({ outChannels: 8, kernelSize: 3, padMode: 'pad', padding: 1 });
    expect(ms.defaultHasBias).toBe(false); // MindSpore default for convolutions
  });

  it('rejects conflicting or misplaced names, naming them', () => {
    expect(() => fromTfjsArgs({ units: 4, outChannels: 5 }, 'dense')).toThrow(
      /units: and outChannels name the same argument; got 4 and 5/,
    );
    expect(() => fromTfjsArgs({ filters: 4 }, 'dense')).toThrow(
      /filters: .*Dense layer takes units/,
    );
    expect(() => fromTfjsArgs({ units: 4, kernelSize: 3 }, 'conv')).toThrow(/units: /);
    expect(() => fromTfjsArgs({ filters: 4, kernelSize: 3, padding: 'causal' }, 'conv')).toThrow(
      /padding: expected 'same' or 'valid'/,
    );
    expect(() =>
      fromTfjsArgs({ filters: 4, kernelSize: 3, padding: 'same', padMode: 'valid' }, 'conv'),
    ).toThrow(/padding: and padMode/);
    expect(() =>
      fromTfjsArgs({ filters: 4, kernelSize: 3, strides: 2, stride: 1 }, 'conv'),
    ).toThrow(ArgumentError);
    expect(() => fromTfjsArgs(null as unknown as object, 'dense')).toThrow(/args: expected/);
    expect(() => fromTfjsArgs({ activation: 'relu' }, 'dense')).toThrow(/units: is required/);
    expect(() => fromTfjsArgs({ kernelSize: 3 }, 'conv')).toThrow(/filters: is required/);
  });

  it('refuses tf.layers options the Bayesian layers would ignore, and typos, naming the key', () => {
    // channelsFirst was once read as channelsLast ([1,3,8,8] gave [1,1,6,2] where tf.layers.conv2d
    // gives [1,2,6,6]); the convolutions now take it (conv_format.ts), other formats are refused
    expect(
      fromTfjsArgs({ filters: 2, kernelSize: 3, dataFormat: 'channelsFirst' }, 'conv').args,
    ).toHaveProperty('dataFormat', 'channelsFirst');
    expect(() =>
      fromTfjsArgs({ filters: 2, kernelSize: 3, dataFormat: 'NCHW' } as object, 'conv'),
    ).toThrow(/dataFormat: expected 'channelsLast' or 'channelsFirst'/);
    expect(() =>
      fromTfjsArgs({ units: 2, dataFormat: 'channelsFirst' } as object, 'dense'),
    ).toThrow(/dataFormat: expected 'channelsLast'/);
    expect(
      fromTfjsArgs({ filters: 2, kernelSize: 3, dataFormat: 'channelsLast' }, 'conv').args,
    ).not.toHaveProperty('dataFormat');
    expect(() =>
      fromTfjsArgs({ units: 2, kernelRegularizer: tf.regularizers.l2() }, 'dense'),
    ).toThrow(/kernelRegularizer: the prior KL regularises the weights/);
    expect(() => fromTfjsArgs({ units: 2, biasConstraint: 'nonNeg' }, 'dense')).toThrow(
      /biasConstraint: not supported/,
    );
    expect(() => fromTfjsArgs({ units: 2, unitz: 7 }, 'dense')).toThrow(
      /unitz: not an option of a Bayesian Dense layer \(options: .*units/,
    );
    expect(() => fromTfjsArgs({ units: 2, prior_sigma: 0.1 }, 'dense')).toThrow(
      /prior_sigma: .*did you mean priorSigma\?/,
    );
    // the size is named as written, strings shown as strings
    expect(() => fromTfjsArgs({ units: 0 }, 'dense')).toThrow(
      /units: expected an integer >= 1, got 0/,
    );
    expect(() => fromTfjsArgs({ units: '4' }, 'dense')).toThrow(/units: .*got "4"/);
    expect(() => fromTfjsArgs({ filters: 'eight', kernelSize: 3 }, 'conv')).toThrow(
      /filters: expected an integer >= 1, got "eight"/,
    );
  });

  it('every registered Bayesian class round-trips its own config through the key check', () => {
    for (const [name, make] of [
      ['dense', () => new layers.DenseFlipout({ units: 3, inputShape: [4], activation: 'relu' })],
      [
        'conv',
        () =>
          new layers.ConvReparam({
            filters: 2,
            kernelSize: 3,
            inputShape: [6, 6, 1],
            strides: 1,
            dilationRate: 1,
          }),
      ],
    ] as const) {
      const l = make();
      const cfg = l.getConfig();
      const Cls = l.constructor as new (a: object) => tf.layers.Layer;
      expect(() => new Cls(cfg), name).not.toThrow();
    }
    expect(
      () => new layers.DenseReparam({ units: 2, activation: {} as unknown as string }),
    ).toThrow(/activation: expected the name of an activation .* got an object/);
  });

  it('resolves initializers by object or name', () => {
    const he = tf.initializers.heNormal({ seed: 1 });
    expect(resolveInitializer(he, 'kernelInitializer')).toBe(he);
    expect(resolveInitializer('zeros', 'kernelInitializer').getClassName()).toBe('Zeros');
    expect(resolveInitializer('glorotUniform', 'k').getConfig()).toMatchObject({
      distribution: 'uniform',
      mode: 'fanAvg',
    });
    expect(() => resolveInitializer('nope' as 'zeros', 'biasInitializer')).toThrow(
      /biasInitializer: expected a tf.initializers object or one of/,
    );
    expect(() => resolveInitializer('toString' as 'zeros', 'k')).toThrow(ArgumentError);
  });
});
