/**
 * Audit of issues 2 and 14 (session 16): edge parameters and edge values a TFP / torch user
 * tries — degenerate probabilities, boundary values, huge/tiny parameters, full-covariance
 * Gaussians against float64 linear algebra, cross-entropy = entropy + KL, and the errors for
 * parameters and pairs that do not fit (ArgumentError naming the argument, no tensor left).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import tLogpdf from '@stdlib/stats-base-dists-t-logpdf';
import normalLogpdf from '@stdlib/stats-base-dists-normal-logpdf';
import binomialLogpmf from '@stdlib/stats-base-dists-binomial-logpmf';
import { distributions } from '../../src/index.js';
import { expectBadInput, expectNoLeak } from '../helpers.js';

const d = distributions;

function relErr(a: number, r: number): number {
  return Math.abs(a - r) / Math.max(Math.abs(r), 1e-300);
}

describe('degenerate and boundary parameters', () => {
  it('Binomial with p = 0 and p = 1: log P(0) = 0 / log P(n) = 0, others -Infinity, no NaN', () => {
    const bn = new d.Binomial(4, [0, 1]);
    const lp = expectNoLeak(() =>
      bn.logProb([
        [0, 4],
        [2, 2],
        [4, 0],
      ]),
    );
    expect(lp).toEqual([0, 0, -Infinity, -Infinity, -Infinity, -Infinity]);
    const m = expectNoLeak(() => bn.mean());
    expect(m).toEqual([0, 4]);
    const h = expectNoLeak(() => bn.entropy());
    h.forEach((v) => expect(v).toBeCloseTo(0, 6));
    bn.dispose();
  });
  it('Bernoulli at logits +-100: log-probabilities exact (-100 and ~0), entropy >= 0 not NaN', () => {
    const be = new d.Bernoulli({ logits: [100, -100] });
    const lp = expectNoLeak(() => be.logProb([0, 1]));
    expect(relErr(lp[0] as number, -100)).toBeLessThan(1e-6);
    expect(relErr(lp[1] as number, -100)).toBeLessThan(1e-6);
    const lp1 = expectNoLeak(() => be.logProb([1, 0]));
    lp1.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-30));
    const h = expectNoLeak(() => be.entropy());
    h.forEach((v) => {
      expect(Number.isNaN(v)).toBe(false);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1e-35);
    });
    // at logits +-30 the entropy log1p(e^-30) + 30 e^-30 / (1 + e^-30) = 2.87e-12 is a normal
    // float32: relatively accurate
    const b30 = new d.Bernoulli({ logits: [30, -30, 15] });
    const h30 = expectNoLeak(() => b30.entropy());
    [30, -30, 15].forEach((l, i) => {
      const a = Math.abs(l);
      const ref = Math.log1p(Math.exp(-a)) + (a * Math.exp(-a)) / (1 + Math.exp(-a));
      expect(relErr(h30[i] as number, ref), `logit ${l}`).toBeLessThan(1e-4);
    });
    b30.dispose();
    be.dispose();
  });
  it('Geometric with p = 1: logProb(0) = 0, mean 0, variance 0', () => {
    const g = new d.Geometric(1);
    const lp = expectNoLeak(() => g.logProb([0, 1]));
    expect(lp[0]).toBeCloseTo(0, 7);
    expect(lp[1]).toBe(-Infinity);
    expect(expectNoLeak(() => g.mean())).toEqual([0]);
    expect(expectNoLeak(() => g.variance())).toEqual([0]);
    g.dispose();
  });
  it('Uniform(0, 1) at its ends: logProb(0) = 0, logProb(1) is 0 or -inf but never NaN; cdf exact', () => {
    const u = new d.Uniform(0, 1);
    const lp = expectNoLeak(() => u.logProb([0, 1, 0.5]));
    expect(lp[0]).toBe(0);
    expect(Number.isNaN(lp[1])).toBe(false);
    expect(lp[2]).toBe(0);
    expect(expectNoLeak(() => u.cdf([-1, 0, 0.25, 1, 2]))).toEqual([0, 0, 0.25, 1, 1]);
    u.dispose();
  });
  it('StudentT with df 1e-3 and 1e7: logProb against @stdlib (the Normal limit)', () => {
    const t = new d.StudentT([1e-3, 1e7, 2.5], 0.5, 2);
    const xs = [3, 3, -40];
    const lp = expectNoLeak(() => t.logProb(xs));
    [1e-3, 1e7, 2.5].forEach((df, i) => {
      const ref = tLogpdf(((xs[i] as number) - 0.5) / 2, df) - Math.log(2);
      expect(Math.abs((lp[i] as number) - ref), `df=${df}`).toBeLessThan(
        2e-5 * Math.max(1, Math.abs(ref)),
      );
    });
    expect(Math.abs((lp[1] as number) - normalLogpdf(3, 0.5, 2))).toBeLessThan(1e-4);
    t.dispose();
  });
  it('Exponential with rate 1e30 and 1e-30: logProb, mean, entropy finite and exact', () => {
    const e = new d.Exponential([1e30, 1e-30]);
    const lp = expectNoLeak(() => e.logProb([1e-30, 1e30]));
    expect(relErr(lp[0] as number, Math.log(1e30) - 1)).toBeLessThan(1e-5);
    expect(relErr(lp[1] as number, Math.log(1e-30) - 1)).toBeLessThan(1e-5);
    const h = expectNoLeak(() => e.entropy());
    expect(relErr(h[0] as number, 1 - Math.log(1e30))).toBeLessThan(1e-5);
    expect(relErr(h[1] as number, 1 + Math.log(1e30))).toBeLessThan(1e-5);
    const m = expectNoLeak(() => e.mean());
    expect(relErr(m[0] as number, 1e-30)).toBeLessThan(1e-5);
    e.dispose();
  });
  it('Binomial with a batch of totalCounts and int32 values against @stdlib', () => {
    const bn = new d.Binomial([3, 10, 50], 0.37);
    const k = tf.tensor1d([2, 7, 20], 'int32');
    const lp = expectNoLeak(() => bn.logProb(k));
    [3, 10, 50].forEach((n, i) => {
      const ref = binomialLogpmf([2, 7, 20][i] as number, n, 0.37);
      expect(Math.abs((lp[i] as number) - ref)).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref)));
    });
    k.dispose();
    bn.dispose();
  });
});

/** float64 Cholesky of a small SPD matrix. */
function chol64(a: number[][]): number[][] {
  const n = a.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = (a[i] as number[])[j] as number;
      for (let k = 0; k < j; k++) s -= (l[i] as number[])[k]! * (l[j] as number[])[k]!;
      (l[i] as number[])[j] = i === j ? Math.sqrt(s) : s / (l[j] as number[])[j]!;
    }
  }
  return l;
}
/** float64 log N(x; mu, Sigma). */
function mvnLogpdf64(x: number[], mu: number[], cov: number[][]): number {
  const l = chol64(cov);
  const n = x.length;
  const z = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = (x[i] as number) - (mu[i] as number);
    for (let k = 0; k < i; k++) s -= (l[i] as number[])[k]! * z[k]!;
    z[i] = s / (l[i] as number[])[i]!;
  }
  const logdet = l.reduce((s, row, i) => s + Math.log(row[i] as number), 0);
  return -0.5 * z.reduce((s, v) => s + v * v, 0) - logdet - 0.5 * n * Math.log(2 * Math.PI);
}

