/**
 * Audit 18 (NumPyro/ArviZ parity of the summary): NumPyro's `summary` `std` is the sample standard
 * deviation (`value_flat.std(axis=0, ddof=1)`), its `r_hat` the split Gelman–Rubin without rank
 * normalization (`split_gelman_rubin`); ArviZ's `r_hat` is the rank-normalized split R-hat, and
 * its `ess_bulk`/`ess_tail` are offered per element of a tensor by `ppl.stats`. References: plain
 * JS float64 formulas (test/fixtures/diagnostics.ts) and values pinned from NumPy 2.4.6 / SciPy
 * 1.17.1 (NumPyro's `split_gelman_rubin` and `std(ddof=1)`, ArviZ's `_z_scale` with
 * `scipy.stats.rankdata` and `norm.ppf`) on the same draws.
 */
import * as tf from '@tensorflow/tfjs';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import { expectNoLeak } from '../../helpers.js';
import {
  essRef,
  essTailRef,
  mean,
  rankRhatRef,
  splitChains,
  splitGelmanRubinRef,
  zScaleRef,
} from '../../fixtures/diagnostics.js';

const phiInv = (p: number): number => normalQuantile(p, 0, 1);

function ar1(m: number, n: number, phi: number, seed: number, shift: number): number[][] {
  let st = seed >>> 0;
  const u = (): number => {
    st = (Math.imul(st, 1664525) + 1013904223) >>> 0;
    return (st + 0.5) / 4294967296;
  };
  const g = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return Array.from({ length: m }, (_, c) => {
    let x = c * shift;
    return Array.from({ length: n }, () => (x = phi * x + g()));
  });
}

/** name, draws, NumPy std(ddof=1), std(ddof=0), NumPyro split_gelman_rubin, ArviZ rank R-hat. */
const CASES: [string, number[][], number, number, number, number][] = [
  [
    '4 x 57 (odd), phi 0.6',
    ar1(4, 57, 0.6, 11, 0.4),
    1.192042100828453,
    1.1894251007433985,
    1.0854529784816374,
    1.082269892024588,
  ],
  [
    '1 x 40, phi 0.3',
    ar1(1, 40, 0.3, 5, 0),
    1.110559991149128,
    1.0965901269811902,
    1.2113696469640947,
    1.2181281245801898,
  ],
  [
    '3 x 9, shifted chains',
    ar1(3, 9, -0.2, 8, 1.5),
    0.8908741602171143,
    0.874220838336466,
    0.9988075696502818,
    1.0129771096642017,
  ],
  [
    '2 x 30, ties (rounded to 0.5)',
    ar1(2, 30, 0.5, 3, 0.2).map((c) => c.map((v) => Math.round(v * 2) / 2)),
    1.0285129960534516,
    1.0199060414240781,
    1.0808775584201462,
    1.063043901600577,
  ],
];

/** Chains `[c][i]` as the draw-major Float32 arrays `summarizeSite` reads, one element. */
const f32 = (x: number[][]): Float32Array[] => x.map((c) => Float32Array.from(c));
/** The float32-rounded draws (what `summarizeSite` sees). */
const r32 = (x: number[][]): number[][] => x.map((c) => Array.from(Float32Array.from(c)));

describe("summary std: NumPyro's std(ddof=1), not the population std", () => {
  for (const [name, x, sd1, sd0] of CASES) {
    it(`${name}: sd equals the float64 sample std and NumPy's std(ddof=1)`, () => {
      const s = ppl.mcmc.summarizeSite(f32(x), []).elements[0]!;
      const all = r32(x).flat();
      const m = mean(all);
      const ss = all.reduce((a, v) => a + (v - m) ** 2, 0);
      expect(s.sd).toBeCloseTo(Math.sqrt(ss / (all.length - 1)), 12);
      expect(s.sd).toBeCloseTo(sd1, 6);
      // the population std is at least 1e-3 away on these draws: the check can tell them apart
      expect(Math.abs(sd1 - sd0)).toBeGreaterThan(1e-3);
      expect(Math.abs(s.sd - sd0)).toBeGreaterThan(1e-3);
    });
  }

  it('one draw: sd NaN (n - 1 = 0), as NumPy', () => {
    const s = ppl.mcmc.summarizeSite([Float32Array.from([2])], []).elements[0]!;
    expect(s.mean).toBe(2);
    expect(s.sd).toBeNaN();
  });
});

