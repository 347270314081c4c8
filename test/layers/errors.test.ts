/**
 * Clear errors (ArgumentError naming the argument and the expectation) for bad configuration and
 * shape mismatches.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, it } from 'vitest';
import {
  ConvFlipout,
  ConvReparam,
  DenseLocalReparam,
  DenseReparam,
  type ConvVariationalArgs,
} from '../../src/layers/index.js';
import { expectArgumentError } from '../helpers.js';

describe('bad configuration', () => {
  it('names the argument', () => {
    expectArgumentError(
      () => new DenseReparam({ outChannels: 3, priorSigma: -0.1 }),
      'priorSigma',
      /> 0, got -0.1/,
    );
    expectArgumentError(
      () => new DenseReparam({ outChannels: 0 }),
      'outChannels',
      /integer >= 1, got 0/,
    );
    expectArgumentError(
      () => new DenseReparam({} as unknown as { outChannels: number }),
      'units', // TF.js's name first (outChannels is its MindSpore alias)
      /is required: the number of output units, an integer >= 1 \(or outChannels\)/,
    );
    expectArgumentError(
      () => new DenseReparam({ outChannels: 2, inChannels: 1.5 }),
      'inChannels',
      /integer/,
    );
    expectArgumentError(
      () => new DenseReparam({ outChannels: 2, activation: 'relux' }),
      'activation',
      /relux/,
    );
    expectArgumentError(
      () => new DenseReparam({ outChannels: 2, posteriorRhoInitial: [-3] }),
      'posteriorRhoInitial',
      /\[mean, std\]/,
    );
    expectArgumentError(
      () => new DenseReparam({ outChannels: 2, posteriorMuInitial: [0, -1] }),
      'posteriorMuInitial[1]',
      /std >= 0/,
    );
    expectArgumentError(
      () => new DenseReparam({ outChannels: 2, prior: { type: 'cauchy' } }),
      'prior.type',
      /cauchy/,
    );
    expectArgumentError(
      () => new DenseReparam({ outChannels: 2, prior: { type: 'normal', sigma: 0 } }),
      'prior.sigma',
      /> 0/,
    );
    expectArgumentError(
      () => new DenseReparam({ outChannels: 2, mode: 'frozen' as 'mean' }),
      'mode',
      /'sample' or 'mean'/,
    );
    expectArgumentError(() => new DenseReparam({ outChannels: 2, klScale: -1 }), 'klScale', />= 0/);
    const conv = (a: Partial<ConvVariationalArgs>): ConvReparam =>
      new ConvReparam({ outChannels: 4, kernelSize: 3, ...a });
    expectArgumentError(
      () => conv({ padMode: 'full' as 'same' }),
      'padMode',
      /'same', 'valid' or 'pad', got 'full'/,
    );
    expectArgumentError(() => conv({ padding: 1 }), 'padding', /must be 0 unless padMode is 'pad'/);
    expectArgumentError(
      () => conv({ padMode: 'pad', padding: [1, 2] }),
      'padding',
      /top, bottom, left, right/,
    );
    expectArgumentError(() => conv({ kernelSize: 0 }), 'kernelSize', /integer >= 1/);
    expectArgumentError(() => conv({ stride: [1, 2, 3] }), 'stride', /pair/);
    expectArgumentError(() => conv({ group: 3 }), 'group', /divide outChannels/);
    expectArgumentError(
      () => conv({ group: 2, inChannels: 3 }),
      'group',
      /divide inChannels \(3\)/,
    );
    expectArgumentError(
      () => new ConvFlipout({ outChannels: 2 } as ConvVariationalArgs),
      'kernelSize',
      /required/,
    );
  });
});

describe('shape mismatches', () => {
  it('inChannels vs the actual input, in eager calls and in models', () => {
    const dense = new DenseReparam({ inChannels: 4, outChannels: 2 });
    const x3 = tf.ones([2, 3]);
    expectArgumentError(
      () => dense.apply(x3),
      'inChannels',
      /inChannels=4 but its input has 3 channels/,
    );
    expectArgumentError(
      () =>
        tf.sequential({
          layers: [new DenseReparam({ inChannels: 5, outChannels: 2, inputShape: [3] })],
        }),
      'inChannels',
      /inChannels=5/,
    );
    // a built layer called on a different width
    const built = new DenseLocalReparam({ outChannels: 2 });
    tf.dispose(built.apply(tf.ones([1, 3])) as tf.Tensor);
    expectArgumentError(
      () => built.apply(tf.ones([1, 4])),
      'inputs',
      /expects 3 input channels.*\[1, 4\]/,
    );
    // rank errors
    expectArgumentError(
      () => new DenseReparam({ outChannels: 2 }).apply(tf.ones([3])),
      'inputs',
      /\[batch, \.\.\., inChannels\]/,
    );
    const conv = new ConvReparam({ outChannels: 2, kernelSize: 3, padMode: 'valid' });
    expectArgumentError(() => conv.apply(tf.ones([2, 5, 5])), 'inputs', /NHWC/);
    const conv2 = new ConvReparam({ inChannels: 2, outChannels: 2, kernelSize: 3 });
    expectArgumentError(() => conv2.apply(tf.ones([1, 5, 5, 3])), 'inChannels', /inChannels=2/);
    const small = new ConvReparam({ outChannels: 2, kernelSize: 5, padMode: 'valid' });
    expectArgumentError(() => small.apply(tf.ones([1, 3, 3, 1])), 'inputs', /too small/);
    // not built yet
    expectArgumentError(() => new DenseReparam({ outChannels: 2 }).kl(), 'layer', /not built/);
    // setPosterior shape check
    expectArgumentError(
      () => dense.setPosterior({ kernelMu: tf.zeros([3, 2]) }),
      'layer',
      /not built/,
    );
    tf.dispose(dense.apply(tf.ones([1, 4])) as tf.Tensor);
    expectArgumentError(
      () => dense.setPosterior({ kernelMu: [[1, 2]] }),
      'kernelMu',
      /\[4, 2\], got \[1, 2\]/,
    );
    expectArgumentError(() => dense.setPosterior({ kernelSigma: 0 }), 'kernelSigma', /> 0/);
    const noBias = new ConvFlipout({ inChannels: 1, outChannels: 1, kernelSize: 1 });
    tf.dispose(noBias.apply(tf.ones([1, 2, 2, 1])) as tf.Tensor);
    expectArgumentError(() => noBias.setPosterior({ biasMu: [0] }), 'biasMu', /no bias/);
    tf.dispose(x3);
  });
});
