/**
 * Audit of issues 2 and 14 (session 16): every distribution class exported by the index is
 * swept. The families of `sweep_cases.ts` are checked there; this file covers the rest (and any
 * new export must be added to one of the two tables: the guard below fails otherwise) — sample
 * mean and variance of 20k seeded draws against `mean()` / `variance()` within 5 standard errors
 * (float64 on the host), `Infinity`/`NaN` where the moment does not exist, no tensor left.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { NotDefinedError, distributions } from '../../src/index.js';
import { SWEEP } from './sweep_cases.js';
import { expectNoLeak } from '../helpers.js';

const d = distributions;
type Dist = distributions.Distribution;

interface Row {
  name: string;
  make: () => { dist: Dist; owned: Dist[] };
  /** Moments compared with draws; the others are documented as not existing (`absent`). */
  moments: Array<'mean' | 'variance'>;
  /** Moments that do not exist: their value (Infinity or NaN), checked as such. */
  absent?: { mean?: number; variance?: number };
  /** `mean()` and `variance()` throw `NotDefinedError` (leaving no tensor). */
  undefinedMoments?: boolean;
}

const own = (dist: Dist, ...parts: Dist[]): { dist: Dist; owned: Dist[] } => ({
  dist,
  owned: [dist, ...parts],
});

const W = [
  [0, 1, 0, 0],
  [1, 0, 1, 0],
  [0, 1, 0, 1],
  [0, 0, 1, 0],
];

const EXTRA: Row[] = [
  {
    name: 'MixtureGeneral',
    make: () => {
      const c = new d.Categorical([0.3, 0.7]);
      const a = new d.Normal(-1, 0.5);
      const g = new d.Gamma(2, 1);
      return own(new d.MixtureGeneral(c, [a, g]), c, a, g);
    },
    moments: ['mean', 'variance'],
  },
  {
    name: 'MaskedMixture',
    make: () => {
      const a = new d.Normal(0, 1);
      const l = new d.Laplace(5, 2);
      return own(new d.MaskedMixture([true, false, true], a, l), a, l);
    },
    moments: ['mean', 'variance'],
  },
  {
    name: 'LeftCensoredDistribution',
    make: () => {
      const b = new d.LogNormal(0, 0.5);
      return own(new d.LeftCensoredDistribution(b, [true, false]), b);
    },
    moments: ['mean', 'variance'],
  },
  {
    name: 'RightCensoredDistribution',
    make: () => {
      const b = new d.Exponential(0.3);
      return own(new d.RightCensoredDistribution(b, [false, true]), b);
    },
    moments: ['mean', 'variance'],
  },
  {
    name: 'IntervalCensoredDistribution',
    make: () => {
      const b = new d.Gamma(3, 2);
      return own(new d.IntervalCensoredDistribution(b, [true, false], [false, true]), b);
    },
    // pairs (x, x) of base draws: the moments of the draws, the base's on both coordinates
    moments: ['mean', 'variance'],
  },
  {
    name: 'BetaProportion',
    make: () => own(new d.BetaProportion([0.3, 0.8], [10, 2])),
    moments: ['mean', 'variance'],
  },
  { name: 'Gompertz', make: () => own(new d.Gompertz([0.5, 2], [2, 0.7])), moments: ['mean'] },
  {
    name: 'Levy',
    make: () => own(new d.Levy(0, 2)),
    moments: [],
    absent: { mean: Infinity, variance: Infinity },
  },
  {
    name: 'CAR',
    make: () => own(new d.CAR(0.5, 0.9, 2, W)),
    moments: ['mean', 'variance'],
  },
  {
    name: 'GaussianScaleMixture',
    make: () => own(new d.GaussianScaleMixture([1, 2], [0, 1], [0.5, 3])),
    moments: ['mean', 'variance'],
  },
  {
    name: 'Stable',
    make: () => own(new d.Stable([1.5, 2], [0.5, 0], [1, 0.7], [0.3, -1])),
    moments: ['mean'],
  },
  {
    name: 'SineBivariateVonMises',
    // angles: the (circular) mean is compared through sin/cos in the dedicated tests
    make: () => own(new d.SineBivariateVonMises(0.3, -0.5, 2, 3, { correlation: 0.5 })),
    moments: [],
  },
  {
    name: 'DiscreteUniform',
    make: () => own(new d.DiscreteUniform([0, -3], [4, 2])),
    moments: ['mean', 'variance'],
  },
  {
    name: 'Delta',
    // every draw is the point itself: the variance (0) has no standard error to compare within
    make: () => own(new d.Delta([1.5, -2])),
    moments: ['mean'],
  },
];

/** Abstract bases exported for subclassing, not families. */
const BASES = new Set(['Distribution', 'ScalarDistribution', 'LocationScaleDistribution']);

describe('every exported distribution class is swept', () => {
  it('each class of the index has a row in sweep_cases.ts or in this file', () => {
    const covered = new Set([
      ...SWEEP.map((r) => r.name.split(/[ (]/)[0] as string),
      ...EXTRA.map((r) => r.name),
    ]);
    const missing: string[] = [];
    for (const [k, v] of Object.entries(d)) {
      if (typeof v !== 'function' || BASES.has(k)) continue;
      if (!((v as { prototype: unknown }).prototype instanceof d.Distribution)) continue;
      if (!covered.has(k)) missing.push(k);
    }
    expect(missing).toEqual([]);
  });
});

const N = 20000;

describe('sample moments of the families outside sweep_cases.ts', () => {
  for (const row of EXTRA) {
    it(row.name, () => {
      const { dist, owned } = row.make();
      const x = dist.sample([N], 1234);
      expect(x.shape).toEqual([N, ...dist.batchShape, ...dist.eventShape]);
      const v = x.dataSync();
      x.dispose();
      const k = v.length / N;
      for (const m of row.moments) {
        const ref = expectNoLeak(() => (m === 'mean' ? dist.mean() : dist.variance()));
        expect(ref.length).toBe(k);
        for (let j = 0; j < k; j++) {
          let s = 0;
          for (let i = 0; i < N; i++) s += v[i * k + j] as number;
          const mu = s / N;
          let s2 = 0;
          let s4 = 0;
          for (let i = 0; i < N; i++) {
            const dl = (v[i * k + j] as number) - mu;
            s2 += dl * dl;
            s4 += dl ** 4;
          }
          const va = s2 / N;
          const est = m === 'mean' ? mu : va;
          const se =
            m === 'mean' ? Math.sqrt(va / N) : Math.sqrt(Math.max(s4 / N - va * va, 0) / N);
          expect(Math.abs(est - (ref[j] as number)), `${row.name} ${m}[${j}]`).toBeLessThan(
            5 * se + 1e-6 * Math.abs(ref[j] as number),
          );
        }
      }
      if (row.absent?.mean !== undefined) {
        expectNoLeak(() => dist.mean()).forEach((m) => expect(m).toBe(row.absent?.mean));
      }
      if (row.absent?.variance !== undefined) {
        expectNoLeak(() => dist.variance()).forEach((m) => expect(m).toBe(row.absent?.variance));
      }
      if (row.undefinedMoments === true) {
        const before = tf.memory().numTensors;
        expect(() => dist.mean()).toThrow(NotDefinedError);
        expect(() => dist.variance()).toThrow(/variance/);
        expect(tf.memory().numTensors).toBe(before);
      }
      owned.forEach((o) => o.dispose());
    });
  }
});
