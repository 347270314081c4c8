/**
 * Audit of issue 2 (session 15): the distributions API as a TFP / torch.distributions user calls
 * it, at parameters off the usual range — log-densities with broadcast parameters, CDFs near 1,
 * small rates, logits at ±30, quantiles in the tails, dimension 50, and the Monte Carlo KL —
 * against float64 references (@stdlib, closed forms, ml-matrix).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { distributions } from '../../src/index.js';
import normalRef from '@stdlib/stats-base-dists-normal';
import gammaRef from '@stdlib/stats-base-dists-gamma';
import betaRef from '@stdlib/stats-base-dists-beta';
import poissonRef from '@stdlib/stats-base-dists-poisson';
import binomialRef from '@stdlib/stats-base-dists-binomial';
import tRef from '@stdlib/stats-base-dists-t';
import laplaceRef from '@stdlib/stats-base-dists-laplace';
import gumbelRef from '@stdlib/stats-base-dists-gumbel';
import logisticRef from '@stdlib/stats-base-dists-logistic';
import cauchyRef from '@stdlib/stats-base-dists-cauchy';
import expRef from '@stdlib/stats-base-dists-exponential';
import weibullRef from '@stdlib/stats-base-dists-weibull';
import lognormalRef from '@stdlib/stats-base-dists-lognormal';
import gammaln from '@stdlib/math-base-special-gammaln';
import digammaRef from '@stdlib/math-base-special-digamma';
import { expectNoLeak } from '../helpers.js';

const d = distributions;
type Dist = distributions.Distribution;
type Method = 'logProb' | 'cdf' | 'logCdf' | 'survival' | 'logSurvival' | 'icdf';

/** `dist.method(x)` as numbers with its shape; no tensor left behind (the distribution freed). */
function run(make: () => Dist, method: Method, x: number[] | tf.Tensor): [number[], number[]] {
  const dist = make();
  let shape: number[] = [];
  const before = tf.memory().numTensors;
  const v = expectNoLeak(() => {
    const out = dist[method](x);
    shape = out.shape;
    return out;
  });
  expect(tf.memory().numTensors).toBe(before);
  dist.dispose();
  return [v, shape];
}
/** A moment as numbers, the distribution freed. */
function moment(dist: Dist, m: 'mean' | 'variance' | 'entropy' | 'stddev' | 'mode'): number[] {
  const v = expectNoLeak(() => dist[m]());
  dist.dispose();
  return v;
}

describe('parameters [3, 1] against a value [4] broadcast to [3, 4] (against @stdlib)', () => {
  const xs = [0.2, 1, 2.5, 7];
  const col = (v: number[]) => tf.tensor2d(v.map((u) => [u]));
  const cases: Array<{
    name: string;
    make: () => Dist;
    ref: (x: number, i: number, j: number) => number;
    values?: number[];
  }> = [
    {
      name: 'Normal(loc [3,1], scale)',
      make: () => new d.Normal(col([-1, 0, 5]), 2),
      ref: (x, i) => normalRef.logpdf(x, [-1, 0, 5][i] as number, 2),
    },
    {
      name: 'Gamma(conc [3,1], rate [4])',
      make: () => new d.Gamma(col([0.3, 2, 150]), [1, 2, 0.5, 3]),
      ref: (x, i, j) => gammaRef.logpdf(x, [0.3, 2, 150][i] as number, [1, 2, 0.5, 3][j] as number),
    },
    {
      name: 'StudentT(df [3,1])',
      make: () => new d.StudentT(col([0.7, 3, 1e4]), 1, 2),
      ref: (x, i) => tRef.logpdf((x - 1) / 2, [0.7, 3, 1e4][i] as number) - Math.log(2),
    },
    {
      name: 'Laplace(scale [3,1])',
      make: () => new d.Laplace(1, col([1e-3, 1, 1e3])),
      ref: (x, i) => laplaceRef.logpdf(x, 1, [1e-3, 1, 1e3][i] as number),
    },
    {
      name: 'Poisson(rate [3,1]) on counts',
      make: () => new d.Poisson(col([1e-3, 2, 400])),
      ref: (k, i) => poissonRef.logpmf(k, [1e-3, 2, 400][i] as number),
      values: [0, 1, 3, 25],
    },
    {
      name: 'Binomial(probs [3,1]) on counts',
      make: () => new d.Binomial(30, { probs: col([1e-4, 0.5, 0.9999]) }),
      ref: (k, i) => binomialRef.logpmf(k, 30, Math.fround([1e-4, 0.5, 0.9999][i] as number)),
      values: [0, 1, 15, 30],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const values = c.values ?? xs;
      const [got, shape] = run(c.make, 'logProb', values);
      expect(shape).toEqual([3, 4]);
      const exp = [0, 1, 2].flatMap((i) => values.map((x, j) => c.ref(x, i, j)));
      expect(got).toBeAllclose(exp, { rtol: 2e-5, atol: 2e-6 });
    });
  }
});

