/**
 * Behaviour the conformance table does not cover: broadcasting, support edges, degenerate
 * parameters, Independent's reshaping of dims, ownership of parameter tensors, validateArgs.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import normalRef from '@stdlib/stats-base-dists-normal';
import { distributions } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const d = distributions;
type Dist = distributions.Distribution;
type Fn = (...a: number[]) => number;

function use<T>(dist: Dist, fn: (x: Dist) => T): T {
  try {
    return fn(dist);
  } finally {
    dist.dispose();
  }
}

describe('parameter broadcasting', () => {
  it('batch shape is the broadcast of the parameter shapes; values broadcast against it', () => {
    const loc = tf.tensor2d([[0], [1], [2]]); // [3, 1]
    use(new d.Normal(loc, [0.5, 2]), (n) => {
      expect(n.batchShape).toEqual([3, 2]);
      const lp = n.logProb([0.3, -0.2]); // [2] against [3, 2]
      expect(lp.shape).toEqual([3, 2]);
      const ref = [0, 1, 2].flatMap((m) =>
        [0.5, 2].map((s, j) => (normalRef.logpdf as Fn)([0.3, -0.2][j] as number, m, s)),
      );
      expect(lp).toBeAllclose(ref);
      lp.dispose();
      expect(expectNoLeak(() => n.mean())).toEqual([0, 0, 1, 1, 2, 2]);
    });
    expect(loc.isDisposed).toBe(false); // the caller's tensor stays the caller's
    loc.dispose();
  });

  it('a user family on ScalarDistribution gets the broadcast batch shape and named errors', () => {
    /** Exponential with rate a * b (a test-only family built on the public base). */
    class ProductRate extends d.ScalarDistribution {
      readonly a: tf.Tensor;
      readonly b: tf.Tensor;
      constructor(a: distributions.TensorInput, b: distributions.TensorInput) {
        super();
        this.a = this.param(a, 'a');
        this.b = this.param(b, 'b');
        this.setBatchShape({ a: this.a, b: this.b });
      }
      protected _logProb(x: tf.Tensor): tf.Tensor {
        const r = tf.mul(this.a, this.b);
        return tf.sub(tf.log(r), tf.mul(r, x));
      }
    }
    use(new ProductRate([[1], [2]], [1, 3, 0.5]), (p) => {
      expect(p.batchShape).toEqual([2, 3]);
      expect(p.eventShape).toEqual([]);
      const lp = p.logProb(0);
      expect(lp).toBeAllclose([0, Math.log(3), Math.log(0.5), Math.log(2), Math.log(6), 0]);
      lp.dispose();
    });
    expect(() => new ProductRate([1, 2], [1, 2, 3])).toThrow(/a.*b|b.*a/);
  });
});

