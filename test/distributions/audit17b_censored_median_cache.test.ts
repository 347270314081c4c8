/**
 * Audit 17b: the censored wrappers compute their "safe input" (the base's median, where a
 * discarded branch is evaluated so that its gradient stays finite) once per instance, not up to
 * four times per `logProb` (a float64 root-finding on the host for Gamma, Beta, StudentT).
 * Counted by spying on the base's `icdf`; values against @stdlib float64 references and
 * unchanged between calls; gradients finite at a detection limit where `log f = -Infinity`; a
 * base without a quantile (Poisson, or an expanded Poisson whose forwarded `icdf` throws) is
 * asked at most once; the cache is host-side, so no tensor is kept between calls.
 */
import * as tf from '@tensorflow/tfjs';
import betaRef from '@stdlib/stats-base-dists-beta';
import gammaRef from '@stdlib/stats-base-dists-gamma';
import normalRef from '@stdlib/stats-base-dists-normal';
import tRef from '@stdlib/stats-base-dists-t';
import { describe, expect, it, vi } from 'vitest';
import { distributions as d } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

type Fn = (...a: number[]) => number;
type Dist = d.Distribution;

interface Row {
  name: string;
  make: () => Dist;
  xs: number[];
  logpdf: (x: number) => number;
  logcdf: (x: number) => number;
  logsf: (x: number) => number;
}

const tLog = (f: Fn, x: number): number => f((x - 0.5) / 2, 4);
const rows: Row[] = [
  {
    name: 'Gamma(2.5, 1.5)',
    make: () => new d.Gamma(2.5, 1.5),
    xs: [0.4, 1.1, 2.5, 4],
    logpdf: (x) => (gammaRef.logpdf as Fn)(x, 2.5, 1.5),
    logcdf: (x) => (gammaRef.logcdf as Fn)(x, 2.5, 1.5),
    logsf: (x) => Math.log1p(-(gammaRef.cdf as Fn)(x, 2.5, 1.5)),
  },
  {
    name: 'Beta(2, 3)',
    make: () => new d.Beta(2, 3),
    xs: [0.1, 0.35, 0.6, 0.9],
    logpdf: (x) => (betaRef.logpdf as Fn)(x, 2, 3),
    logcdf: (x) => (betaRef.logcdf as Fn)(x, 2, 3),
    logsf: (x) => Math.log1p(-(betaRef.cdf as Fn)(x, 2, 3)),
  },
  {
    name: 'StudentT(4, 0.5, 2)',
    make: () => new d.StudentT(4, 0.5, 2),
    xs: [-3, 0, 1.5, 6],
    logpdf: (x) => tLog(tRef.logpdf as Fn, x) - Math.log(2),
    logcdf: (x) => tLog(tRef.logcdf as Fn, x),
    logsf: (x) => Math.log1p(-tLog(tRef.cdf as Fn, x)),
  },
  {
    name: 'TruncatedNormal(0, 1, -1, 2)',
    make: () => new d.TruncatedNormal(0, 1, -1, 2),
    xs: [-0.8, 0, 0.9, 1.7],
    logpdf: (x) => (normalRef.logpdf as Fn)(x, 0, 1) - Math.log(Z),
    logcdf: (x) => Math.log(((normalRef.cdf as Fn)(x, 0, 1) - Pm1) / Z),
    logsf: (x) => Math.log((P2 - (normalRef.cdf as Fn)(x, 0, 1)) / Z),
  },
];
const Pm1 = (normalRef.cdf as Fn)(-1, 0, 1);
const P2 = (normalRef.cdf as Fn)(2, 0, 1);
const Z = P2 - Pm1;

const CENSORED = [true, false, true, false];

/** Run `logProb` twice; count the base's icdf calls after each; the values of both calls. */
function twice(
  dist: Dist,
  spy: { mock: { calls: unknown[] } },
  value: number[] | number[][],
): { first: number[]; second: number[]; calls: [number, number] } {
  const first = expectNoLeak(() => dist.logProb(value));
  const c1 = spy.mock.calls.length;
  const second = expectNoLeak(() => dist.logProb(value));
  return { first, second, calls: [c1, spy.mock.calls.length] };
}