describe('Poisson at small rates: log-mass of 0 is -rate, never positive', () => {
  it('logProb(0) = -rate and logProb(k) against @stdlib at rates 1e-10 .. 1e-3', () => {
    // lgamma(1) from Stirling's series carried ~5e-7: logProb(0) was 4.8e-7 at rate 1e-10
    // (a mass above 1) and -0.0009995 at rate 1e-3
    const rates = [1e-10, 1e-6, 1e-3, 0.5];
    for (const r of rates) {
      const [lp] = run(() => new d.Poisson(r), 'logProb', [0, 1, 2, 20]);
      expect(lp[0]).toBeLessThanOrEqual(0);
      expect(lp).toBeAllclose(
        [0, 1, 2, 20].map((k) => poissonRef.logpmf(k, r)),
        { rtol: 1e-5, atol: 0 },
      );
    }
  });
  it('entropy at rate 1e-10 and 1e-3 against the float64 sum -sum p log p (non-negative)', () => {
    for (const r of [1e-10, 1e-3, 0.2]) {
      let h = 0;
      for (let k = 0; k < 40; k++) {
        const lp = poissonRef.logpmf(k, r);
        h -= Math.exp(lp) * lp;
      }
      const [got] = [moment(new d.Poisson(r), 'entropy')];
      expect(got[0]).toBeGreaterThanOrEqual(0);
      expect(got).toBeAllclose([h], { rtol: 1e-4, atol: 1e-9 });
    }
  });
});

