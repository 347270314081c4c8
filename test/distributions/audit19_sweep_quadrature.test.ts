/**
 * Audit 19, the property sweep, part 1: every exported scalar continuous family (and the
 * wrappers over one) with batched parameters, tame and unusual (shapes below 1, heavy tails,
 * far truncations), against double-exponential quadrature of its own density over the interval
 * its `support` constraint states: `∫ exp(logProb) = 1`; `mean`, `variance`, `entropy` equal
 * `∫ x f`, `∫ (x - m)² f`, `-∫ f log f` where they are finite; `cdf(x) = ∫_{lo}^{x} f` at the
 * draws' quartiles and `cdf(icdf(q)) = q`. The quadrature is deterministic, so the tolerances
 * are those of float32 densities (≈ 1e-3), not Monte Carlo ones.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { NotDefinedError, bijectors, distributions } from '../../src/index.js';
import { densities, integrate, splitRule, type Rule } from './quadrature.js';
import { definedValues, expectNear } from './defined_values.js';

const d = distributions;
type Dist = distributions.Distribution;

interface Row {
  name: string;
  /** The family (batch `[B]` or `[]`) and the bases it does not own. */
  make: () => { dist: Dist; owned: Dist[] };
  /** Relative tolerance of the moments (default 2e-3). */
  rtol?: number;
}

const own = (dist: Dist, ...parts: Dist[]): { dist: Dist; owned: Dist[] } => ({
  dist,
  owned: [dist, ...parts],
});

