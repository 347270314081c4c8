/**
 * Audit of issues 2 and 14 (session 16), as a TFP / torch.distributions user probes the
 * library: shapes after `expand`, `Independent`, `sample([n, m])`; `logProb` broadcasting of the
 * value against the batch shape; support checks; parameters at float32 extremes; int32 values
 * for the discrete families; TransformedDistribution with chained bijectors against the change
 * of variables by finite differences; mixture moments and CDF; pathwise `rsample` gradients
 * against closed forms; `cdf(icdf(q)) = q`. References: float64 closed forms and @stdlib.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import normalLogpdf from '@stdlib/stats-base-dists-normal-logpdf';
import gammaLogpdf from '@stdlib/stats-base-dists-gamma-logpdf';
import betaLogpdf from '@stdlib/stats-base-dists-beta-logpdf';
import poissonLogpmf from '@stdlib/stats-base-dists-poisson-logpmf';
import binomialLogpmf from '@stdlib/stats-base-dists-binomial-logpmf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { ArgumentError, NotDefinedError, bijectors, distributions } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const d = distributions;
const b = bijectors;
type Dist = distributions.Distribution;

function relErr(a: number, r: number): number {
  return Math.abs(a - r) / Math.max(Math.abs(r), 1e-300);
}
function shapeOf(f: () => tf.Tensor): number[] {
  const before = tf.memory().numTensors;
  const t = f();
  const s = t.shape;
  t.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return s;
}

describe('shapes as TFP / torch define them', () => {
  const scalarFamilies: Array<[string, () => Dist]> = [
    ['Normal', () => new d.Normal(tf.zeros([3]), 1)],
    ['Gamma', () => new d.Gamma([1, 2, 3], 1)],
    ['Beta', () => new d.Beta([1, 2, 3], 2)],
    ['Poisson', () => new d.Poisson([1, 2, 3])],
    ['Bernoulli', () => new d.Bernoulli([0.1, 0.5, 0.9])],
    ['StudentT', () => new d.StudentT([3, 4, 5], 0, 1)],
    ['Laplace', () => new d.Laplace([0, 1, 2], 1)],
    ['Binomial', () => new d.Binomial(5, [0.1, 0.5, 0.9])],
  ];
  for (const [name, make] of scalarFamilies) {
    it(`${name}: sample([4, 2]) is [4, 2, 3]; expand([5, 3]) has batch [5, 3]; logProb of [7, 1, 3] values`, () => {
      const dist = make();
      expect(dist.batchShape).toEqual([3]);
      expect(shapeOf(() => dist.sample([4, 2], 1))).toEqual([4, 2, 3]);
      const e = dist.expand([5, 3]);
      expect(e.batchShape).toEqual([5, 3]);
      expect(e.eventShape).toEqual([]);
      expect(shapeOf(() => e.sample([2], 2))).toEqual([2, 5, 3]);
      const x = dist.sample([7, 1], 3); // [7, 1, 3]
      expect(shapeOf(() => dist.logProb(x))).toEqual([7, 1, 3]);
      // a value of shape [7, 1, 3] broadcast into batch [5, 3]
      expect(shapeOf(() => e.logProb(x))).toEqual([7, 5, 3]);
      const ind = new d.Independent(e, 1);
      expect(ind.batchShape).toEqual([5]);
      expect(ind.eventShape).toEqual([3]);
      expect(shapeOf(() => ind.logProb(x))).toEqual([7, 5]);
      // the Independent sums the expanded base's log-probabilities over the event dim
      const lpI = expectNoLeak(() => ind.logProb(x));
      const lpB = expectNoLeak(() => dist.logProb(x));
      for (let i = 0; i < 7; i++) {
        const s = (lpB[3 * i] as number) + (lpB[3 * i + 1] as number) + (lpB[3 * i + 2] as number);
        for (let j = 0; j < 5; j++) expect(lpI[5 * i + j]).toBeCloseTo(s, 3);
      }
      x.dispose();
      e.dispose();
      dist.dispose();
    });
  }
  it('a scalar value broadcasts into the batch; a value that does not broadcast is an ArgumentError', () => {
    const n = new d.Normal([[0], [1]], [1, 2, 3]); // batch [2, 3]
    expect(n.batchShape).toEqual([2, 3]);
    expect(shapeOf(() => n.logProb(0.5))).toEqual([2, 3]);
    expect(shapeOf(() => n.logProb([0.5, 1, 2]))).toEqual([2, 3]);
    const lp = expectNoLeak(() => n.logProb([0.5, 1, 2]));
    expect(relErr(lp[4] as number, normalLogpdf(1, 1, 2))).toBeLessThan(1e-6);
    const before = tf.memory().numTensors;
    expect(() => n.logProb([1, 2])).toThrow(ArgumentError);
    expect(tf.memory().numTensors).toBe(before);
    n.dispose();
  });
  it('MultivariateNormalDiag: event [2]; expand + toEvent; sample([3, 2]) -> [3, 2, 4, 2]', () => {
    const m = new d.MultivariateNormalDiag([0, 1], [1, 2]);
    const e = m.expand([4]);
    expect(e.batchShape).toEqual([4]);
    expect(e.eventShape).toEqual([2]);
    expect(shapeOf(() => e.sample([3, 2], 1))).toEqual([3, 2, 4, 2]);
    const z6 = tf.zeros([6, 1, 2]);
    const z4 = tf.zeros([4, 2]);
    expect(shapeOf(() => e.logProb(z6))).toEqual([6, 4]);
    const ev = e.toEvent(1);
    expect(ev.batchShape).toEqual([]);
    expect(ev.eventShape).toEqual([4, 2]);
    expect(shapeOf(() => ev.logProb(z4))).toEqual([]);
    z6.dispose();
    z4.dispose();
    e.dispose();
    m.dispose();
  });
  it('Independent with reinterpretedBatchNdims 0 is the base; 2 reinterprets both dims', () => {
    const n = new d.Normal(tf.zeros([2, 3, 4]), 1);
    const i0 = new d.Independent(n, 0);
    expect(i0.batchShape).toEqual([2, 3, 4]);
    expect(i0.eventShape).toEqual([]);
    const i2 = new d.Independent(n, 2);
    expect(i2.batchShape).toEqual([2]);
    expect(i2.eventShape).toEqual([3, 4]);
    const [lp] = expectNoLeak(() =>
      tf.tidy(() => tf.slice(i2.logProb(tf.zeros([3, 4])), [0], [1])),
    );
    expect(relErr(lp as number, 12 * normalLogpdf(0, 0, 1))).toBeLessThan(1e-6);
    const [h] = expectNoLeak(() => tf.tidy(() => tf.slice(i2.entropy(), [0], [1])));
    expect(relErr(h as number, 12 * (0.5 + 0.5 * Math.log(2 * Math.PI)))).toBeLessThan(1e-6);
    expect(() => new d.Independent(n, 4)).toThrow(ArgumentError);
    expect(() => new d.Independent(n, -1)).toThrow(ArgumentError);
    expect(() => new d.Independent(n, 1.5)).toThrow(ArgumentError);
    n.dispose();
  });
  it('sample shapes with an empty sample shape, a zero-size sample and a bad sample shape', () => {
    const g = new d.Gamma([1, 2], 1);
    expect(shapeOf(() => g.sample())).toEqual([2]);
    expect(shapeOf(() => g.sample([0]))).toEqual([0, 2]);
    const before = tf.memory().numTensors;
    expect(() => g.sample([-1])).toThrow(ArgumentError);
    expect(() => g.sample([1.5])).toThrow(ArgumentError);
    expect(tf.memory().numTensors).toBe(before);
    g.dispose();
  });
});

describe('supports: out-of-support values have log-probability -Infinity', () => {
  const cases: Array<[string, () => Dist, number[]]> = [
    ['Gamma', () => new d.Gamma(2, 1), [-1, -1e-6]],
    ['Beta', () => new d.Beta(2, 3), [-0.1, 1.5]],
    ['Exponential', () => new d.Exponential(2), [-3]],
    ['Uniform', () => new d.Uniform(0, 1), [-0.5, 1.5]],
    ['Poisson', () => new d.Poisson(3), [-1, 2.5]],
    ['Binomial', () => new d.Binomial(4, 0.3), [5, -1, 1.5]],
    ['Geometric', () => new d.Geometric(0.3), [-1, 0.5]],
    ['Bernoulli', () => new d.Bernoulli(0.3), [2, 0.5, -1]],
    ['Categorical', () => new d.Categorical([0.2, 0.3, 0.5]), [3, -1, 1.5]],
    ['HalfNormal', () => new d.HalfNormal(1), [-0.1]],
    ['LogNormal', () => new d.LogNormal(0, 1), [-1]],
    ['Pareto', () => new d.Pareto(1, 2), [0.5]],
    ['Weibull', () => new d.Weibull(1, 2), [-1]],
    ['NegativeBinomial', () => new d.NegativeBinomial(3, { probs: 0.4 }), [-1, 0.5]],
  ];
  for (const [name, make, xs] of cases) {
    it(`${name}.logProb(${xs.join(', ')}) = -Infinity, prob = 0`, () => {
      const dist = make();
      const lp = expectNoLeak(() => dist.logProb(xs));
      lp.forEach((v) => expect(v).toBe(-Infinity));
      const p = expectNoLeak(() => dist.prob(xs));
      p.forEach((v) => expect(v).toBe(0));
      dist.dispose();
    });
  }
  it('validateArgs-style: a Dirichlet value off the simplex is an ArgumentError naming value', () => {
    const dir = new d.Dirichlet([1, 2, 3]);
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      dir.logProb([0.5, 0.6, -0.1]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).argument).toBe('value');
    expect(tf.memory().numTensors).toBe(before);
    dir.dispose();
  });
});

describe('parameters at float32 extremes', () => {
  it('Normal with scale 1e-30 and 1e30: logProb, cdf, entropy finite and exact', () => {
    const n = new d.Normal([0, 0], [1e-30, 1e30]);
    const lp = expectNoLeak(() => n.logProb([1e-30, 1e30]));
    // log N(x; 0, s) at x = s: -log s - log(2 pi)/2 - 1/2
    expect(
      relErr(lp[0] as number, -Math.log(1e-30) - 0.5 * Math.log(2 * Math.PI) - 0.5),
    ).toBeLessThan(1e-5);
    expect(
      relErr(lp[1] as number, -Math.log(1e30) - 0.5 * Math.log(2 * Math.PI) - 0.5),
    ).toBeLessThan(1e-5);
    const c = expectNoLeak(() => n.cdf([1e-30, 1e30]));
    c.forEach((v) => expect(relErr(v, normalCdf(1, 0, 1))).toBeLessThan(1e-5));
    const h = expectNoLeak(() => n.entropy());
    expect(
      relErr(h[0] as number, 0.5 + 0.5 * Math.log(2 * Math.PI) + Math.log(1e-30)),
    ).toBeLessThan(1e-5);
    const m = expectNoLeak(() => n.variance());
    expect(m[0]).toBe(0); // 1e-60 underflows float32; as tfjs/torch in float32
    n.dispose();
  });
  it('Gamma with concentration 1e-3 and 1e3: logProb against @stdlib', () => {
    const cases: Array<[number, number, number]> = [
      [1e-3, 1, 1e-4],
      [1e-3, 1, 2],
      [1e3, 1e3, 1],
      [1e3, 1, 1030],
      [0.5, 1e-3, 700],
    ];
    for (const [a, r, x] of cases) {
      const g = new d.Gamma(a, r);
      const [lp] = expectNoLeak(() => g.logProb(x));
      const ref = gammaLogpdf(x, a, r);
      expect(Math.abs((lp as number) - ref), `Gamma(${a}, ${r}) at ${x}`).toBeLessThan(
        2e-5 * Math.max(1, Math.abs(ref)),
      );
      g.dispose();
    }
  });
  it('Beta with concentrations 1e-3 and 1e3: logProb against @stdlib', () => {
    const cases: Array<[number, number, number]> = [
      [1e-3, 1e-3, 0.3],
      [1e3, 1e3, 0.5],
      [1e3, 1e3, 0.52],
      [1e-3, 5, 1e-3],
      [500, 2, 0.995],
    ];
    for (const [a, bb, x] of cases) {
      const be = new d.Beta(a, bb);
      const [lp] = expectNoLeak(() => be.logProb(x));
      const ref = betaLogpdf(x, a, bb);
      expect(Math.abs((lp as number) - ref), `Beta(${a}, ${bb}) at ${x}`).toBeLessThan(
        5e-5 * Math.max(1, Math.abs(ref)),
      );
      be.dispose();
    }
  });
  it('Dirichlet with concentration 1e-3: samples finite, on the simplex, mean matches', () => {
    const dir = new d.Dirichlet([1e-3, 1e-3, 1e-3]);
    const x = dir.sample([2000], 7);
    const v = x.dataSync();
    for (let i = 0; i < 2000; i++) {
      const s = (v[3 * i] as number) + (v[3 * i + 1] as number) + (v[3 * i + 2] as number);
      expect(Number.isFinite(s)).toBe(true);
      expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    }
    // each coordinate is 1 with probability ~1/3 (mass at the vertices)
    let c0 = 0;
    for (let i = 0; i < 2000; i++) c0 += v[3 * i] as number;
    const se = Math.sqrt(((1 / 3) * (2 / 3)) / 2000);
    expect(Math.abs(c0 / 2000 - 1 / 3)).toBeLessThan(5 * se);
    x.dispose();
    dir.dispose();
  });
  it('Poisson with rate 1e-3 and 1e4: logProb against @stdlib; sample mean within 5 SE', () => {
    const p = new d.Poisson([1e-3, 1e4]);
    const lp = expectNoLeak(() =>
      p.logProb([
        [0, 10000],
        [2, 9800],
      ]),
    );
    const refs = [
      poissonLogpmf(0, 1e-3),
      poissonLogpmf(10000, 1e4),
      poissonLogpmf(2, 1e-3),
      poissonLogpmf(9800, 1e4),
    ];
    lp.forEach((v, i) =>
      expect(Math.abs(v - (refs[i] as number))).toBeLessThan(
        1e-4 * Math.max(1, Math.abs(refs[i] as number)),
      ),
    );
    const x = p.sample([4000], 5);
    const m = expectNoLeak(() => tf.mean(x, 0));
    expect(Math.abs((m[1] as number) - 1e4)).toBeLessThan(5 * Math.sqrt(1e4 / 4000));
    x.dispose();
    p.dispose();
  });
});

describe('int32 values for the discrete families', () => {
  const cases: Array<[string, () => Dist, number[], (k: number) => number]> = [
    ['Poisson', () => new d.Poisson(2.5), [0, 1, 4], (k) => poissonLogpmf(k, 2.5)],
    ['Binomial', () => new d.Binomial(6, 0.3), [0, 2, 6], (k) => binomialLogpmf(k, 6, 0.3)],
    ['Bernoulli', () => new d.Bernoulli(0.3), [0, 1, 1], (k) => Math.log(k === 1 ? 0.3 : 0.7)],
    ['Geometric', () => new d.Geometric(0.3), [0, 1, 5], (k) => k * Math.log(0.7) + Math.log(0.3)],
    [
      'Categorical',
      () => new d.Categorical([0.2, 0.3, 0.5]),
      [0, 1, 2],
      (k) => Math.log([0.2, 0.3, 0.5][k] as number),
    ],
  ];
  for (const [name, make, ks, ref] of cases) {
    it(`${name}.logProb(int32) = logProb(float32) = the reference`, () => {
      const dist = make();
      const xi = tf.tensor1d(ks, 'int32');
      const li = expectNoLeak(() => dist.logProb(xi));
      const lf = expectNoLeak(() => dist.logProb(ks));
      ks.forEach((k, i) => {
        expect(li[i]).toBeCloseTo(lf[i] as number, 6);
        expect(Math.abs((li[i] as number) - ref(k))).toBeLessThan(
          1e-5 * Math.max(1, Math.abs(ref(k))),
        );
      });
      const c = expectNoLeak(() => dist.prob(xi));
      ks.forEach((k, i) => expect(relErr(c[i] as number, Math.exp(ref(k)))).toBeLessThan(1e-5));
      xi.dispose();
      dist.dispose();
    });
  }
});

describe('TransformedDistribution with chained bijectors: change of variables', () => {
  /** log p_Y(y) = log p_X(f^{-1}(y)) + log |d f^{-1}/dy| by central differences (float64). */
  function cov(logpx: (x: number) => number, finv: (y: number) => number, y: number): number {
    const h = 1e-6 * Math.max(1, Math.abs(y));
    const deriv = (finv(y + h) - finv(y - h)) / (2 * h);
    return logpx(finv(y)) + Math.log(Math.abs(deriv));
  }
  it('Normal through Chain([Exp, ScalarAffine(2, 1)]) (torch order: affine applied last)', () => {
    // Chain applies its list right to left (TFP): y = exp(2 x + 1)? check both orders by value
    const base = new d.Normal(0.3, 0.7);
    const t = new d.TransformedDistribution(base, [new b.ScalarAffine(2, 1), new b.Exp()]);
    // torch/Pyro: transforms applied in list order: y = exp(2 x + 1)
    const finv = (y: number): number => (Math.log(y) - 1) / 2;
    const ys = [0.5, 2.7, 10, 40];
    const lp = expectNoLeak(() => t.logProb(ys));
    ys.forEach((y, i) => {
      const ref = cov((x) => normalLogpdf(x, 0.3, 0.7), finv, y);
      expect(Math.abs((lp[i] as number) - ref)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref)));
    });
    // samples in the codomain (y > 0), median exp(2*0.3 + 1)
    const x = t.sample([4000], 3);
    const v = Array.from(x.dataSync()).sort((p, q) => p - q);
    expect(v[0]).toBeGreaterThan(0);
    const med = v[2000] as number;
    // median SE: 1/(2 f(m) sqrt(n)) in log space -> relative 2*0.7*1.2533/sqrt(n)
    expect(Math.abs(Math.log(med) - 1.6)).toBeLessThan((5 * 2 * 0.7 * 1.2533) / Math.sqrt(4000));
    x.dispose();
    base.dispose();
  });
  it('Beta through Chain([Sigmoid inverse (Invert), Softplus]) vs finite differences', () => {
    const base = new d.Beta(2, 3);
    const chain = new b.Chain([new b.Softplus(), new b.Invert(new b.Sigmoid())]);
    const t = new d.TransformedDistribution(base, chain);
    // Chain([f, g]) = f(g(x)) (TFP): y = softplus(logit(x)); x = sigmoid(log(expm1(y)))
    const finv = (y: number): number => 1 / (1 + Math.exp(-Math.log(Math.expm1(y))));
    const ys = [0.1, 0.7, 2, 5];
    const lp = expectNoLeak(() => t.logProb(ys));
    ys.forEach((y, i) => {
      const ref = cov((x) => betaLogpdf(x, 2, 3), finv, y);
      expect(Math.abs((lp[i] as number) - ref), `y=${y}`).toBeLessThan(
        2e-4 * Math.max(1, Math.abs(ref)),
      );
    });
    base.dispose();
  });
  it('logProb of the transformed sample = base logProb - forward log-det (shape [n, batch])', () => {
    const base = new d.Gamma([2, 5], [1, 3]);
    const t = new d.TransformedDistribution(base, [
      new b.PowerTransform(0.5),
      new b.ScalarAffine(3, -1),
    ]);
    const x = base.sample([50], 9);
    const ok = expectNoLeak(() =>
      tf.tidy(() => {
        const y = t.bijector.forward(x);
        const ld = t.bijector.forwardLogDetJacobian(x);
        return tf.max(tf.abs(tf.sub(t.logProb(y), tf.sub(base.logProb(x), ld))));
      }),
    );
    expect(ok[0]).toBeLessThan(1e-3);
    x.dispose();
    base.dispose();
  });
  it('cdf of a monotone increasing transform is the base cdf of the inverse', () => {
    const base = new d.Normal(0, 1);
    const t = new d.TransformedDistribution(base, [new b.ScalarAffine(2, 1), new b.Exp()]);
    const ys = [0.5, 2.7, 10];
    const c = expectNoLeak(() => t.cdf(ys));
    ys.forEach((y, i) =>
      expect(relErr(c[i] as number, normalCdf((Math.log(y) - 1) / 2, 0, 1))).toBeLessThan(1e-5),
    );
    // a decreasing transform flips: P(Y <= y) = 1 - F(finv(y))
    const t2 = new d.TransformedDistribution(base, [new b.ScalarAffine(-2, 1)]);
    const c2 = expectNoLeak(() => t2.cdf([0, 3]));
    [0, 3].forEach((y, i) =>
      expect(relErr(c2[i] as number, 1 - normalCdf((1 - y) / 2, 0, 1))).toBeLessThan(1e-5),
    );
    base.dispose();
  });
});

