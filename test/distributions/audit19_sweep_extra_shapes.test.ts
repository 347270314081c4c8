/**
 * Audit 19, the property sweep, part 6: the shape and memory invariants of `sweep_shapes.test.ts`
 * for the exported families that `sweep_cases.ts` leaves out (mixtures of unlike components,
 * the censored wrappers, BetaProportion, Gompertz, Levy, CAR, GaussianScaleMixture, Stable,
 * SineBivariateVonMises, DiscreteUniform, Delta), batched: `sample([n])` has shape
 * `[n, ...batch, ...event]`; `logProb` of draws has shape `[n, ...batch]` and is finite; a value
 * of shape `[k, 1, ...event]` broadcasts against batch `[3]` as its broadcast copy does;
 * `expand([2, 3])` scores as the base and its mean is the base's broadcast; `stddev² = variance`
 * where defined; no call leaves a tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions } from '../../src/index.js';
import { definedValues } from './defined_values.js';

const d = distributions;
type Dist = distributions.Distribution;

interface Row {
  name: string;
  /** The family with batch `[3]` and the bases it does not own. */
  make: () => { dist: Dist; owned: Dist[] };
  /** No logProb (Stable: as Pyro). */
  noLogProb?: boolean;
}

const own = (dist: Dist, ...parts: Dist[]): { dist: Dist; owned: Dist[] } => ({
  dist,
  owned: [dist, ...parts],
});

const W = [
  [0, 1, 0],
  [1, 0, 1],
  [0, 1, 0],
];

const ROWS: Row[] = [
  {
    name: 'MixtureGeneral',
    make: () => {
      const c = new d.Categorical([
        [0.3, 0.7],
        [0.5, 0.5],
        [0.9, 0.1],
      ]);
      const a = new d.Normal([-1, 0, 1], 0.5);
      const g = new d.Gamma(2, [1, 2, 3]);
      return own(new d.MixtureGeneral(c, [a, g]), c, a, g);
    },
  },
  {
    name: 'MaskedMixture',
    make: () => {
      const a = new d.Normal([0, 1, 2], 1);
      const l = new d.Laplace(5, [1, 2, 3]);
      return own(new d.MaskedMixture([true, false, true], a, l), a, l);
    },
  },
  {
    name: 'LeftCensoredDistribution',
    make: () => {
      const b = new d.LogNormal([0, 0.5, 1], 0.5);
      return own(new d.LeftCensoredDistribution(b, [true, false, true]), b);
    },
  },
  {
    name: 'RightCensoredDistribution',
    make: () => {
      const b = new d.Exponential([0.3, 1, 2]);
      return own(new d.RightCensoredDistribution(b, [false, true, false]), b);
    },
  },
  {
    name: 'IntervalCensoredDistribution',
    make: () => {
      const b = new d.Gamma([3, 2, 1], 2);
      return own(
        new d.IntervalCensoredDistribution(b, [true, false, true], [false, true, true]),
        b,
      );
    },
  },
  { name: 'BetaProportion', make: () => own(new d.BetaProportion([0.3, 0.5, 0.8], [10, 2, 4])) },
  { name: 'Gompertz', make: () => own(new d.Gompertz([0.5, 2, 1], [2, 0.7, 1])) },
  { name: 'Levy', make: () => own(new d.Levy([0, 1, -1], [2, 1, 0.5])) },
  { name: 'CAR', make: () => own(new d.CAR([[0], [1], [-1]], [0.5, 0.2, 0.9], [2, 1, 3], W)) },
  {
    // not batched (as Pyro's): batch [3] by expand
    name: 'GaussianScaleMixture',
    make: () => {
      const g = new d.GaussianScaleMixture([1, 2], [0, 1], [0.5, 3]);
      return own(g.expand([3]), g);
    },
  },
  {
    name: 'Stable',
    make: () => own(new d.Stable([1.5, 2, 0.8], [0.5, 0, -0.3], [1, 0.7, 2], [0.3, -1, 0])),
    noLogProb: true,
  },
  {
    name: 'SineBivariateVonMises',
    make: () =>
      own(
        new d.SineBivariateVonMises([0.3, 0, 1], -0.5, [2, 1, 3], 3, { correlation: [0.5, 0, -1] }),
      ),
  },
  { name: 'DiscreteUniform', make: () => own(new d.DiscreteUniform([0, -3, 1], [4, 2, 1])) },
  { name: 'Delta', make: () => own(new d.Delta([1.5, -2, 0])) },
];

describe.each(ROWS)('$name, batch [3]', (row) => {
  it('draws, scores, broadcasts a value and expands with the right shapes and values', () => {
    const before = tf.memory().numTensors;
    const { dist, owned } = row.make();
    try {
      expect(dist.batchShape).toEqual([3]);
      const ev = dist.eventShape;
      const x = dist.sample([4], 3);
      try {
        expect(x.shape).toEqual([4, 3, ...ev]);
        if (!row.noLogProb) {
          const lp = definedValues(() => dist.logProb(x));
          expect(lp?.shape).toEqual([4, 3]);
          expect(
            lp?.v.every((v) => Number.isFinite(v)),
            `logProb of draws ${lp?.v.join(',')}`,
          ).toBe(true);
          // a value [4, 1, ...event] against batch [3]
          const x1 = tf.slice(x, 0, [4, 1, ...ev]);
          const full = tf.broadcastTo(x1, [4, 3, ...ev]);
          const a = definedValues(() => dist.logProb(x1));
          const b = definedValues(() => dist.logProb(full));
          tf.dispose([x1, full]);
          expect(a?.shape).toEqual([4, 3]);
          expect(a?.v).toBeAllclose(b?.v as number[], { rtol: 1e-5, atol: 1e-5 });
        }
        // expand
        const e = dist.expand([2, 3]);
        try {
          expect(e.batchShape).toEqual([2, 3]);
          expect(e.eventShape).toEqual(ev);
          const ex = e.sample([5], 4);
          expect(ex.shape).toEqual([5, 2, 3, ...ev]);
          if (!row.noLogProb) {
            const le = definedValues(() => e.logProb(ex));
            const lb = definedValues(() => dist.logProb(ex));
            expect(le?.shape).toEqual([5, 2, 3]);
            expect(le?.v).toBeAllclose(lb?.v as number[], { rtol: 1e-6, atol: 1e-6 });
          }
          ex.dispose();
          const m = definedValues(() => dist.mean());
          const me = definedValues(() => e.mean());
          if (m !== undefined && me !== undefined) {
            expect(me.shape).toEqual([2, 3, ...ev]);
            expect(me.v).toEqual([...m.v, ...m.v]);
          }
        } finally {
          e.dispose();
        }
        const v = definedValues(() => dist.variance());
        const sd = definedValues(() => dist.stddev());
        if (v !== undefined && sd !== undefined) {
          expect(sd.v.map((s) => s * s)).toBeAllclose(v.v, { rtol: 1e-5, atol: 1e-7 });
        }
      } finally {
        x.dispose();
      }
    } finally {
      for (const o of owned) o.dispose();
    }
    expect(tf.memory().numTensors, 'tensors left').toBe(before);
  });
});
