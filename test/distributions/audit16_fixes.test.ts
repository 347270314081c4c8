/**
 * Audit of issues 2 and 14 (session 16): three numeric defects a TFP/torch user meets, each
 * against an independent float64 reference.
 * (a) `Categorical` from logits of magnitude ~30: the largest category's `log p` rounded to 0, so
 *     the entropy (dominated by `-p_a log p_a ~ sum_{j != a} p_j`) was 3.8% low.
 * (b) `Gamma` with a small concentration: `Q(a, x)` came from `1 - P`, so `logCdf` (`log1p(-Q)`)
 *     near 1 and `survival` lost ~1e-4 relatively.
 * (c) `klDivergence` between `MultivariateNormalDiag` / `MultivariateNormal` /
 *     `LowRankMultivariateNormal` and `Independent(Normal, 1)` was not registered.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import gammainc from '@stdlib/math-base-special-gammainc';
import { NotRegisteredError, ArgumentError, distributions } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';
import { mcKL } from '../fixtures/mc.js';

const d = distributions;

/**
 * float64 log-softmax of one row, relative to the largest logit with `log1p` (the plain
 * `m + log(sum)` form keeps only ~1e-2 of `log p_max` itself when it is ~1e-13).
 */
function logSoftmax64(l: number[]): number[] {
  const m = Math.max(...l);
  const a = l.indexOf(m);
  const r = l.reduce((s, v, j) => (j === a ? s : s + Math.exp(v - m)), 0);
  return l.map((v) => v - m - Math.log1p(r));
}
function entropy64(l: number[]): number {
  return logSoftmax64(l).reduce((s, lp) => (Number.isFinite(lp) ? s - Math.exp(lp) * lp : s), 0);
}
function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

describe('(a) Categorical entropy and log-probabilities at large logits', () => {
  const rows = [
    [30, 0, -30, 5],
    [-28, 31, 2, 2],
    [25, 25, -3, 0],
    [40, 0, 0, 0],
    [0.1, 0.2, 0.3, 0.4],
  ];
  it('entropy relatively accurate (1e-4) per batch row vs float64 log-softmax', () => {
    const c = new d.Categorical({ logits: rows });
    const h = expectNoLeak(() => c.entropy());
    rows.forEach((r, i) => expect(relErr(h[i] as number, entropy64(r))).toBeLessThan(1e-4));
    c.dispose();
  });
  it('logProb of every category relatively accurate, the largest one included', () => {
    const c = new d.Categorical({ logits: rows });
    for (let k = 0; k < 4; k++) {
      const lp = expectNoLeak(() => c.logProb(Array<number>(rows.length).fill(k)));
      rows.forEach((r, i) => {
        const ref = logSoftmax64(r)[k] as number;
        expect(relErr(lp[i] as number, ref)).toBeLessThan(1e-5);
      });
    }
    c.dispose();
  });
  it('a -Infinity logit is a zero-probability category: dropped exactly from the entropy', () => {
    const l = [30, -Infinity, 0, -30];
    const c = new d.Categorical({ logits: l });
    const [h] = expectNoLeak(() => c.entropy());
    expect(relErr(h as number, entropy64(l))).toBeLessThan(1e-4);
    const [lp] = expectNoLeak(() => c.logProb(1));
    expect(lp).toBe(-Infinity);
    c.dispose();
  });
  it('entropy gradient in the logits matches float64 central differences', () => {
    const l0 = [2, -1, 0.5, 3];
    const l0t = tf.tensor1d(l0);
    const g = expectNoLeak(() =>
      tf.grad((t: tf.Tensor) => {
        const c = new d.Categorical({ logits: t });
        const h = c.entropy();
        c.dispose();
        return h;
      })(l0t),
    );
    l0t.dispose();
    const h = 1e-5;
    l0.forEach((_, i) => {
      const up = [...l0];
      const dn = [...l0];
      up[i] = (up[i] as number) + h;
      dn[i] = (dn[i] as number) - h;
      const fd = (entropy64(up) - entropy64(dn)) / (2 * h);
      expect(g[i]).toBeCloseTo(fd, 4);
    });
  });
  it('logProb gradient in the logits is onehot(k) - softmax(l), also with tied maxima', () => {
    for (const l0 of [
      [30, 0, -30, 5],
      [5, 5, 0, -1],
      [0, 0, 0, 0],
    ]) {
      const lt = tf.tensor1d(l0);
      for (const k of [0, 1, 3]) {
        const g = expectNoLeak(() =>
          tf.grad((t: tf.Tensor) => {
            const c = new d.Categorical({ logits: t });
            const out = c.logProb(k);
            c.dispose();
            return out;
          })(lt),
        );
        const p = logSoftmax64(l0).map(Math.exp);
        g.forEach((v, j) => expect(v).toBeCloseTo((j === k ? 1 : 0) - (p[j] as number), 6));
      }
      lt.dispose();
    }
  });
  it('OneHotCategorical and Multinomial share the accurate normalization', () => {
    const l = [30, 0, -30, 5];
    const o = new d.OneHotCategorical({ logits: l });
    const [h] = expectNoLeak(() => o.entropy());
    expect(relErr(h as number, entropy64(l))).toBeLessThan(1e-4);
    o.dispose();
    const m = new d.Multinomial(3, { logits: l });
    // log P(0, 3, 0, 0) = 3 log p_1 (the coefficient is 1)
    const [lp] = expectNoLeak(() => m.logProb([0, 3, 0, 0]));
    expect(relErr(lp as number, 3 * (logSoftmax64(l)[1] as number))).toBeLessThan(1e-5);
    m.dispose();
  });
});

