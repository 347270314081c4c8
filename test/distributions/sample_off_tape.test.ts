/**
 * A non-reparameterized draw is a constant to an enclosing gradient (torch's `sample()` under
 * `no_grad`): used as gather indices (Pyro's DP-mixture guide, `mu[z]` with `z ~ Categorical(phi)`)
 * it must not put the int32 indices on the backward path. Reference: the gradient by hand.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Bernoulli, Categorical } from '../../src/distributions/index.js';
import { withTapeOff } from '../../src/utils/tape.js';

describe('draws without rsample are off the tape', () => {
  it('Categorical draws from parameter probs index a gather inside tf.grad (it threw)', () => {
    const phi = tf.variable(
      tf.tensor2d([
        [0.7, 0.2, 0.1],
        [0.1, 0.1, 0.8],
      ]),
    );
    const mu = tf.variable(tf.tensor1d([1, 2, 3]));
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const z = new Categorical({ probs: phi }).sample();
      const picked = tf.gather(mu, tf.cast(z, 'int32'));
      return tf.sum(tf.mul(picked, picked)) as tf.Scalar;
    }, [mu]);
    // d/dmu_k sum_i mu_{z_i}^2 = 2 mu_k (number of i with z_i = k), at the drawn z
    const g = Array.from(grads[mu.name]!.dataSync());
    const total = g.reduce((a, v, k) => a + v / (2 * (k + 1)), 0);
    expect(total).toBeCloseTo(2, 5); // two draws
    expect(g.every((v, k) => Number.isInteger(Math.round(v / (2 * (k + 1)))))).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([phi, mu]);
  });

  it('withTapeOff: a function of a variable computed inside has no gradient path', () => {
    const p = tf.variable(tf.scalar(0.3));
    const { grads } = tf.variableGrads(() => {
      const b = new Bernoulli({ probs: p }).sample([4]);
      const off = withTapeOff(() => tf.mul(p, 10));
      return tf.add(tf.sum(tf.mul(b, 0)), tf.add(tf.mul(p, 2), off)) as tf.Scalar;
    }, [p]);
    expect(grads[p.name]!.dataSync()[0]).toBeCloseTo(2, 6);
    tf.dispose([p, ...Object.values(grads)]);
  });
});