describe('logCdf near 1 and logSurvival near 1 keep relative accuracy', () => {
  // log F = log1p(-S) where S is small: log of a float32 F near 1 has only ~6e-8 absolute accuracy
  it('Gamma, StudentT, Geometric, Poisson, Binomial logCdf in the upper tail', () => {
    const [g] = run(() => new d.Gamma(2, 1), 'logCdf', [10, 20]);
    expect(g).toBeAllclose(
      [10, 20].map((x) => Math.log1p(-(1 - gammaRef.cdf(x, 2, 1)))),
      { rtol: 1e-4, atol: 0 },
    );
    // S(x) of Gamma(2, 1) = (1 + x) e^{-x}, exact float64
    expect(g).toBeAllclose(
      [10, 20].map((x) => Math.log1p(-(1 + x) * Math.exp(-x))),
      { rtol: 1e-4, atol: 0 },
    );
    const [t] = run(() => new d.StudentT(2.5), 'logCdf', [40, 200]);
    expect(t).toBeAllclose(
      [40, 200].map((x) => Math.log1p(-tRef.cdf(-x, 2.5))),
      { rtol: 1e-4, atol: 0 },
    );
    // Geometric(0.999): F(k) = 1 - (1 - p)^{k+1}; at k = 3, log F = -1e-12 (was 0)
    const p = Math.fround(0.999);
    const [geo] = run(() => new d.Geometric({ probs: 0.999 }), 'logCdf', [1, 3]);
    expect(geo).toBeAllclose(
      [1, 3].map((k) => Math.log1p(-Math.pow(1 - p, k + 1))),
      { rtol: 1e-3, atol: 0 },
    );
    const [poi] = run(() => new d.Poisson(2), 'logCdf', [15, 20]);
    expect(poi).toBeAllclose(
      [15, 20].map((k) => {
        let s = 0; // upper tail summed in float64
        for (let j = k + 1; j < 80; j++) s += poissonRef.pmf(j, 2);
        return Math.log1p(-s);
      }),
      { rtol: 1e-3, atol: 0 },
    );
  });
  it('logSurvival near 1 (small CDF) for Gamma and Beta, and gradients finite everywhere', () => {
    const [g] = run(() => new d.Gamma(3, 1), 'logSurvival', [1e-3, 0.05]);
    expect(g).toBeAllclose(
      [1e-3, 0.05].map((x) => Math.log1p(-gammaRef.cdf(x, 3, 1))),
      { rtol: 1e-4, atol: 0 },
    );
    const [b] = run(() => new d.Beta(2, 3), 'logSurvival', [1e-3, 0.01]);
    expect(b).toBeAllclose(
      [1e-3, 0.01].map((x) => Math.log1p(-betaRef.cdf(x, 2, 3))),
      { rtol: 1e-4, atol: 0 },
    );
    // d/dx log F(x) = f(x)/F(x) at points where F is tiny (the unused branch must not give NaN)
    const x = tf.tensor1d([0.05, 1, 8, 30]);
    const conc = tf.scalar(3);
    const before = tf.memory().numTensors;
    const gx = tf.grad((v: tf.Tensor) => {
      const dist = new d.Gamma(conc, 1);
      const out = tf.sum(dist.logCdf(v));
      dist.dispose();
      return out;
    })(x);
    const gv = Array.from(gx.dataSync());
    gx.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const xs = [0.05, 1, 8, 30];
    expect(gv.every(Number.isFinite)).toBe(true);
    expect(gv.slice(0, 3)).toBeAllclose(
      xs.slice(0, 3).map((v) => gammaRef.pdf(v, 3, 1) / gammaRef.cdf(v, 3, 1)),
      { rtol: 1e-3, atol: 1e-9 },
    );
    tf.dispose([x, conc]);
  });
});

describe('quantiles: icdf inverts cdf deep in both tails, monotone, no NaN', () => {
  const ps = [1e-6, 1e-3, 0.3, 0.5, 0.9, 0.999, 0.999999];
  const cases: Array<{ name: string; make: () => Dist; q: (p: number) => number }> = [
    {
      name: 'Normal(2, 1e-3)',
      make: () => new d.Normal(2, 1e-3),
      q: (p) => normalRef.quantile(p, 2, 1e-3),
    },
    {
      name: 'Laplace(0, 1e3)',
      make: () => new d.Laplace(0, 1e3),
      q: (p) => laplaceRef.quantile(p, 0, 1e3),
    },
    { name: 'Gumbel(1, 2)', make: () => new d.Gumbel(1, 2), q: (p) => gumbelRef.quantile(p, 1, 2) },
    {
      name: 'Logistic(0, 0.1)',
      make: () => new d.Logistic(0, 0.1),
      q: (p) => logisticRef.quantile(p, 0, 0.1),
    },
    { name: 'Cauchy(0, 1)', make: () => new d.Cauchy(0, 1), q: (p) => cauchyRef.quantile(p, 0, 1) },
    {
      name: 'Exponential(1e-3)',
      make: () => new d.Exponential(1e-3),
      q: (p) => expRef.quantile(p, 1e-3),
    },
    {
      name: 'Weibull(scale 2, conc 0.3)',
      make: () => new d.Weibull(2, 0.3),
      q: (p) => weibullRef.quantile(p, 0.3, 2),
    },
    {
      name: 'LogNormal(0, 2)',
      make: () => new d.LogNormal(0, 2),
      q: (p) => lognormalRef.quantile(p, 0, 2),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const [x] = run(c.make, 'icdf', ps);
      expect(x.every(Number.isFinite)).toBe(true);
      for (let i = 1; i < x.length; i++) expect(x[i]).toBeGreaterThan(x[i - 1] as number);
      // quantile against the float64 reference, in the scale of the spread of the tail
      // (the references at the float32 probabilities the tensor holds)
      expect(x).toBeAllclose(
        ps.map((p) => c.q(Math.fround(p))),
        { rtol: 2e-3, atol: 1e-6 },
      );
      const [pBack] = run(c.make, 'cdf', x);
      expect(pBack).toBeAllclose(ps, { rtol: 2e-3, atol: 2e-7 });
      const [ends] = run(c.make, 'icdf', [0, 1]);
      expect(ends.some(Number.isNaN)).toBe(false);
    });
  }
});

