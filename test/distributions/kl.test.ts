/**
 * Every analytic KL pair against its Monte Carlo estimate (within 5 standard errors), cross
 * entropy against Monte Carlo, nearest-match dispatch along the class chain, and the error for
 * unknown pairs.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { NotRegisteredError, distributions } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const d = distributions;
type Dist = distributions.Distribution;

interface KLCase {
  name: string;
  p: () => Dist;
  q: () => Dist;
}

const KL_CASES: KLCase[] = [
  {
    name: 'Normal',
    p: () => new d.Normal([0.3, -1], [0.8, 1.1]),
    q: () => new d.Normal(-0.5, 1.7),
  },
  {
    name: 'Bernoulli',
    p: () => new d.Bernoulli({ probs: [0.3, 0.9] }),
    q: () => new d.Bernoulli({ logits: [0.4, -1] }),
  },
  {
    name: 'Categorical',
    p: () =>
      new d.Categorical({
        probs: [
          [0.2, 0.5, 0.3],
          [0.1, 0.1, 0.8],
        ],
      }),
    q: () =>
      new d.Categorical({
        logits: [
          [0.1, -1, 0.7],
          [2, 0, 0],
        ],
      }),
  },
  {
    name: 'Dirichlet',
    p: () => new d.Dirichlet([1.5, 2, 3]),
    q: () => new d.Dirichlet([2, 1, 0.8]),
  },
  { name: 'Exponential', p: () => new d.Exponential([1.5, 0.3]), q: () => new d.Exponential(0.8) },
  { name: 'Gamma', p: () => new d.Gamma([2.5, 0.8], [1.5, 2]), q: () => new d.Gamma(1.7, 0.9) },
  { name: 'Beta', p: () => new d.Beta([2.5, 0.8], [1.5, 2]), q: () => new d.Beta(1.7, 0.9) },
  {
    name: 'Uniform (contained)',
    p: () => new d.Uniform([0.2, -1], [0.9, 1]),
    q: () => new d.Uniform(-1.5, 2),
  },
  {
    name: 'Laplace',
    p: () => new d.Laplace([0.3, -1], [0.8, 1.1]),
    q: () => new d.Laplace(-0.5, 1.7),
  },
  { name: 'Poisson', p: () => new d.Poisson([3.5, 0.7]), q: () => new d.Poisson(2) },
  {
    name: 'LogNormal',
    p: () => new d.LogNormal([0.3, -1], [0.8, 1.1]),
    q: () => new d.LogNormal(-0.5, 1.7),
  },
  {
    name: 'MultivariateNormalDiag',
    p: () => new d.MultivariateNormalDiag([0.3, -1, 2], [0.8, 1.1, 0.5]),
    q: () => new d.MultivariateNormalDiag([0, 0, 1.5], [1, 2, 1]),
  },
  {
    name: 'Independent(Normal)',
    p: () => new d.Independent(new d.Normal([[0.3, -1, 2]], [0.8, 1.1, 0.5]), 1),
    q: () => new d.Independent(new d.Normal([0, 0, 1.5], [1, 2, 1]), 1),
  },
  {
    name: 'Geometric',
    p: () => new d.Geometric({ probs: [0.3, 0.8] }),
    q: () => new d.Geometric({ probs: 0.5 }),
  },
  {
    name: 'Gumbel',
    p: () => new d.Gumbel([0.3, -1], [0.8, 1.1]),
    q: () => new d.Gumbel(-0.5, 1.7),
  },
  { name: 'HalfNormal', p: () => new d.HalfNormal([0.8, 2]), q: () => new d.HalfNormal(1.3) },
  {
    name: 'Cauchy',
    p: () => new d.Cauchy([0.3, -1], [0.8, 1.1]),
    q: () => new d.Cauchy(-0.5, 1.7),
  },
];

/** Dispose a distribution and, for Independent, its base (built inline in the table). */
function disposeDeep(x: Dist): void {
  if (x instanceof d.Independent) x.base.dispose();
  x.dispose();
}