describe("splitGelmanRubin: NumPyro's split_gelman_rubin (summary's split_r_hat)", () => {
  for (const [name, x, , , sgr] of CASES) {
    it(`${name}: equals the float64 reference and NumPyro's value`, () => {
      expect(ppl.mcmc.splitGelmanRubin(x)).toBeCloseTo(splitGelmanRubinRef(x), 12);
      expect(ppl.mcmc.splitGelmanRubin(x)).toBeCloseTo(sgr, 10);
      const el = ppl.mcmc.summarizeSite(f32(x), []).elements[0]!;
      expect(el.splitGelmanRubin).toBeCloseTo(splitGelmanRubinRef(r32(x)), 10);
    });
  }

  it('differs from the rank-normalized R-hat; NaN below 4 draws and for constant draws', () => {
    const x = CASES[0]![1];
    expect(Math.abs(ppl.mcmc.splitGelmanRubin(x) - ppl.mcmc.rankRhat(x))).toBeGreaterThan(1e-4);
    expect(ppl.mcmc.splitGelmanRubin([[1, 2, 3]])).toBeNaN();
    expect(ppl.mcmc.splitGelmanRubin([[1, 1, 1, 1, 1]])).toBeNaN();
    expect(() => ppl.mcmc.splitGelmanRubin([])).toThrow(ArgumentError);
    expect(() =>
      ppl.mcmc.splitGelmanRubin([
        [1, 2, 3, 4],
        [1, 2],
      ]),
    ).toThrow(/chains/);
  });

  it('the tensor form ppl.stats.splitGelmanRubin agrees per element', () => {
    const x = CASES[0]![1];
    const t = tf.tensor2d(x);
    const v = expectNoLeak(() => ppl.stats.splitGelmanRubin(t))[0]!;
    expect(v).toBeCloseTo(splitGelmanRubinRef(r32(x)), 5);
    t.dispose();
  });
});

describe("rankRhat: ArviZ's rank-normalized split R-hat (az.rhat(method='rank'))", () => {
  for (const [name, x, , , , rr] of CASES) {
    it(`${name}: equals the float64 reference and ArviZ's value`, () => {
      expect(ppl.mcmc.rankRhat(x)).toBeCloseTo(rankRhatRef(x, phiInv), 10);
      expect(ppl.mcmc.rankRhat(x)).toBeCloseTo(rr, 8);
      expect(ppl.mcmc.rankRhat(x)).toBe(ppl.mcmc.splitRhat(x));
    });
  }

  it('chains differing only in scale: the folded rank R-hat flags them, above the classic split R-hat', () => {
    // same location, different scales: the folded (tail) R-hat is what flags it
    const a = ar1(2, 200, 0.2, 17, 0);
    const x = [a[0]!, a[1]!.map((v) => 4 * v)];
    expect(ppl.mcmc.rankRhat(x)).toBeGreaterThan(1.05);
    expect(ppl.mcmc.splitGelmanRubin(x)).toBeLessThan(ppl.mcmc.rankRhat(x));
  });
});

describe('ppl.stats tensor forms: rankRhat, essBulk, essTail per element', () => {
  const draws = (): number[][][] => {
    // [chains 3, draws 25, 2 elements]
    const a = ar1(3, 25, 0.5, 31, 0.3);
    const b = ar1(3, 25, -0.3, 32, 0);
    return a.map((c, ci) => c.map((v, i) => [v, b[ci]![i]!]));
  };

  it('[chains, draws, 2]: each element equals the float64 references', () => {
    const x = draws();
    const t = tf.tensor3d(x);
    const [rr, eb, et] = [ppl.stats.rankRhat, ppl.stats.essBulk, ppl.stats.essTail].map((f) =>
      expectNoLeak(() => {
        const o = f(t);
        expect(o.shape).toEqual([2]);
        return o;
      }),
    );
    const x32 = x.map((c) => c.map((d) => Array.from(Float32Array.from(d))));
    for (let e = 0; e < 2; e++) {
      const ch = x32.map((c) => c.map((d) => d[e]!));
      expect(rr![e]).toBeCloseTo(rankRhatRef(ch, phiInv), 5);
      expect(eb![e]).toBeCloseTo(essRef(zScaleRef(splitChains(ch), phiInv)), 3);
      expect(et![e]).toBeCloseTo(essTailRef(ch), 3);
    }
    // the draw axis first, chains second: the same values
    const tt = t.transpose([1, 0, 2]);
    const r2 = ppl.stats.rankRhat(tt, 1, 0);
    expect(Array.from(r2.dataSync())).toEqual(rr);
    tf.dispose([t, tt, r2]);
  });

  it('refuses bad input naming the argument', () => {
    const t = tf.zeros([2, 3]);
    const cases: [() => unknown, RegExp][] = [
      [() => ppl.stats.rankRhat(t), /input/],
      [() => ppl.stats.essBulk(tf.zeros([2, 8]), 0, 0), /sampleDim/],
      [() => ppl.stats.essTail(tf.zeros([2, 8]), 5), /chainDim/],
      [() => ppl.stats.rankRhat([1, 2, 3] as unknown as tf.Tensor), /input/],
    ];
    for (const [f, re] of cases) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect(String((err as Error).message)).toMatch(re);
    }
    tf.dispose(t);
  });
});

