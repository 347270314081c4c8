/**
 * Dropout masks follow deepprob's seed: after `setSeed(s)` the masks of training calls are a
 * function of `s` (a new mask per call), an explicit layer seed keeps tfjs's behaviour, and
 * prediction calls draw nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../../src/layers/index.js';
import { nextSeed, setSeed } from '../../src/utils/seed.js';

const ones = (): tf.Tensor => tf.ones([4, 64]);

function masks(layer: tf.layers.Layer, n: number): number[][] {
  return Array.from({ length: n }, () =>
    tf.tidy(() => {
      const x = ones();
      return Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync());
    }),
  );
}

describe('seeded dropout', () => {
  it('the same seed gives the same masks, a new mask on every call; no leaks', () => {
    const d = tf.layers.dropout({ rate: 0.5 });
    const before = tf.memory().numTensors;
    setSeed(7);
    const a = masks(d, 3);
    setSeed(7);
    const b = masks(d, 3);
    setSeed(8);
    const c = masks(d, 1);
    expect(tf.memory().numTensors).toBe(before);
    expect(b).toEqual(a);
    expect(a[1]).not.toEqual(a[0]);
    expect(c[0]).not.toEqual(a[0]);
    // about half the units are dropped (kept ones scaled by 1/(1 - rate))
    const kept = (a[0] as number[]).filter((v) => v > 0).length;
    expect(kept).toBeGreaterThan(256 * 0.35);
    expect(kept).toBeLessThan(256 * 0.65);
    expect(new Set(a[0])).toEqual(new Set([0, 2]));
  });

  it('an explicit seed keeps tfjs behaviour; prediction draws no seed', () => {
    const fixed = tf.layers.dropout({ rate: 0.5, seed: 3 });
    setSeed(1);
    const [m1, m2] = masks(fixed, 2);
    expect(m2).toEqual(m1);
    const d = tf.layers.dropout({ rate: 0.5 });
    setSeed(5);
    const expected = nextSeed();
    setSeed(5);
    tf.tidy(() => d.apply(ones(), { training: false }) as tf.Tensor);
    expect(nextSeed()).toBe(expected);
    expect(d.getConfig()['seed']).toBeUndefined();
  });
});