describe('binary and categorical families at logits ±30 and probabilities 0 / 1', () => {
  it('Bernoulli logProb and entropy at logits ±30 against float64 softplus forms', () => {
    const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    const logits = [30, -30, 12, -12];
    const [lp1] = run(() => new d.Bernoulli({ logits }), 'logProb', [1, 1, 1, 1]);
    const [lp0] = run(() => new d.Bernoulli({ logits }), 'logProb', [0, 0, 0, 0]);
    expect(lp1).toBeAllclose(
      logits.map((l) => -softplus(-l)),
      { rtol: 1e-5, atol: 0 },
    );
    expect(lp0).toBeAllclose(
      logits.map((l) => -softplus(l)),
      { rtol: 1e-5, atol: 0 },
    );
    const h = moment(new d.Bernoulli({ logits }), 'entropy');
    const href = logits.map((l) => {
      // both probabilities from the logit (1 - p of a float64 p near 1 loses digits too)
      const p = 1 / (1 + Math.exp(-l));
      const q = 1 / (1 + Math.exp(l));
      return p * softplus(-l) + q * softplus(l);
    });
    expect(h).toBeAllclose(href, { rtol: 1e-4, atol: 0 });
  });
  it('probabilities exactly 0 and 1 give -Infinity (never NaN) off their atom, 0 on it', () => {
    const [lp] = run(() => new d.Bernoulli({ probs: [0, 1, 0, 1] }), 'logProb', [0, 1, 1, 0]);
    expect(lp.map((v) => v + 0)).toEqual([0, 0, -Infinity, -Infinity]);
    const [cat] = run(() => new d.Categorical({ probs: [0, 1, 0] }), 'logProb', [0, 1, 2]);
    expect(cat.map((v) => v + 0)).toEqual([-Infinity, 0, -Infinity]);
    expect(moment(new d.Bernoulli({ probs: [0, 1] }), 'entropy').map((v) => v + 0)).toEqual([0, 0]);
    expect(moment(new d.Categorical({ probs: [0, 1, 0] }), 'entropy').map((v) => v + 0)).toEqual([
      0,
    ]);
  });
  it('logits ±Infinity: entropy 0, the atom scored 0, KL against a fair coin log 2', () => {
    // sigmoid(-Infinity) was 1.2e-38 on wasm (the kernel pack's floor): entropy Infinity
    const h = moment(new d.Bernoulli({ logits: [Infinity, -Infinity] }), 'entropy');
    expect(h).toBeAllclose([0, 0], { rtol: 0, atol: 1e-30 });
    const [lp] = run(() => new d.Bernoulli({ logits: [Infinity, -Infinity] }), 'logProb', [1, 0]);
    expect(lp).toBeAllclose([0, 0], { rtol: 0, atol: 1e-30 });
    const p = new d.Bernoulli({ logits: [Infinity, -Infinity] });
    const q = new d.Bernoulli({ probs: 0.5 });
    expect(expectNoLeak(() => d.klDivergence(p, q))).toBeAllclose([Math.LN2, Math.LN2], {
      rtol: 1e-6,
    });
    expect(moment(new d.Bernoulli({ logits: [Infinity, -Infinity] }), 'variance')).toEqual([0, 0]);
    expect(moment(new d.Binomial(5, { logits: [Infinity, -Infinity] }), 'variance')).toEqual([
      0, 0,
    ]);
    p.dispose();
    q.dispose();
  });
  it('Categorical logits [30, -30, 0]: log-softmax and entropy against float64', () => {
    const l = [30, -30, 0];
    const m = Math.max(...l);
    const lse = m + Math.log(l.reduce((s, v) => s + Math.exp(v - m), 0));
    const [lp] = run(() => new d.Categorical({ logits: l }), 'logProb', [0, 1, 2]);
    expect(lp).toBeAllclose(
      l.map((v) => v - lse),
      { rtol: 1e-6, atol: 1e-12 },
    );
    const h = -l.reduce((s, v) => s + Math.exp(v - lse) * (v - lse), 0);
    // absolute accuracy only: the -p0 log p0 = 9.4e-14 term of the largest logit is below the
    // float32 resolution of log p0 = l0 - logsumexp(l)
    expect(moment(new d.Categorical({ logits: l }), 'entropy')).toBeAllclose([h], {
      rtol: 0,
      atol: 2e-13,
    });
  });
});