describe('mixtures: moments and cdf by the laws of total expectation and variance', () => {
  const w = [0.2, 0.5, 0.3];
  const mu = [-1, 0.5, 3];
  const sd = [0.5, 1, 2];
  const mean64 = w.reduce((s, wi, k) => s + wi * (mu[k] as number), 0);
  const var64 =
    w.reduce((s, wi, k) => s + wi * ((sd[k] as number) ** 2 + (mu[k] as number) ** 2), 0) -
    mean64 ** 2;
  it('MixtureSameFamily(Categorical, Normal): mean, variance, cdf, logProb', () => {
    const mix = new d.Categorical(w);
    const comp = new d.Normal(mu, sd);
    const m = new d.MixtureSameFamily(mix, comp);
    expect(m.batchShape).toEqual([]);
    expect(m.eventShape).toEqual([]);
    const [mean] = expectNoLeak(() => m.mean());
    const [v] = expectNoLeak(() => m.variance());
    expect(relErr(mean as number, mean64)).toBeLessThan(1e-5);
    expect(relErr(v as number, var64)).toBeLessThan(1e-5);
    const xs = [-2, 0, 1.3, 6];
    const c = expectNoLeak(() => m.cdf(xs));
    const lp = expectNoLeak(() => m.logProb(xs));
    xs.forEach((x, i) => {
      const f = w.reduce((s, wi, k) => s + wi * normalCdf(x, mu[k] as number, sd[k] as number), 0);
      const p = w.reduce(
        (s, wi, k) => s + wi * Math.exp(normalLogpdf(x, mu[k] as number, sd[k] as number)),
        0,
      );
      expect(relErr(c[i] as number, f)).toBeLessThan(1e-5);
      expect(Math.abs((lp[i] as number) - Math.log(p))).toBeLessThan(1e-5);
    });
    // draws: mean within 5 SE
    const x = m.sample([20000], 4);
    const [sm] = expectNoLeak(() => tf.mean(x));
    expect(Math.abs((sm as number) - mean64)).toBeLessThan(5 * Math.sqrt(var64 / 20000));
    x.dispose();
    [mix, comp, m].forEach((t) => t.dispose());
  });
  it('MixtureSameFamily with a batch of mixtures and MVNDiag components: shapes and logProb', () => {
    const mix = new d.Categorical({
      logits: [
        [0, 0],
        [1, -1],
        [0.5, 0.5],
      ],
    }); // batch [3], K = 2
    const comp = new d.MultivariateNormalDiag(
      [
        [
          [0, 0],
          [1, 1],
        ],
      ],
      [
        [
          [1, 1],
          [2, 0.5],
        ],
      ],
    ); // batch [1, 2]: broadcast with the mixture batch [3] (TFP's rule; it was refused)
    const mB = new d.MixtureSameFamily(mix, comp);
    const compE = comp.expand([3, 2]);
    const m = new d.MixtureSameFamily(mix, compE);
    expect(mB.batchShape).toEqual([3]);
    const xb = tf.tensor2d([[0.3, -0.2]]);
    const lpB = expectNoLeak(() => mB.logProb(xb));
    const lpE = expectNoLeak(() => m.logProb(xb));
    lpB.forEach((v, i) => expect(v).toBeCloseTo(lpE[i] as number, 5));
    expect(expectNoLeak(() => mB.mean())).toEqual(expectNoLeak(() => m.mean()));
    expect(expectNoLeak(() => mB.variance())).toEqual(expectNoLeak(() => m.variance()));
    expect(shapeOf(() => mB.sample([4], 2))).toEqual([4, 3, 2]);
    // the broadcast entries draw independently: rows 0 and 2 have the same law, not the same draws
    const sb = mB.sample([1], 5);
    const sv = sb.dataSync();
    expect(sv[0] === sv[4] && sv[1] === sv[5]).toBe(false);
    sb.dispose();
    xb.dispose();
    mB.dispose();
    // batch shapes that do not broadcast are an ArgumentError naming mixtureDistribution
    const comp2 = comp.expand([2, 2]);
    expect(() => new d.MixtureSameFamily(mix, comp2)).toThrow(/mixtureDistribution/);
    comp2.dispose();
    expect(m.batchShape).toEqual([3]);
    expect(m.eventShape).toEqual([2]);
    const x = tf.tensor2d([[0.3, -0.2]]);
    const lp = expectNoLeak(() => m.logProb(x));
    expect(lp.length).toBe(3);
    const logits = [
      [0, 0],
      [1, -1],
      [0.5, 0.5],
    ];
    lp.forEach((v, i) => {
      const l = logits[i] as number[];
      const z = Math.log(Math.exp(l[0] as number) + Math.exp(l[1] as number));
      const c0 = normalLogpdf(0.3, 0, 1) + normalLogpdf(-0.2, 0, 1);
      const c1 = normalLogpdf(0.3, 1, 2) + normalLogpdf(-0.2, 1, 0.5);
      const ref = Math.log(
        Math.exp((l[0] as number) - z + c0) + Math.exp((l[1] as number) - z + c1),
      );
      expect(Math.abs(v - ref)).toBeLessThan(1e-5);
    });
    expect(shapeOf(() => m.sample([5], 1))).toEqual([5, 3, 2]);
    x.dispose();
    [mix, comp, compE, m].forEach((t) => t.dispose());
  });
  it('MixtureGeneral of Normal, Laplace and Gumbel: mean, variance and cdf', () => {
    const mix = new d.Categorical(w);
    const comps = [new d.Normal(-1, 0.5), new d.Laplace(0.5, 1), new d.Gumbel(3, 2)];
    const m = new d.MixtureGeneral(mix, comps);
    const g = 0.5772156649015329;
    const means = [-1, 0.5, 3 + 2 * g];
    const vars = [0.25, 2, (Math.PI ** 2 / 6) * 4];
    const mean = w.reduce((s, wi, k) => s + wi * (means[k] as number), 0);
    const v =
      w.reduce((s, wi, k) => s + wi * ((vars[k] as number) + (means[k] as number) ** 2), 0) -
      mean ** 2;
    const [mm] = expectNoLeak(() => m.mean());
    const [vv] = expectNoLeak(() => m.variance());
    expect(relErr(mm as number, mean)).toBeLessThan(1e-5);
    expect(relErr(vv as number, v)).toBeLessThan(1e-5);
    const x = 1.2;
    const lapCdf = 1 - 0.5 * Math.exp(-(x - 0.5));
    const gumCdf = Math.exp(-Math.exp(-(x - 3) / 2));
    const f = 0.2 * normalCdf(x, -1, 0.5) + 0.5 * lapCdf + 0.3 * gumCdf;
    const [c] = expectNoLeak(() => m.cdf(x));
    expect(relErr(c as number, f)).toBeLessThan(1e-5);
    [mix, ...comps, m].forEach((t) => t.dispose());
  });
  it('mixture errors: component batch not ending in K, wrong mixing type', () => {
    const mix = new d.Categorical([0.5, 0.5]);
    const comp = new d.Normal([0, 1, 2], 1);
    const before = tf.memory().numTensors;
    expect(() => new d.MixtureSameFamily(mix, comp)).toThrow(ArgumentError);
    expect(
      () => new d.MixtureSameFamily(comp as unknown as distributions.Categorical, comp),
    ).toThrow(ArgumentError);
    expect(tf.memory().numTensors).toBe(before);
    mix.dispose();
    comp.dispose();
  });
});