describe('full-covariance Gaussians against float64 linear algebra', () => {
  const cov = [
    [2, 0.6, -0.3],
    [0.6, 1.5, 0.2],
    [-0.3, 0.2, 0.8],
  ];
  const mu = [0.5, -1, 2];
  it('MultivariateNormal logProb of a [4, 2, 3] value (extra leading dims) vs float64', () => {
    const m = new d.MultivariateNormal(mu, { covarianceMatrix: cov });
    const vals = Array.from({ length: 8 }, (_, i) => [Math.sin(i), Math.cos(2 * i), 0.3 * i - 1]);
    const x = tf.tensor3d(vals.flat(), [4, 2, 3]);
    const lp = expectNoLeak(() => m.logProb(x));
    expect(lp.length).toBe(8);
    vals.forEach((v, i) =>
      expect(Math.abs((lp[i] as number) - mvnLogpdf64(v, mu, cov))).toBeLessThan(1e-4),
    );
    x.dispose();
    m.dispose();
  });
  it('precisionMatrix and scaleTril parameterizations give the same logProb', () => {
    const l = chol64(cov);
    // precision = inv(cov) via float64 Gauss-Jordan
    const n = 3;
    const aug = cov.map((r, i) => [
      ...r,
      ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
    ]);
    for (let c = 0; c < n; c++) {
      const piv = (aug[c] as number[])[c] as number;
      aug[c] = (aug[c] as number[]).map((v) => v / piv);
      for (let r = 0; r < n; r++) {
        if (r === c) continue;
        const f = (aug[r] as number[])[c] as number;
        aug[r] = (aug[r] as number[]).map((v, j) => v - f * ((aug[c] as number[])[j] as number));
      }
    }
    const prec = aug.map((r) => r.slice(n));
    const m1 = new d.MultivariateNormal(mu, { precisionMatrix: prec });
    const m2 = new d.MultivariateNormal(mu, { scaleTril: l });
    const x = [1, 0, 1.5];
    const [a] = expectNoLeak(() => m1.logProb(x));
    const [b] = expectNoLeak(() => m2.logProb(x));
    const ref = mvnLogpdf64(x, mu, cov);
    expect(Math.abs((a as number) - ref)).toBeLessThan(1e-4);
    expect(Math.abs((b as number) - ref)).toBeLessThan(1e-4);
    m1.dispose();
    m2.dispose();
  });
  it('LowRankMultivariateNormal equals the MVN of W W^T + diag(D)', () => {
    const w = [
      [0.5, 0.1],
      [1, -0.4],
      [-0.3, 0.7],
    ];
    const diag = [1, 0.5, 2];
    const full = w.map((ri, i) =>
      w.map((rj, j) => ri[0]! * rj[0]! + ri[1]! * rj[1]! + (i === j ? diag[i]! : 0)),
    );
    const lr = new d.LowRankMultivariateNormal(mu, w, diag);
    const x = [0.1, 0.2, -0.3];
    const [a] = expectNoLeak(() => lr.logProb(x));
    expect(Math.abs((a as number) - mvnLogpdf64(x, mu, full))).toBeLessThan(1e-4);
    const l = chol64(full);
    const h64 = 1.5 * (1 + Math.log(2 * Math.PI)) + l.reduce((s, r, i) => s + Math.log(r[i]!), 0);
    const [h] = expectNoLeak(() => lr.entropy());
    expect(relErr(h as number, h64)).toBeLessThan(1e-5);
    const v = expectNoLeak(() => lr.variance());
    v.forEach((vi, i) => expect(relErr(vi, (full[i] as number[])[i] as number)).toBeLessThan(1e-5));
    lr.dispose();
  });
  it('a covariance that is not positive definite, or a scaleTril with a negative diagonal, is refused', async () => {
    await expectBadInput({
      call: 'not PD',
      run: () =>
        new d.MultivariateNormal([0, 0], {
          covarianceMatrix: [
            [1, 2],
            [2, 1],
          ],
        }),
      arg: /covarianceMatrix/,
    });
    await expectBadInput({
      call: 'negative diag',
      run: () =>
        new d.MultivariateNormal([0, 0], {
          scaleTril: [
            [-1, 0],
            [0.5, 1],
          ],
        }),
      arg: /scaleTril/,
    });
    await expectBadInput({
      call: 'wrong size',
      run: () =>
        new d.MultivariateNormal([0, 0, 0], {
          covarianceMatrix: [
            [1, 0],
            [0, 1],
          ],
        }),
      arg: /covarianceMatrix|loc/,
    });
  });
});

