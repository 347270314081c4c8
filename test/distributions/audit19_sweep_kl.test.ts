/**
 * Audit 19, the property sweep, part 5: every registered KL pair with batches that broadcast
 * (p of batch `[3]` against q of batch `[2, 1]`, as torch's `kl_divergence` broadcasts) has
 * shape `[2, 3]` and agrees entry by entry with a Monte Carlo estimate of
 * `E_p[log p(X) - log q(X)]` (float64 on the host, 5 standard errors); `KL(p ‖ p) = 0`; no
 * tensor is left. Where q has no mass on part of p's support the KL is `+Infinity` (torch).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bijectors, distributions } from '../../src/index.js';

const d = distributions;
type Dist = distributions.Distribution;

interface Case {
  name: string;
  /** p with batch [3] and q with batch [2, 1], and bases they do not own. */
  make: () => { p: Dist; q: Dist; owned: Dist[] };
  n?: number;
}

const pair = (p: Dist, q: Dist, ...parts: Dist[]): { p: Dist; q: Dist; owned: Dist[] } => ({
  p,
  q,
  owned: [p, q, ...parts],
});

const P3 = [0.2, 0.5, 0.8];
const Q21 = [[0.3], [0.7]];
const cov = (a: number): number[][] => [
  [1 + a, 0.3],
  [0.3, 1],
];