describe('dimension 50: MVN, Dirichlet, Wishart, LKJ against float64', () => {
  const D = 50;
  let s = 7;
  const rnd = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
  const W = Array.from({ length: D }, () => Array.from({ length: D }, rnd));
  const cov = W.map((wi, i) =>
    W.map(
      (wj, j) => wi.reduce((a, v, k) => a + v * (wj[k] as number), 0) / D + (i === j ? 0.1 : 0),
    ),
  );
  const chol = new CholeskyDecomposition(new Matrix(cov));
  const L = chol.lowerTriangularMatrix;
  let logdet = 0;
  for (let i = 0; i < D; i++) logdet += 2 * Math.log(L.get(i, i));

  it('MultivariateNormal logProb (covariance, scaleTril) and entropy', () => {
    const loc = Array.from({ length: D }, rnd);
    const x = Array.from({ length: D }, rnd);
    const diff = Matrix.columnVector(x.map((v, i) => v - (loc[i] as number)));
    const sol = chol.solve(diff);
    let q = 0;
    for (let i = 0; i < D; i++) q += diff.get(i, 0) * sol.get(i, 0);
    const ref = -0.5 * q - 0.5 * logdet - (D / 2) * Math.log(2 * Math.PI);
    const [a] = run(() => new d.MultivariateNormal(loc, { covarianceMatrix: cov }), 'logProb', x);
    const [b] = run(
      () => new d.MultivariateNormal(loc, { scaleTril: L.to2DArray() }),
      'logProb',
      x,
    );
    expect(a).toBeAllclose([ref], { rtol: 2e-4 });
    expect(b).toBeAllclose([ref], { rtol: 2e-4 });
    const h = moment(new d.MultivariateNormal(loc, { covarianceMatrix: cov }), 'entropy');
    expect(h).toBeAllclose([0.5 * logdet + (D / 2) * (1 + Math.log(2 * Math.PI))], { rtol: 1e-4 });
  });
  it('Dirichlet(50) logProb at concentrations 0.3 .. 150 and its entropy sign', () => {
    const a = Array.from({ length: D }, (_, i) => 0.3 + i * 3);
    const raw = Array.from({ length: D }, (_, i) => i + 1);
    const tot = raw.reduce((u, v) => u + v);
    const x = raw.map((v) => v / tot);
    const A = a.reduce((u, v) => u + v);
    let ref = gammaln(A);
    a.forEach((ai, i) => {
      ref += -gammaln(ai) + (ai - 1) * Math.log(x[i] as number);
    });
    const [got] = run(() => new d.Dirichlet(a), 'logProb', x);
    expect(got).toBeAllclose([ref], { rtol: 1e-4 });
  });
  it('Wishart(df 60, 0.5 I) in dimension 50 at a dense SPD matrix', () => {
    const df = 60;
    const sc = 0.5;
    let tr = 0;
    for (let i = 0; i < D; i++) tr += (cov[i]?.[i] as number) / sc;
    let mvl = ((D * (D - 1)) / 4) * Math.log(Math.PI);
    for (let j = 0; j < D; j++) mvl += gammaln(df / 2 - j / 2);
    const ref =
      ((df - D - 1) / 2) * logdet -
      tr / 2 -
      ((df * D) / 2) * Math.log(2) -
      ((df * D) / 2) * Math.log(sc) -
      mvl;
    const [got] = run(
      () => new d.Wishart(df, { covarianceMatrix: tf.mul(tf.eye(D), sc) }),
      'logProb',
      tf.tensor2d(cov),
    );
    expect(got).toBeAllclose([ref], { rtol: 1e-4 });
  });
  it('LKJ(50, eta) at the identity is its log normalizer (Lewandowski et al. 2009)', () => {
    const lkjLogNorm = (dim: number, eta: number): number => {
      let lc = 0;
      for (let k = 1; k < dim; k++) {
        const b = eta + (dim - k - 1) / 2;
        lc +=
          (2 * eta - 2 + dim - k) * (dim - k) * Math.log(2) +
          (dim - k) * (2 * gammaln(b) - gammaln(2 * b));
      }
      return -lc;
    };
    for (const eta of [0.5, 2, 120]) {
      const eye = tf.eye(D);
      const [got] = run(() => new d.LKJ(D, eta), 'logProb', eye);
      eye.dispose();
      expect(got).toBeAllclose([lkjLogNorm(D, eta)], { rtol: 2e-4 });
    }
  });
});

