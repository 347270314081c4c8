/**
 * What the conformance table does not cover for the families ported from Pyro/NumPyro:
 * brute-force sums and quadratures (mixtures, BetaBinomial, DirichletMultinomial, Concrete
 * densities), identities between families, Monte Carlo laws of the relaxed samplers, broadcasting
 * of the wrappers, enumeration, gradients against finite differences, validation and memory.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, bijectors, distributions } from '../../src/index.js';
import normalRef from '@stdlib/stats-base-dists-normal';
import nbRef from '@stdlib/stats-base-dists-negative-binomial';
import { ndtri } from '../../src/distributions/ndtri.js';
import gammaln from '@stdlib/math-base-special-gammaln';
import betaln from '@stdlib/math-base-special-betaln';
import { expectNoLeak, finiteDiff } from '../helpers.js';

const d = distributions;

const logFact = (k: number): number => {
  let s = 0;
  for (let j = 2; j <= k; j++) s += Math.log(j);
  return s;
};

function read(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

describe('MixtureSameFamily', () => {
  it('logProb is the explicit log of the weighted sum, for multivariate components', () => {
    // batch [2], K = 3 components, event [2] (MultivariateNormalDiag)
    const w = [
      [0.2, 0.5, 0.3],
      [0.6, 0.1, 0.3],
    ];
    const loc = tf.tensor3d([
      [
        [0, 1],
        [2, -1],
        [-1, -1],
      ],
      [
        [1, 1],
        [0, 0],
        [3, 2],
      ],
    ]);
    const scale = tf.tensor3d(
      [
        [0.5, 1],
        [1.5, 0.7],
        [1, 1],
        [0.3, 2],
        [1, 0.4],
        [0.8, 0.9],
      ].flat(),
      [2, 3, 2],
    );
    const cat = new d.Categorical({ probs: w });
    const comp = new d.MultivariateNormalDiag(loc, scale);
    const mix = new d.MixtureSameFamily(cat, comp);
    expect(mix.batchShape).toEqual([2]);
    expect(mix.eventShape).toEqual([2]);
    const x = tf.tensor3d([
      [
        [0.5, 0.2],
        [1, 1.5],
      ],
      [
        [-2, 1],
        [0, 3],
      ],
    ]); // [2 samples, batch 2, event 2]
    const got = expectNoLeak(() => mix.logProb(x));
    const lv = loc.arraySync() as number[][][];
    const sv = scale.arraySync() as number[][][];
    const xv = x.arraySync() as number[][][];
    const want: number[] = [];
    for (let s = 0; s < 2; s++) {
      for (let b = 0; b < 2; b++) {
        let total = 0;
        for (let k = 0; k < 3; k++) {
          let dens = 1;
          for (let e = 0; e < 2; e++) {
            const z = (xv[s]![b]![e]! - lv[b]![k]![e]!) / sv[b]![k]![e]!;
            dens *= Math.exp(-0.5 * z * z) / (sv[b]![k]![e]! * Math.sqrt(2 * Math.PI));
          }
          total += w[b]![k]! * dens;
        }
        want.push(Math.log(total));
      }
    }
    expect(got).toBeAllclose(want, { rtol: 1e-5, atol: 1e-5 });
    // samples: shape and Monte Carlo mean within 5 standard errors of the closed form
    const n = 20000;
    const draws = mix.sample([n], 5);
    expect(draws.shape).toEqual([n, 2, 2]);
    const m = read(tf.mean(draws, 0));
    const v = read(tf.moments(draws, 0).variance);
    const mean = read(mix.mean());
    const variance = read(mix.variance());
    mean.forEach((mu, i) => {
      expect(Math.abs(m[i]! - mu)).toBeLessThan((5 * Math.sqrt(variance[i]!)) / Math.sqrt(n));
      expect(Math.abs(v[i]! - variance[i]!)).toBeLessThan(0.06 * variance[i]!);
    });
    draws.dispose();
    tf.dispose([loc, scale, x]);
    cat.dispose();
    comp.dispose();
  });

  it('a scalar-batch mixing distribution broadcasts over the component batch', () => {
    const cat = new d.Categorical({ logits: [0, Math.log(3)] }); // probs [0.25, 0.75]
    const comp = new d.Normal(
      [
        [0, 4],
        [1, -1],
        [2, 2],
      ],
      1,
    );
    const mix = new d.MixtureSameFamily(cat, comp);
    expect(mix.batchShape).toEqual([3]);
    expect(expectNoLeak(() => mix.sample([5, 4])).length).toBe(60);
    expect(expectNoLeak(() => mix.mean())).toBeAllclose([3, -0.5, 2], { rtol: 1e-6 });
    // a value broadcasting against the batch: [4, 1] -> [4, 3]
    const lp = mix.logProb(tf.zeros([4, 1]));
    expect(lp.shape).toEqual([4, 3]);
    lp.dispose();
    expect(() => mix.logProb(tf.zeros([2]))).toThrow(ArgumentError);
    comp.dispose();
    cat.dispose();
  });

  it('logProb is -Infinity (not NaN) outside every component support and has exact gradients', () => {
    const cat = new d.Categorical({ probs: [0.4, 0.6] });
    const comp = new d.Poisson([1, 5]);
    const mix = new d.MixtureSameFamily(cat, comp);
    expect(expectNoLeak(() => mix.logProb([-1, 0.5]))).toEqual([-Infinity, -Infinity]);
    comp.dispose();
    cat.dispose();
    // d/dloc of log p(x) against a central difference (float64 reference of the mixture)
    const x = 0.7;
    const lp = (l0: number, l1: number): number =>
      Math.log(
        0.3 * Math.exp(-0.5 * (x - l0) ** 2) + (0.7 * Math.exp(-0.5 * ((x - l1) / 2) ** 2)) / 2,
      );
    const locs = tf.tensor1d([-0.5, 1.5]);
    const g = tf.grad((l: tf.Tensor) =>
      new d.MixtureSameFamily(
        new d.Categorical({ probs: [0.3, 0.7] }),
        new d.Normal(l, [1, 2]),
      ).logProb(x),
    )(locs);
    const h = 1e-5;
    expect(read(g)).toBeAllclose(
      [
        (lp(-0.5 + h, 1.5) - lp(-0.5 - h, 1.5)) / (2 * h),
        (lp(-0.5, 1.5 + h) - lp(-0.5, 1.5 - h)) / (2 * h),
      ],
      { rtol: 1e-3, atol: 1e-5 },
    );
    locs.dispose();
  });

  it('a mixture of Bernoullis enumerates {0, 1} and sums to 1', () => {
    const cat = new d.Categorical({ probs: [0.5, 0.5] });
    const comp = new d.Bernoulli({ probs: [0.1, 0.7] });
    const mix = new d.MixtureSameFamily(cat, comp);
    const e = mix.enumerateSupport();
    expect(e.arraySync()).toEqual([0, 1]);
    expect(expectNoLeak(() => mix.prob(e))).toBeAllclose([0.6, 0.4], { rtol: 1e-6 });
    tf.dispose([e]);
    comp.dispose();
    cat.dispose();
  });
});

describe('OneHotCategorical', () => {
  it('enumerates the K one-hot vectors over the batch; their probabilities sum to 1', () => {
    const oh = new d.OneHotCategorical({
      probs: tf.tensor2d([0.2, 0.3, 0.5, 0.1, 0.1, 0.8], [2, 3]),
    });
    const e = oh.enumerateSupport();
    expect(e.shape).toEqual([3, 2, 3]);
    expect(oh.enumerateSupport(false).shape).toEqual([3, 1, 3]);
    expect(read(tf.tidy(() => tf.sum(oh.prob(e), 0)))).toBeAllclose([1, 1], { atol: 1e-6 });
    e.dispose();
    expect(() => oh.enumerateSupport('yes' as never)).toThrow(/expand/);
    expect(() => oh.logProb([0, 1, 1])).toThrow(/oneHot/);
    expect(oh.support.isDiscrete).toBe(true);
    oh.dispose();
  });
  it('draws are the Categorical draws as one-hot vectors (same seed, same categories)', () => {
    const logits = [0.3, -1, 2, 0];
    const oh = new d.OneHotCategorical({ logits });
    const cat = new d.Categorical({ logits });
    const a = read(tf.tidy(() => tf.argMax(oh.sample([200], 9), -1).toFloat()));
    const b = read(cat.sample([200], 9));
    expect(a).toEqual(b);
    const kl = new d.OneHotCategorical({ probs: [0.2, 0.8] });
    const kr = new d.OneHotCategorical({ probs: [0.5, 0.5] });
    const want = 0.2 * Math.log(0.4) + 0.8 * Math.log(1.6);
    expect(expectNoLeak(() => d.klDivergence(kl, kr))).toBeAllclose([want], { rtol: 1e-5 });
    [oh, cat, kl, kr].forEach((x) => x.dispose());
  });
});

describe('Relaxed (Concrete) families', () => {
  it('RelaxedBernoulli density integrates to 1 and P(X > 1/2) = sigmoid(logits) for any temperature', () => {
    for (const t of [0.3, 1, 3]) {
      const rb = new d.RelaxedBernoulli(t, { logits: 0.8 });
      const n = 200000;
      const grid = tf.tidy(() => tf.div(tf.add(tf.range(0, n, 1, 'float32'), 0.5), n));
      // substitute x = sigmoid(y) on y in [-16, 16] (float32 keeps x inside (0, 1) there); the
      // mass of that range is P(|Y| <= 16) = sigma(16 t - l) - sigma(-16 t - l), Y = logit(X)
      const total = read(
        tf.tidy(() => {
          const y = tf.sub(tf.mul(grid, 32), 16);
          const x = tf.sigmoid(y);
          const jac = tf.mul(x, tf.sub(1, x));
          return tf.mul(tf.sum(tf.mul(tf.exp(rb.logProb(x)), jac)), 32 / n);
        }),
      )[0]!;
      grid.dispose();
      const sig = (v: number): number => 1 / (1 + Math.exp(-v));
      expect(total).toBeCloseTo(sig(16 * t - 0.8) - sig(-16 * t - 0.8), 3);
      const x = rb.sample([40000], 4);
      const frac = read(tf.tidy(() => tf.mean(tf.cast(tf.greater(x, 0.5), 'float32'))))[0]!;
      const p = 1 / (1 + Math.exp(-0.8));
      expect(Math.abs(frac - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / 40000));
      x.dispose();
      rb.dispose();
    }
  });

  it('RelaxedOneHotCategorical with K = 2 has the RelaxedBernoulli density (logits l1 - l0)', () => {
    const ro = new d.RelaxedOneHotCategorical(0.7, { logits: [0.4, -0.5] });
    const rb = new d.RelaxedBernoulli(0.7, { logits: -0.9 });
    const x1 = [0.1, 0.37, 0.8, 0.99];
    const a = expectNoLeak(() => ro.logProb(x1.map((v) => [1 - v, v])));
    const b = expectNoLeak(() => rb.logProb(x1));
    expect(a).toBeAllclose(b, { rtol: 1e-5, atol: 1e-5 });
    ro.dispose();
    rb.dispose();
  });

  it('RelaxedOneHotCategorical density integrates to 1 over the 3-simplex (midpoint rule)', () => {
    const ro = new d.RelaxedOneHotCategorical(1.2, { logits: [0.3, -0.2, 0.6] });
    const m = 300;
    const pts: number[] = [];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        const a = (i + 0.5) / m;
        const b = (j + 0.5) / m;
        if (a + b < 1) pts.push(a, b, 1 - a - b);
      }
    }
    const x = tf.tensor2d(pts, [pts.length / 3, 3]);
    const total = read(tf.tidy(() => tf.div(tf.sum(ro.prob(x)), m * m)))[0]!;
    x.dispose();
    expect(total).toBeCloseTo(1, 2);
    ro.dispose();
  });

  it('the argmax of a Gumbel-softmax draw is Categorical(probs) for any temperature', () => {
    const probs = [0.1, 0.6, 0.3];
    const ro = new d.RelaxedOneHotCategorical([0.2, 5], { probs: [probs, probs] });
    const n = 30000;
    const idx = tf.tidy(() => tf.argMax(ro.sample([n], 12), -1)); // [n, 2]
    const counts = tf.tidy(() => tf.sum(tf.oneHot(idx, 3), 0).toFloat()); // [2, 3]
    const c = read(counts);
    idx.dispose();
    c.forEach((cnt, i) => {
      const p = probs[i % 3]!;
      expect(Math.abs(cnt / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
    });
    ro.dispose();
  });

  it('supports map through bijectTo: sigmoid for RelaxedBernoulli, stick-breaking for the simplex', () => {
    const rb = new d.RelaxedBernoulli(0.5, { probs: 0.3 });
    const ro = new d.RelaxedOneHotCategorical(0.5, { probs: [0.3, 0.7] });
    const b1 = d.bijectTo(rb.support);
    const b2 = d.bijectTo(ro.support);
    expect(b1).toBeInstanceOf(bijectors.Sigmoid);
    expect(b2).toBeInstanceOf(bijectors.StickBreaking);
    b1.dispose();
    b2.dispose();
    rb.dispose();
    ro.dispose();
  });
});

describe('zero-inflated families', () => {
  it('gate and gateLogits agree; zero mass and gradient in the gate logits', () => {
    const a = new d.ZeroInflatedPoisson([2, 4], { gate: [0.25, 0.6] });
    const b = new d.ZeroInflatedPoisson([2, 4], {
      gateLogits: [Math.log(0.25 / 0.75), Math.log(0.6 / 0.4)],
    });
    const k = [
      [0, 0],
      [1, 5],
      [3, 0],
    ];
    expect(expectNoLeak(() => a.logProb(k))).toBeAllclose(
      expectNoLeak(() => b.logProb(k)),
      { rtol: 1e-5, atol: 1e-6 },
    );
    const x = a.sample([40000], 3);
    const zeros = read(tf.tidy(() => tf.mean(tf.cast(tf.equal(x, 0), 'float32'), 0)));
    x.dispose();
    [0.25 + 0.75 * Math.exp(-2), 0.6 + 0.4 * Math.exp(-4)].forEach((p, i) => {
      expect(Math.abs(zeros[i]! - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / 40000));
    });
    a.dispose();
    b.dispose();
    // d/dl log P(0) for log P(0) = log(sigmoid(l) + (1 - sigmoid(l)) e^-rate)
    const ref = (l: number): number => {
      const g = 1 / (1 + Math.exp(-l));
      return Math.log(g + (1 - g) * Math.exp(-3));
    };
    const l = tf.scalar(-0.4);
    const grad = read(
      tf.grad((t: tf.Tensor) => new d.ZeroInflatedPoisson(3, { gateLogits: t }).logProb(0))(l),
    )[0]!;
    l.dispose();
    expect(grad).toBeCloseTo((ref(-0.4 + 1e-5) - ref(-0.4 - 1e-5)) / 2e-5, 4);
  });

  it('gradients flow when a scalar gate broadcasts against a batch of rates', () => {
    // sum_i log P(k_i; rate_i, gate = sigmoid(l)) with one scalar gate logit on the tape:
    // d/drate_i and d/dl against float64 central differences
    const ks = [0, 2, 0, 5];
    const lam0 = [1.5, 2, 0.5, 4];
    const ref = (lam: number[], l: number): number => {
      const g = 1 / (1 + Math.exp(-l));
      return lam.reduce((acc, r, i) => {
        const k = ks[i]!;
        return (
          acc + Math.log((k === 0 ? g : 0) + (1 - g) * Math.exp(k * Math.log(r) - r - logFact(k)))
        );
      }, 0);
    };
    const rates = tf.tensor1d(lam0);
    const gl = tf.scalar(-0.6);
    const grads = tf.grads((r: tf.Tensor, l: tf.Tensor) =>
      tf.sum(new d.ZeroInflatedPoisson(r, { gateLogits: l }).logProb(ks)),
    )([rates, gl]);
    const [gr, gg] = grads.map(read) as [number[], number[]];
    tf.dispose([rates, gl]);
    const h = 1e-6;
    const want = lam0.map((_, i) => {
      const up = [...lam0];
      const dn = [...lam0];
      up[i]! += h;
      dn[i]! -= h;
      return (ref(up, -0.6) - ref(dn, -0.6)) / (2 * h);
    });
    expect(gr).toBeAllclose(want, { rtol: 1e-4, atol: 1e-5 });
    expect(gg).toBeAllclose([(ref(lam0, -0.6 + h) - ref(lam0, -0.6 - h)) / (2 * h)], {
      rtol: 1e-4,
      atol: 1e-5,
    });
  });

  it('ZeroInflatedDistribution wraps any scalar base; errors name the argument and leak nothing', () => {
    const base = new d.Binomial(5, { probs: 0.4 });
    const zi = new d.ZeroInflatedDistribution(base, { gate: [0.1, 0.5] });
    expect(zi.batchShape).toEqual([2]);
    expect(zi.support.name).toBe(base.support.name);
    const e = zi.enumerateSupport();
    expect(read(tf.tidy(() => tf.sum(zi.prob(e), 0)))).toBeAllclose([1, 1], { atol: 1e-5 });
    e.dispose();
    zi.dispose();
    expect(base.probs.isDisposed).toBe(false); // the base stays the caller's
    base.dispose();
    const mvn = new d.MultivariateNormalDiag([0, 0], [1, 1]);
    expect(() => new d.ZeroInflatedDistribution(mvn, { gate: 0.1 })).toThrow(/base/);
    mvn.dispose();
    const before = tf.memory().numTensors;
    expect(() => new d.ZeroInflatedPoisson([1, 2], { gate: [0.5, 2] })).toThrow(/gate/);
    expect(() => new d.ZeroInflatedPoisson([1, 2], {})).toThrow(/gate\/gateLogits/);
    expect(() => new d.ZeroInflatedPoisson([1, 2], { gate: [0.1, 0.2, 0.3] })).toThrow(
      ArgumentError,
    );
    expect(tf.memory().numTensors).toBe(before);
    // the subclasses own the base they build
    const zip = new d.ZeroInflatedPoisson([1, 2], { gate: 0.3 });
    zip.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('compound count families', () => {
  it('BetaBinomial pmf sums to 1 and equals the Beta-integrated Binomial (quadrature)', () => {
    const a = 1.7;
    const b = 2.4;
    const n = 9;
    const bb = new d.BetaBinomial(a, b, n);
    const e = bb.enumerateSupport();
    const pmf = read(bb.prob(e));
    e.dispose();
    expect(pmf.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    // int_0^1 C(n,k) p^k (1-p)^(n-k) Beta(p; a, b) dp by the midpoint rule after p = u^2
    // (removes the p^(a-1) endpoint behaviour), normalized by the same rule's Beta integral
    const m = 20000;
    const quad = (k: number): number => {
      let s = 0;
      let z = 0;
      for (let i = 0; i < m; i++) {
        const u = (i + 0.5) / m;
        const p = u * u;
        const w = 2 * u * p ** (a - 1) * (1 - p) ** (b - 1);
        z += w;
        let c = 1;
        for (let j = 0; j < k; j++) c = (c * (n - j)) / (j + 1);
        s += w * c * p ** k * (1 - p) ** (n - k);
      }
      return s / z;
    };
    pmf.forEach((v, k) => expect(v).toBeCloseTo(quad(k), 4));
    bb.dispose();
  });

  it('DirichletMultinomial sums to 1 over all count vectors and reduces to BetaBinomial at K = 2', () => {
    const alpha = [0.8, 1.5, 2.2];
    const n = 6;
    const dm = new d.DirichletMultinomial(alpha, n);
    const xs: number[][] = [];
    for (let i = 0; i <= n; i++) for (let j = 0; j <= n - i; j++) xs.push([i, j, n - i - j]);
    const total = read(tf.tidy(() => tf.sum(dm.prob(xs))))[0]!;
    expect(total).toBeCloseTo(1, 5);
    expect(() => dm.logProb([1, 1, 1])).toThrow(/multinomial\(6\)/);
    dm.dispose();
    const dm2 = new d.DirichletMultinomial([1.3, 0.6], 7);
    const bb = new d.BetaBinomial(1.3, 0.6, 7);
    const ks = [0, 2, 5, 7];
    expect(expectNoLeak(() => dm2.logProb(ks.map((k) => [k, 7 - k])))).toBeAllclose(
      expectNoLeak(() => bb.logProb(ks)),
      { rtol: 1e-5, atol: 1e-5 },
    );
    const s = dm2.sample([3000], 4);
    const s0 = read(tf.tidy(() => tf.squeeze(tf.slice(s, [0, 0], [-1, 1]))));
    expect(read(tf.tidy(() => tf.sum(s, -1))).every((v) => v === 7)).toBe(true);
    s.dispose();
    const mean = s0.reduce((acc, v) => acc + v, 0) / s0.length;
    const bm = read(bb.mean())[0]!;
    const bv = read(bb.variance())[0]!;
    expect(Math.abs(mean - bm)).toBeLessThan(5 * Math.sqrt(bv / s0.length));
    dm2.dispose();
    bb.dispose();
  });

  it('GammaPoisson equals NegativeBinomial(alpha, probs = 1 / (1 + beta))', () => {
    const gp = new d.GammaPoisson([0.7, 3], [2, 0.4]);
    const nb = new d.NegativeBinomial([0.7, 3], { probs: [1 / 3, 1 / 1.4] });
    const k = [
      [0, 0],
      [2, 7],
      [10, 1],
    ];
    expect(expectNoLeak(() => gp.logProb(k))).toBeAllclose(
      expectNoLeak(() => nb.logProb(k)),
      {
        rtol: 1e-5,
        atol: 1e-5,
      },
    );
    expect(expectNoLeak(() => gp.cdf(k))).toBeAllclose(
      expectNoLeak(() => nb.cdf(k)),
      {
        rtol: 1e-5,
        atol: 1e-6,
      },
    );
    gp.dispose();
    nb.dispose();
  });

  it('GammaPoisson log-probabilities stay float32-accurate at large counts (@stdlib)', () => {
    // [alpha, beta, k]: the lgamma form gave -6.94 for -7.02, -9.25 for -7.68, -9.05 for -10.48
    const cases = [
      [1e5, 1, 1e5],
      [1e6, 2, 5e5],
      [2e4, 0.01, 2e6],
    ] as const;
    for (const [a, b, k] of cases) {
      const gp = new d.GammaPoisson(a, b);
      const lp = expectNoLeak(() => gp.logProb(k));
      expect(lp).toBeAllclose([nbRef.logpmf(k, a, b / (1 + b))], { rtol: 2e-5 });
      gp.dispose();
    }
  });
});

describe('BetaBinomial and DirichletMultinomial at small and huge parameters and counts', () => {
  const bbRef = (a: number, b: number, n: number, k: number): number =>
    gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1) + betaln(k + a, n - k + b) - betaln(a, b);
  const dmRef = (alpha: number[], x: number[]): number => {
    const n = x.reduce((s, v) => s + v, 0);
    const a0 = alpha.reduce((s, v) => s + v, 0);
    let r = gammaln(n + 1) + gammaln(a0) - gammaln(n + a0);
    x.forEach((xi, i) => {
      const ai = alpha[i]!;
      r += gammaln(xi + ai) - gammaln(xi + 1) - gammaln(ai);
    });
    return r;
  };

  it('BetaBinomial log-probabilities match @stdlib over a grid of parameters and counts', () => {
    // the lgamma form gave (2, 3, 1e6) at 4e5: -13.5 for -13.2685; (50, 50, 1e5) at 5e4: -9.5625
    // for -9.4391; (1e6, 1e6, 1e6) at 5e5: -11 for -7.336; (0.5, 0.5, 1e6) at 1e6: -6.14 for -7.48
    const params = [1e-3, 0.4, 2, 50, 1e4, 1e6];
    const counts = [0, 1, 7, 1e3, 1e6];
    for (const a of params) {
      for (const b of params) {
        for (const n of counts) {
          const ks = [
            ...new Set([0, 1, Math.floor(n / 3), Math.round((n * a) / (a + b)), n]),
          ].filter((k) => k <= n);
          const bb = new d.BetaBinomial(a, b, n);
          const lp = expectNoLeak(() => bb.logProb(ks));
          bb.dispose();
          const ref = ks.map((k) => bbRef(a, b, n, k));
          ks.forEach((k, i) => {
            const tol = 2e-5 * Math.max(1, Math.abs(ref[i]!));
            expect(Math.abs(lp[i]! - ref[i]!), `(${a}, ${b}, ${n}) at ${k}`).toBeLessThan(tol);
          });
        }
      }
    }
  });

  it('BetaBinomial gradients in both concentrations match finite differences of @stdlib', () => {
    const cases = [
      [2, 3, 1e6, 4e5],
      [0.01, 3, 1e4, 0],
      [0.5, 0.5, 100, 99],
      [1e4, 2e4, 1e6, 3.3e5],
    ] as const;
    for (const [a, b, n, k] of cases) {
      const grad = tf.grads((x: tf.Tensor, y: tf.Tensor) => {
        const bb = new d.BetaBinomial(x, y, n);
        const lp = bb.logProb(k);
        bb.dispose();
        return lp;
      });
      const before = tf.memory().numTensors;
      const at = tf.scalar(a);
      const bt = tf.scalar(b);
      const [ga, gb] = grad([at, bt]);
      const got = [read(ga!)[0]!, read(gb!)[0]!];
      at.dispose();
      bt.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const fd = finiteDiff(([x, y]) => bbRef(x!, y!, n, k), [a, b], Math.min(a, b) * 1e-4);
      expect(got, `(${a}, ${b}, ${n}) at ${k}`).toBeAllclose(fd, { rtol: 1e-4, atol: 1e-6 });
    }
  });

  it('DirichletMultinomial log-probabilities match @stdlib at large counts and concentrations', () => {
    // the lgamma form gave -26.25 for -25.872 ([2, 3, 4] at [3e5, 3e5, 4e5]) and -9 for -8.762
    // ([0.1, 0.2, 0.3] at [1e6, 0, 0])
    const cases: [number[], number[]][] = [
      [
        [2, 3, 4],
        [3e5, 3e5, 4e5],
      ],
      [
        [0.1, 0.2, 0.3],
        [1e6, 0, 0],
      ],
      [
        [1e5, 1e5, 1e5],
        [3e5, 3e5, 4e5],
      ],
      [
        [1e-3, 5, 1e6, 0.5],
        [0, 10, 2e5, 1],
      ],
      [[2.5], [40]],
      [
        [0.7, 1.2],
        [0, 0],
      ],
    ];
    for (const [alpha, x] of cases) {
      const n = x.reduce((s, v) => s + v, 0);
      const dm = new d.DirichletMultinomial(alpha, n);
      const lp = expectNoLeak(() => dm.logProb(x));
      dm.dispose();
      const ref = dmRef(alpha, x);
      expect(Math.abs(lp[0]! - ref), `[${alpha.join(', ')}] at [${x.join(', ')}]`).toBeLessThan(
        2e-5 * Math.max(1, Math.abs(ref)),
      );
    }
  });
});

describe('continuous families: identities and tails', () => {
  it('ndtri matches @stdlib normal quantiles and has the exact derivative 1/phi(x)', () => {
    const ps = [1e-10, 1e-4, 0.01, 0.02425, 0.1, 0.5, 0.7, 0.975, 0.99, 0.9999];
    const p = tf.tensor1d(ps);
    const [x, g] = tf.tidy(() => {
      const q = ndtri(p);
      const grad = tf.grad((t: tf.Tensor) => tf.sum(ndtri(t)))(p);
      return [Array.from(q.dataSync()), Array.from(grad.dataSync())];
    }) as [number[], number[]];
    p.dispose();
    const quantile = (
      normalRef as unknown as { quantile: (p: number, m: number, s: number) => number }
    ).quantile;
    // far tail (below @stdlib's range): Phi^{-1}(1e-30) = -11.46403 (Acklam's tail formula)
    expect(read(tf.tidy(() => ndtri(tf.scalar(1e-30))))[0]).toBeCloseTo(-11.464, 2);
    ps.forEach((pi, i) => {
      const ref = quantile(pi, 0, 1);
      expect(x[i]).toBeCloseTo(ref, 4);
      const dens = Math.exp(-0.5 * ref * ref) / Math.sqrt(2 * Math.PI);
      expect(g[i]! * dens).toBeCloseTo(1, 3);
    });
  });

  it('TruncatedNormal far in a tail: draws stay in bounds, moments match, gradients are finite', () => {
    const tn = new d.TruncatedNormal(0, 1, 6);
    const x = tn.sample([20000], 3);
    const xs = Array.from(x.dataSync());
    x.dispose();
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(6);
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const mean = read(tn.mean())[0]!;
    const sd = Math.sqrt(read(tn.variance())[0]!);
    const nf = normalRef as unknown as Record<string, (x: number, m: number, s: number) => number>;
    expect(mean).toBeCloseTo(nf.pdf!(6, 0, 1) / nf.cdf!(-6, 0, 1), 3); // phi(6) / Q(6)
    expect(Math.abs(m - mean)).toBeLessThan((5 * sd) / Math.sqrt(xs.length));
    expect(Number.isFinite(read(tn.logProb(6.2))[0]!)).toBe(true);
    tn.dispose();
    // an upper-only bound: the missing lower bound must not give NaN gradients
    const objective = (loc: number): number =>
      tf.tidy(
        () =>
          tf
            .mean(new d.TruncatedNormal(tf.scalar(loc), 1.3, undefined, 0.5).rsample([500], 8))
            .dataSync()[0]!,
      );
    const l = tf.scalar(0.2);
    const g = read(
      tf.grad((t: tf.Tensor) =>
        tf.mean(new d.TruncatedNormal(t, 1.3, undefined, 0.5).rsample([500], 8)),
      )(l),
    )[0]!;
    l.dispose();
    expect(Number.isFinite(g)).toBe(true);
    expect(g).toBeCloseTo((objective(0.21) - objective(0.19)) / 0.02, 2);
  });

  it('Chi2 is a Gamma(k/2, 1/2): instanceof, KL to that Gamma is 0', () => {
    const c = new d.Chi2(3);
    const g = new d.Gamma(1.5, 0.5);
    expect(c).toBeInstanceOf(d.Gamma);
    expect(expectNoLeak(() => d.klDivergence(c, g))).toBeAllclose([0], { atol: 1e-6 });
    c.dispose();
    g.dispose();
    const before = tf.memory().numTensors;
    new d.Chi2([1, 2, 3]).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('GaussianRandomWalk equals the MultivariateNormal with covariance s^2 min(i, j)', () => {
    const s = 0.8;
    const t = 4;
    const cov = Array.from({ length: t }, (_, i) =>
      Array.from({ length: t }, (_, j) => s * s * (Math.min(i, j) + 1)),
    );
    const rw = new d.GaussianRandomWalk(s, t);
    const mvn = new d.MultivariateNormal(tf.zeros([t]), { covarianceMatrix: cov });
    const x = [
      [0.3, -0.2, 1, 0.4],
      [2, 1, 1.5, -1],
    ];
    expect(expectNoLeak(() => rw.logProb(x))).toBeAllclose(
      expectNoLeak(() => mvn.logProb(x)),
      {
        rtol: 1e-5,
        atol: 1e-5,
      },
    );
    rw.dispose();
    mvn.dispose();
  });

  it('MultivariateStudentT in one dimension is StudentT; its draws have nu/(nu-2) Sigma variance', () => {
    const mvt = new d.MultivariateStudentT([3, 7], [[0.5], [-1]], [[[2]], [[0.7]]]);
    const st = new d.StudentT([3, 7], [0.5, -1], [2, 0.7]);
    const x = [
      [1.2, -0.3],
      [-4, 2],
    ];
    expect(expectNoLeak(() => mvt.logProb(x.map((r) => r.map((v) => [v]))))).toBeAllclose(
      expectNoLeak(() => st.logProb(x)),
      { rtol: 1e-5, atol: 1e-5 },
    );
    mvt.dispose();
    st.dispose();
    const nu = 30;
    const l = [
      [1, 0],
      [0.6, 0.9],
    ];
    const d2 = new d.MultivariateStudentT(nu, [1, -2], l);
    const n = 40000;
    const draws = d2.sample([n], 21);
    const m = read(tf.mean(draws, 0));
    const cov01 = read(
      tf.tidy(() => {
        const c = tf.sub(draws, tf.mean(draws, 0));
        return tf.mean(tf.prod(c, -1));
      }),
    )[0]!;
    draws.dispose();
    const f = nu / (nu - 2);
    const sigma = [f * 1, f * (0.36 + 0.81)];
    expect(Math.abs(m[0]! - 1)).toBeLessThan(5 * Math.sqrt(sigma[0]! / n));
    expect(Math.abs(m[1]! + 2)).toBeLessThan(5 * Math.sqrt(sigma[1]! / n));
    // Cov(X0, X1) = nu/(nu-2) (L L^T)_01 = f * 0.6
    expect(Math.abs(cov01 - f * 0.6)).toBeLessThan(0.04);
    d2.dispose();
  });

  it('Kumaraswamy(1, b) is Beta(1, b); AsymmetricLaplace(asymmetry 1) is Laplace; SkewNormal(skewness 0) is Normal', () => {
    const k = new d.Kumaraswamy(1, 2.5);
    const b = new d.Beta(1, 2.5);
    const xs = [0.1, 0.5, 0.93];
    expect(expectNoLeak(() => k.logProb(xs))).toBeAllclose(
      expectNoLeak(() => b.logProb(xs)),
      {
        rtol: 1e-5,
        atol: 1e-5,
      },
    );
    expect(expectNoLeak(() => k.mean())).toBeAllclose(
      expectNoLeak(() => b.mean()),
      { rtol: 1e-5 },
    );
    k.dispose();
    b.dispose();
    const al = new d.AsymmetricLaplace(0.3, 1.4, 1);
    const lap = new d.Laplace(0.3, 1.4);
    const ys = [-2, 0.3, 4];
    expect(expectNoLeak(() => al.logProb(ys))).toBeAllclose(
      expectNoLeak(() => lap.logProb(ys)),
      {
        rtol: 1e-5,
        atol: 1e-6,
      },
    );
    expect(expectNoLeak(() => al.cdf(ys))).toBeAllclose(
      expectNoLeak(() => lap.cdf(ys)),
      {
        rtol: 1e-5,
        atol: 1e-6,
      },
    );
    al.dispose();
    lap.dispose();
    const sn = new d.SkewNormal(0.3, 1.4, 0);
    const nm = new d.Normal(0.3, 1.4);
    expect(expectNoLeak(() => sn.logProb(ys))).toBeAllclose(
      expectNoLeak(() => nm.logProb(ys)),
      {
        rtol: 1e-5,
        atol: 1e-6,
      },
    );
    sn.dispose();
    nm.dispose();
  });

  it('supports: TruncatedNormal interval / half-lines, Pareto [scale, inf), all with bijectTo', () => {
    const cases: [distributions.Distribution, string][] = [
      [new d.TruncatedNormal(0, 1, -1, 2), 'interval'],
      [new d.TruncatedNormal(0, 1, -1), 'greaterThan'],
      [new d.TruncatedNormal(0, 1, undefined, 2), 'lessThan'],
      [new d.TruncatedNormal(0, 1), 'real'],
      [new d.Pareto(2, 3), 'greaterThanEq'],
      [new d.Kumaraswamy(2, 3), 'unitInterval'],
    ];
    for (const [dist, kind] of cases) {
      expect(dist.support.kind).toBe(kind);
      const bij = d.bijectTo(dist.support);
      const y = read(tf.tidy(() => bij.forward(tf.tensor1d([-5, 0, 5]))));
      expect(read(tf.tidy(() => tf.cast(dist.support.check(tf.tensor1d(y)), 'float32')))).toEqual([
        1, 1, 1,
      ]);
      bij.dispose();
      dist.dispose();
    }
  });
});
