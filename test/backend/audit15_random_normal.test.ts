/**
 * Audit of the kernel pack's ziggurat normal generator behind `randomNormal` (issue 19's engine):
 * moments and tail masses within their Monte Carlo standard errors against the normal CDF
 * (@stdlib), one seed giving the same stream on the wasm and cpu backends, and bad arguments
 * refused with an `ArgumentError` naming the argument.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { describe, expect, it } from 'vitest';
import { ArgumentError, randomNormal } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';
import { onCpu } from './reference.js';

describe('engine audit: randomNormal', () => {
  it('mean, variance, skewness, kurtosis and tail masses within 4 MC standard errors', () => {
    const n = 400_000;
    const v = expectNoLeak(() => randomNormal([n], 1.5, 2, 1234));
    const z = v.map((x) => (x - 1.5) / 2);
    const m = z.reduce((a, b) => a + b, 0) / n;
    const m2 = z.reduce((a, b) => a + b * b, 0) / n;
    const m3 = z.reduce((a, b) => a + b ** 3, 0) / n;
    const m4 = z.reduce((a, b) => a + b ** 4, 0) / n;
    // SEs of the sample moments of N(0, 1): sqrt(Var(z^k) / n), Var(z^k) = E z^2k - (E z^k)^2
    expect(Math.abs(m)).toBeLessThan(4 * Math.sqrt(1 / n));
    expect(Math.abs(m2 - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(m3)).toBeLessThan(4 * Math.sqrt(15 / n));
    expect(Math.abs(m4 - 3)).toBeLessThan(4 * Math.sqrt(96 / n));
    // tail masses, including beyond the ziggurat's base strip (r = 3.44)
    for (const t of [1, 2, 3, 3.5, 4]) {
      const p = 2 * (1 - normalRef.cdf(t, 0, 1));
      const got = z.filter((x) => Math.abs(x) > t).length / n;
      expect(Math.abs(got - p), `P(|z| > ${t})`).toBeLessThan(
        4 * Math.sqrt((p * (1 - p)) / n) + 1 / n,
      );
    }
  });

  it('one seed gives the same stream on the active backend and on cpu; other seeds differ', async () => {
    const here = expectNoLeak(() => randomNormal([3, 1000], -1, 0.5, 77));
    const cpu = await onCpu(() => {
      const t = randomNormal([3, 1000], -1, 0.5, 77);
      const out = Array.from(t.dataSync());
      t.dispose();
      return out;
    });
    expect(here).toEqual(cpu);
    const other = expectNoLeak(() => randomNormal([3, 1000], -1, 0.5, 78));
    expect(other).not.toEqual(here);
    expect(expectNoLeak(() => randomNormal([0, 5], 0, 1, 1))).toEqual([]);
  });

  it('bad arguments are ArgumentErrors naming the argument, before any tensor is made', () => {
    const before = tf.memory().numTensors;
    const call = randomNormal as (...a: unknown[]) => tf.Tensor;
    for (const [args, name] of [
      [[5], 'shape'],
      [[null], 'shape'],
      [[[2, -1]], 'shape'],
      [[[2, 1.5]], 'shape'],
      [[[2], NaN], 'mean'],
      [[[2], 0, 0], 'stdDev'],
      [[[2], 0, -1], 'stdDev'],
      [[[2], 0, Infinity], 'stdDev'],
      [[[2], 0, 1, NaN], 'seed'],
    ] as [unknown[], string][]) {
      expect(() => call(...args), JSON.stringify(args)).toThrow(ArgumentError);
      expect(() => call(...args), JSON.stringify(args)).toThrow(new RegExp(`^${name}: `));
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