describe('support edges', () => {
  const outside: [string, () => Dist, number[]][] = [
    ['Exponential', () => new d.Exponential(1), [-0.1]],
    ['Gamma', () => new d.Gamma(2, 1), [-1, 0]],
    ['Beta', () => new d.Beta(2, 3), [-0.1, 1.5]],
    ['Uniform', () => new d.Uniform(0, 1), [-0.1, 1.1]],
    ['HalfNormal', () => new d.HalfNormal(1), [-0.5]],
    ['LogNormal', () => new d.LogNormal(0, 1), [-1, 0]],
    ['Poisson', () => new d.Poisson(2), [-1, 1.5]],
    ['Geometric', () => new d.Geometric({ probs: 0.3 }), [-1, 0.5]],
    ['Bernoulli', () => new d.Bernoulli({ probs: 0.3 }), [0.5, 2]],
    ['Categorical', () => new d.Categorical({ probs: [0.5, 0.5] }), [2, -1, 0.5]],
  ];
  it.each(outside)('%s: logProb outside the support is -Infinity', (_, make, xs) => {
    use(make(), (dist) => {
      expect(expectNoLeak(() => dist.logProb(xs))).toEqual(xs.map(() => -Infinity));
    });
  });

  it('cdfs are 0 below and 1 above the support', () => {
    const cases: [Dist, number, number][] = [
      [new d.Exponential(2), -1, 1e3],
      [new d.Gamma(2, 1), -1, 100],
      [new d.Uniform(0, 1), -1, 2],
      [new d.Poisson(3), -1, 100],
      [new d.Geometric({ probs: 0.5 }), -1, 1e3],
      [new d.Bernoulli({ probs: 0.5 }), -1, 1],
      [new d.HalfNormal(1), -1, 1e3],
      [new d.LogNormal(0, 1), -1, 1e6],
      [new d.Beta(2, 2), -1, 2],
    ];
    for (const [dist, lo, hi] of cases) {
      expect(expectNoLeak(() => dist.cdf([lo, hi]))).toBeAllclose([0, 1], { atol: 1e-6 });
      dist.dispose();
    }
  });

  it('degenerate probabilities give finite log-probabilities, entropy 0 and no NaN', () => {
    use(new d.Bernoulli({ probs: [0, 1] }), (b) => {
      expect(expectNoLeak(() => b.logProb([0, 1]))).toBeAllclose([0, 0]);
      expect(expectNoLeak(() => b.logProb([1, 0]))).toEqual([-Infinity, -Infinity]);
      expect(expectNoLeak(() => b.entropy())).toBeAllclose([0, 0]);
    });
    use(new d.Categorical({ probs: [0, 1, 0] }), (c) => {
      expect(expectNoLeak(() => c.entropy())).toBeAllclose([0]);
      expect(expectNoLeak(() => c.sample([20], 3))).toEqual(new Array(20).fill(1));
    });
    use(new d.Geometric({ probs: 1 }), (g) => {
      expect(expectNoLeak(() => g.logProb([0, 1]))).toBeAllclose([0, -Infinity]);
      expect(expectNoLeak(() => g.sample([5], 1))).toEqual([0, 0, 0, 0, 0]);
    });
  });

  it('Gamma draws with a tiny concentration stay positive (clamped at the float32 minimum)', () => {
    use(new d.Gamma(0.01, 1), (g) => {
      const x = expectNoLeak(() => g.sample([2000], 4));
      expect(x.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    });
  });

  it('Normal logCdf stays finite far in the lower tail', () => {
    use(new d.Normal(0, 1), (n) => {
      expect(expectNoLeak(() => n.logCdf([-30]))).toBeAllclose(
        [(normalRef.logcdf as Fn)(-30, 0, 1)],
        { rtol: 1e-5 },
      );
    });
  });
});

describe('Independent', () => {
  it('moves batch dims to the event and sums logProb and entropy over them', () => {
    const base = new d.Normal(tf.zeros([2, 3, 4]), 1.5);
    const ind = new d.Independent(base, 2);
    expect(ind.batchShape).toEqual([2]);
    expect(ind.eventShape).toEqual([3, 4]);
    const all = new d.Independent(base);
    expect(all.batchShape).toEqual([]);
    expect(all.eventShape).toEqual([2, 3, 4]);
    const x = tf.randomNormal([5, 2, 3, 4], 0, 1, 'float32', 1);
    const lp = ind.logProb(x);
    expect(lp.shape).toEqual([5, 2]);
    const ref = tf.tidy(() => tf.sum(base.logProb(x), [2, 3]));
    expect(lp).toBeAllclose(ref, { rtol: 1e-5 });
    expect(expectNoLeak(() => ind.entropy())).toBeAllclose(12 * (normalRef.entropy as Fn)(0, 1.5), {
      rtol: 1e-5,
    });
    tf.dispose([x, lp, ref]);
    const s = expectNoLeak(() => ind.rsample([7], 2));
    expect(s.length).toBe(7 * 24);
    base.dispose();
  });

  it('carries reparameterized gradients through to the base parameters', () => {
    const conc = tf.tensor1d([2, 3]);
    const g = tf.grad((a: tf.Tensor) =>
      tf.mean(new d.Independent(new d.Gamma(a, 1), 1).rsample([4000], 8)),
    )(conc);
    // d/da E[mean of X] = 1/2 for each component (E[X_j] = a_j, averaged over 2 components).
    expect(g).toBeAllclose([0.5, 0.5], { rtol: 0.05 });
    tf.dispose([g, conc]);
  });
});

describe('ownership and validation', () => {
  it('dispose frees tensors made from numbers and arrays, never the caller tensors', () => {
    const before = tf.memory().numTensors;
    const b = new d.Bernoulli({ probs: [0.2, 0.7] }); // probs plus derived logits
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const rate = tf.scalar(2);
    const e = new d.Exponential(rate);
    e.dispose();
    expect(rate.isDisposed).toBe(false);
    rate.dispose();
  });

  it('validateArgs: false skips the (synchronous) value checks', () => {
    const n = new d.Normal(0, -1, { validateArgs: false });
    expect(n.validateArgs).toBe(false);
    n.dispose();
    // Shape mismatches are always errors.
    expect(() => new d.Normal([0, 0, 0], [1, 1], { validateArgs: false })).toThrow(/loc\/scale/);
  });

  it('every family is exported, TransformedDistribution included', () => {
    for (const name of [
      'Bernoulli',
      'Beta',
      'Categorical',
      'Cauchy',
      'Exponential',
      'Gamma',
      'Geometric',
      'Gumbel',
      'HalfNormal',
      'Laplace',
      'Logistic',
      'LogNormal',
      'Normal',
      'Poisson',
      'StudentT',
      'Uniform',
      'Dirichlet',
      'MultivariateNormalDiag',
      'Independent',
      'TransformedDistribution',
    ]) {
      expect(typeof (d as Record<string, unknown>)[name]).toBe('function');
    }
  });
});

describe('wide parameter ranges (float32 limits documented in the tolerances)', () => {
  it('Poisson entropy across the exact-sum / asymptotic switch', async () => {
    const { default: poissonRef } = await import('@stdlib/stats-base-dists-poisson');
    const rates = [0.05, 0.7, 3.5, 29.9, 30.1, 500];
    use(new d.Poisson(rates), (p) => {
      expect(expectNoLeak(() => p.entropy())).toBeAllclose(
        rates.map((r) => (poissonRef.entropy as Fn)(r)),
        { rtol: 1e-5, atol: 1e-6 },
      );
    });
  });

  it('large shape parameters: Gamma, Beta, StudentT cdf and logProb', async () => {
    const { default: gammaRef } = await import('@stdlib/stats-base-dists-gamma');
    const { default: betaRef } = await import('@stdlib/stats-base-dists-beta');
    const { default: tRef } = await import('@stdlib/stats-base-dists-t');
    use(new d.Gamma(200, 2), (g) => {
      const x = [95, 100, 108];
      expect(expectNoLeak(() => g.cdf(x))).toBeAllclose(
        x.map((v) => (gammaRef.cdf as Fn)(v, 200, 2)),
        { rtol: 5e-5, atol: 1e-6 },
      );
      expect(expectNoLeak(() => g.logProb(x))).toBeAllclose(
        x.map((v) => (gammaRef.logpdf as Fn)(v, 200, 2)),
        { rtol: 1e-4 },
      );
    });
    use(new d.Beta(200, 150), (b) => {
      const x = [0.55, 0.57, 0.6];
      expect(expectNoLeak(() => b.cdf(x))).toBeAllclose(
        x.map((v) => (betaRef.cdf as Fn)(v, 200, 150)),
        { rtol: 1e-4, atol: 1e-6 },
      );
    });
    use(new d.StudentT(300, 0, 1), (t) => {
      const x = [-2.5, 0.3, 1.9];
      expect(expectNoLeak(() => t.cdf(x))).toBeAllclose(
        x.map((v) => (tRef.cdf as Fn)(v, 300)),
        { rtol: 1e-5, atol: 1e-6 },
      );
    });
  });
});

describe('Categorical sampling', () => {
  it('category frequencies match probs within 5 standard errors, per batch row', () => {
    const probs = [
      [0.2, 0.5, 0.3],
      [0.6, 0.1, 0.3],
    ];
    use(new d.Categorical({ probs }), (c) => {
      const n = 40000;
      const freq = tf.tidy(() => {
        const x = c.sample([n], 31); // [n, 2]
        return tf.mean(tf.oneHot(tf.cast(x, 'int32'), 3), 0).arraySync() as number[][];
      });
      probs.forEach((row, b) =>
        row.forEach((p, k) => {
          const se = Math.sqrt((p * (1 - p)) / n);
          expect(Math.abs((freq[b] as number[])[k]! - p)).toBeLessThan(5 * se);
        }),
      );
    });
  });
});
