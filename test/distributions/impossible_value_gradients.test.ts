/**
 * Probabilities exactly 0 or 1 (`probs = phi * z` at `z = 0`, a structural zero of a transition
 * matrix): the log-probability of an impossible value is `-Infinity`, and where it is masked out
 * or weighted by `exp(-Infinity) = 0` in a log-sum-exp, its gradient must be 0, not NaN (Pyro's
 * cjs.py; torch clamps the probabilities). References: the gradients in closed form.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Bernoulli, Categorical } from '../../src/distributions/index.js';
import { log1p, logNoNanGrad } from '../../src/utils/log1p.js';
import { expectNoLeak } from '../helpers.js';

const grad = (f: (x: tf.Tensor) => tf.Tensor, x: number): number =>
  tf.tidy(() => tf.grad(f)(tf.scalar(x)).dataSync()[0] as number);

describe('gradients at impossible values', () => {
  it('Bernoulli: a masked impossible value and one summed out by log-sum-exp give the exact gradient', () => {
    const phi = 0.6;
    // log sum_z p(y = 1 | probs = phi z) over z in {0, 1} = log phi: d/dphi = 1/phi
    const lseGrad = grad((ph) => {
      const p = tf.mul(ph, tf.tensor1d([0, 1]));
      return tf.logSumExp(new Bernoulli({ probs: p }).logProb(tf.scalar(1)));
    }, phi);
    expect(lseGrad).toBeCloseTo(1 / phi, 5);
    // with probs = 1 - phi z at value 0 (log1p(-p) at p = 1): log sum_z phi z = log phi again
    const lse0 = grad((ph) => {
      const p = tf.sub(1, tf.mul(ph, tf.tensor1d([0, 1])));
      return tf.logSumExp(new Bernoulli({ probs: p }).logProb(tf.scalar(0)));
    }, phi);
    expect(lse0).toBeCloseTo(1 / phi, 5);
    // masked out (cjs.py's first capture): where(false, log p, 0) + log Bern(1 | phi)
    const maskedGrad = grad((ph) => {
      const p = tf.add(tf.mul(0, ph), 1);
      const lp = new Bernoulli({ probs: p }).logProb(tf.tensor1d([0, 1]));
      const masked = tf.sum(tf.where(tf.tensor1d([false, false], 'bool'), lp, tf.zeros([2])));
      return tf.add(masked, new Bernoulli({ probs: ph }).logProb(tf.scalar(1)));
    }, phi);
    expect(maskedGrad).toBeCloseTo(1 / phi, 5);
  });

  it('Categorical with a structural zero: the enumerated sum has the exact gradient', () => {
    // probs [phi, 1 - phi, 0]: log(p(0) + p(2)) = log phi
    const g = grad((ph) => {
      const probs = tf.stack([ph, tf.sub(1, ph), tf.scalar(0)]);
      return tf.logSumExp(new Categorical({ probs }).logProb(tf.tensor1d([0, 2])));
    }, 0.3);
    expect(g).toBeCloseTo(1 / 0.3, 4);
  });

  it('logNoNanGrad and log1p: zero upstream gradient at the pole gives 0; values unchanged', () => {
    expect(Math.abs(grad((x) => tf.mul(0, logNoNanGrad(x)), 0))).toBe(0);
    expect(Math.abs(grad((x) => tf.mul(0, log1p(tf.neg(x))), 1))).toBe(0);
    expect(grad((x) => logNoNanGrad(x), 0.25)).toBeCloseTo(4, 5);
    expect(grad((x) => log1p(tf.neg(x)), 0.25)).toBeCloseTo(-1 / 0.75, 5);
    expect(grad((x) => logNoNanGrad(x), 0)).toBe(Infinity);
    const x = tf.tensor1d([0, 1, Math.E]);
    expectNoLeak(() => {
      const v = logNoNanGrad(x);
      const [a, b, c] = Array.from(v.dataSync());
      expect([a, b]).toEqual([-Infinity, 0]);
      expect(c).toBeCloseTo(1, 6);
      v.dispose();
    });
    x.dispose();
  });
});
