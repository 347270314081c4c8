/**
 * One rule for moments that do not exist, as torch.distributions: a number per batch entry,
 * `+Infinity` where the integral diverges to +infinity and `NaN` where it has no value; modes by
 * torch's Dirichlet rule at concentrations <= 1. `NotDefinedError` stays for what a family does
 * not implement (no closed form).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions, ppl, setSeed } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const d = distributions;

function moments(dist: distributions.Distribution): {
  mean: number[];
  variance: number[];
  stddev: number[];
} {
  const out = {
    mean: expectNoLeak(() => dist.mean()),
    variance: expectNoLeak(() => dist.variance()),
    stddev: expectNoLeak(() => dist.stddev()),
  };
  dist.dispose();
  return out;
}

describe('moments that do not exist are NaN or Infinity (torch.distributions)', () => {
  it('Cauchy: mean NaN, variance and stddev Infinity (it threw NotDefinedError)', () => {
    const m = moments(new d.Cauchy([0, 2], [1, 3]));
    expect(m.mean).toEqual([NaN, NaN]);
    expect(m.variance).toEqual([Infinity, Infinity]);
    expect(m.stddev).toEqual([Infinity, Infinity]);
  });

  it('heavy-tailed families by parameter: StudentT, MultivariateStudentT, Pareto, InverseGamma, HalfCauchy', () => {
    const t = moments(new d.StudentT([0.5, 1, 1.5, 2, 3], 1, 2));
    expect(t.mean).toEqual([NaN, NaN, 1, 1, 1]);
    expect(t.variance.slice(0, 4)).toEqual([NaN, NaN, Infinity, Infinity]);
    expect(t.variance[4]).toBeCloseTo(12, 5);
    const mvt = moments(
      new d.MultivariateStudentT(
        [0.8, 1.5, 4],
        [1, -1],
        [
          [1, 0],
          [0, 2],
        ],
      ),
    );
    expect(mvt.mean).toEqual([NaN, NaN, 1, -1, 1, -1]);
    expect(mvt.variance.slice(0, 4)).toEqual([NaN, NaN, Infinity, Infinity]);
    expect(mvt.variance.slice(4)).toBeAllclose([2, 8], { rtol: 1e-5 });
    const p = moments(new d.Pareto(2, [0.5, 1, 1.5, 2, 3]));
    expect(p.mean.slice(0, 2)).toEqual([Infinity, Infinity]);
    expect(p.mean.slice(2)).toBeAllclose([6, 4, 3], { rtol: 1e-6 });
    expect(p.variance.slice(0, 4)).toEqual([Infinity, Infinity, Infinity, Infinity]);
    expect(p.variance[4]).toBeCloseTo(3, 5);
    const ig = moments(new d.InverseGamma([0.5, 1, 1.5, 2, 3], 2));
    expect(ig.mean.slice(0, 2)).toEqual([Infinity, Infinity]);
    expect(ig.mean.slice(2)).toBeAllclose([4, 2, 1], { rtol: 1e-6 });
    expect(ig.variance.slice(0, 4)).toEqual([Infinity, Infinity, Infinity, Infinity]);
    expect(ig.variance[4]).toBeCloseTo(1, 5);
    const hc = moments(new d.HalfCauchy([1, 2]));
    expect(hc.mean).toEqual([Infinity, Infinity]);
    expect(hc.variance).toEqual([Infinity, Infinity]);
  });

  it('a category label has no mean or variance: NaN (they threw NotDefinedError)', () => {
    const c = moments(
      new d.Categorical({
        probs: [
          [0.2, 0.8],
          [0.5, 0.5],
          [1, 0],
        ],
      }),
    );
    expect(c.mean).toEqual([NaN, NaN, NaN]);
    expect(c.variance).toEqual([NaN, NaN, NaN]);
  });
});

describe('modes at small concentrations follow torch', () => {
  const mode = (dist: distributions.Distribution): number[] => {
    const v = expectNoLeak(() => dist.mode());
    dist.dispose();
    return v;
  };

  it('Beta: interior, or the end of the larger concentration; NaN only when flat', () => {
    // [a, b] -> mode; the old code gave NaN for (0.5, 0.5), (0.3, 0.8), (0.8, 0.3)
    const cases: [number, number, number][] = [
      [3, 2, 2 / 3],
      [2, 1, 1],
      [1, 2, 0],
      [1.5, 0.5, 1],
      [0.5, 1.5, 0],
      [0.5, 0.5, 1],
      [0.3, 0.8, 0],
      [0.8, 0.3, 1],
      [1, 0.5, 1],
      [0.5, 1, 0],
      [1, 1, NaN],
    ];
    const got = mode(
      new d.Beta(
        cases.map((c) => c[0]),
        cases.map((c) => c[1]),
      ),
    );
    expect(got).toBeAllclose(
      cases.map((c) => c[2]),
      { rtol: 1e-6 },
    );
  });

  it('Dirichlet: (alpha - 1)^+ normalized, the vertex of the largest alpha when all <= 1', () => {
    // the old code gave NaN for every row but the first
    const alpha = [
      [2, 3, 4],
      [0.8, 4, 1.2],
      [0.5, 0.9, 0.3],
      [1, 0.5, 1],
      [0.5, 2, 0.5],
      [1, 1, 1],
    ];
    const want = [
      [1 / 6, 2 / 6, 3 / 6],
      [0, 3 / 3.2, 0.2 / 3.2],
      [0, 1, 0],
      [1, 0, 0],
      [0, 1, 0],
      [NaN, NaN, NaN],
    ];
    expect(mode(new d.Dirichlet(alpha))).toBeAllclose(want.flat(), { rtol: 1e-6 });
    // Beta(a, b) is the first coordinate of Dirichlet([a, b])
    const ab = [
      [0.5, 0.5],
      [0.3, 0.8],
      [1.5, 0.5],
      [3, 2],
    ];
    const dir = mode(new d.Dirichlet(ab)).filter((_, i) => i % 2 === 0);
    expect(
      mode(
        new d.Beta(
          ab.map((r) => r[0]!),
          ab.map((r) => r[1]!),
        ),
      ),
    ).toBeAllclose(dir);
  });

  it('Kumaraswamy: the density maximum inside, the Beta rule at the ends (it threw)', () => {
    const cases: [number, number][] = [
      [2, 3],
      [5, 2],
      [1.5, 20],
    ];
    const got = mode(
      new d.Kumaraswamy(
        cases.map((c) => c[0]),
        cases.map((c) => c[1]),
      ),
    );
    cases.forEach(([a, b], i) => {
      // argmax of a b x^(a-1) (1 - x^a)^(b-1) on a fine grid
      let best = 0;
      let bestX = 0;
      for (let j = 1; j < 200000; j++) {
        const x = j / 200000;
        const lp = (a - 1) * Math.log(x) + (b - 1) * Math.log1p(-(x ** a));
        if (j === 1 || lp > best) {
          best = lp;
          bestX = x;
        }
      }
      expect(got[i]!).toBeCloseTo(bestX, 4);
    });
    const ab = [
      [1, 3],
      [0.5, 0.8],
      [0.8, 0.5],
      [3, 0.7],
      [1, 1],
    ];
    expect(
      mode(
        new d.Kumaraswamy(
          ab.map((r) => r[0]!),
          ab.map((r) => r[1]!),
        ),
      ),
    ).toBeAllclose(
      mode(
        new d.Beta(
          ab.map((r) => r[0]!),
          ab.map((r) => r[1]!),
        ),
      ),
    );
  });

  it('Gamma, Chi2, Weibull: 0 below shape 1; Uniform: NaN (it threw NotDefinedError)', () => {
    expect(mode(new d.Gamma([0.3, 1, 3], 2))).toBeAllclose([0, 0, 1]);
    expect(mode(new d.Chi2([1, 2, 5]))).toBeAllclose([0, 0, 3]);
    expect(mode(new d.Weibull(2, [0.5, 1, 2]))).toBeAllclose([0, 0, 2 * Math.SQRT1_2]);
    expect(mode(new d.Uniform([0, -1], [1, 3]))).toEqual([NaN, NaN]);
  });
});

describe("autoguides' initLoc 'mean' / 'median' fall back to a draw, as Pyro's init_to_mean", () => {
  it('for a Cauchy mean (NaN) and a Beta mode on the boundary (logit(0) = -Infinity)', () => {
    const model = (): void => {
      ppl.sample('c', new d.Cauchy(3, 1));
      ppl.sample('b', new d.Beta(0.5, 2));
      ppl.sample('n', new d.Normal(1.5, 1));
    };
    for (const initLoc of ['mean', 'median'] as const) {
      setSeed(0);
      const before = tf.memory().numTensors;
      const guide = new ppl.AutoNormal(model, { initLoc });
      const tr = ppl.trace(() => guide.call()).getTrace();
      const store = ppl.getParamStore();
      for (const site of ['c', 'b', 'n']) {
        const loc = store.value(`AutoNormal.locs.${site}`);
        expect(Number.isFinite(loc.dataSync()[0]), `${initLoc} ${site}`).toBe(true);
        loc.dispose();
      }
      const n = store.value('AutoNormal.locs.n');
      // 'mean' is the prior mean; 'median' Pyro's median of 15 prior draws (SE 1.2533/sqrt(15))
      if (initLoc === 'mean') expect(n.dataSync()[0]).toBeCloseTo(1.5, 6);
      else expect(Math.abs((n.dataSync()[0] as number) - 1.5)).toBeLessThan(5 * 0.3236);
      n.dispose();
      tr.dispose();
      guide.dispose();
      ppl.clearParamStore();
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