const CASES: Case[] = [
  {
    name: 'Normal',
    make: () =>
      pair(new d.Normal([0, 1, -1], [1, 0.5, 2]), new d.Normal([[0.5], [-1]], [[1.5], [0.7]])),
  },
  { name: 'Bernoulli', make: () => pair(new d.Bernoulli(P3), new d.Bernoulli(Q21)) },
  {
    name: 'Beta',
    make: () => pair(new d.Beta([1, 2, 0.7], [2, 1, 3]), new d.Beta([[1.5], [3]], [[1], [2]])),
  },
  { name: 'Binomial', make: () => pair(new d.Binomial(6, P3), new d.Binomial(6, Q21)) },
  {
    name: 'Categorical',
    make: () =>
      pair(
        new d.Categorical([
          [0.2, 0.3, 0.5],
          [0.6, 0.2, 0.2],
          [0.1, 0.1, 0.8],
        ]),
        new d.Categorical([[[0.3, 0.3, 0.4]], [[0.5, 0.25, 0.25]]]),
      ),
  },
  {
    name: 'OneHotCategorical',
    make: () =>
      pair(
        new d.OneHotCategorical([
          [0.2, 0.3, 0.5],
          [0.6, 0.2, 0.2],
          [0.1, 0.1, 0.8],
        ]),
        new d.OneHotCategorical([[[0.3, 0.3, 0.4]], [[0.5, 0.25, 0.25]]]),
      ),
  },
  {
    name: 'Cauchy',
    make: () =>
      pair(new d.Cauchy([0, 1, -1], [1, 0.5, 2]), new d.Cauchy([[0.5], [-1]], [[1.5], [0.7]])),
    n: 20000,
  },
  {
    name: 'ContinuousBernoulli',
    make: () => pair(new d.ContinuousBernoulli([0.2, 0.5, 0.9]), new d.ContinuousBernoulli(Q21)),
  },
  {
    name: 'Dirichlet',
    make: () =>
      pair(
        new d.Dirichlet([
          [1, 2, 3],
          [0.5, 0.5, 2],
          [4, 1, 1],
        ]),
        new d.Dirichlet([[[2, 2, 2]], [[1, 3, 0.7]]]),
      ),
  },
  {
    name: 'Exponential',
    make: () => pair(new d.Exponential([0.5, 1, 2]), new d.Exponential([[1.5], [0.3]])),
  },
  {
    name: 'Exponential || Gamma',
    make: () => pair(new d.Exponential([0.5, 1, 2]), new d.Gamma([[1.5], [0.7]], [[1], [2]])),
  },
  {
    name: 'Gamma || Exponential',
    make: () => pair(new d.Gamma([1.5, 3, 0.7], [1, 2, 0.5]), new d.Exponential([[1.5], [0.3]])),
  },
  {
    name: 'Gamma',
    make: () =>
      pair(new d.Gamma([1.5, 3, 0.7], [1, 2, 0.5]), new d.Gamma([[2], [0.8]], [[1], [0.4]])),
  },
  { name: 'Geometric', make: () => pair(new d.Geometric(P3), new d.Geometric(Q21)) },
  {
    name: 'Gumbel',
    make: () =>
      pair(new d.Gumbel([0, 1, -1], [1, 0.5, 2]), new d.Gumbel([[0.5], [-1]], [[1.5], [0.7]])),
  },
  {
    name: 'HalfCauchy',
    make: () => pair(new d.HalfCauchy([1, 0.5, 2]), new d.HalfCauchy([[1.5], [0.7]])),
    n: 20000,
  },
  {
    name: 'HalfNormal',
    make: () => pair(new d.HalfNormal([1, 0.5, 2]), new d.HalfNormal([[1.5], [0.7]])),
  },
  {
    name: 'InverseGamma',
    make: () =>
      pair(
        new d.InverseGamma([3, 4, 5], [1, 2, 0.5]),
        new d.InverseGamma([[3.5], [6]], [[1], [2]]),
      ),
  },
  {
    name: 'Laplace',
    make: () =>
      pair(new d.Laplace([0, 1, -1], [1, 0.5, 2]), new d.Laplace([[0.5], [-1]], [[1.5], [0.7]])),
  },
  {
    name: 'LogNormal',
    make: () =>
      pair(
        new d.LogNormal([0, 1, -1], [1, 0.5, 2]),
        new d.LogNormal([[0.5], [-1]], [[1.5], [0.7]]),
      ),
  },
  { name: 'Poisson', make: () => pair(new d.Poisson([0.5, 2, 7]), new d.Poisson([[1], [5]])) },
  {
    name: 'Uniform (q covers p)',
    make: () =>
      pair(new d.Uniform([0, 0.2, 0.5], [1, 0.8, 0.9]), new d.Uniform([[-1], [0]], [[2], [1]])),
  },
  {
    name: 'Weibull',
    make: () =>
      pair(new d.Weibull([1, 0.5, 2], [1.5, 2, 3]), new d.Weibull([[1.2], [0.8]], [[2], [1.5]])),
  },
  {
    name: 'MultivariateNormal',
    make: () =>
      pair(
        new d.MultivariateNormal(
          [
            [0, 0],
            [1, -1],
            [0.5, 2],
          ],
          { covarianceMatrix: [cov(0), cov(0.5), cov(1)] },
        ),
        new d.MultivariateNormal([[[0, 1]], [[-1, 0]]], {
          covarianceMatrix: [[cov(0.2)], [cov(2)]],
        }),
      ),
  },
  {
    name: 'MultivariateNormalDiag',
    make: () =>
      pair(
        new d.MultivariateNormalDiag(
          [
            [0, 0],
            [1, -1],
            [0.5, 2],
          ],
          [
            [1, 2],
            [0.5, 1],
            [1, 1],
          ],
        ),
        new d.MultivariateNormalDiag([[[0, 1]], [[-1, 0]]], [[[1, 1]], [[2, 0.5]]]),
      ),
  },
  {
    name: 'MultivariateNormal || MultivariateNormalDiag',
    make: () =>
      pair(
        new d.MultivariateNormal(
          [
            [0, 0],
            [1, -1],
            [0.5, 2],
          ],
          { covarianceMatrix: [cov(0), cov(0.5), cov(1)] },
        ),
        new d.MultivariateNormalDiag([[[0, 1]], [[-1, 0]]], [[[1, 1]], [[2, 0.5]]]),
      ),
  },
  {
    name: 'LowRankMultivariateNormal',
    make: () =>
      pair(
        new d.LowRankMultivariateNormal(
          [
            [0, 0],
            [1, -1],
            [0.5, 2],
          ],
          [
            [[0.5], [0.2]],
            [[1], [0]],
            [[0.3], [0.3]],
          ],
          [
            [1, 1],
            [0.5, 2],
            [1, 0.7],
          ],
        ),
        new d.LowRankMultivariateNormal(
          [[[0, 1]], [[-1, 0]]],
          [[[[0.2], [0.4]]], [[[1], [1]]]],
          [[[1, 1]], [[2, 0.5]]],
        ),
      ),
  },
  {
    name: 'Independent(Normal)',
    make: () => {
      const a = new d.Normal(
        [
          [0, 1],
          [1, -1],
          [0.5, 2],
        ],
        1,
      );
      const b = new d.Normal([[[0, 0.5]], [[-1, 0]]], [[[1.5, 1]], [[0.7, 2]]]);
      return pair(new d.Independent(a, 1), new d.Independent(b, 1), a, b);
    },
  },
  {
    name: 'MultivariateNormalDiag || Independent(Normal)',
    make: () => {
      const b = new d.Normal([[[0, 0.5]], [[-1, 0]]], [[[1.5, 1]], [[0.7, 2]]]);
      return pair(
        new d.MultivariateNormalDiag(
          [
            [0, 0],
            [1, -1],
            [0.5, 2],
          ],
          [
            [1, 2],
            [0.5, 1],
            [1, 1],
          ],
        ),
        new d.Independent(b, 1),
        b,
      );
    },
  },
  {
    name: 'ExpandedDistribution(Normal) || Normal',
    make: () => {
      const a = new d.Normal(0.5, 1.2);
      return pair(new d.ExpandedDistribution(a, [3]), new d.Normal([[0], [1]], [[1], [2]]), a);
    },
  },
  {
    name: 'MaskedDistribution(Normal)',
    make: () => {
      const a = new d.Normal([0, 1, -1], 1);
      const b = new d.Normal([[0.5], [-1]], [[1.5], [0.7]]);
      return pair(new d.MaskedDistribution(a, true), new d.MaskedDistribution(b, true), a, b);
    },
  },
  {
    name: 'TransformedDistribution(Normal, Exp)',
    make: () => {
      const a = new d.Normal([0, 1, -1], [1, 0.5, 2]);
      const b = new d.Normal([[0.5], [-1]], [[1.5], [0.7]]);
      return pair(
        new d.TransformedDistribution(a, new bijectors.Exp()),
        new d.TransformedDistribution(b, new bijectors.Exp()),
        a,
        b,
      );
    },
  },
  {
    name: 'Wishart',
    make: () =>
      pair(
        new d.Wishart([4, 5, 6], { covarianceMatrix: [cov(0), cov(0.5), cov(1)] }),
        new d.Wishart([[5], [3.5]], { covarianceMatrix: [[cov(0.2)], [cov(2)]] }),
      ),
  },
  {
    name: 'InverseWishart',
    make: () =>
      pair(
        new d.InverseWishart([4, 5, 6], [cov(0), cov(0.5), cov(1)]),
        new d.InverseWishart([[5], [3.5]], [[cov(0.2)], [cov(2)]]),
      ),
  },
];