describe('(b) Gamma with small concentrations: logCdf near 1 and survival', () => {
  const shapes = [1e-3, 0.01, 0.2, 0.7];
  const rates = [1e-3, 1, 40];
  it('logCdf and logSurvival within 2e-5 relative of float64 (@stdlib gammainc)', () => {
    for (const a of shapes) {
      for (const b of rates) {
        // points where F is near 1 (S small) and where it is moderate
        const xs = [0.05, 0.5, 1, 1.5, 3].map((u) => u / b);
        const g = new d.Gamma(a, b);
        const lc = expectNoLeak(() => g.logCdf(xs));
        const sv = expectNoLeak(() => g.survival(xs));
        xs.forEach((x, i) => {
          const s64 = gammainc(x * b, a, true, true);
          const f64 = gammainc(x * b, a, true, false);
          expect(relErr(lc[i] as number, Math.log1p(-s64)), `a=${a} b=${b} x=${x}`).toBeLessThan(
            2e-5,
          );
          expect(relErr(sv[i] as number, s64), `a=${a} b=${b} x=${x}`).toBeLessThan(2e-5);
          expect(relErr(Math.log1p(-(sv[i] as number)), Math.log(f64))).toBeLessThan(2e-5);
        });
        g.dispose();
      }
    }
  });
  it('Gamma(0.001, 0.001).logCdf at 0.5 .. 1000 (the issue case) within 1e-5 relative', () => {
    const g = new d.Gamma(0.001, 0.001);
    const xs = [0.5, 1, 2, 10, 100, 999];
    const lc = expectNoLeak(() => g.logCdf(xs));
    xs.forEach((x, i) => {
      const ref = Math.log(gammainc(x * 0.001, 0.001, true, false));
      expect(relErr(lc[i] as number, ref)).toBeLessThan(1e-5);
    });
    g.dispose();
  });
  it('the CDF is still differentiable in x (= the density) and in the concentration', () => {
    const a = 0.05;
    const xs = [0.01, 0.3, 1.2];
    const xt = tf.tensor1d(xs);
    const g = expectNoLeak(() =>
      tf.grad((x: tf.Tensor) => {
        const gd = new d.Gamma(a, 1);
        const out = tf.sum(gd.survival(x));
        gd.dispose();
        return out;
      })(xt),
    );
    xt.dispose();
    const gd = new d.Gamma(a, 1);
    const dens = expectNoLeak(() => gd.prob(xs));
    gd.dispose();
    xs.forEach((_, i) => expect(relErr(-(g[i] as number), dens[i] as number)).toBeLessThan(1e-3));
    const at = tf.fill([3], a);
    const ga = expectNoLeak(() =>
      tf.grad((t: tf.Tensor) => {
        const gd2 = new d.Gamma(t, 1);
        const out = tf.sum(gd2.survival(xs));
        gd2.dispose();
        return out;
      })(at),
    );
    at.dispose();
    const h = 1e-6;
    xs.forEach((x, i) => {
      const fd = (gammainc(x, a + h, true, true) - gammainc(x, a - h, true, true)) / (2 * h);
      expect(Math.abs((ga[i] as number) - fd)).toBeLessThan(2e-3 * Math.abs(fd) + 1e-4);
    });
  });
  it('InverseGamma(0.01, 1).cdf (upper incomplete gamma at small a) within 2e-5', () => {
    const ig = new d.InverseGamma(0.01, 1);
    const xs = [0.5, 1, 3, 20];
    const c = expectNoLeak(() => ig.cdf(xs));
    xs.forEach((x, i) => {
      const ref = gammainc(1 / x, 0.01, true, true);
      expect(relErr(c[i] as number, ref)).toBeLessThan(2e-5);
    });
    ig.dispose();
  });
});