describe('cross-entropy and KL consistency', () => {
  it('crossEntropy(p, q) = entropy(p) + KL(p || q) for Normal, Gamma, Categorical, MVNDiag vs Independent', () => {
    const pairs: Array<[distributions.Distribution, distributions.Distribution]> = [
      [new d.Normal([0, 1], [1, 2]), new d.Normal([0.5, -1], [2, 0.5])],
      [new d.Gamma([2, 0.5], [1, 3]), new d.Gamma([1, 1], [2, 2])],
      [
        new d.Categorical({
          logits: [
            [30, 0, -30],
            [0, 1, 2],
          ],
        }),
        new d.Categorical([
          [0.2, 0.3, 0.5],
          [0.1, 0.1, 0.8],
        ]),
      ],
      [
        new d.MultivariateNormalDiag([0, 1], [1, 2]),
        new d.Independent(new d.Normal([1, 0], [0.5, 3]), 1),
      ],
    ];
    for (const [p, q] of pairs) {
      const ce = expectNoLeak(() => p.crossEntropy(q));
      const h = expectNoLeak(() => p.entropy());
      const kl = expectNoLeak(() => d.klDivergence(p, q));
      ce.forEach((c, i) =>
        expect(Math.abs(c - ((h[i] as number) + (kl[i] as number)))).toBeLessThan(
          1e-4 * Math.max(1, Math.abs(c)),
        ),
      );
      p.dispose();
      q.dispose();
    }
  });
  it('KL(p || p) = 0 exactly-ish and KL >= 0 for random diagonal Gaussian pairs', () => {
    const p = new d.MultivariateNormalDiag(
      [
        [0, 1, 2],
        [3, 4, 5],
      ],
      [
        [1, 2, 3],
        [0.1, 0.2, 0.3],
      ],
    );
    const q = new d.Independent(
      new d.Normal(
        [
          [0, 1, 2],
          [3, 4, 5],
        ],
        [
          [1, 2, 3],
          [0.1, 0.2, 0.3],
        ],
      ),
      1,
    );
    const kl = expectNoLeak(() => d.klDivergence(p, q));
    kl.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-6));
    p.dispose();
    q.dispose();
  });
  it('batch shapes that do not broadcast are an ArgumentError naming p/q, before any work', async () => {
    const p = new d.MultivariateNormalDiag(tf.zeros([3, 2]), tf.ones([3, 2]));
    const q = new d.Independent(new d.Normal(tf.zeros([2, 2]), 1), 1);
    await expectBadInput({ call: 'KL batch', run: () => d.klDivergence(p, q), arg: 'p/q' });
    await expectBadInput({ call: 'KL batch rev', run: () => d.klDivergence(q, p), arg: 'p/q' });
    p.dispose();
  });
});