describe('monteCarloKL is unbiased at large sample counts', () => {
  it('KL(U(0,1) || U(-1,3)) = log 4 exactly from 1e6 draws (each term is log 4)', () => {
    // the wasm backend's float32 sequential sum gave 1.37739 (0.6% low) at 1e6 samples
    const p = new d.Uniform(0, 1);
    const q = new d.Uniform(-1, 3);
    const v = expectNoLeak(() => d.monteCarloKL(p, q, { numSamples: 1_000_000, seed: 3 }));
    expect(v).toBeAllclose([Math.log(4)], { rtol: 2e-5 });
    p.dispose();
    q.dispose();
  });
  it('KL(N(0,1) || N(1,2)) from 4e5 draws within 4 standard errors of the closed form', () => {
    const p = new d.Normal([0, 0.5], [1, 0.2]);
    const q = new d.Normal(1, 2);
    const exact = [0, 1].map((i) => {
      const m = [0, 0.5][i] as number;
      const sd = [1, 0.2][i] as number;
      return Math.log(2 / sd) + (sd * sd + (m - 1) ** 2) / 8 - 0.5;
    });
    const v = expectNoLeak(() => d.monteCarloKL(p, q, { numSamples: 400_000, seed: 9 }));
    // var of log p - log q under p: computed in float64 from the closed form of the quadratic
    exact.forEach((e, i) => {
      const m = [0, 0.5][i] as number;
      const sd = [1, 0.2][i] as number;
      // log p - log q = c + a z^2 + b z (z standard): var = 2a^2 + b^2
      const a = -0.5 + (sd * sd) / 8;
      const b = (sd * (m - 1)) / 4;
      const se = Math.sqrt((2 * a * a + b * b) / 400_000);
      expect(Math.abs((v[i] as number) - e)).toBeLessThan(4 * se + 1e-5);
    });
    p.dispose();
    q.dispose();
  });
});

