/**
 * The Poisson log-mass on its two paths: the plain `k log(rate) - rate - lgamma(k + 1)` while
 * every count is at most 20 (about half the kernels of Loader's saddle-point form, 10x
 * faster NUTS gradients on the coal-mining change point, bench/RESULTS.md), the saddle point
 * when a larger count is scored. Both against @stdlib's float64 log-mass over a grid of counts
 * and rates.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import poissonRef from '@stdlib/stats-base-dists-poisson';
import { Poisson } from '../../src/distributions/index.js';
import { expectNoLeak } from '../helpers.js';

type Fn = (...a: number[]) => number;
const RATES = [1e-3, 0.1, 0.5, 1, 2.5, 7, 20, 50, 150, 1e3, 1e4];

function logProbGrid(counts: number[]): { got: number[]; want: number[] } {
  const k: number[] = [];
  const r: number[] = [];
  for (const c of counts) {
    for (const l of RATES) {
      k.push(c);
      r.push(Math.fround(l));
    }
  }
  const d = new Poisson(r);
  const got = expectNoLeak(() => d.logProb(k));
  d.dispose();
  return { got, want: k.map((c, i) => (poissonRef.logpmf as Fn)(c, r[i] as number)) };
}

describe('Poisson log-mass: plain form for small counts, saddle point for large', () => {
  it('counts 0..20 (plain form) match @stdlib to 2e-6 (1 + |log p|)', () => {
    const { got, want } = logProbGrid(Array.from({ length: 21 }, (_, i) => i));
    const err = got.map(
      (g, i) => Math.abs(g - (want[i] as number)) / (1 + Math.abs(want[i] as number)),
    );
    expect(Math.max(...err)).toBeLessThan(2e-6);
  });

  it('a batch with a count above 20 takes the saddle point: accurate up to 1e6', () => {
    const { got, want } = logProbGrid([0, 3, 20, 21, 30, 100, 1000, 1e5, 1e6]);
    const err = got.map(
      (g, i) => Math.abs(g - (want[i] as number)) / (1 + Math.abs(want[i] as number)),
    );
    expect(Math.max(...err)).toBeLessThan(1e-6);
  });

  it('both paths agree on the counts they share, and the choice follows the data', () => {
    const d = new Poisson(8);
    const small = expectNoLeak(() => d.logProb([0, 5, 20]));
    const mixed = expectNoLeak(() => d.logProb([0, 5, 20, 21]));
    expect(mixed.slice(0, 3)).toBeAllclose(small, { rtol: 1e-6, atol: 1e-6 });
    // a variable's new values are a new buffer: the cached maximum does not go stale
    const v = tf.variable(tf.tensor1d([2, 3]));
    expectNoLeak(() => d.logProb(v));
    v.assign(tf.tensor1d([300, 3]));
    const got = expectNoLeak(() => d.logProb(v));
    expect(got).toBeAllclose(
      [300, 3].map((c) => (poissonRef.logpmf as Fn)(c, 8)),
      { rtol: 1e-6, atol: 1e-5 },
    );
    v.dispose();
    d.dispose();
  });

  it('small counts cost at most half the saddle-point kernels (47 vs 99; 55 vs 203 before lgamma and bd0 were folded)', async () => {
    const rate = tf.fill([111], 2.5);
    const d = new Poisson(rate);
    const y = tf.tensor1d(Array.from({ length: 111 }, (_, i) => i % 7));
    tf.dispose(d.logProb(y)); // reads the maximum once
    // (tf.profile returns the engine's one profile object: read each count before the next)
    const small = (await tf.profile(() => tf.dispose(d.logProb(y)))).kernels.length;
    const big = tf.tensor1d(Array.from({ length: 111 }, (_, i) => i));
    const large = (await tf.profile(() => tf.dispose(d.logProb(big)))).kernels.length;
    expect(small * 2).toBeLessThan(large);
    tf.dispose([y, big, rate]);
    d.dispose();
  });

  it('non-counts are -Infinity and the rate gradient is k/rate - 1 on the plain path', () => {
    const d = new Poisson(3);
    expect(expectNoLeak(() => d.logProb([-1, 1.5, 2]))).toBeAllclose(
      [-Infinity, -Infinity, (poissonRef.logpmf as Fn)(2, 3)],
      { rtol: 1e-6 },
    );
    d.dispose();
    const g = expectNoLeak(() =>
      tf.tidy(() =>
        tf.grad((r: tf.Tensor) => {
          const p = new Poisson(r);
          const lp = tf.sum(p.logProb([0, 4, 17]));
          p.dispose();
          return lp;
        })(tf.tensor1d([2, 3, 5])),
      ),
    );
    expect(g).toBeAllclose([0 / 2 - 1, 4 / 3 - 1, 17 / 5 - 1], { rtol: 1e-5, atol: 1e-6 });
  });
});