describe.each(CASES)('$name', (c) => {
  it('KL(p ‖ q) of batches [3] and [2, 1] is [2, 3] and equals E_p[log p - log q] (5 SE)', () => {
    const before = tf.memory().numTensors;
    const { p, q, owned } = c.make();
    const n = c.n ?? 10000;
    try {
      expect(p.batchShape).toEqual([3]);
      expect(q.batchShape).toEqual([2, 1]);
      const kl = p.klDivergence(q);
      expect(kl.shape).toEqual([2, 3]);
      const got = Array.from(kl.dataSync());
      kl.dispose();
      const diff = tf.tidy(() => {
        const x = p.sample([n], 11);
        const x1 = tf.expandDims(x, 1); // [n, 1, 3, ...event]
        return tf.sub(p.logProb(x1), q.logProb(x1)); // [n, 2, 3]
      });
      expect(diff.shape).toEqual([n, 2, 3]);
      const v = diff.dataSync();
      diff.dispose();
      for (let j = 0; j < 6; j++) {
        let s = 0;
        let s2 = 0;
        for (let i = 0; i < n; i++) {
          const t = v[i * 6 + j] as number;
          s += t;
          s2 += t * t;
        }
        const m = s / n;
        const se = Math.sqrt(Math.max(s2 / n - m * m, 0) / n);
        expect(
          Math.abs((got[j] as number) - m),
          `[${j}] KL ${got[j]} vs MC ${m} ± ${se}`,
        ).toBeLessThanOrEqual(5 * se + 1e-4 * (1 + Math.abs(m)));
      }
      const self = p.klDivergence(p);
      expect(Array.from(self.dataSync())).toBeAllclose([0, 0, 0], { atol: 1e-5 });
      self.dispose();
    } finally {
      for (const o of owned) o.dispose();
    }
    expect(tf.memory().numTensors, 'tensors left').toBe(before);
  });
});

describe('KL is +Infinity where q has no mass on part of the support of p (torch)', () => {
  const INF: Array<[string, () => { p: Dist; q: Dist; owned: Dist[] }]> = [
    [
      'Uniform, q inside p',
      () => pair(new d.Uniform([0, 0], [1, 2]), new d.Uniform([0.2, 0], [1, 1])),
    ],
    ['Bernoulli, q = 0', () => pair(new d.Bernoulli([0.3, 1]), new d.Bernoulli([0, 0]))],
    [
      'Categorical, q has a zero',
      () =>
        pair(
          new d.Categorical([
            [0.5, 0.5],
            [0.5, 0.5],
          ]),
          new d.Categorical([
            [1, 0],
            [0, 1],
          ]),
        ),
    ],
    [
      'Binomial, larger count in p',
      () => pair(new d.Binomial([5, 5], 0.5), new d.Binomial([3, 3], 0.5)),
    ],
  ];
  it.each(INF)('%s', (_, make) => {
    const before = tf.memory().numTensors;
    const { p, q, owned } = make();
    try {
      const kl = p.klDivergence(q);
      const v = Array.from(kl.dataSync());
      kl.dispose();
      expect(
        v.every((x) => x === Infinity),
        `got ${v.join(',')}`,
      ).toBe(true);
    } finally {
      for (const o of owned) o.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