describe('entropies at extreme parameters against float64 closed forms', () => {
  // the textbook forms cancel terms of order a log a (lgamma against (a - 1) psi(a))
  it('StudentT(df) for df 0.1 .. 1e8 (the normal limit 1.41894 + log scale)', () => {
    const dfs = [0.1, 0.7, 2.5, 30, 1e4, 1e6, 1e8];
    const h = moment(new d.StudentT(dfs, 1, 3), 'entropy');
    expect(h).toBeAllclose(
      dfs.map((df) => tRef.entropy(df) + Math.log(3)),
      { rtol: 2e-6, atol: 0 },
    );
  });
  it('Gamma, InverseGamma, Beta at concentrations 1e-3 .. 1e6 and Dirichlet in dimension 50', () => {
    const as = [1e-3, 0.3, 2, 9.99, 10, 300, 1e4, 1e6];
    expect(moment(new d.Gamma(as, 2), 'entropy')).toBeAllclose(
      as.map((a) => gammaRef.entropy(a, 2)),
      { rtol: 2e-6, atol: 1e-6 },
    );
    const ig = (a: number): number => a + Math.log(2) + gammaln(a) - (1 + a) * digammaRef(a);
    expect(moment(new d.InverseGamma(as, 2), 'entropy')).toBeAllclose(as.map(ig), {
      rtol: 2e-6,
      atol: 1e-6,
    });
    const bs = [5e5, 150, 0.5, 200, 1e-3, 9.99, 3, 1e6];
    expect(moment(new d.Beta(as, bs), 'entropy')).toBeAllclose(
      as.map((a, i) => betaRef.entropy(a, bs[i] as number)),
      { rtol: 5e-6, atol: 2e-6 },
    );
    const al = Array.from({ length: 50 }, (_, i) => 0.5 + i * 40);
    const a0 = al.reduce((u, v) => u + v);
    let ref = al.reduce((u, v) => u + gammaln(v), 0) - gammaln(a0) + (a0 - 50) * digammaRef(a0);
    for (const v of al) ref -= (v - 1) * digammaRef(v);
    expect(moment(new d.Dirichlet(al), 'entropy')).toBeAllclose([ref], { rtol: 2e-6 });
  });
  it('the gradient of the Gamma entropy in the concentration is 1 + (1 - a) psi1(a) (finite differences of float64)', () => {
    const as = [0.01, 0.5, 5, 50, 500];
    const a = tf.tensor1d(as);
    const before = tf.memory().numTensors;
    const g = tf.grad((x: tf.Tensor) => {
      const dist = new d.Gamma(x, 1);
      const h = tf.sum(dist.entropy());
      dist.dispose();
      return h;
    })(a);
    const gv = Array.from(g.dataSync());
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
    const h64 = (x: number): number => x + gammaln(x) + (1 - x) * digammaRef(x);
    expect(gv).toBeAllclose(
      as.map((x) => (h64(x * (1 + 1e-6)) - h64(x * (1 - 1e-6))) / (2e-6 * x)),
      { rtol: 2e-3, atol: 1e-6 },
    );
  });
});

describe('Weibull variance at large concentrations (cancelling gammas)', () => {
  it('concentration 0.3 .. 1e4 against @stdlib, and its gradient in the concentration', () => {
    const ks = [0.3, 1, 4, 10, 50, 200, 1e4];
    const v = moment(new d.Weibull(2, ks), 'variance');
    expect(v).toBeAllclose(
      ks.map((k) => weibullRef.variance(k, 2)),
      { rtol: 1e-5, atol: 0 },
    );
    const k0 = [50, 200];
    const kt = tf.tensor1d(k0);
    const before = tf.memory().numTensors;
    const g = tf.grad((k: tf.Tensor) => {
      const w = new d.Weibull(2, k);
      const out = tf.sum(w.variance());
      w.dispose();
      return out;
    })(kt);
    const gv = Array.from(g.dataSync());
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    kt.dispose();
    expect(gv).toBeAllclose(
      k0.map(
        (k) =>
          (weibullRef.variance(k * 1.001, 2) - weibullRef.variance(k / 1.001, 2)) /
          (k * 1.001 - k / 1.001),
      ),
      { rtol: 1e-3 },
    );
  });
});

