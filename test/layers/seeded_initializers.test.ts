/**
 * tfjs's random weight initializers follow `setSeed` (as torch's `manual_seed` fixes `nn.Linear`'s
 * init): the same seed builds the same initial weights for Dense / Conv2D / LSTM (glorotUniform,
 * orthogonal, heNormal, randomNormal, truncatedNormal), another seed other weights; without a
 * global seed, and for an initializer given its own `seed`, tfjs's behaviour is unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../../src/layers/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

function build(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [5, 5, 1], filters: 2, kernelSize: 3 }),
      tf.layers.reshape({ targetShape: [9, 2] }),
      tf.layers.lstm({ units: 3, returnSequences: false }),
      tf.layers.dense({ units: 4, kernelInitializer: 'heNormal' }),
      tf.layers.dense({
        units: 2,
        kernelInitializer: 'randomNormal',
        biasInitializer: 'truncatedNormal',
      }),
    ],
  });
}

function weights(m: tf.LayersModel): number[][] {
  const out = m.getWeights().map((t) => Array.from(t.dataSync()));
  m.dispose();
  return out;
}

describe('tfjs initializers follow setSeed', () => {
  it('the same seed gives the same initial weights, another seed others', () => {
    const before = tf.memory().numTensors;
    setSeed(11);
    const a = weights(build());
    setSeed(11);
    const b = weights(build());
    setSeed(12);
    const c = weights(build());
    clearSeed();
    expect(b).toEqual(a);
    // every random kernel differs under another seed (conv, LSTM kernel and recurrent kernel, both dense kernels, the truncated-normal bias)
    for (const i of [0, 2, 3, 5, 7, 8]) expect(c[i]).not.toEqual(a[i]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('without a global seed two builds differ (stock tfjs: Math.random)', () => {
    clearSeed();
    const a = weights(build());
    const b = weights(build());
    expect(b[0]).not.toEqual(a[0]);
    expect(b[2]).not.toEqual(a[2]);
  });

  it('an initializer with its own seed keeps it, whatever the global seed', () => {
    const mk = (): tf.Sequential =>
      tf.sequential({
        layers: [
          tf.layers.dense({
            inputShape: [3],
            units: 4,
            kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }),
          }),
        ],
      });
    setSeed(1);
    const a = weights(mk());
    setSeed(2);
    const b = weights(mk());
    clearSeed();
    const c = weights(mk());
    expect(b[0]).toEqual(a[0]);
    expect(c[0]).toEqual(a[0]);
    // the seed the layer was given is still its own after the build
    const init = tf.initializers.glorotUniform({ seed: 5 }) as unknown as { seed?: number };
    expect(init.seed).toBe(5);
  });
});
