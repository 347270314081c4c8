/**
 * Values at `±Infinity` and `NaN` (the `Distribution` base's limit rule, `infinite_values.ts`):
 * the families the sweep found giving `NaN` there, against @stdlib at `±Infinity` and at large
 * finite values (where nothing changed); `MaskedDistribution` (a masked-out entry scores 0
 * whatever its value), `Independent` (the rule reaches its base), validation on and off, and
 * `supportPoint`.
 */
import gammaRef from '@stdlib/stats-base-dists-gamma';
import gumbelRef from '@stdlib/stats-base-dists-gumbel';
import invgammaRef from '@stdlib/stats-base-dists-invgamma';
import logisticRef from '@stdlib/stats-base-dists-logistic';
import nbRef from '@stdlib/stats-base-dists-negative-binomial';
import poissonRef from '@stdlib/stats-base-dists-poisson';
import weibullRef from '@stdlib/stats-base-dists-weibull';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import * as constraints from '../../src/constraints/constraints.js';
import { distributions as d } from '../../src/index.js';
import { supportPoint } from '../../src/distributions/infinite_values.js';
import { expectNoLeak } from '../helpers.js';

type Dist = d.Distribution;

interface RefRow {
  name: string;
  make: () => Dist;
  /** float64 reference log-density (or log-mass) and CDF. */
  logpdf: (x: number) => number;
  cdf: (x: number) => number;
  /** large finite values (in the support), where the result must be as before */
  large: number[];
}

const ROWS: RefRow[] = [
  {
    name: 'Gamma(2.5, 1.5)',
    make: () => new d.Gamma(2.5, 1.5),
    logpdf: (x) => gammaRef.logpdf(x, 2.5, 1.5),
    cdf: (x) => gammaRef.cdf(x, 2.5, 1.5),
    large: [12, 30, 60],
  },
  {
    name: 'Chi2(3) = Gamma(1.5, 0.5)',
    make: () => new d.Chi2(3),
    logpdf: (x) => gammaRef.logpdf(x, 1.5, 0.5),
    cdf: (x) => gammaRef.cdf(x, 1.5, 0.5),
    large: [20, 50, 120],
  },
  {
    name: 'InverseGamma(3, 2)',
    make: () => new d.InverseGamma(3, 2),
    logpdf: (x) => invgammaRef.logpdf(x, 3, 2),
    cdf: (x) => invgammaRef.cdf(x, 3, 2),
    large: [20, 1e3, 1e5],
  },
  {
    name: 'Weibull(1.4, 2)',
    make: () => new d.Weibull(1.4, 2),
    logpdf: (x) => weibullRef.logpdf(x, 2, 1.4),
    cdf: (x) => weibullRef.cdf(x, 2, 1.4),
    large: [3, 6, 10],
  },
  {
    name: 'Gumbel(0.3, 1.4)',
    make: () => new d.Gumbel(0.3, 1.4),
    logpdf: (x) => gumbelRef.logpdf(x, 0.3, 1.4),
    cdf: (x) => gumbelRef.cdf(x, 0.3, 1.4),
    large: [-12, -4, 20, 60],
  },
  {
    name: 'Logistic(0.3, 1.4)',
    make: () => new d.Logistic(0.3, 1.4),
    logpdf: (x) => logisticRef.logpdf(x, 0.3, 1.4),
    cdf: (x) => logisticRef.cdf(x, 0.3, 1.4),
    large: [-60, -20, 20, 60],
  },
  {
    name: 'Poisson(2.5)',
    make: () => new d.Poisson(2.5),
    logpdf: (x) => poissonRef.logpmf(x, 2.5),
    cdf: (x) => poissonRef.cdf(x, 2.5),
    large: [12, 25, 40],
  },
  {
    // Pyro's probs is the success probability of the counted trials: stdlib's p is 1 - probs
    name: 'NegativeBinomial(3, 0.4)',
    make: () => new d.NegativeBinomial(3, 0.4),
    logpdf: (x) => nbRef.logpmf(x, 3, 0.6),
    cdf: (x) => nbRef.cdf(x, 3, 0.6),
    large: [15, 30, 45],
  },
];

describe.each(ROWS)('$name against @stdlib', (row) => {
  it('±Infinity: logProb and cdf are the reference limits (were NaN)', () => {
    const dist = row.make();
    try {
      const xs = [-Infinity, Infinity];
      // (scipy's limit; @stdlib's own logpdf is off there for some: Gumbel's logpdf(-inf) = 0,
      // NegativeBinomial's logpmf(+inf) = NaN; its CDFs are right)
      expect(expectNoLeak(() => dist.logProb(xs))).toEqual([-Infinity, -Infinity]);
      const c = expectNoLeak(() => dist.cdf(xs));
      expect(c).toEqual(xs.map((x) => row.cdf(x)));
      expect(expectNoLeak(() => dist.logCdf(xs))).toEqual([-Infinity, 0]);
      expect(expectNoLeak(() => dist.survival(xs))).toEqual([1, 0]);
      expect(expectNoLeak(() => dist.logSurvival(xs))).toEqual([0, -Infinity]);
    } finally {
      dist.dispose();
    }
  });

  it('large finite values: logProb and cdf as @stdlib (float64), also next to infinite ones', () => {
    const dist = row.make();
    try {
      const xs = row.large;
      const lp = expectNoLeak(() => dist.logProb(xs));
      const lpMixed = expectNoLeak(() => dist.logProb([-Infinity, ...xs, Infinity, NaN]));
      const c = expectNoLeak(() => dist.cdf(xs));
      xs.forEach((x, i) => {
        const ref = row.logpdf(x);
        expect(Math.abs(lp[i]! - ref), `logProb(${x}) = ${lp[i]} vs ${ref}`).toBeLessThanOrEqual(
          2e-5 * Math.max(1, Math.abs(ref)),
        );
        expect(lpMixed[i + 1]).toBe(lp[i]);
        expect(Math.abs(c[i]! - row.cdf(x)), `cdf(${x})`).toBeLessThanOrEqual(2e-6);
      });
      expect(lpMixed[0]).toBe(-Infinity);
      expect(lpMixed[xs.length + 1]).toBe(-Infinity);
      expect(lpMixed[xs.length + 2]).toBeNaN();
    } finally {
      dist.dispose();
    }
  });
});

