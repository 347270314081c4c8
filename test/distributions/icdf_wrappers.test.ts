/**
 * `icdf` through the wrappers: `Independent` (coordinate by coordinate), `MaskedDistribution`
 * (the base's: the draws are the base's), `ExpandedDistribution`, and `TransformedDistribution`
 * through increasing, decreasing and elementwise bijectors over a base with an event shape;
 * a `NotDefinedError` naming the cause where it has no closed form.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bijectors, distributions, NotDefinedError } from '../../src/index.js';
import normalRef from '@stdlib/stats-base-dists-normal';
import lognormalRef from '@stdlib/stats-base-dists-lognormal';
import gumbelRef from '@stdlib/stats-base-dists-gumbel';
import { expectNoLeak } from '../helpers.js';

const d = distributions;

function withDist<T extends { dispose(): void }>(x: T, f: (x: T) => void): void {
  try {
    f(x);
  } finally {
    x.dispose();
  }
}

describe('icdf through the wrappers', () => {
  it('Independent: the quantile of each coordinate (it threw NotDefinedError)', () => {
    const loc = [
      [0, 1, -2],
      [3, 0.5, 0],
    ];
    const scale = [2, 0.5, 1];
    const p = [
      [0.1, 0.5, 0.975],
      [1e-4, 0.3, 0.8],
    ];
    withDist(new d.Normal(loc, scale).toEvent(1), (ind) => {
      expect(ind.eventShape).toEqual([3]);
      const want = p.flatMap((row, i) =>
        row.map((q, j) => normalRef.quantile(q, loc[i]![j]!, scale[j]!)),
      );
      expect(expectNoLeak(() => ind.icdf(p))).toBeAllclose(want, { rtol: 1e-5, atol: 1e-5 });
    });
    // two reinterpreted dims, over an expanded base
    withDist(new d.Gumbel(1, 2).expand([2, 3]).toEvent(2), (ind) => {
      const q = [
        [0.2, 0.4, 0.6],
        [0.8, 0.9, 0.99],
      ];
      const want = q.flat().map((v) => gumbelRef.quantile(v, 1, 2));
      expect(expectNoLeak(() => ind.icdf(q))).toBeAllclose(want, { rtol: 1e-5, atol: 1e-5 });
    });
  });

  it("Masked: the base's quantile, broadcast to a mask that grows the batch (it threw)", () => {
    withDist(new d.Normal(1, 3), (base) => {
      const m = tf.tensor1d([true, false, true], 'bool');
      withDist(base.mask(m), (masked) => {
        expect(masked.batchShape).toEqual([3]);
        const p = [0.05, 0.5, 0.9];
        const want = p.map((q) => normalRef.quantile(q, 1, 3));
        expect(expectNoLeak(() => masked.icdf(p))).toBeAllclose(want, { rtol: 1e-5, atol: 1e-5 });
        expect(expectNoLeak(() => masked.icdf(0.25))).toBeAllclose(
          [0, 0, 0].map(() => normalRef.quantile(0.25, 1, 3)),
          { rtol: 1e-5 },
        );
        // cdf stays undefined, as in Pyro
        expect(() => masked.cdf(0)).toThrow(NotDefinedError);
      });
      m.dispose();
    });
  });

  it('TransformedDistribution: decreasing bijectors use 1 - p; elementwise over an event shape', () => {
    // y = -2 x + 1, x ~ N(0.5, 1): P(Y <= y) = P(X >= (1 - y)/2)
    withDist(new bijectors.ScalarAffine(-2, 1), (aff) =>
      withDist(new d.Normal(0.5, 1), (base) =>
        withDist(new d.TransformedDistribution(base, aff), (t) => {
          const p = [0.01, 0.3, 0.5, 0.9];
          const want = p.map((q) => 1 - 2 * normalRef.quantile(1 - q, 0.5, 1));
          expect(expectNoLeak(() => t.icdf(p))).toBeAllclose(want, { rtol: 1e-5, atol: 1e-5 });
          // the cdf at the quantile gives p back
          const back = expectNoLeak(() => t.cdf(want));
          expect(back).toBeAllclose(p, { rtol: 1e-4, atol: 1e-5 });
        }),
      ),
    );
    // exp of an Independent Normal: LogNormal quantiles per coordinate (it threw)
    const exp = new bijectors.Exp();
    withDist(new d.Normal([0, 1], [1, 0.5]).toEvent(1), (base) =>
      withDist(new d.TransformedDistribution(base, exp), (t) => {
        const want = [lognormalRef.quantile(0.2, 0, 1), lognormalRef.quantile(0.7, 1, 0.5)];
        expect(expectNoLeak(() => t.icdf([0.2, 0.7]))).toBeAllclose(want, { rtol: 1e-5 });
      }),
    );
    // a decreasing chain (exp then negation) over the same base
    const chain = new bijectors.Chain([new bijectors.ScalarAffine(-1, 0), exp]);
    withDist(new d.Normal([0, 1], [1, 0.5]).toEvent(1), (base) =>
      withDist(new d.TransformedDistribution(base, chain), (t) => {
        const want = [-lognormalRef.quantile(0.8, 0, 1), -lognormalRef.quantile(0.3, 1, 0.5)];
        expect(expectNoLeak(() => t.icdf([0.2, 0.7]))).toBeAllclose(want, { rtol: 1e-5 });
      }),
    );
    chain.dispose();
    exp.dispose();
  });

  it('a clear NotDefinedError where the quantile has no closed form, without leaking', () => {
    const before = tf.memory().numTensors;
    const ordered = new bijectors.OrderedTransform();
    const normal = new d.Normal([0, 0], 1);
    withDist(normal.toEvent(1), (base) =>
      withDist(new d.TransformedDistribution(base, ordered), (t) => {
        expect(() => t.icdf([0.2, 0.7])).toThrow(NotDefinedError);
        expect(() => t.icdf([0.2, 0.7])).toThrow(/monotone elementwise bijector.*OrderedTransform/);
      }),
    );
    const mixed = new bijectors.ScalarAffine([1, -1], 0);
    withDist(new d.TransformedDistribution(normal, mixed), (t) => {
      expect(() => t.icdf([0.2, 0.7])).toThrow(/neither increasing nor decreasing/);
    });
    const poisson = new d.Poisson([1, 2]);
    withDist(poisson.toEvent(1), (ind) => {
      expect(() => ind.icdf([0.2, 0.7])).toThrow(NotDefinedError);
      expect(() => ind.icdf([0.2, 0.7])).toThrow(/Poisson: icdf is not defined/);
    });
    withDist(poisson.mask(true), (m) => expect(() => m.icdf([0.5, 0.5])).toThrow(NotDefinedError));
    for (const x of [poisson, normal, ordered, mixed]) x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