describe('MCMC summary: split_r_hat column and the NumPyro std', () => {
  it('summary() per element: sd ddof 1, splitGelmanRubin and rHat from getSamples({groupByChain})', () => {
    const model = (): void => {
      ppl.sample('mu', new D.Normal(0, 1));
    };
    const m = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 40,
      warmupSteps: 40,
      numChains: 2,
      seed: 4,
      progressBar: false,
    });
    m.runSync();
    const g = m.getSamples({ groupByChain: true });
    const mu = g.mu!.arraySync() as number[][];
    tf.dispose(Object.values(g));
    const el = m.summary().mu!.elements[0]!;
    const all = mu.flat();
    const mm = mean(all);
    expect(el.sd).toBeCloseTo(
      Math.sqrt(all.reduce((a, v) => a + (v - mm) ** 2, 0) / (all.length - 1)),
      10,
    );
    expect(el.splitGelmanRubin).toBeCloseTo(splitGelmanRubinRef(mu), 10);
    expect(el.rHat).toBeCloseTo(rankRhatRef(mu, phiInv), 8);
    const text = ppl.mcmc.formatSummary(m.summary());
    const lines = text.split('\n');
    const head = lines
      .find((l) => l.includes('n_eff'))!
      .trim()
      .split(/\s+/);
    expect(head.slice(-2)).toEqual(['r_hat', 'split_r_hat']);
    const row = lines
      .find((l) => l.trim().startsWith('mu'))!
      .trim()
      .split(/\s+/);
    expect(row[row.length - 1]).toBe(el.splitGelmanRubin.toFixed(2));
    expect(row[row.length - 2]).toBe(el.rHat.toFixed(2));
    expect(row[2]).toBe(el.sd.toFixed(2));
  }, 30000);
});

describe("summary ess_tail: ArviZ's 5 % / 95 % quantiles whatever prob", () => {
  it('prob 0.5 and 0.8 give the tail ESS at 5 % and 95 %, not at the interval ends', () => {
    const x = CASES[0]![1];
    const want = essTailRef(r32(x));
    for (const prob of [0.5, 0.8, 0.9]) {
      const el = ppl.mcmc.summarizeSite(f32(x), [], prob).elements[0]!;
      expect(el.essTail).toBeCloseTo(want, 8);
    }
    // the interval-end indicators give another number on these draws: the check can fail
    expect(Math.abs(essTailRef(r32(x), 0.25, 0.75) - want)).toBeGreaterThan(1);
  });
});

describe('NaN and infinite draws (ArviZ: NaN in, NaN out; ranks see infinities as the largest)', () => {
  const base = (): number[][] => ar1(2, 20, 0.4, 41, 0.2);

  it('a NaN draw makes rankRhat, essBulk, essTail, splitGelmanRubin, ess NaN (were numbers)', () => {
    const x = base();
    x[0]![5] = NaN;
    for (const f of [
      ppl.mcmc.rankRhat,
      ppl.mcmc.splitRhat,
      ppl.mcmc.essBulk,
      ppl.mcmc.essTail,
      ppl.mcmc.splitGelmanRubin,
      ppl.mcmc.ess,
    ]) {
      expect(f(x)).toBeNaN();
    }
    const el = ppl.mcmc.summarizeSite(f32(x), []).elements[0]!;
    expect(
      [el.rHat, el.essBulk, el.essTail, el.splitGelmanRubin, el.nEff].every(Number.isNaN),
    ).toBe(true);
    const t = tf.tensor2d(x);
    expect(expectNoLeak(() => ppl.stats.rankRhat(t))[0]).toBeNaN();
    t.dispose();
  });

  it('+Infinity ranks as the largest draw: the rank diagnostics equal those with a large finite draw', () => {
    const x = base();
    const big = base();
    x[1]![7] = Infinity;
    big[1]![7] = 1e6;
    expect(ppl.mcmc.rankRhat(x)).toBeCloseTo(ppl.mcmc.rankRhat(big), 12);
    expect(ppl.mcmc.rankRhat(x)).toBeCloseTo(rankRhatRef(big, phiInv), 10);
    expect(ppl.mcmc.essBulk(x)).toBeCloseTo(ppl.mcmc.essBulk(big), 10);
    expect(ppl.mcmc.essTail(x)).toBeCloseTo(essTailRef(big), 10);
  });
});