describe('bad parameters: ArgumentError naming the argument, nothing left allocated', () => {
  const cases: Array<[string, () => unknown, string | RegExp]> = [
    ['Normal negative scale', () => new d.Normal(0, -1), 'scale'],
    ['Normal NaN loc', () => new d.Normal(NaN, 1), 'loc'],
    ['Normal shapes that do not broadcast', () => new d.Normal([0, 0, 0], [1, 1]), /loc|scale/],
    ['Gamma zero concentration', () => new d.Gamma(0, 1), 'concentration'],
    ['Beta negative', () => new d.Beta(1, -2), /concentration0|beta|concentration/],
    ['Bernoulli probs 1.2', () => new d.Bernoulli(1.2), 'probs'],
    ['Categorical rows not summing to 1', () => new d.Categorical([0.2, 0.2]), 'probs'],
    ['Binomial negative count', () => new d.Binomial(-1, 0.5), 'totalCount'],
    ['Binomial non-integer count', () => new d.Binomial(2.5, 0.5), 'totalCount'],
    ['Poisson negative rate', () => new d.Poisson(-0.1), 'rate'],
    ['Uniform low >= high', () => new d.Uniform(1, 1), /low|high/],
    ['StudentT df 0', () => new d.StudentT(0), 'df'],
    ['Dirichlet scalar', () => new d.Dirichlet(1), 'concentration'],
    ['MVNDiag zero scale', () => new d.MultivariateNormalDiag([0, 0], [1, 0]), 'scaleDiag'],
    [
      'Categorical {probs, logits}',
      () => new d.Categorical({ probs: [1], logits: [0] }),
      /probs|logits/,
    ],
    [
      'Normal unknown option key',
      () => new d.Normal(0, 1, { validate_args: true } as never),
      /validate_args|options/,
    ],
  ];
  for (const [call, run, arg] of cases) {
    it(call, async () => {
      await expectBadInput({ call, run, arg });
    });
  }
});

