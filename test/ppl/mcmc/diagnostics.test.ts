import { describe, expect, it } from 'vitest';
import {
  ess,
  essBulk,
  essTail,
  quantile,
  rankNormalize,
  rhat,
  splitChains,
  splitRhat,
} from '../../../src/ppl/mcmc/diagnostics.js';
import { ArgumentError } from '../../../src/utils/errors.js';

/** Park–Miller uniform stream (exactly reproducible in float64 in any language). */
function* parkMiller(seed: number): Generator<number> {
  let s = seed;
  for (;;) {
    s = (s * 16807) % 2147483647;
    yield s / 2147483647;
  }
}

/** AR(1) chains `x_t = phi x_{t-1} + (u_t - 1/2)` plus a per-chain shift; optional flooring to 0.1. */
function arChains(
  m: number,
  n: number,
  phis: number[],
  shifts: number[],
  seed: number,
  floorTenth = false,
): number[][] {
  const g = parkMiller(seed);
  const out: number[][] = [];
  for (let c = 0; c < m; c++) {
    let x = 0;
    const a: number[] = [];
    for (let t = 0; t < n; t++) {
      const e = (g.next().value as number) - 0.5;
      x = (phis[c] as number) * x + e;
      const v = x + (shifts[c] as number);
      a.push(floorTenth ? Math.floor(v * 10) / 10 : v);
    }
    out.push(a);
  }
  return out;
}

/*
 * Reference values from arviz-stats (github.com/arviz-devs/arviz-stats, src/arviz_stats/base/
 * diagnostics.py: _ess, _rhat, _ess_bulk, _ess_tail(prob=(0.05, 0.95)), and the rank-normalized
 * split R-hat max(_rhat(_z_scale(split)), _rhat(_z_scale(|split - median|)))), run with NumPy 2.4 /
 * SciPy 1.17 on the same arrays generated in Python.
 */
const CASES = {
  ar4: {
    chains: () => arChains(4, 200, [0.7, 0.7, 0.5, 0.9], [0, 0, 0, 0.3], 12345),
    essRaw: 58.07784221297972,
    rhatRaw: 1.0219185270880637,
    essBulk: 62.09610099779961,
    essTail: 76.40754924571014,
    rhatRank: 1.042117656183094,
    q05: -0.6832674363668356,
    q50: 0.01675619893247496,
    zFirst: [-0.9812682385041949, 0.05170608751107667, 1.0069383814774386],
  },
  ties: {
    chains: () => arChains(3, 101, [0.3, 0.3, 0.3], [0, 0, 0.5], 777, true),
    essRaw: 2.9919114186837734,
    rhatRaw: 1.502215717925824,
    essBulk: 7.320833537122636,
    essTail: 122.41105463786477,
    rhatRank: 1.376069205686955,
    q05: -0.5,
    q50: 0.1,
    zFirst: [-1.52446001296011, -1.52446001296011, -2.0128549436459964],
  },
  one: {
    chains: () => arChains(1, 500, [0.95], [0], 4242),
    essRaw: 12.663793925360352,
    rhatRaw: undefined,
    essBulk: 14.19951918454013,
    essTail: 26.64464342332205,
    rhatRank: 1.118652520542387,
    q05: -1.4175449628518912,
    q50: 0.12046556783924675,
    zFirst: [-0.5501610801844858, -0.08277181131137386, -0.2922245496455128],
  },
  anti: {
    chains: () => arChains(2, 300, [-0.6, -0.6], [0, 0], 99),
    essRaw: 1666.890750230186,
    rhatRaw: 0.9984401468684437,
    essBulk: 1666.890750230186,
    essTail: 347.7511677366635,
    rhatRank: 1.007907548421374,
    q05: -0.6006286102151989,
    q50: -0.0030949000661020173,
    zFirst: [-1.2853579680686966, -0.40547118454384756, 1.0759137149601579],
  },
};

describe('MCMC diagnostics against arviz-stats', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: ESS, bulk/tail ESS, R-hat, quantiles, rank normalization`, () => {
      const ch = c.chains();
      const all = ch.flat();
      expect(ess(ch)).toBeCloseTo(c.essRaw, 8);
      if (c.rhatRaw !== undefined) expect(rhat(ch)).toBeCloseTo(c.rhatRaw, 10);
      expect(essBulk(ch)).toBeCloseTo(c.essBulk, 6);
      expect(essTail(ch)).toBeCloseTo(c.essTail, 6);
      expect(splitRhat(ch)).toBeCloseTo(c.rhatRank, 8);
      expect(quantile(all, 0.05)).toBeCloseTo(c.q05, 12);
      expect(quantile(all, 0.5)).toBeCloseTo(c.q50, 12);
      const z = rankNormalize(splitChains(ch))[0] as Float64Array;
      expect(Array.from(z.subarray(0, 3))).toBeAllclose(c.zFirst, { rtol: 1e-9, atol: 1e-12 });
    });
  }
});

describe('MCMC diagnostics by hand', () => {
  it('R-hat of two short chains equals the hand formula', () => {
    // chain means 2 and 5, within variances 1 and 1 (n = 3): B = 3 * var([2, 5]) = 13.5,
    // W = 1, R-hat = sqrt((2/3 * 1 + 13.5/3) / 1).
    const r = rhat([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(r).toBeCloseTo(Math.sqrt(2 / 3 + 13.5 / 3), 12);
  });

  it('ESS of an alternating chain is clipped at M N log10(M N); iid-like chains near M N', () => {
    const alt = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? 1 : -1) + i * 1e-9);
    expect(ess([alt])).toBeCloseTo(100 * Math.log10(100), 6);
    const g = parkMiller(5);
    const iid = [0, 1, 2, 3].map(() => Array.from({ length: 500 }, () => g.next().value as number));
    const e = essBulk(iid);
    expect(e).toBeGreaterThan(1500);
    expect(e).toBeLessThan(2600);
  });

  it('a constant chain has ESS = number of draws; split halves of odd chains drop the middle', () => {
    expect(ess([[2, 2, 2, 2, 2]])).toBe(5);
    const s = splitChains([[1, 2, 3, 4, 5]]);
    expect(s.map((a) => Array.from(a))).toEqual([
      [1, 2],
      [4, 5],
    ]);
  });

  it('bad input: ArgumentError naming the argument', () => {
    expect(() => ess([])).toThrow(ArgumentError);
    expect(() =>
      rhat([
        [1, 2, 3],
        [1, 2],
      ]),
    ).toThrow(/chains/);
    expect(() => quantile([1, 2], 1.5)).toThrow(/prob/);
    expect(splitRhat([[1, 2, 3]])).toBeNaN();
  });
});