const ROWS: Row[] = [
  { name: 'Normal', make: () => own(new d.Normal([-1, 0, 2], [0.5, 1, 3])) },
  { name: 'Cauchy', make: () => own(new d.Cauchy([-1, 0, 2], [0.5, 1, 3])) },
  { name: 'Laplace', make: () => own(new d.Laplace([-1, 0, 2], [0.5, 1, 3])) },
  { name: 'Logistic', make: () => own(new d.Logistic([-1, 0, 2], [0.5, 1, 3])) },
  { name: 'Gumbel', make: () => own(new d.Gumbel([-1, 0, 2], [0.5, 1, 3])) },
  { name: 'SoftLaplace', make: () => own(new d.SoftLaplace([-1, 0, 2], [0.5, 1, 3])) },
  { name: 'StudentT', make: () => own(new d.StudentT([1.5, 3, 30], [-1, 0, 2], [0.5, 1, 3])) },
  {
    name: 'SkewNormal',
    make: () => own(new d.SkewNormal([-1, 0, 2], [0.5, 1, 3], [-5, 0.5, 8])),
  },
  {
    name: 'AsymmetricLaplace',
    make: () => own(new d.AsymmetricLaplace([-1, 0, 2], [0.5, 1, 3], [0.3, 1, 4])),
  },
  { name: 'Uniform', make: () => own(new d.Uniform([-1, 0, 2], [0.5, 1e-3, 30])) },
  { name: 'Exponential', make: () => own(new d.Exponential([0.1, 1, 20])) },
  { name: 'Gamma', make: () => own(new d.Gamma([0.5, 1, 20], [0.3, 2, 5])) },
  { name: 'Gamma(shape 0.2)', make: () => own(new d.Gamma(0.2, 1)), rtol: 5e-3 },
  { name: 'Chi2', make: () => own(new d.Chi2([1, 2, 7])) },
  { name: 'InverseGamma', make: () => own(new d.InverseGamma([0.7, 2.5, 12], [0.5, 1, 3])) },
  { name: 'Beta', make: () => own(new d.Beta([0.5, 1, 30], [0.7, 1, 2])) },
  { name: 'BetaProportion', make: () => own(new d.BetaProportion([0.2, 0.5, 0.9], [3, 1.6, 40])) },
  { name: 'Kumaraswamy', make: () => own(new d.Kumaraswamy([0.6, 1, 5], [0.8, 1, 3])) },
  { name: 'Weibull', make: () => own(new d.Weibull([0.5, 1, 3], [0.7, 1, 4])) },
  { name: 'LogNormal', make: () => own(new d.LogNormal([-1, 0, 2], [0.3, 1, 1.5])) },
  { name: 'HalfNormal', make: () => own(new d.HalfNormal([0.5, 1, 3])) },
  { name: 'HalfCauchy', make: () => own(new d.HalfCauchy([0.5, 1, 3])) },
  { name: 'Pareto', make: () => own(new d.Pareto([0.5, 1, 3], [0.8, 2.5, 6])) },
  { name: 'Levy', make: () => own(new d.Levy([-1, 0, 2], [0.5, 1, 3])) },
  { name: 'Gompertz', make: () => own(new d.Gompertz([0.3, 1, 4], [0.5, 1, 3])) },
  { name: 'FisherSnedecor', make: () => own(new d.FisherSnedecor([1, 4, 10], [3, 6, 30])) },
  { name: 'LogUniform', make: () => own(new d.LogUniform([0.1, 1, 2], [10, 1.5, 200])) },
  { name: 'VonMises', make: () => own(new d.VonMises([-2, 0, 3], [0.01, 1, 50])) },
  {
    name: 'ContinuousBernoulli',
    make: () => own(new d.ContinuousBernoulli([0.01, 0.3, 0.5, 0.501, 0.95])),
  },
  { name: 'RelaxedBernoulli', make: () => own(new d.RelaxedBernoulli(0.7, [0.1, 0.5, 0.8])) },
  {
    name: 'TruncatedNormal',
    make: () => own(new d.TruncatedNormal([-1, 0, 0], [0.5, 1, 1], [-1, 5, -30], [1.5, 6, -29])),
  },
  {
    name: 'TruncatedDistribution(Gumbel)',
    make: () => {
      const b = new d.Gumbel([0, 1, -1], [1, 2, 0.5]);
      return own(new d.TruncatedDistribution(b, { low: [-1, 0, -2], high: [2, 1, 5] }), b);
    },
  },
  {
    name: 'TruncatedDistribution(Exponential, low only)',
    make: () => {
      const b = new d.Exponential([1, 0.5, 2]);
      return own(new d.TruncatedDistribution(b, { low: [0.5, 1, 3] }), b);
    },
  },
  {
    name: 'FoldedDistribution(Normal)',
    make: () => {
      const b = new d.Normal([-1, 0, 2], [0.5, 1, 3]);
      return own(new d.FoldedDistribution(b), b);
    },
  },
  {
    name: 'TransformedDistribution(Normal, Exp)',
    make: () => {
      const b = new d.Normal([-1, 0, 1], [0.3, 1, 0.5]);
      return own(new d.TransformedDistribution(b, new bijectors.Exp()), b);
    },
  },
  {
    name: 'TransformedDistribution(Normal, Sigmoid)',
    make: () => {
      const b = new d.Normal([-1, 0, 1], [0.3, 1, 2]);
      return own(new d.TransformedDistribution(b, new bijectors.Sigmoid()), b);
    },
  },
  {
    name: 'MixtureSameFamily(Normal)',
    make: () => {
      const mix = new d.Categorical([
        [0.3, 0.7],
        [0.5, 0.5],
      ]);
      const comp = new d.Normal(
        [
          [-2, 1],
          [0, 3],
        ],
        [
          [0.5, 1],
          [1, 0.2],
        ],
      );
      return own(new d.MixtureSameFamily(mix, comp), mix, comp);
    },
  },
  {
    name: 'MixtureGeneral(Normal, Gamma)',
    make: () => {
      const c = new d.Categorical([0.3, 0.7]);
      const a = new d.Normal(-1, 0.5);
      const g = new d.Gamma(2, 1);
      return own(new d.MixtureGeneral(c, [a, g]), c, a, g);
    },
  },
  {
    name: 'StableWithLogProb',
    make: () => own(new d.StableWithLogProb([1.5, 1.9], [0.5, 0], [1, 0.7], [0.3, -1])),
  },
  // unusual corners: tiny and huge scales, shapes far below 1, narrow windows
  { name: 'Normal (extreme)', make: () => own(new d.Normal([1, -5], [1e-3, 50])) },
  { name: 'Laplace (extreme)', make: () => own(new d.Laplace([1, -5], [1e-3, 50])) },
  { name: 'StudentT (extreme)', make: () => own(new d.StudentT([0.6, 200], [0, 1], [1e-2, 5])) },
  { name: 'SkewNormal (extreme)', make: () => own(new d.SkewNormal([0, 3], [1, 0.01], [50, -30])) },
  {
    name: 'AsymmetricLaplace (extreme)',
    make: () => own(new d.AsymmetricLaplace([0, 3], [1, 0.01], [10, 0.05])),
  },
  { name: 'Gamma (extreme)', make: () => own(new d.Gamma([0.4, 300], [1e3, 0.01])), rtol: 5e-3 },
  { name: 'Chi2 (extreme)', make: () => own(new d.Chi2([0.6, 150])), rtol: 5e-3 },
  { name: 'InverseGamma (extreme)', make: () => own(new d.InverseGamma([0.3, 80], [1e-2, 50])) },
  { name: 'Beta (extreme)', make: () => own(new d.Beta([100, 0.6], [0.6, 300])), rtol: 5e-3 },
  { name: 'Kumaraswamy (extreme)', make: () => own(new d.Kumaraswamy([0.5, 20], [0.6, 50])) },
  { name: 'Weibull (extreme)', make: () => own(new d.Weibull([1e-2, 50], [0.4, 12])), rtol: 5e-3 },
  { name: 'LogNormal (extreme)', make: () => own(new d.LogNormal([5, -3], [2.5, 0.01])) },
  { name: 'HalfNormal (extreme)', make: () => own(new d.HalfNormal([1e-3, 1e3])) },
  { name: 'Pareto (extreme)', make: () => own(new d.Pareto([1e-2, 100], [0.4, 40])) },
  { name: 'Levy (extreme)', make: () => own(new d.Levy([100, -1], [1e-2, 30])) },
  { name: 'Gompertz (extreme)', make: () => own(new d.Gompertz([0.01, 50], [0.1, 20])) },
  {
    name: 'FisherSnedecor (extreme)',
    make: () => own(new d.FisherSnedecor([0.6, 80], [0.7, 200])),
  },
  { name: 'LogUniform (extreme)', make: () => own(new d.LogUniform([1e-4, 5], [1e4, 5.01])) },
  { name: 'VonMises (extreme)', make: () => own(new d.VonMises([0.5, -3], [500, 1e-5])) },
  {
    name: 'ContinuousBernoulli (extreme)',
    make: () => own(new d.ContinuousBernoulli([1e-4, 0.4999, 0.9999])),
  },
  { name: 'RelaxedBernoulli (extreme)', make: () => own(new d.RelaxedBernoulli(0.5, [0.05, 0.5])) },
  {
    name: 'TruncatedNormal (extreme)',
    make: () => own(new d.TruncatedNormal([0, 0, 2], [1, 1e-2, 1], [0, -1, 40], [1e-3, 1, 41])),
  },
  { name: 'Uniform (extreme)', make: () => own(new d.Uniform([1, -1e3], [1.001, 1e3])) },
  { name: 'Gumbel (extreme)', make: () => own(new d.Gumbel([-50, 1e3], [1e-2, 40])) },
  { name: 'Logistic (extreme)', make: () => own(new d.Logistic([-50, 1e3], [1e-2, 40])) },
  { name: 'Cauchy (extreme)', make: () => own(new d.Cauchy([-50, 1e3], [1e-2, 40])) },
  { name: 'HalfCauchy (extreme)', make: () => own(new d.HalfCauchy([1e-3, 1e3])) },
  { name: 'Exponential (extreme)', make: () => own(new d.Exponential([1e-3, 1e3])) },
  { name: 'SoftLaplace (extreme)', make: () => own(new d.SoftLaplace([-50, 1e3], [1e-2, 40])) },
  {
    name: 'StableWithLogProb (extreme)',
    make: () => own(new d.StableWithLogProb([0.7, 1, 1.99], [-0.9, 0.5, 0.9], [0.5, 2, 1], 0)),
  },
];

