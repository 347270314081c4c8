/**
 * What the conformance table does not cover for the PPL families: analytic KL pairs against
 * Monte Carlo (5 standard errors), circular moments of VonMises draws, LKJ marginals in 3-D,
 * ImproperUniform, `expand` / `toEvent`, and support validation of `logProb`.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bijectors, distributions, ArgumentError, NotDefinedError } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const d = distributions;
type Dist = distributions.Distribution;

function read(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

describe('analytic KL pairs agree with Monte Carlo', () => {
  const pairs: Array<[string, () => [Dist, Dist]]> = [
    ['HalfCauchy', () => [new d.HalfCauchy(1.2), new d.HalfCauchy(2)]],
    ['InverseGamma', () => [new d.InverseGamma(4, 2), new d.InverseGamma(3, 1.5)]],
    ['Weibull', () => [new d.Weibull(1.5, 2), new d.Weibull(1, 1.3)]],
    ['Binomial', () => [new d.Binomial(10, { probs: 0.3 }), new d.Binomial(10, { probs: 0.45 })]],
    [
      'MultivariateNormal',
      () => [
        new d.MultivariateNormal([0.2, -0.5], {
          covarianceMatrix: [
            [1.5, 0.3],
            [0.3, 0.8],
          ],
        }),
        new d.MultivariateNormal([0, 0.4], {
          scaleTril: [
            [1.1, 0],
            [-0.4, 0.7],
          ],
        }),
      ],
    ],
    [
      'LowRankMultivariateNormal',
      () => [
        new d.LowRankMultivariateNormal([0.2, -0.5, 0], [[0.5], [0.2], [-0.3]], [1, 0.6, 0.9]),
        new d.LowRankMultivariateNormal([0, 0.4, 0.1], [[0.1], [0.7], [0.2]], [0.8, 1.1, 0.5]),
      ],
    ],
  ];
  for (const [name, make] of pairs) {
    it(name, () => {
      const [p, q] = make();
      const kl = expectNoLeak(() => d.klDivergence(p, q))[0] as number;
      const n = 20000;
      const x = p.sample([n], 11);
      const diff = read(tf.tidy(() => tf.sub(p.logProb(x), q.logProb(x))));
      x.dispose();
      const mean = diff.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(diff.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
      expect(Math.abs(kl - mean)).toBeLessThan((5 * sd) / Math.sqrt(n) + 1e-4);
      p.dispose();
      q.dispose();
    });
  }
  it('MultivariateNormal KL to itself is 0; KL between binomials of other sizes (torch: inf where n_p > n_q)', () => {
    const p = new d.MultivariateNormal([1, 2], {
      covarianceMatrix: [
        [2, 0.5],
        [0.5, 1],
      ],
    });
    expect(expectNoLeak(() => d.klDivergence(p, p))).toBeAllclose([0], { atol: 1e-5 });
    p.dispose();
    const a = new d.Binomial(3, { probs: 0.5 });
    const b = new d.Binomial(4, { probs: 0.5 });
    // Σ_k C(3,k)/8 log((C(3,k)/8) / (C(4,k)/16)) = (1/8) ln 2 + (3/8) ln 1.5 + (1/8) ln 0.5
    expect(expectNoLeak(() => d.klDivergence(a, b))).toBeAllclose([(3 / 8) * Math.log(1.5)], {
      rtol: 1e-5,
    });
    expect(expectNoLeak(() => d.klDivergence(b, a))).toEqual([Infinity]);
    a.dispose();
    b.dispose();
  });
});

describe('VonMises draws', () => {
  it('have the circular mean direction loc and mean resultant length I1/I0', () => {
    const kappa = 2.5;
    const dist = new d.VonMises(1, kappa);
    const n = 20000;
    const x = dist.sample([n], 5);
    const [c, s] = [read(tf.mean(tf.cos(x))), read(tf.mean(tf.sin(x)))];
    const inRange = read(
      tf.tidy(() =>
        tf.all(tf.logicalAnd(tf.greaterEqual(x, -Math.PI), tf.less(x, Math.PI))).cast('float32'),
      ),
    );
    x.dispose();
    expect(inRange[0]).toBe(1);
    // E[cos(x - mu)] = I1/I0, E[sin(x - mu)] = 0
    const r = Math.hypot(c[0]!, s[0]!);
    const cv = read(dist.variance())[0]!; // 1 - I1/I0
    expect(Math.abs(r - (1 - cv))).toBeLessThan(5 * Math.sqrt(0.5 / n));
    expect(Math.abs(Math.atan2(s[0]!, c[0]!) - 1)).toBeLessThan(0.03);
    dist.dispose();
  });
});

describe('LKJCholesky', () => {
  it('3-D draws are correlation factors whose off-diagonal r satisfies E[r^2] = 1/(2 eta + 2)', () => {
    // marginal: (r + 1)/2 ~ Beta(eta - 1 + D/2, eta - 1 + D/2), Var r = 1/(2(eta - 1 + D/2) + 1)
    const eta = 1.5;
    const dist = new d.LKJCholesky(3, eta);
    const n = 8000;
    const l = dist.sample([n], 3);
    expect(d.constraints.corrCholesky.checkAll(l)).toBe(true);
    const r2 = read(
      tf.tidy(() => {
        const c = tf.matMul(l, l, false, true);
        return tf.mean(tf.square(c), 0);
      }),
    );
    const lp = read(tf.tidy(() => tf.sum(tf.cast(tf.isFinite(dist.logProb(l)), 'float32'))));
    l.dispose();
    expect(lp[0]).toBe(n);
    const want = 1 / (2 * (eta - 1 + 1.5) + 1);
    // a Beta(a, a) r^2 has variance below 1/n for these a; 5 standard errors
    for (const [i, j] of [
      [1, 0],
      [2, 0],
      [2, 1],
    ] as const) {
      expect(Math.abs(r2[i * 3 + j]! - want)).toBeLessThan(5 * Math.sqrt(0.1 / n));
    }
    dist.dispose();
  });
});

describe('ImproperUniform', () => {
  it('logProb is 0 with the batch shape; sampling is refused clearly', () => {
    const flat = new d.ImproperUniform(d.constraints.positive, [3]);
    expect(expectNoLeak(() => flat.logProb([1, 2, 3]))).toEqual([0, 0, 0]);
    expect(flat.support.name).toBe('positive');
    expect(() => flat.sample()).toThrow(NotDefinedError);
    expect(() => flat.sample()).toThrow(/positive/);
    const simplexFlat = new d.ImproperUniform(d.constraints.simplex, [], [3]);
    expect(expectNoLeak(() => simplexFlat.logProb([[0.2, 0.3, 0.5]]))).toEqual([0]);
    expect(() => new d.ImproperUniform(d.constraints.simplex, [], [])).toThrow(/eventShape/);
    expect(() => new d.ImproperUniform({} as never)).toThrow(/support/);
  });
});

describe('expand and toEvent', () => {
  it('expand broadcasts the batch; draws are independent across new entries', () => {
    const base = new d.Normal([0, 10], 1);
    const e = base.expand([3, 2]);
    expect(e.batchShape).toEqual([3, 2]);
    const x = e.sample([4000], 7);
    expect(x.shape).toEqual([4000, 3, 2]);
    const m = read(tf.mean(x, 0));
    expect(m).toBeAllclose([0, 10, 0, 10, 0, 10], { atol: 5 / Math.sqrt(4000) });
    // independent copies: the correlation of entries [0,0] and [1,0] is ~0
    const corr = read(
      tf.tidy(() => {
        const a = tf.squeeze(tf.slice(x, [0, 0, 0], [-1, 1, 1]));
        const b = tf.squeeze(tf.slice(x, [0, 1, 0], [-1, 1, 1]));
        return tf.mean(tf.mul(tf.sub(a, tf.mean(a)), tf.sub(b, tf.mean(b))));
      }),
    );
    expect(Math.abs(corr[0]!)).toBeLessThan(5 / Math.sqrt(4000));
    const lp = expectNoLeak(() => e.logProb([0, 10]));
    expect(lp.length).toBe(6);
    expect(expectNoLeak(() => e.mean())).toEqual([0, 10, 0, 10, 0, 10]);
    expect(expectNoLeak(() => e.entropy()).length).toBe(6);
    const grown = new d.Normal([[0], [5]], 1).expand([2, 3]);
    const y = grown.sample([2], 1);
    expect(y.shape).toEqual([2, 2, 3]);
    tf.dispose([x, y]);
    expect(() => base.expand([3])).toThrow(/batchShape/);
    expect(() => base.expand([2, 3])).toThrow(/cannot be expanded/);
    const ev = e.toEvent(1);
    expect([ev.batchShape, ev.eventShape]).toEqual([[3], [2]]);
    expect(expectNoLeak(() => ev.logProb([[0, 10]]))).toEqual(
      Array(3)
        .fill(2 * -0.5 * Math.log(2 * Math.PI))
        .map((v) => expect.closeTo(v, 5)),
    );
    expect(ev.support.name).toBe('independent(real, 1)');
    base.dispose();
  });

  it('toEvent() moves every batch dim and equals Independent', () => {
    const g = new d.Gamma([2, 3], 1);
    const ev = g.toEvent();
    expect([ev.batchShape, ev.eventShape]).toEqual([[], [2]]);
    expect(ev).toBeInstanceOf(d.Independent);
    expect(ev.support.name).toBe('independent(positive, 1)');
    const mvn = new d.MultivariateNormal([0, 0], {
      covarianceMatrix: [
        [1, 0],
        [0, 1],
      ],
    });
    const big = mvn.expand([4]);
    const s = big.sample([2], 1);
    expect(s.shape).toEqual([2, 4, 2]);
    s.dispose();
    g.dispose();
    mvn.dispose();
  });
});

describe('logProb validates event-level supports (validateArgs)', () => {
  it('Dirichlet off the simplex and Multinomial with the wrong total are named errors', () => {
    const dir = new d.Dirichlet([1, 2, 3]);
    expect(() => dir.logProb([0.5, 0.6, 0.2])).toThrow(ArgumentError);
    expect(() => dir.logProb([0.5, 0.6, 0.2])).toThrow(/Dirichlet.*simplex/);
    expect(expectNoLeak(() => dir.logProb([0.2, 0.3, 0.5])).length).toBe(1);
    const mn = new d.Multinomial(5, { probs: [0.5, 0.5] });
    expect(() => mn.logProb([2, 2])).toThrow(/Multinomial.*multinomial\(5\)/);
    const lkj = new d.LKJCholesky(2, 1);
    expect(() =>
      lkj.logProb([
        [1, 0],
        [0.5, 0.5],
      ]),
    ).toThrow(/corrCholesky/);
    const loose = new d.Dirichlet([1, 2, 3], { validateArgs: false });
    expect(expectNoLeak(() => loose.logProb([0.5, 0.6, 0.2])).length).toBe(1);
    for (const x of [dir, mn, lkj, loose]) x.dispose();
  });
});

describe('TransformedDistribution with an event-size-changing bijector', () => {
  it('logistic-normal on the simplex: shapes, support and change of variables', () => {
    const base = new d.MultivariateNormalDiag([0.2, -0.4], [1, 0.5]);
    const sb = new bijectors.StickBreaking();
    const ln = new d.TransformedDistribution(base, sb);
    expect(ln.eventShape).toEqual([3]);
    expect(ln.support.name).toBe('simplex');
    const y = ln.sample([5], 3);
    expect(y.shape).toEqual([5, 3]);
    expect(d.constraints.simplex.checkAll(y)).toBe(true);
    // log p(y) = log p_base(x) - log|det J_f(x)| at x = f^{-1}(y)
    const got = expectNoLeak(() => ln.logProb(y));
    const want = read(
      tf.tidy(() => {
        const x = sb.inverse(y);
        return tf.sub(base.logProb(x), sb.forwardLogDetJacobian(x));
      }),
    );
    expect(got).toBeAllclose(want, { atol: 1e-4 });
    y.dispose();
    base.dispose();
  });
});
