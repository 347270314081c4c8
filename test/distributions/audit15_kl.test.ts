/**
 * Audit of issue 2 (session 15): the KL registry as a torch.distributions user calls it — every
 * registered pair at parameters off the usual range against a Monte Carlo estimate of
 * `E_p[log p - log q]` (averaged in float64 on the host, tolerance 5 standard errors), the
 * mixed Gaussian pairs and Exponential/Gamma pairs torch registers, closed forms at extreme
 * parameters, and the error for unknown pairs.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { NotRegisteredError, distributions } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';
import { mcKL } from '../fixtures/mc.js';

const d = distributions;
type Dist = distributions.Distribution;

interface Case {
  name: string;
  p: () => Dist;
  q: () => Dist;
  n?: number;
}

const CASES: Case[] = [
  {
    name: 'Normal (scales 1e-3 and 5)',
    p: () => new d.Normal([0, 3], [1e-3, 5]),
    q: () => new d.Normal([1e-3, -2], [2e-3, 0.1]),
  },
  {
    name: 'Bernoulli (logits -8, 3)',
    p: () => new d.Bernoulli({ logits: [-8, 3, 0.2] }),
    q: () => new d.Bernoulli({ logits: [5, -2, 0.1] }),
  },
  {
    name: 'Categorical (logits up to 8)',
    p: () =>
      new d.Categorical({
        logits: [
          [-8, 3, 0.2],
          [0, 0, 1],
        ],
      }),
    q: () =>
      new d.Categorical({
        logits: [
          [5, -2, 0.1],
          [3, 0, 0],
        ],
      }),
  },
  {
    name: 'Beta (0.3 .. 150)',
    p: () => new d.Beta([0.3, 150, 2], [0.7, 80, 2]),
    q: () => new d.Beta([2, 140, 0.5], [1, 90, 0.5]),
  },
  {
    name: 'Gamma (0.3 .. 150)',
    p: () => new d.Gamma([0.3, 150, 2], [0.7, 80, 2]),
    q: () => new d.Gamma([2, 140, 0.5], [1, 90, 0.5]),
  },
  {
    name: 'Exponential (rate 1e-3)',
    p: () => new d.Exponential([1e-3, 5]),
    q: () => new d.Exponential([2e-3, 0.1]),
  },
  {
    name: 'Dirichlet (0.3 .. 120)',
    p: () =>
      new d.Dirichlet([
        [0.3, 0.6, 2],
        [50, 80, 120],
      ]),
    q: () =>
      new d.Dirichlet([
        [1, 1, 1],
        [55, 70, 130],
      ]),
  },
  {
    name: 'Poisson (rate 1e-2 .. 300)',
    p: () => new d.Poisson([1e-2, 5, 300]),
    q: () => new d.Poisson([2e-2, 3, 310]),
  },
  {
    name: 'Laplace',
    p: () => new d.Laplace([0, 3], [1e-3, 5]),
    q: () => new d.Laplace([1e-3, -2], [2e-3, 0.1]),
  },
  {
    name: 'LogNormal',
    p: () => new d.LogNormal([0, 3], [0.1, 2]),
    q: () => new d.LogNormal([0.1, -2], [0.2, 3]),
  },
  {
    name: 'Gumbel',
    p: () => new d.Gumbel([0, 3], [0.1, 2]),
    q: () => new d.Gumbel([0.1, -2], [0.2, 3]),
  },
  {
    name: 'Cauchy',
    p: () => new d.Cauchy([0, 3], [0.1, 2]),
    q: () => new d.Cauchy([0.1, -2], [0.2, 3]),
  },
  { name: 'HalfNormal', p: () => new d.HalfNormal([0.1, 2]), q: () => new d.HalfNormal([0.2, 3]) },
  { name: 'HalfCauchy', p: () => new d.HalfCauchy([0.1, 2]), q: () => new d.HalfCauchy([0.2, 3]) },
  {
    name: 'InverseGamma',
    p: () => new d.InverseGamma([3, 150], [2, 80]),
    q: () => new d.InverseGamma([2, 140], [1, 90]),
  },
  {
    name: 'Weibull',
    p: () => new d.Weibull([1, 2], [0.5, 3]),
    q: () => new d.Weibull([2, 1], [1, 4]),
  },
  {
    name: 'Geometric (p 0.01 .. 0.99)',
    p: () => new d.Geometric({ probs: [0.01, 0.5, 0.99] }),
    q: () => new d.Geometric({ probs: [0.02, 0.2, 0.9] }),
  },
  {
    name: 'Binomial (p 0.01 .. 0.99)',
    p: () => new d.Binomial(10, { probs: [0.01, 0.5, 0.99] }),
    q: () => new d.Binomial(10, { probs: [0.02, 0.2, 0.9] }),
  },
  {
    name: 'ContinuousBernoulli',
    p: () => new d.ContinuousBernoulli({ probs: [0.01, 0.5, 0.7] }),
    q: () => new d.ContinuousBernoulli({ probs: [0.02, 0.2, 0.9] }),
  },
  {
    name: 'MultivariateNormalDiag',
    p: () => new d.MultivariateNormalDiag([0, 1, 2], [0.1, 1, 3]),
    q: () => new d.MultivariateNormalDiag([1, 1, 0], [1, 2, 0.5]),
  },
  {
    name: 'OneHotCategorical',
    p: () => new d.OneHotCategorical({ probs: [0.2, 0.3, 0.5] }),
    q: () => new d.OneHotCategorical({ probs: [0.5, 0.4, 0.1] }),
  },
  {
    name: 'Independent(Normal)',
    p: () => new d.Independent(new d.Normal([[0, 1]], [[1, 2]]), 1),
    q: () => new d.Independent(new d.Normal([[1, 1]], [[2, 2]]), 1),
  },
  {
    name: 'Expanded(Normal)',
    p: () => new d.Normal(0, 1).expand([3]),
    q: () => new d.Normal(1, 2).expand([3]),
  },
  { name: 'Chi2 (via Gamma)', p: () => new d.Chi2([3, 50]), q: () => new d.Chi2([5, 45]) },
  {
    name: 'LogNormal as TransformedDistribution',
    p: () => new d.LogNormal(0, 1),
    q: () => new d.LogNormal(1, 2),
  },
];

const A = [
  [2, 0.5, 0.1],
  [0.5, 1, 0.3],
  [0.1, 0.3, 0.5],
];
const B = [
  [1, -0.2, 0],
  [-0.2, 2, 0.1],
  [0, 0.1, 0.7],
];
const W = [[1], [0.5], [0.2]];
const MIXED: Case[] = [
  {
    name: 'MultivariateNormal || MultivariateNormalDiag',
    p: () => new d.MultivariateNormal([0, 1, 2], { covarianceMatrix: A }),
    q: () => new d.MultivariateNormalDiag([1, 1, 0], [1, 2, 0.5]),
  },
  {
    name: 'MultivariateNormalDiag || MultivariateNormal (batch 2 against 1)',
    p: () =>
      new d.MultivariateNormalDiag(
        [
          [1, 1, 0],
          [0, 0, 0],
        ],
        [1, 2, 0.5],
      ),
    q: () => new d.MultivariateNormal([0, 1, 2], { covarianceMatrix: A }),
  },
  {
    name: 'LowRankMultivariateNormal || MultivariateNormal',
    p: () => new d.LowRankMultivariateNormal([0, 1, 2], W, [1, 2, 0.5]),
    q: () => new d.MultivariateNormal([1, 0, 2], { covarianceMatrix: B }),
  },
  {
    name: 'MultivariateNormal || LowRankMultivariateNormal',
    p: () => new d.MultivariateNormal([0, 1, 2], { covarianceMatrix: B }),
    q: () => new d.LowRankMultivariateNormal([0, 1, 2], W, [1, 2, 0.5]),
  },
  {
    name: 'LowRankMultivariateNormal || MultivariateNormalDiag',
    p: () => new d.LowRankMultivariateNormal([0, 1, 2], W, [1, 2, 0.5]),
    q: () => new d.MultivariateNormalDiag([1, 1, 0], [1, 2, 0.5]),
  },
  {
    name: 'MultivariateNormalDiag || LowRankMultivariateNormal',
    p: () => new d.MultivariateNormalDiag([1, 1, 0], [1, 2, 0.5]),
    q: () => new d.LowRankMultivariateNormal([0, 1, 2], W, [1, 2, 0.5]),
  },
  {
    name: 'Exponential || Gamma',
    p: () => new d.Exponential([2, 0.1]),
    q: () => new d.Gamma([3, 0.5], 1),
  },
  {
    name: 'Gamma || Exponential',
    p: () => new d.Gamma([0.5, 3], [2, 1]),
    q: () => new d.Exponential([1, 0.2]),
  },
];

function checkAgainstMC(c: Case, seed: number): void {
  const p = c.p();
  const q = c.q();
  const kl = expectNoLeak(() => d.klDivergence(p, q));
  const n = c.n ?? 40_000;
  const { mean, se } = mcKL(p, q, n, seed);
  expect(kl.length).toBe(mean.length);
  kl.forEach((k, i) => {
    expect(Number.isFinite(k)).toBe(true);
    const tol = 5 * (se[i] as number) + 2e-4 * Math.abs(k) + 1e-6;
    expect(
      Math.abs(k - (mean[i] as number)),
      `${c.name}[${i}]: ${k} vs MC ${mean[i]}`,
    ).toBeLessThan(tol);
  });
  p.dispose();
  q.dispose();
}

describe('every registered pair against Monte Carlo (5 standard errors)', () => {
  CASES.forEach((c, i) => {
    it(c.name, () => checkAgainstMC(c, 100 + i));
  });
});

describe('mixed pairs torch registers: the Gaussian parameterizations, Exponential/Gamma', () => {
  MIXED.forEach((c, i) => {
    it(c.name, () => checkAgainstMC(c, 200 + i));
  });
  it('the mixed Gaussian KL equals the same-class KL of the equivalent MultivariateNormal', () => {
    const covLR = W.map((wi, i) =>
      W.map(
        (wj, j) =>
          (wi[0] as number) * (wj[0] as number) + (i === j ? ([1, 2, 0.5][i] as number) : 0),
      ),
    );
    const pairs: Array<[Dist, Dist, Dist, Dist]> = [
      [
        new d.LowRankMultivariateNormal([0, 1, 2], W, [1, 2, 0.5]),
        new d.MultivariateNormalDiag([1, 1, 0], [1, 2, 0.5]),
        new d.MultivariateNormal([0, 1, 2], { covarianceMatrix: covLR }),
        new d.MultivariateNormal([1, 1, 0], {
          covarianceMatrix: [
            [1, 0, 0],
            [0, 4, 0],
            [0, 0, 0.25],
          ],
        }),
      ],
    ];
    for (const [p, q, pp, qq] of pairs) {
      const a = expectNoLeak(() => d.klDivergence(p, q));
      const b = expectNoLeak(() => d.klDivergence(pp, qq));
      expect(a).toBeAllclose(b, { rtol: 1e-5 });
      for (const x of [p, q, pp, qq]) x.dispose();
    }
  });
  it('gradients of the mixed Gaussian KL reach both sides (finite differences)', () => {
    const loc = tf.tensor1d([0.3, -0.2, 1]);
    const sd = tf.tensor1d([0.7, 1.3, 0.9]);
    const f = (l: tf.Tensor, s: tf.Tensor): tf.Scalar => {
      const p = new d.MultivariateNormalDiag(l, s);
      const q = new d.MultivariateNormal([0, 1, 2], { covarianceMatrix: A });
      const k = d.klDivergence(p, q).sum() as tf.Scalar;
      p.dispose();
      q.dispose();
      return k;
    };
    const before = tf.memory().numTensors;
    const [gl, gs] = tf.grads((l: tf.Tensor, s: tf.Tensor) => f(l, s))([loc, sd]);
    const g = [...Array.from(gl!.dataSync()), ...Array.from(gs!.dataSync())];
    tf.dispose([gl!, gs!]);
    expect(tf.memory().numTensors).toBe(before);
    const val = (x: number[]): number =>
      tf.tidy(() => f(tf.tensor1d(x.slice(0, 3)), tf.tensor1d(x.slice(3))).dataSync()[0] as number);
    const x0 = [0.3, -0.2, 1, 0.7, 1.3, 0.9];
    const fd = x0.map((_, i) => {
      const h = 1e-2;
      const xp = [...x0];
      const xm = [...x0];
      xp[i] = (xp[i] as number) + h;
      xm[i] = (xm[i] as number) - h;
      return (val(xp) - val(xm)) / (2 * h);
    });
    expect(g).toBeAllclose(fd, { rtol: 2e-2, atol: 2e-3 });
    tf.dispose([loc, sd]);
  });
});

describe('one-sided expanded pairs (torch keeps the class on expand)', () => {
  it('KL(p.expand([3]) || q) and KL(p || q.expand([2, 3])) are KL(p || q) broadcast', () => {
    const p = new d.Normal(0, 1);
    const q = new d.Normal(1, 2);
    const pe = p.expand([3]);
    const qe = q.expand([2, 3]);
    const exact = Math.log(2) + (1 + 1) / 8 - 0.5;
    let shape: number[] = [];
    const a = expectNoLeak(() => {
      const out = d.klDivergence(pe, q);
      shape = out.shape;
      return out;
    });
    expect(shape).toEqual([3]);
    expect(a).toBeAllclose([exact, exact, exact], { rtol: 1e-6 });
    const b = expectNoLeak(() => {
      const out = d.klDivergence(p, qe);
      shape = out.shape;
      return out;
    });
    expect(shape).toEqual([2, 3]);
    expect(b).toBeAllclose(new Array<number>(6).fill(exact), { rtol: 1e-6 });
    // the registered function itself (as TraceMeanFieldELBO calls it) has the expanded shape
    const fn = d.lookupKL(pe, q);
    expect(fn).toBeDefined();
    const c = expectNoLeak(() => fn!(pe, q));
    expect(c.length).toBe(3);
    // a base pair with no analytic form still raises NotRegisteredError
    const g = new d.Gamma(2, 1);
    expect(() => d.klDivergence(pe, g)).toThrow(NotRegisteredError);
    for (const x of [p, q, pe, qe, g]) x.dispose();
  });
});

describe('closed forms at extreme parameters', () => {
  it('Normal: scales 1e-4 against 1e4, float64 formula', () => {
    const p = new d.Normal([0, 5], [1e-4, 1e4]);
    const q = new d.Normal([1, 5], [1e4, 1e-4]);
    const got = expectNoLeak(() => d.klDivergence(p, q));
    const f = (m1: number, s1: number, m2: number, s2: number): number =>
      Math.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - 0.5;
    expect(got).toBeAllclose([f(0, 1e-4, 1, 1e4), f(5, 1e4, 5, 1e-4)], { rtol: 1e-5 });
    p.dispose();
    q.dispose();
  });
  it('Bernoulli at logits ±30 and Poisson at rate 1e-10', () => {
    const p = new d.Bernoulli({ logits: [30, -30] });
    const q = new d.Bernoulli({ logits: [-30, 30] });
    const got = expectNoLeak(() => d.klDivergence(p, q));
    // p log(p/q) + (1-p) log((1-p)/(1-q)) with log p = -softplus(-l) in float64
    const sp = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    const ref = (l1: number, l2: number): number => {
      const a = 1 / (1 + Math.exp(-l1));
      const b = 1 / (1 + Math.exp(l1));
      return a * (sp(-l2) - sp(-l1)) + b * (sp(l2) - sp(l1));
    };
    expect(got).toBeAllclose([ref(30, -30), ref(-30, 30)], { rtol: 1e-5 });
    p.dispose();
    q.dispose();
    const pp = new d.Poisson([1e-10, 1e-3]);
    const qq = new d.Poisson(1);
    const k = expectNoLeak(() => d.klDivergence(pp, qq));
    const kr = [1e-10, 1e-3].map((a) => a * Math.log(a) - a + 1);
    expect(k).toBeAllclose(kr, { rtol: 1e-5 });
    pp.dispose();
    qq.dispose();
  });
  it('Uniform: non-nested supports give Infinity, nested log ratio of widths', () => {
    const p = new d.Uniform([0, 0.5], [2, 1]);
    const q = new d.Uniform(0, 2);
    expect(expectNoLeak(() => d.klDivergence(p, q))).toBeAllclose([0, Math.log(4)]);
    const r = new d.Uniform(0, 1);
    const s = new d.Uniform(0, 2);
    expect(expectNoLeak(() => d.klDivergence(s, r))).toEqual([Infinity]);
    for (const x of [p, q, r, s]) x.dispose();
  });
  it('identical distributions give 0 in every family', () => {
    const make = [
      () => new d.Gamma(1e-3, 1e3),
      () => new d.Beta(200, 0.01),
      () => new d.Dirichlet(Array.from({ length: 50 }, (_, i) => 0.1 + i)),
      () => new d.Categorical({ logits: [30, -30, 0] }),
      () => new d.Wishart(60, { covarianceMatrix: tf.eye(5) }),
    ];
    for (const m of make) {
      const a = m();
      const b = m();
      const v = expectNoLeak(() => d.klDivergence(a, b));
      expect(v).toBeAllclose([0], { atol: 2e-4 });
      a.dispose();
      b.dispose();
    }
  });
});

describe('unregistered pairs', () => {
  it('raise NotRegisteredError naming both classes and monteCarloKL, with no tensor left', () => {
    const pairs: Array<[Dist, Dist]> = [
      [new d.Normal(0, 1), new d.Gamma(1, 1)],
      [new d.Beta(2, 3), new d.Uniform(0, 1)],
      [new d.Normal(0, 1), new d.Laplace(0, 1)],
    ];
    for (const [p, q] of pairs) {
      const before = tf.memory().numTensors;
      let err: unknown;
      try {
        d.klDivergence(p, q);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NotRegisteredError);
      expect((err as Error).message).toContain(p.constructor.name);
      expect((err as Error).message).toContain(q.constructor.name);
      expect((err as Error).message).toContain('monteCarloKL');
      expect(tf.memory().numTensors).toBe(before);
      p.dispose();
      q.dispose();
    }
  });
});