/** `[lo, hi]` per batch entry from the `lower`/`upper` of the support constraint. */
function bounds(dist: Dist, b: number): Array<[number, number]> {
  const s = dist.support as unknown as { kind: string; lower?: unknown; upper?: unknown };
  // angles: a periodic density, one period
  if (s.kind === 'circular') return Array.from({ length: b }, () => [-Math.PI, Math.PI]);
  const read = (x: unknown, dflt: number): number[] => {
    if (x === undefined) return Array(b).fill(dflt) as number[];
    if (typeof x === 'number') return Array(b).fill(x) as number[];
    const t = tf.tidy(() => tf.broadcastTo(x as tf.Tensor, [b]));
    const v = Array.from(t.dataSync());
    t.dispose();
    return v;
  };
  const lo = read(s.lower, -Infinity);
  const hi = read(s.upper, Infinity);
  return lo.map((l, k) => [l, hi[k] as number]);
}

/** Each batch entry's draws, sorted (seeded). */
function sortedDraws(dist: Dist, b: number, n: number): number[][] {
  const x = dist.sample([n], 77);
  const v = x.dataSync();
  x.dispose();
  return Array.from({ length: b }, (_, k) =>
    Array.from({ length: n }, (_, i) => v[i * b + k] as number).sort((p, q) => p - q),
  );
}

const close = (a: number, b: number, rtol: number, atol: number, what: string): void =>
  expectNear(a, b, rtol, atol, what, 'quadrature');

