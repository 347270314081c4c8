// Session 17: IntervalCensoredDistribution's mean and variance are those of its draws (X, X).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as d } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

describe('IntervalCensoredDistribution moments: those of its draws (X, X)', () => {
  it('mean and variance are the base moments on both coordinates, batched', () => {
    const base = new d.Gamma([2, 5], [1, 0.5]);
    const ic = new d.IntervalCensoredDistribution(base, [false, true], [true, false]);
    const m = expectNoLeak(() => ic.mean());
    const v = expectNoLeak(() => ic.variance());
    expect(m).toEqual([2, 2, 10, 10]);
    expect(v).toEqual([2, 2, 20, 20]);
    const shape = tf.tidy(() => ic.mean().shape);
    expect(shape).toEqual([2, 2]);
    // Monte Carlo: the draws' mean within 5 standard errors
    const n = 4000;
    const draws = ic.sample([n], 17);
    const mc = tf.tidy(() => tf.mean(draws, 0).arraySync() as number[][]);
    draws.dispose();
    [2, 10].forEach((mu, i) => {
      const se = Math.sqrt(([2, 20][i] as number) / n);
      mc[i]!.forEach((x) => expect(Math.abs(x - mu)).toBeLessThan(5 * se));
    });
    ic.dispose();
    base.dispose();
  });
  it('a base moment that does not exist stays NaN / Infinity (StudentT df 0.8 and 1.5)', () => {
    const base = new d.StudentT([0.8, 1.5], 0, 1);
    const ic = new d.IntervalCensoredDistribution(base);
    const m = expectNoLeak(() => ic.mean());
    const v = expectNoLeak(() => ic.variance());
    expect(Number.isNaN(m[0])).toBe(true);
    expect(m[2]).toBe(0);
    expect(v[2]).toBe(Infinity);
    ic.dispose();
    base.dispose();
  });
});