describe('Cauchy and HalfCauchy far tails: CDF, survival and their logs without cancellation', () => {
  it('Cauchy at |z| up to 1e30 and HalfCauchy up to 1e30 scales, monotone, against float64', () => {
    const zs = [-1e30, -1e8, -1e4, -3, 0, 3, 1e4, 1e8, 1e30];
    const F = (z: number): number =>
      z < 0 ? Math.atan(-1 / z) / Math.PI : 0.5 + Math.atan(z) / Math.PI;
    const S = (z: number): number => F(-z);
    const [c] = run(() => new d.Cauchy(0, 1), 'cdf', zs);
    expect(c).toBeAllclose(zs.map(F), { rtol: 1e-5, atol: 0 });
    const [ls] = run(() => new d.Cauchy(0, 1), 'logSurvival', zs);
    // was -Infinity from z ~ 1e7 (1/2 - atan(z)/pi rounded to 0)
    expect(ls).toBeAllclose(
      zs.map((z) => Math.log(S(z))),
      { rtol: 1e-5, atol: 1e-12 },
    );
    const xs = [-1, 0, 0.5, 1e4, 1e8, 1e30];
    const hs = (x: number): number => (x <= 0 ? 1 : (2 / Math.PI) * Math.atan(2 / x));
    const [hsv] = run(() => new d.HalfCauchy(2), 'survival', xs);
    expect(hsv).toBeAllclose(xs.map(hs), { rtol: 1e-5, atol: 0 });
    const [hls] = run(() => new d.HalfCauchy(2), 'logSurvival', xs);
    expect(hls).toBeAllclose(
      xs.map((x) => Math.log(hs(x))),
      { rtol: 1e-5, atol: 1e-12 },
    );
  });
});

describe('MultivariateStudentT entropy (was NotDefinedError)', () => {
  it('closed form at df 0.5 .. 1e7 in D = 3, the StudentT entropy at D = 1, and MC within 5 SE', () => {
    const L = [
      [1, 0, 0],
      [0.5, 2, 0],
      [0.1, -0.3, 0.7],
    ];
    const ref = (nu: number, D: number, logdetL: number): number =>
      -(gammaln((nu + D) / 2) - gammaln(nu / 2)) +
      (D / 2) * Math.log(nu * Math.PI) +
      logdetL +
      ((nu + D) / 2) * (digammaRef((nu + D) / 2) - digammaRef(nu / 2));
    const dfs = [0.5, 3, 30, 1e4, 1e7];
    expect(moment(new d.MultivariateStudentT(dfs, [0, 0, 0], L), 'entropy')).toBeAllclose(
      dfs.map((n) => ref(n, 3, Math.log(1.4))),
      { rtol: 2e-6 },
    );
    expect(moment(new d.MultivariateStudentT(dfs, [1], [[2]]), 'entropy')).toBeAllclose(
      dfs.map((n) => tRef.entropy(n) + Math.log(2)),
      { rtol: 2e-6 },
    );
    const mvt = new d.MultivariateStudentT(6, [0, 0, 0], L);
    const n = 40_000;
    const lp = expectNoLeak(() => tf.tidy(() => mvt.logProb(mvt.sample([n], 3))));
    const mean = -lp.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(lp.reduce((a, b) => a + (b + mean) ** 2, 0) / n);
    expect(Math.abs(mean - ref(6, 3, Math.log(1.4)))).toBeLessThan((5 * sd) / Math.sqrt(n));
    mvt.dispose();
  });
});