describe.each(ROWS)('$name against quadrature of its density', (row) => {
  it('normalises; mean, variance, entropy, cdf and icdf agree with the density', () => {
    const before = tf.memory().numTensors;
    const { dist, owned } = row.make();
    try {
      expect(dist.eventShape).toEqual([]);
      const b = dist.batchShape.length === 0 ? 1 : (dist.batchShape[0] as number);
      const lim = bounds(dist, b);
      const draws = sortedDraws(dist, b, 400);
      const cutsOf = (k: number): number[] => {
        const q = draws[k] as number[];
        return [20, 100, 200, 300, 380].map((i) => q[i] as number);
      };
      const rules: Rule[] = lim.map(([lo, hi], k) => splitRule(lo, hi, cutsOf(k)));
      const f = densities(dist, rules);
      const rtol = row.rtol ?? 2e-3;
      const mean = definedValues(() => dist.mean())?.v;
      const variance = definedValues(() => dist.variance())?.v;
      const entropy = definedValues(() => dist.entropy())?.v;
      for (let k = 0; k < b; k++) {
        const r = rules[k] as Rule;
        const fk = f[k] as number[];
        const z = integrate(r, fk, (_, y) => y);
        close(z, 1, 0, rtol, `[${k}] ∫ f`);
        const m = integrate(r, fk, (x, y) => x * y);
        const circular = dist.support.kind === 'circular';
        if (!circular && mean !== undefined && Number.isFinite(mean[k])) {
          close(mean[k] as number, m, rtol, rtol, `[${k}] mean`);
        }
        if (!circular && variance !== undefined && Number.isFinite(variance[k])) {
          const mm = Number.isFinite(mean?.[k]) ? (mean?.[k] as number) : m;
          const v = integrate(r, fk, (x, y) => (x - mm) ** 2 * y);
          close(variance[k] as number, v, 5 * rtol, rtol, `[${k}] variance`);
        }
        if (entropy !== undefined) {
          const h = integrate(r, fk, (_, y) => -y * Math.log(y));
          close(entropy[k] as number, h, rtol, 2 * rtol, `[${k}] entropy`);
        }
      }
      // cdf at the draws' quartiles against the integral of the density up to them
      let cdf: number[] | undefined;
      const pts = [0, 1, 2].map((i) => draws.map((s) => s[100 * (i + 1)] as number));
      const at = tf.tensor(pts, dist.batchShape.length === 0 ? [3] : [3, b]);
      try {
        const c = dist.cdf(at);
        cdf = Array.from(c.dataSync());
        c.dispose();
      } catch (e) {
        if (!(e instanceof NotDefinedError)) throw e;
      } finally {
        at.dispose();
      }
      if (cdf !== undefined) {
        for (let k = 0; k < b; k++) {
          const [lo] = lim[k] as [number, number];
          for (let i = 0; i < 3; i++) {
            const x0 = (pts[i] as number[])[k] as number;
            const r = splitRule(lo, Math.fround(x0), cutsOf(k));
            const [fr] = densities(singleEntry(dist, k, b), [r]);
            const want = integrate(r, fr as number[], (_, y) => y);
            close(cdf[i * b + k] as number, want, 0, 2e-3, `[${k}] cdf(${x0})`);
          }
        }
      }
      // cdf(icdf(q)) = q
      const qs = [0.01, 0.3, 0.7, 0.99];
      let back: number[] | undefined;
      try {
        back = tf.tidy(() => {
          const q = tf.broadcastTo(tf.tensor(qs, [4, ...dist.batchShape.map(() => 1)]), [
            4,
            ...dist.batchShape,
          ]);
          return Array.from(dist.cdf(dist.icdf(q)).dataSync());
        });
      } catch (e) {
        if (!(e instanceof NotDefinedError)) throw e;
      }
      if (back !== undefined) {
        for (let i = 0; i < 4; i++) {
          for (let k = 0; k < b; k++)
            close(
              back[i * b + k] as number,
              qs[i] as number,
              0,
              2e-3,
              `[${k}] cdf(icdf(${qs[i]}))`,
            );
        }
      }
    } finally {
      for (const o of owned) o.dispose();
    }
    expect(tf.memory().numTensors, 'tensors left').toBe(before);
  });
});

/**
 * A view of batch entry `k` of `dist` for per-entry grids: the family itself, fed values that
 * put the grid in column `k` and repeat its last node elsewhere (only column `k` is read).
 */
function singleEntry(dist: Dist, k: number, b: number): Dist {
  return {
    batchShape: dist.batchShape,
    logProb: (v: tf.Tensor) =>
      tf.tidy(() => {
        if (dist.batchShape.length === 0) return dist.logProb(v);
        const n = v.shape[0] as number;
        const col = tf.slice(v, [0, 0], [n, 1]);
        const full = tf.tile(col, [1, b]);
        const lp = dist.logProb(full);
        return tf.slice(lp, [0, k], [n, 1]);
      }),
  } as unknown as Dist;
}