describe('rsample: pathwise gradients of E[f(X)] against closed forms', () => {
  /** Gradient of the MC mean of f(rsample) with respect to the parameter vector `theta`. */
  function pathwise(
    make: (theta: tf.Tensor) => Dist,
    theta0: number[],
    f: (x: tf.Tensor) => tf.Tensor,
    n: number,
  ): number[] {
    const th = tf.tensor1d(theta0);
    const g = expectNoLeak(() =>
      tf.grad((t: tf.Tensor) => {
        const dist = make(t);
        const out = tf.mean(f(dist.rsample([n], 17)));
        dist.dispose();
        return out;
      })(th),
    );
    th.dispose();
    return g;
  }
  it('Normal: d/dmu E[X^2] = 2 mu, d/dsigma E[X^2] = 2 sigma (within MC error)', () => {
    const g = pathwise(
      (t) => new d.Normal(tf.slice(t, [0], [1]), tf.slice(t, [1], [1])),
      [0.7, 1.3],
      tf.square,
      20000,
    );
    // d/dmu: mean of 2x -> SE 2 sigma / sqrt(n); d/dsigma: mean of 2 x eps -> SE ~ 2 sqrt(2 s^2 + mu^2)/sqrt(n)
    expect(Math.abs((g[0] as number) - 1.4)).toBeLessThan((5 * 2 * 1.3) / Math.sqrt(20000));
    expect(Math.abs((g[1] as number) - 2.6)).toBeLessThan(
      (5 * 2 * Math.sqrt(2 * 1.69 + 0.49)) / Math.sqrt(20000),
    );
  });
  it('Gamma: d/dalpha E[X] = 1/beta, d/dbeta E[X] = -alpha/beta^2 (implicit reparameterization)', () => {
    const a = 0.6;
    const r = 2;
    const g = pathwise(
      (t) => new d.Gamma(tf.slice(t, [0], [1]), tf.slice(t, [1], [1])),
      [a, r],
      (x) => x,
      20000,
    );
    // SE of the pathwise estimator of dE[X]/dalpha: sd(dX/dalpha)/sqrt(n); bounded loosely by 3/beta
    expect(Math.abs((g[0] as number) - 1 / r)).toBeLessThan(0.05);
    expect(Math.abs((g[1] as number) + a / (r * r))).toBeLessThan(
      (5 * (Math.sqrt(a) / r ** 2)) / Math.sqrt(20000) + 1e-3,
    );
  });
  it('Beta: d/da E[X] = b/(a+b)^2 (pathwise)', () => {
    const g = pathwise(
      (t) => new d.Beta(tf.slice(t, [0], [1]), tf.slice(t, [1], [1])),
      [2, 3],
      (x) => x,
      20000,
    );
    expect(Math.abs((g[0] as number) - 3 / 25)).toBeLessThan(0.01);
    expect(Math.abs((g[1] as number) + 2 / 25)).toBeLessThan(0.01);
  });
  it('Dirichlet: d/dalpha_0 E[X_0] = (A - alpha_0)/A^2', () => {
    const g = pathwise(
      (t) => new d.Dirichlet(t),
      [1.5, 2, 0.5],
      (x) => tf.slice(x, [0, 0], [-1, 1]),
      20000,
    );
    const A = 4;
    expect(Math.abs((g[0] as number) - (A - 1.5) / A ** 2)).toBeLessThan(0.01);
    expect(Math.abs((g[1] as number) + 1.5 / A ** 2)).toBeLessThan(0.01);
  });
  it('LogNormal, Laplace, StudentT: d/dloc E[X] = 1 (location families)', () => {
    for (const make of [
      (t: tf.Tensor) => new d.LogNormal(t, 0.5),
      (t: tf.Tensor) => new d.Laplace(t, 0.5),
      (t: tf.Tensor) => new d.StudentT(5, t, 0.5),
    ]) {
      const g = pathwise(
        (t) => make(tf.reshape(t, [])),
        [0.2],
        (x) => x,
        4000,
      );
      if (make(tf.scalar(0)) instanceof d.LogNormal) {
        // E[X] = exp(mu + s^2/2): derivative equals the mean itself
        expect(Math.abs((g[0] as number) - Math.exp(0.2 + 0.125))).toBeLessThan(0.05);
      } else {
        expect(g[0]).toBeCloseTo(1, 4);
      }
    }
  });
  it('rsample of a discrete family is refused with a clear error (not a silent sample)', () => {
    const p = new d.Poisson(2);
    expect(p.hasRsample).toBe(false);
    const before = tf.memory().numTensors;
    expect(() => p.rsample([3])).toThrow(/rsample/);
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
  });
});

