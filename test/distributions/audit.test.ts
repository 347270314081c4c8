/**
 * Inputs the per-family tables do not reach (found by the distributions audit): KL pairs with
 * broadcast or mismatched shapes, counts far from zero, tiny concentrations, extreme bijector
 * inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import binomialRef from '@stdlib/stats-base-dists-binomial';
import negBinomialRef from '@stdlib/stats-base-dists-negative-binomial';
import poissonRef from '@stdlib/stats-base-dists-poisson';
import normalRef from '@stdlib/stats-base-dists-normal';
import lognormalRef from '@stdlib/stats-base-dists-lognormal';
import uniformRef from '@stdlib/stats-base-dists-uniform';
import exponentialRef from '@stdlib/stats-base-dists-exponential';
import cauchyRef from '@stdlib/stats-base-dists-cauchy';
import laplaceRef from '@stdlib/stats-base-dists-laplace';
import logisticRef from '@stdlib/stats-base-dists-logistic';
import gumbelRef from '@stdlib/stats-base-dists-gumbel';
import weibullRef from '@stdlib/stats-base-dists-weibull';
import { ArgumentError, bijectors, distributions } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const d = distributions;

describe('KL shapes', () => {
  it('Binomial KL broadcasts batch shapes [3,1] and [1,4] to [3,4]', () => {
    const p = new d.Binomial(10, { probs: tf.tensor([0.1, 0.5, 0.9], [3, 1]) });
    const q = new d.Binomial(10, { probs: tf.tensor([0.2, 0.5, 0.7, 0.05], [1, 4]) });
    const kl = expectNoLeak(() => {
      const t = d.klDivergence(p, q);
      expect(t.shape).toEqual([3, 4]);
      return t;
    });
    const ref = [0.1, 0.5, 0.9].flatMap((a) =>
      [0.2, 0.5, 0.7, 0.05].map(
        (b) => 10 * (a * Math.log(a / b) + (1 - a) * Math.log((1 - a) / (1 - b))),
      ),
    );
    expect(kl).toBeAllclose(ref, { rtol: 1e-4, atol: 1e-5 });
    p.dispose();
    q.dispose();
  });

  it('pairs whose shapes do not match throw an ArgumentError naming both classes', () => {
    const cases: Array<[distributions.Distribution, distributions.Distribution, RegExp]> = [
      [new d.Normal([0, 0, 0], 1), new d.Normal([0, 0, 0, 0], 1), /Normal p .*\[3\].*\[4\]/],
      [new d.Dirichlet([1, 1]), new d.Dirichlet([1, 1, 1]), /Dirichlet p .*\[2\].*\[3\]/],
      [
        new d.MultivariateNormal([0, 0], {
          covarianceMatrix: [
            [1, 0],
            [0, 1],
          ],
        }),
        new d.MultivariateNormal([0, 0, 0], {
          scaleTril: [
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
          ],
        }),
        /MultivariateNormal p .*event shapes/,
      ],
      [new d.Categorical([0.5, 0.5]), new d.Categorical([0.2, 0.3, 0.5]), /categories/],
    ];
    for (const [p, q, re] of cases) {
      expectNoLeak(() => {
        expect(() => d.klDivergence(p, q)).toThrow(ArgumentError);
        expect(() => d.klDivergence(p, q)).toThrow(re);
      });
      if (!/categories/.test(re.source)) {
        expect(() => d.monteCarloKL(p, q, { numSamples: 2 })).toThrow(ArgumentError);
      }
      p.dispose();
      q.dispose();
    }
  });
});

describe('count log-masses at large counts (float32)', () => {
  // References: @stdlib logpmf (float64). The lgamma form lost ~0.8 nats at counts ~1e6.
  it('Poisson, Binomial and NegativeBinomial match @stdlib to 1e-4 at counts up to 1e7', () => {
    const pois = new d.Poisson([1e6, 1e6, 1e7, 3.7, 50]);
    const lpP = expectNoLeak(() => pois.logProb([1e6, 1e6 + 1000, 1e7 - 5000, 2, 0]));
    expect(lpP).toBeAllclose(
      [1e6, 1e6 + 1000, 1e7 - 5000, 2, 0].map((k, i) =>
        poissonRef.logpmf(k, [1e6, 1e6, 1e7, 3.7, 50][i] as number),
      ),
      { rtol: 1e-5, atol: 1e-4 },
    );
    const bin = new d.Binomial([1e6, 1e6, 1e5, 10, 10], { probs: [0.3, 0.3, 1e-3, 0.3, 0.3] });
    const ks = [3e5, 300100, 95, 0, 3];
    const lpB = expectNoLeak(() => bin.logProb(ks));
    const ns = [1e6, 1e6, 1e5, 10, 10];
    const ps = [0.3, 0.3, 1e-3, 0.3, 0.3];
    expect(lpB).toBeAllclose(
      ks.map((k, i) => binomialRef.logpmf(k, ns[i] as number, ps[i] as number)),
      { rtol: 1e-5, atol: 1e-4 },
    );
    // Pyro's NegativeBinomial(r, p) at k is stdlib's nbinom(k; r, 1 - p).
    const nb = new d.NegativeBinomial([1e5, 3, 0.5, 20], { probs: [0.5, 0.3, 0.7, 0.01] });
    const lpN = expectNoLeak(() => nb.logProb([1e5, 2, 4, 0]));
    expect(lpN).toBeAllclose(
      [
        negBinomialRef.logpmf(1e5, 1e5, 0.5),
        negBinomialRef.logpmf(2, 3, 0.7),
        negBinomialRef.logpmf(4, 0.5, 0.3),
        negBinomialRef.logpmf(0, 20, 0.99),
      ],
      { rtol: 1e-5, atol: 1e-4 },
    );
    pois.dispose();
    bin.dispose();
    nb.dispose();
  });

  it('the saddle-point forms keep the exact gradients in rate and logits', () => {
    const rate = tf.tensor([3.7, 1e4]);
    const g = expectNoLeak(() =>
      tf.grad((r: tf.Tensor) => {
        const p = new d.Poisson(r);
        return p.logProb([2, 1.01e4]).sum();
      })(rate),
    );
    expect(g).toBeAllclose([2 / 3.7 - 1, 0.01], { rtol: 1e-4, atol: 1e-6 });
    const logits = tf.tensor([0.2, 0.2, 0.2]);
    const p0 = 1 / (1 + Math.exp(-0.2));
    const gb = expectNoLeak(() =>
      tf.grad((l: tf.Tensor) => new d.Binomial(10, { logits: l }).logProb([3, 0, 10]).sum())(
        logits,
      ),
    );
    expect(gb).toBeAllclose([3 - 10 * p0, -10 * p0, 10 - 10 * p0], { rtol: 1e-4, atol: 1e-5 });
    rate.dispose();
    logits.dispose();
  });
});

describe('Beta and Dirichlet draws at tiny concentrations', () => {
  it('draws whose Gamma variates underflow keep their near-vertex values (no ties at 1/K)', () => {
    // Beta(0.01, 0.01) has variance ab/((a+b)^2(a+b+1)) = 0.2451; its draws sit near 0 or 1.
    // Both Gamma(0.01) variates fall below 1e-38 in ~17% of draws: those were exactly 0.5.
    const beta = new d.Beta(0.01, 0.01);
    const x = expectNoLeak(() => beta.sample([4000], 11));
    const n = x.length;
    const mean = x.reduce((s, v) => s + v, 0) / n;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    expect(x.filter((v) => Math.abs(v - 0.5) < 0.4).length).toBeLessThan(0.05 * n);
    expect(Math.abs(variance - 0.2451)).toBeLessThan(0.01);
    expect(x.every((v) => v > 0 && v < 1)).toBe(true);
    // Dirichlet(0.01 * 1_3): E[x_0^2] = a(a+1)/(a0(a0+1)) = 0.32686.
    const dir = new d.Dirichlet([0.01, 0.01, 0.01]);
    const y = expectNoLeak(() => dir.sample([4000], 12));
    let sq = 0;
    let ties = 0;
    for (let i = 0; i < y.length; i += 3) {
      sq += (y[i] as number) ** 2;
      const [u, v, w] = [y[i], y[i + 1], y[i + 2]] as [number, number, number];
      if (Math.abs(u - v) < 1e-6 && Math.abs(v - w) < 1e-6) ties++;
    }
    expect(ties).toBe(0);
    expect(Math.abs(sq / 4000 - 0.32686)).toBeLessThan(0.02);
    beta.dispose();
    dir.dispose();
  });

  it('the implicit gradient stays right at small concentrations', () => {
    // d/da E[x] for Beta(a, b) is b/(a+b)^2, for Dirichlet d/da_0 E[x_0] = (a0 - a_0)/a0^2.
    const a = tf.scalar(0.05);
    const b = tf.scalar(0.3);
    const n = 20000;
    const g = expectNoLeak(() =>
      tf.tidy(() => {
        const grads = tf.grads((p: tf.Tensor, q: tf.Tensor) =>
          tf.mean(new d.Beta(p, q).rsample([n], 3)),
        )([a, b]);
        return tf.stack(grads);
      }),
    );
    expect(Math.abs((g[0] as number) - 0.3 / 0.35 ** 2)).toBeLessThan(0.15);
    const conc = tf.tensor([0.05, 0.5, 0.02]);
    const gd = expectNoLeak(() =>
      tf.grad((c: tf.Tensor) =>
        tf.mean(tf.slice(new d.Dirichlet(c).rsample([n], 4), [0, 0], [-1, 1])),
      )(conc),
    );
    expect(Math.abs((gd[0] as number) - 0.52 / 0.57 ** 2)).toBeLessThan(0.1);
    [a, b, conc].forEach((t) => t.dispose());
  });
});

describe('icdf (quantile function)', () => {
  const ps = [0.001, 0.02, 0.3, 0.5, 0.8, 0.99];
  const cases: Array<[string, () => distributions.Distribution, (p: number) => number]> = [
    ['Normal', () => new d.Normal(0.5, 2), (p) => normalRef.quantile(p, 0.5, 2)],
    ['LogNormal', () => new d.LogNormal(0.2, 0.7), (p) => lognormalRef.quantile(p, 0.2, 0.7)],
    ['HalfNormal', () => new d.HalfNormal(1.5), (p) => normalRef.quantile((1 + p) / 2, 0, 1.5)],
    ['Uniform', () => new d.Uniform(-1, 3), (p) => uniformRef.quantile(p, -1, 3)],
    ['Exponential', () => new d.Exponential(2), (p) => exponentialRef.quantile(p, 2)],
    ['Cauchy', () => new d.Cauchy(1, 2), (p) => cauchyRef.quantile(p, 1, 2)],
    ['HalfCauchy', () => new d.HalfCauchy(2), (p) => cauchyRef.quantile((1 + p) / 2, 0, 2)],
    ['Laplace', () => new d.Laplace(1, 2), (p) => laplaceRef.quantile(p, 1, 2)],
    ['Logistic', () => new d.Logistic(1, 2), (p) => logisticRef.quantile(p, 1, 2)],
    ['Gumbel', () => new d.Gumbel(1, 2), (p) => gumbelRef.quantile(p, 1, 2)],
    ['Weibull', () => new d.Weibull(2, 1.5), (p) => weibullRef.quantile(p, 1.5, 2)],
  ];
  it.each(cases)('%s.icdf matches @stdlib and inverts cdf', (_, make, ref) => {
    const dist = make();
    const x = expectNoLeak(() => dist.icdf(ps));
    expect(x).toBeAllclose(ps.map(ref), { rtol: 2e-5, atol: 1e-5 });
    const back = expectNoLeak(() => tf.tidy(() => dist.cdf(dist.icdf(ps))));
    expect(back).toBeAllclose(ps, { rtol: 1e-4, atol: 1e-6 });
    dist.dispose();
  });

  it('broadcasts against the batch, gives the support ends at 0 and 1, and checks its input', () => {
    const n = new d.Normal([[0], [1], [2]], [0.5, 1, 2, 4]);
    expectNoLeak(() => {
      const x = n.icdf([0.1, 0.2, 0.3, 0.4]);
      expect(x.shape).toEqual([3, 4]);
      return x;
    });
    const std = new d.Normal(0, 1);
    expect(expectNoLeak(() => std.icdf([0, 1, 1e-30]))).toBeAllclose(
      [-Infinity, Infinity, -11.464],
      {
        rtol: 1e-4,
      },
    );
    expectNoLeak(() => {
      expect(() => std.icdf([0.5, 1.5])).toThrow(/value: expected a probability in \[0, 1\]/);
      expect(() => n.icdf([0.1, 0.2])).toThrow(ArgumentError);
    });
    const g = new d.VonMises(0, 1);
    expect(() => g.icdf(0.5)).toThrow(/icdf is not defined/);
    // d icdf / d scale = Phi^{-1}(p)
    const s = tf.scalar(2);
    const grad = expectNoLeak(() => tf.grad((t: tf.Tensor) => new d.Normal(0, t).icdf(0.9))(s));
    expect(grad).toBeAllclose([1.2815516], { rtol: 1e-5 });
    [n, std, g].forEach((x) => x.dispose());
    s.dispose();
  });
});

describe('icdf through expand and monotone transforms', () => {
  const ps = [0.01, 0.3, 0.5, 0.9];
  it('expand broadcasts the base quantile; a transformed distribution maps it (decreasing: 1 - p)', () => {
    const e = new d.Normal(0.5, 2).expand([2, 4]);
    const xe = expectNoLeak(() => {
      const x = e.icdf(ps);
      expect(x.shape).toEqual([2, 4]);
      return x;
    });
    expect(xe).toBeAllclose(
      [...ps, ...ps].map((p) => normalRef.quantile(p, 0.5, 2)),
      {
        rtol: 2e-5,
        atol: 1e-5,
      },
    );
    // exp(Normal(0.2, 0.7)) is LogNormal(0.2, 0.7)
    const ln = new d.TransformedDistribution(new d.Normal(0.2, 0.7), new bijectors.Exp());
    expect(expectNoLeak(() => ln.icdf(ps))).toBeAllclose(
      ps.map((p) => lognormalRef.quantile(p, 0.2, 0.7)),
      { rtol: 2e-5 },
    );
    // y = 1 - 3x with x ~ Exponential(2): P(Y <= y) = P(X >= (1 - y)/3), y_p = 1 - 3 F^{-1}(1 - p)
    const dec = new d.TransformedDistribution(
      new d.Exponential(2),
      new bijectors.ScalarAffine(-3, 1),
    );
    const yd = expectNoLeak(() => dec.icdf(ps));
    expect(yd).toBeAllclose(
      ps.map((p) => 1 - 3 * exponentialRef.quantile(1 - p, 2)),
      { rtol: 2e-5, atol: 1e-5 },
    );
    expect(expectNoLeak(() => tf.tidy(() => dec.cdf(dec.icdf(ps))))).toBeAllclose(ps, {
      rtol: 1e-4,
    });
    // no quantile: the base has none, or the bijector is not monotone on a scalar base
    expect(() => new d.VonMises(0, 1).expand([3]).icdf(0.5)).toThrow(/icdf is not defined/);
    [e, ln, dec].forEach((x) => x.dispose());
  });
});