/** float64 KL between diagonal Gaussians. */
function klDiag64(mp: number[], sp: number[], mq: number[], sq: number[]): number {
  return mp.reduce((s, _, j) => {
    const a = sp[j] as number;
    const b = sq[j] as number;
    const dm = (mp[j] as number) - (mq[j] as number);
    return s + Math.log(b / a) + (a * a + dm * dm) / (2 * b * b) - 0.5;
  }, 0);
}

describe('(c) KL between the multivariate normals and Independent(Normal, 1)', () => {
  const mp = [0, 1, -2];
  const sp = [1, 2, 0.5];
  const mq = [0.5, 0, -1];
  const sq = [2, 1, 0.8];
  it('MVNDiag || Independent(Normal) and the reverse: float64 closed form and MVNDiag-MVNDiag', () => {
    const a = new d.MultivariateNormalDiag(mp, sp);
    const bn = new d.Normal(mq, sq);
    const b = new d.Independent(bn, 1);
    const b2 = new d.MultivariateNormalDiag(mq, sq);
    const [k1] = expectNoLeak(() => d.klDivergence(a, b));
    const [k2] = expectNoLeak(() => d.klDivergence(b, a));
    const [k1ref] = expectNoLeak(() => d.klDivergence(a, b2));
    expect(relErr(k1 as number, klDiag64(mp, sp, mq, sq))).toBeLessThan(1e-5);
    expect(relErr(k2 as number, klDiag64(mq, sq, mp, sp))).toBeLessThan(1e-5);
    expect(relErr(k1 as number, k1ref as number)).toBeLessThan(1e-5);
    [a, bn, b2].forEach((x) => x.dispose());
  });
  it('MultivariateNormal (full covariance) vs Independent(Normal) both ways = MVN-MVN KL', () => {
    const cov = [
      [2, 0.5, 0.1],
      [0.5, 1, -0.3],
      [0.1, -0.3, 0.7],
    ];
    const full = new d.MultivariateNormal(mp, { covarianceMatrix: cov });
    const bn = new d.Normal(mq, sq);
    const ind = new d.Independent(bn, 1);
    const asMvn = new d.MultivariateNormal(mq, {
      covarianceMatrix: sq.map((s, i) => sq.map((_, j) => (i === j ? s * s : 0))),
    });
    const [k1] = expectNoLeak(() => d.klDivergence(full, ind));
    const [k1ref] = expectNoLeak(() => d.klDivergence(full, asMvn));
    const [k2] = expectNoLeak(() => d.klDivergence(ind, full));
    const [k2ref] = expectNoLeak(() => d.klDivergence(asMvn, full));
    expect(relErr(k1 as number, k1ref as number)).toBeLessThan(1e-5);
    expect(relErr(k2 as number, k2ref as number)).toBeLessThan(1e-5);
    const mc = mcKL(full, ind, 20000, 11);
    expect(Math.abs((mc.mean[0] as number) - (k1 as number))).toBeLessThan(
      5 * (mc.se[0] as number),
    );
    [full, bn, asMvn].forEach((x) => x.dispose());
  });
  it('LowRankMultivariateNormal vs Independent(Normal) both ways within 5 MC standard errors', () => {
    const lr = new d.LowRankMultivariateNormal(mp, [[0.5], [1], [-0.3]], [1, 0.5, 2]);
    const bn = new d.Normal(mq, sq);
    const ind = new d.Independent(bn, 1);
    for (const [p, q] of [
      [lr, ind],
      [ind, lr],
    ] as const) {
      const [k] = expectNoLeak(() => d.klDivergence(p, q));
      const mc = mcKL(p, q, 20000, 5);
      expect(Math.abs((mc.mean[0] as number) - (k as number))).toBeLessThan(
        5 * (mc.se[0] as number),
      );
    }
    [lr, bn].forEach((x) => x.dispose());
  });
  it('batch broadcasting: Independent of an expanded Normal with batch [2] vs an MVNDiag', () => {
    const bn = new d.Normal(0.3, 1.5);
    const ex = bn.expand([2, 3]);
    const ind = new d.Independent(ex, 1); // batch [2], event [3]
    const a = new d.MultivariateNormalDiag(mp, sp); // batch []
    const k = expectNoLeak(() => d.klDivergence(a, ind));
    expect(k.length).toBe(2);
    const ref = klDiag64(mp, sp, [0.3, 0.3, 0.3], [1.5, 1.5, 1.5]);
    k.forEach((v) => expect(relErr(v, ref)).toBeLessThan(1e-5));
    const mc = mcKL(ind, a, 20000, 3);
    const [kr] = expectNoLeak(() => d.klDivergence(ind, a));
    expect(Math.abs((mc.mean[0] as number) - (kr as number))).toBeLessThan(
      5 * (mc.se[0] as number),
    );
    [bn, ex, a].forEach((x) => x.dispose());
  });
  it('full MVN (batch []) vs Independent(Normal) of batch [2], both ways: per-entry MVN-MVN KL', () => {
    const cov = [
      [1.5, 0.4, 0],
      [0.4, 1, 0.2],
      [0, 0.2, 0.6],
    ];
    const full = new d.MultivariateNormal(mp, { covarianceMatrix: cov });
    const locs = [mq, [1, 1, 1]];
    const scales = [sq, [0.5, 2, 1]];
    const bn = new d.Normal(locs, scales);
    const ind = new d.Independent(bn, 1);
    const k1 = expectNoLeak(() => d.klDivergence(full, ind));
    const k2 = expectNoLeak(() => d.klDivergence(ind, full));
    expect(k1.length).toBe(2);
    expect(k2.length).toBe(2);
    for (let i = 0; i < 2; i++) {
      const s = scales[i] as number[];
      const q = new d.MultivariateNormal(locs[i] as number[], {
        covarianceMatrix: s.map((a, r) => s.map((_, c) => (r === c ? a * a : 0))),
      });
      const [r1] = expectNoLeak(() => d.klDivergence(full, q));
      const [r2] = expectNoLeak(() => d.klDivergence(q, full));
      expect(relErr(k1[i] as number, r1 as number)).toBeLessThan(1e-5);
      expect(relErr(k2[i] as number, r2 as number)).toBeLessThan(1e-5);
      q.dispose();
    }
    [full, bn].forEach((x) => x.dispose());
  });
  it('toEvent(1) of a Normal pairs too; gradients flow to both sides', () => {
    const mqt = tf.tensor1d(mq);
    const g = expectNoLeak(() =>
      tf.grad((m: tf.Tensor) => {
        const bn = new d.Normal(m, sq);
        const ind = bn.toEvent(1);
        const a = new d.MultivariateNormalDiag(mp, sp);
        const out = d.klDivergence(a, ind);
        [bn, ind, a].forEach((x) => x.dispose());
        return out;
      })(mqt),
    );
    mqt.dispose();
    // d/dmu_q = (mu_q - mu_p) / sigma_q^2
    mq.forEach((m, j) => {
      const ref = (m - (mp[j] as number)) / (sq[j] as number) ** 2;
      expect(g[j]).toBeCloseTo(ref, 5);
    });
  });
  it('Independent of a non-Normal base, or of rank 2, is refused with NotRegisteredError', () => {
    const a = new d.MultivariateNormalDiag([0, 0], [1, 1]);
    const gm = new d.Gamma([1, 2], [1, 1]);
    const ig = new d.Independent(gm, 1);
    const n2 = new d.Normal(tf.zeros([2, 2]), 1);
    const i2 = new d.Independent(n2, 2); // event [2, 2]
    const n3 = new d.Normal(tf.zeros([3]), 1);
    const i3 = new d.Independent(n3, 1);
    const before = tf.memory().numTensors;
    expect(() => d.klDivergence(a, ig)).toThrow(NotRegisteredError);
    expect(() => d.klDivergence(ig, a)).toThrow(/Independent\(Gamma, 1\)/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => d.klDivergence(a, i2)).toThrow(ArgumentError); // event shapes differ
    expect(() => d.klDivergence(a, i3)).toThrow(/event shapes/);
    expect(tf.memory().numTensors).toBe(before);
    [a, gm, n2, n3].forEach((x) => x.dispose());
  });
});