describe('cdf(icdf(q)) = q and icdf(cdf(x)) = x', () => {
  const qs = [1e-4, 0.01, 0.3, 0.5, 0.9, 0.999];
  const fams: Array<[string, () => Dist]> = [
    ['Normal', () => new d.Normal(1, 2)],
    ['Laplace', () => new d.Laplace(-1, 0.5)],
    ['Cauchy', () => new d.Cauchy(0, 3)],
    ['Gumbel', () => new d.Gumbel(1, 2)],
    ['Logistic', () => new d.Logistic(0, 1.5)],
    ['Exponential', () => new d.Exponential(0.3)],
    ['Uniform', () => new d.Uniform(-2, 5)],
    ['LogNormal', () => new d.LogNormal(0.2, 0.8)],
    ['Weibull', () => new d.Weibull(2, 1.5)],
    ['HalfNormal', () => new d.HalfNormal(2)],
    ['HalfCauchy', () => new d.HalfCauchy(1)],
    ['Gamma', () => new d.Gamma(0.5, 2)],
    ['Beta', () => new d.Beta(0.5, 3)],
    ['StudentT', () => new d.StudentT(3, 0, 1)],
    ['Pareto', () => new d.Pareto(1, 2.5)],
  ];
  for (const [name, make] of fams) {
    it(`${name}`, () => {
      const dist = make();
      let x: number[];
      try {
        x = expectNoLeak(() => dist.icdf(qs));
      } catch (e) {
        dist.dispose();
        // families without an icdf must say so clearly
        expect((e as Error).message).toMatch(/icdf/);
        return;
      }
      x.forEach((v) => expect(Number.isFinite(v)).toBe(true));
      const back = expectNoLeak(() => dist.cdf(x));
      back.forEach((v, i) =>
        expect(Math.abs(v - (qs[i] as number)), `q=${qs[i]}`).toBeLessThan(
          2e-4 * Math.max(qs[i] as number, 1e-2),
        ),
      );
      // monotone
      for (let i = 1; i < x.length; i++) expect(x[i]).toBeGreaterThan(x[i - 1] as number);
      dist.dispose();
    });
  }
});