describe.each(KL_CASES)('KL $name', ({ p: makeP, q: makeQ }) => {
  it('analytic KL matches Monte Carlo within 5 standard errors; cross entropy too', () => {
    const p = makeP();
    const q = makeQ();
    const n = 40000;
    const seed = 17;
    const kl = expectNoLeak(() => d.klDivergence(p, q));
    const mc = expectNoLeak(() => d.monteCarloKL(p, q, { numSamples: n, seed }));
    // Standard error of the same estimator, from the same draws.
    const se = tf.tidy(() => {
      const x = p.sample([n], seed);
      const diff = tf.sub(p.logProb(x), q.logProb(x));
      const { variance } = tf.moments(diff, 0);
      return Array.from(tf.sqrt(tf.div(variance, n)).dataSync());
    });
    expect(kl.every((v) => v >= -1e-6)).toBe(true);
    kl.forEach((v, i) => {
      // 5 standard errors, plus float32 rounding of a 40000-term mean (relative ~1e-4).
      expect(Math.abs(v - (mc[i] as number))).toBeLessThan(
        5 * (se[i] as number) + 5e-4 * Math.abs(v) + 2e-4,
      );
    });
    // Cross entropy H[p, q] = -E_p[log q].
    const ce = expectNoLeak(() => p.crossEntropy(q));
    const ceMc = tf.tidy(() =>
      Array.from(tf.neg(tf.mean(q.logProb(p.sample([n], seed + 1)), 0)).dataSync()),
    );
    ce.forEach((v, i) => {
      expect(Math.abs(v - (ceMc[i] as number))).toBeLessThan(Math.max(0.02 * Math.abs(v), 5e-3));
    });
    disposeDeep(p);
    disposeDeep(q);
  });
});

describe('KL registry', () => {
  it('Uniform KL is +Infinity when the support of p is not inside that of q', () => {
    const p = new d.Uniform(0, 2);
    const q = new d.Uniform(0.5, 3);
    expect(expectNoLeak(() => d.klDivergence(p, q))).toEqual([Infinity]);
    expect(expectNoLeak(() => d.monteCarloKL(p, q, { numSamples: 1000, seed: 1 }))).toEqual([
      Infinity,
    ]);
    p.dispose();
    q.dispose();
  });

  it('KL of a distribution with itself is 0', () => {
    for (const c of KL_CASES) {
      const p = c.p();
      expect(expectNoLeak(() => d.klDivergence(p, p))).toBeAllclose(0, { atol: 1e-5 });
      disposeDeep(p);
    }
  });

  it('unknown pairs throw NotRegisteredError naming both classes', () => {
    const p = new d.Normal(0, 1);
    const q = new d.Gamma(2, 1);
    expect(() => d.klDivergence(p, q)).toThrow(NotRegisteredError);
    expect(() => d.klDivergence(p, q)).toThrow(/Normal, Gamma/);
    p.dispose();
    q.dispose();
  });

  it('dispatch picks the nearest registered pair along the class chain', () => {
    class WideNormal extends d.Normal {}
    class WiderNormal extends WideNormal {}
    const a = new WiderNormal(0.3, 0.8);
    const b = new d.Normal(-0.5, 1.7);
    // No pair for the subclasses: the Normal–Normal form applies.
    const viaBase = expectNoLeak(() => d.klDivergence(a, b));
    expect(viaBase).toBeAllclose(expectNoLeak(() => d.klNormalNormal(a, b)));
    // A pair registered for the intermediate class wins over Normal–Normal for its subclasses.
    d.registerKL(WideNormal, d.Normal, () => tf.scalar(42));
    expect(expectNoLeak(() => d.klDivergence(a, b))).toEqual([42]);
    expect(expectNoLeak(() => d.klDivergence(b, a))).toBeAllclose(
      expectNoLeak(() => d.klNormalNormal(b, a)),
    );
    a.dispose();
    b.dispose();
  });

  it('Independent KL requires equal reinterpretedBatchNdims', () => {
    const base = new d.Normal([[0, 1]], 1);
    const p = new d.Independent(base, 1);
    const q = new d.Independent(base, 2);
    expect(() => d.klDivergence(p, q)).toThrow(/reinterpretedBatchNdims/);
    base.dispose();
  });
});