describe('the limit rule through the wrappers', () => {
  it('MaskedDistribution: a masked-out entry scores 0 at ±inf and NaN; the others take the limit', () => {
    const base = new d.Gamma([2, 3, 4], 1.5);
    const masked = base.mask(tf.tensor1d([true, false, true], 'bool'));
    try {
      const lp = expectNoLeak(() => masked.logProb([[Infinity], [-Infinity], [NaN]]));
      expect(lp.slice(0, 3)).toEqual([-Infinity, 0, -Infinity]);
      expect(lp.slice(3, 6)).toEqual([-Infinity, 0, -Infinity]);
      expect(lp[4]).toBe(0);
      expect(lp[6]).toBeNaN();
      expect(lp[7]).toBe(0);
      expect(lp[8]).toBeNaN();
      const off = base.mask(false);
      try {
        expect(expectNoLeak(() => off.logProb([Infinity, NaN, -Infinity]))).toEqual([0, 0, 0]);
      } finally {
        off.dispose();
      }
    } finally {
      masked.dispose();
      base.dispose();
    }
  });

  it('Independent(Gamma): an infinite coordinate gives -inf for the event', () => {
    const base = new d.Gamma([2, 3], 1.5);
    const ind = base.toEvent(1);
    try {
      const lp = expectNoLeak(() =>
        ind.logProb([
          [1, Infinity],
          [1, 2],
        ]),
      );
      expect(lp[0]).toBe(-Infinity);
      const ref = gammaRef.logpdf(1, 2, 1.5) + gammaRef.logpdf(2, 3, 1.5);
      expect(Math.abs(lp[1]! - ref)).toBeLessThan(1e-5);
      // the gradient in the value is 0 at the infinite coordinate, finite elsewhere
      const x = tf.tensor2d([[1, Infinity]]);
      try {
        const g = expectNoLeak(() => tf.grad((v: tf.Tensor) => tf.sum(ind.logProb(v)))(x));
        expect(g[1]).toBe(0);
        expect(Math.abs(g[0]! - ((2 - 1) / 1 - 1.5))).toBeLessThan(1e-5);
      } finally {
        x.dispose();
      }
    } finally {
      ind.dispose();
      base.dispose();
    }
  });

  it('validation on or off: an infinite value gives the limits, never an error', () => {
    for (const validateArgs of [true, false]) {
      const dist = new d.Poisson(2.5, { validateArgs });
      try {
        expect(expectNoLeak(() => dist.logProb([Infinity, -Infinity]))).toEqual([
          -Infinity,
          -Infinity,
        ]);
        expect(expectNoLeak(() => dist.cdf([Infinity, -Infinity]))).toEqual([1, 0]);
      } finally {
        dist.dispose();
      }
    }
  });

  it('FisherSnedecor and VonMises at ±inf: -inf, and zero parameter gradients', () => {
    const theta = [tf.scalar(3), tf.scalar(5)];
    try {
      for (const build of [
        (p: tf.Tensor[]) => new d.FisherSnedecor(p[0]!, p[1]!),
        (p: tf.Tensor[]) => new d.VonMises(p[0]!, p[1]!),
      ]) {
        const dist = build(theta);
        try {
          expect(expectNoLeak(() => dist.logProb([Infinity, -Infinity]))).toEqual([
            -Infinity,
            -Infinity,
          ]);
        } finally {
          dist.dispose();
        }
        const before = tf.memory().numTensors;
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
          const e = build([a, b]);
          try {
            const lp = e.logProb([Infinity, -Infinity, 1]);
            return tf.sum(tf.where(tf.isFinite(lp), lp, 0));
          } finally {
            e.dispose();
          }
        })(theta);
        const gs = grads.map((g) => g.dataSync()[0]!);
        tf.dispose(grads);
        expect(tf.memory().numTensors).toBe(before);
        // only the finite entry contributes: finite gradients, not NaN
        expect(
          gs.every((g) => Number.isFinite(g)),
          gs.join(','),
        ).toBe(true);
      }
    } finally {
      tf.dispose(theta);
    }
  });
});

describe('supportPoint', () => {
  it('lies inside each scalar support', () => {
    const cases: [constraints.Constraint, number][] = [
      [constraints.real, 0],
      [constraints.positive, 1],
      [constraints.nonnegative, 1],
      [constraints.unitInterval, 0.5],
      [constraints.nonnegativeInteger, 0],
      [constraints.boolean, 0],
      [constraints.greaterThan(2), 3],
      [constraints.greaterThanEq(-1), 0],
      [constraints.lessThan(4), 3],
      [constraints.interval(1, 5), 3],
      [constraints.integerInterval(2, 7), 2],
    ];
    for (const [c, want] of cases) {
      const p = tf.tidy(() => {
        const s = supportPoint(c);
        return typeof s === 'number' ? tf.scalar(s) : (s as tf.Tensor);
      });
      expect(p.dataSync()[0], c.name).toBe(want);
      expect(c.check(p).dataSync()[0], c.name).toBe(1);
      p.dispose();
    }
    expect(supportPoint(constraints.simplex)).toBeUndefined();
  });
});