describe('TransformedDistribution moments, icdf and entropy', () => {
  it('ScalarAffine: mean a mu + b, variance a^2 s^2, entropy H + log|a|; icdf through a decreasing map', () => {
    const base = new d.Gamma(3, 2);
    const t = new d.TransformedDistribution(base, new b.ScalarAffine(-2, 5));
    const [m] = expectNoLeak(() => t.mean());
    const [v] = expectNoLeak(() => t.variance());
    const [h] = expectNoLeak(() => t.entropy());
    const [hb] = expectNoLeak(() => base.entropy());
    expect(relErr(m as number, -2 * 1.5 + 5)).toBeLessThan(1e-6);
    expect(relErr(v as number, 4 * 0.75)).toBeLessThan(1e-6);
    expect(relErr(h as number, (hb as number) + Math.log(2))).toBeLessThan(1e-6);
    base.dispose();
    // Y = 5 - 2X is decreasing: F_Y^{-1}(q) = 5 - 2 F_X^{-1}(1 - q) (a Laplace base: icdf defined)
    const lb = new d.Laplace(0.5, 1.5);
    const tl = new d.TransformedDistribution(lb, new b.ScalarAffine(-2, 5));
    const qs = [0.1, 0.5, 0.9];
    const y = expectNoLeak(() => tl.icdf(qs));
    y.forEach((yi, i) => {
      const q = 1 - (qs[i] as number);
      const xq = q < 0.5 ? 0.5 + 1.5 * Math.log(2 * q) : 0.5 - 1.5 * Math.log(2 - 2 * q);
      expect(Math.abs(yi - (5 - 2 * xq))).toBeLessThan(1e-4);
    });
    const back = expectNoLeak(() => tl.cdf(y));
    back.forEach((c, i) => expect(Math.abs(c - (qs[i] as number))).toBeLessThan(1e-5));
    lb.dispose();
  });
  it('a base without an icdf (VonMises, as torch and TFP) gives NotDefinedError through the transform', () => {
    const base = new d.VonMises(0, 2);
    const t = new d.TransformedDistribution(base, new b.ScalarAffine(-2, 5));
    const before = tf.memory().numTensors;
    expect(() => t.icdf([0.5])).toThrow(NotDefinedError);
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
  });
  it('Exp of a Normal: mean has no closed form here, a clear NotDefinedError (not NaN)', () => {
    const base = new d.Normal(0, 1);
    const t = new d.TransformedDistribution(base, new b.Exp());
    const before = tf.memory().numTensors;
    expect(() => t.mean()).toThrow(/mean/);
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
  });
});