describe('modes, stddev, discrete cdf, seeds, Independent cdf, transformed moments', () => {
  it('modes against closed forms', () => {
    const cases: Array<[distributions.Distribution, number[]]> = [
      [new d.Poisson([3.7, 0.2]), [3, 0]],
      [new d.Binomial(10, [0.33, 0.5]), [3, 5]],
      [new d.Beta([2, 3], [5, 3]), [1 / 5, 1 / 2]],
      [new d.Gamma([3, 0.5], [2, 1]), [1, 0]],
      [new d.LogNormal([0, 1], [0.5, 1]), [Math.exp(-0.25), 1]],
      [new d.Categorical([[0.2, 0.5, 0.3]]), [1]],
      [new d.Weibull(2, 3), [2 * Math.pow(2 / 3, 1 / 3)]],
    ];
    for (const [dist, ref] of cases) {
      const m = expectNoLeak(() => dist.mode());
      m.forEach((v, i) =>
        expect(Math.abs(v - (ref[i] as number))).toBeLessThan(
          1e-5 * Math.max(1, Math.abs(ref[i] as number)),
        ),
      );
      dist.dispose();
    }
  });
  it('stddev = sqrt(variance) for a batch of families', () => {
    for (const dist of [
      new d.Gamma([2, 5], 3),
      new d.Beta(2, [3, 0.5]),
      new d.StudentT([3, 10], 0, 2),
    ]) {
      const s = expectNoLeak(() => dist.stddev());
      const v = expectNoLeak(() => dist.variance());
      s.forEach((x, i) => expect(relErr(x, Math.sqrt(v[i] as number))).toBeLessThan(1e-6));
      dist.dispose();
    }
  });
  it('Poisson.cdf at a non-integer is the cdf at its floor; icdf of Normal at 0 and 1 is -inf / inf', () => {
    const p = new d.Poisson(2.5);
    const c = expectNoLeak(() => p.cdf([2, 2.5, 2.99, -0.5]));
    expect(c[1]).toBeCloseTo(c[0] as number, 6);
    expect(c[2]).toBeCloseTo(c[0] as number, 6);
    expect(c[3]).toBe(0);
    const ref = Math.exp(-2.5) * (1 + 2.5 + 2.5 ** 2 / 2);
    expect(relErr(c[0] as number, ref)).toBeLessThan(1e-5);
    p.dispose();
    const n = new d.Normal(1, 2);
    expect(expectNoLeak(() => n.icdf([0, 1]))).toEqual([-Infinity, Infinity]);
    n.dispose();
  });
  it('the same seed gives the same draws; another seed other draws', () => {
    const g = new d.Gamma([0.5, 3], 1);
    const a = expectNoLeak(() => g.sample([20], 42));
    const b = expectNoLeak(() => g.sample([20], 42));
    const c = expectNoLeak(() => g.sample([20], 43));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    g.dispose();
  });
  it('Independent(Normal).cdf is the product of the coordinate cdfs (logCdf their sum)', () => {
    const n = new d.Normal([0, 1, -1], [1, 2, 0.5]);
    const ind = new d.Independent(n, 1);
    const x = [0.3, 0, -1.2];
    const [c] = expectNoLeak(() => ind.cdf(x));
    const cs = expectNoLeak(() => n.cdf(x));
    expect(
      relErr(
        c as number,
        cs.reduce((s, v) => s * v, 1),
      ),
    ).toBeLessThan(1e-5);
    const [lc] = expectNoLeak(() => ind.logCdf(x));
    expect(
      relErr(
        lc as number,
        cs.reduce((s, v) => s + Math.log(v), 0),
      ),
    ).toBeLessThan(1e-5);
    n.dispose();
  });
});