describe.each(rows)('audit17b censored $name: one median per instance', (row) => {
  it('left/right censored: values = float64 reference, icdf asked once over two logProb calls', () => {
    for (const kind of ['left', 'right'] as const) {
      const base = row.make();
      const spy = vi.spyOn(base, 'icdf');
      const dist =
        kind === 'left'
          ? new d.LeftCensoredDistribution(base, CENSORED)
          : new d.RightCensoredDistribution(base, CENSORED);
      const { first, second, calls } = twice(dist, spy, row.xs);
      expect(calls, kind).toEqual([1, 1]);
      expect(second).toEqual(first);
      const ref = row.xs.map((x, i) =>
        CENSORED[i] ? (kind === 'left' ? row.logcdf(x) : row.logsf(x)) : row.logpdf(x),
      );
      expect(first, kind).toBeAllclose(ref, { rtol: 2e-4, atol: 2e-5 });
      // a fresh instance (its own first call) gives the same values
      const fresh =
        kind === 'left'
          ? new d.LeftCensoredDistribution(base, CENSORED)
          : new d.RightCensoredDistribution(base, CENSORED);
      expect(expectNoLeak(() => fresh.logProb(row.xs))).toEqual(first);
      expect(spy.mock.calls.length).toBe(2);
      spy.mockRestore();
      [dist, fresh, base].forEach((x) => x.dispose());
    }
  });

  it('interval censored: all four cases, icdf asked once over two logProb calls', () => {
    const base = row.make();
    const spy = vi.spyOn(base, 'icdf');
    const [a, b, c, e] = row.xs as [number, number, number, number];
    const L = [true, false, false, true];
    const R = [false, true, false, true];
    const dist = new d.IntervalCensoredDistribution(base, L, R);
    const pairs = [
      [-Infinity, b],
      [c, Infinity],
      [a, e],
      [b, c],
    ];
    const { first, second, calls } = twice(dist, spy, pairs);
    expect(calls).toEqual([1, 1]);
    expect(second).toEqual(first);
    const F = (x: number): number => Math.exp(row.logcdf(x));
    const ref = [row.logcdf(b), row.logsf(c), Math.log(F(e) - F(a)), Math.log(1 - F(c) + F(b))];
    expect(first).toBeAllclose(ref, { rtol: 2e-4, atol: 2e-5 });
    spy.mockRestore();
    [dist, base].forEach((x) => x.dispose());
  });
});

describe('audit17b censored median cache: gradients, bases without a quantile, memory', () => {
  it('a left-censored LogNormal at a detection limit of 0: finite gradients on every call', () => {
    const before = tf.memory().numTensors;
    const loc = tf.scalar(0.3);
    const scale = tf.scalar(0.8);
    const x = tf.tensor1d([0, 0.5, 2]);
    const base = new d.LogNormal(loc, scale);
    const spy = vi.spyOn(base, 'icdf');
    const dist = new d.LeftCensoredDistribution(base, [true, false, false]);
    const g = tf.grads((l: tf.Tensor, s: tf.Tensor) => {
      void l;
      void s;
      return tf.sum(dist.logProb(x));
    });
    for (let k = 0; k < 2; k++) {
      const gs = g([loc, scale]);
      const v = gs.flatMap((t) => Array.from(t.dataSync()));
      expect(v.every(Number.isFinite), `call ${k}: ${v.join(',')}`).toBe(true);
      // d/dloc sum log f(x) over the two observed: sum (log x - loc) / scale^2; log F(0) = -inf
      // has zero gradient where censored at 0 (F = 0 there for every loc): only the density terms
      const ref = [0.5, 2].reduce((acc, xi) => acc + (Math.log(xi) - 0.3) / 0.64, 0);
      expect(v[0] as number).toBeCloseTo(ref, 4);
      tf.dispose(gs);
    }
    expect(spy.mock.calls.length).toBe(1);
    spy.mockRestore();
    [dist, base, loc, scale, x].forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Poisson (no quantile) is never asked; an expanded Poisson (forwarding icdf) once', () => {
    const poisson = new d.Poisson(3);
    const spy = vi.spyOn(poisson, 'icdf');
    const right = new d.RightCensoredDistribution(poisson, [true, false]);
    const lp = (k: number): number => k * Math.log(3) - 3 - Math.log([1, 1, 2, 6, 24][k] as number);
    const sf2 = 1 - [0, 1, 2].reduce((s, k) => s + Math.exp(lp(k)), 0);
    const r1 = expectNoLeak(() => right.logProb([2, 4]));
    expect(r1).toBeAllclose([Math.log(sf2), lp(4)], { rtol: 1e-5 });
    expectNoLeak(() => right.logProb([2, 4]));
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    const expanded = poisson.expand([2]);
    const spyE = vi.spyOn(expanded, 'icdf');
    const left = new d.LeftCensoredDistribution(expanded, [false, true]);
    const l1 = expectNoLeak(() => left.logProb([4, 2]));
    const l2 = expectNoLeak(() => left.logProb([4, 2]));
    expect(l2).toEqual(l1);
    expect(l1).toBeAllclose([lp(4), Math.log(1 - sf2)], { rtol: 1e-5 });
    expect(spyE.mock.calls.length).toBe(1);
    spyE.mockRestore();
    [right, left, expanded, poisson].forEach((t) => t.dispose());
  });

  it('the cache keeps no tensor: the live count is unchanged around the first call too', () => {
    const base = new d.Gamma([2, 3], [1, 0.5]);
    const dist = new d.IntervalCensoredDistribution(base, [false, true], [false, false]);
    const before = tf.memory().numTensors;
    const v = tf.tidy(() =>
      dist.logProb([
        [1, 2],
        [-Infinity, 4],
      ]),
    );
    v.dispose();
    expect(tf.memory().numTensors).toBe(before);
    dist.dispose();
    base.dispose();
  });
});
