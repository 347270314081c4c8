/**
 * Audit (NumPyro parity, session 17): `print_summary`'s HPDI and `n_eff` columns and
 * `get_extra_fields(group_by_chain=...)`. References: NumPyro's `effective_sample_size` and `hpdi`
 * re-written here in float64 JS in NumPy's array style (autocovariances of every lag, pair sums,
 * `clip`, `minimum.accumulate`), a brute-force HPDI over all intervals, and values pinned from
 * NumPy 2.4 running NumPyro's diagnostics code on the same draws.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import { expectNoLeak } from '../../helpers.js';

const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
const varOf = (a: number[], ddof: number): number => {
  const m = mean(a);
  return a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - ddof);
};

/** NumPyro's effective_sample_size, array style. x[c][i]. */
function nEffRef(x: number[][]): number {
  const C = x.length;
  const N = x[0]!.length;
  const gamma = Array.from({ length: N }, (_, k) =>
    mean(
      x.map((c) => {
        const mu = mean(c);
        let s = 0;
        for (let i = 0; i + k < N; i++) s += (c[i]! - mu) * (c[i + k]! - mu);
        return s / N;
      }),
    ),
  );
  let varWithin = mean(x.map((c) => varOf(c, 1)));
  let varEst = (varWithin * (N - 1)) / N;
  if (C > 1) varEst += varOf(x.map(mean), 1);
  else varWithin = varEst;
  const rho = gamma.map((g) => 1 - (varWithin - g) / varEst);
  rho[0] = 1;
  const pairs: number[] = [];
  for (let k = 0; 2 * k + 1 < N; k++) pairs.push(rho[2 * k]! + rho[2 * k + 1]!);
  const out = [pairs[0]!];
  let run = Infinity;
  for (const p of pairs.slice(1)) {
    run = Math.min(run, Math.max(p, 0));
    out.push(run);
  }
  const tau = -1 + 2 * out.reduce((a, b) => a + b, 0);
  return (C * N) / tau;
}

/** The narrowest interval holding ⌊prob n⌋ + 1 of the draws, by trying every pair. */
function hpdiBrute(a: number[], prob: number): [number, number] {
  const s = [...a].sort((p, q) => p - q);
  const need = Math.floor(prob * s.length);
  let best: [number, number] = [NaN, NaN];
  let w = Infinity;
  for (let i = 0; i < s.length; i++)
    for (let j = i; j < s.length; j++)
      if (j - i >= need && s[j]! - s[i]! < w) {
        w = s[j]! - s[i]!;
        best = [s[i]!, s[j]!];
        break;
      }
  return best;
}

function ar1(m: number, n: number, phi: number, seed: number): number[][] {
  let st = seed >>> 0;
  const u = (): number => {
    st = (Math.imul(st, 1664525) + 1013904223) >>> 0;
    return (st + 0.5) / 4294967296;
  };
  const g = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return Array.from({ length: m }, (_, c) => {
    let x = c * 0.3;
    return Array.from({ length: n }, () => (x = phi * x + g()));
  });
}

// pinned: NumPyro's diagnostics.effective_sample_size / hpdi under NumPy 2.4.6 on these draws
const pinned: [string, number[][], number, [number, number]][] = [
  [
    '3 x 101, phi 0.7',
    ar1(3, 101, 0.7, 1),
    39.67845321621543,
    [-2.1316703371577033, 2.203772407409938],
  ],
  [
    '1 x 64, phi 0.5',
    ar1(1, 64, 0.5, 7),
    19.910449432450502,
    [-1.7118893853526895, 1.6120521663578438],
  ],
  [
    '4 x 20, phi -0.3',
    ar1(4, 20, -0.3, 3),
    92.96542752761556,
    [-1.805471398454672, 1.297527962520625],
  ],
];

describe("essNumPyro and hpdiSorted: NumPyro's n_eff and hpdi", () => {
  for (const [name, x, nEff, hp] of pinned) {
    it(`${name}: n_eff and the 90% HPDI equal NumPyro's and the JS references`, () => {
      expect(ppl.mcmc.essNumPyro(x)).toBeCloseTo(nEff, 8);
      expect(ppl.mcmc.essNumPyro(x)).toBeCloseTo(nEffRef(x), 8);
      const sorted = Float64Array.from(x.flat()).sort();
      expect(ppl.mcmc.hpdiSorted(sorted, 0.9)).toEqual(hp);
      for (const p of [0.5, 0.9, 0.33])
        expect(ppl.mcmc.hpdiSorted(sorted, p)).toEqual(hpdiBrute(x.flat(), p));
    });
  }

  it('differs from the ArviZ ess (no extra odd term, no log10 floor, biased W for one chain)', () => {
    const x = ar1(1, 64, 0.5, 7);
    expect(Math.abs(ppl.mcmc.essNumPyro(x) - ppl.mcmc.ess(x))).toBeGreaterThan(1e-6);
  });

  it('edge cases: NaN below 2 draws or for a NaN draw, M N for constant chains', () => {
    expect(ppl.mcmc.essNumPyro([[1]])).toBeNaN();
    expect(ppl.mcmc.essNumPyro([[1, NaN, 2]])).toBeNaN();
    expect(
      ppl.mcmc.essNumPyro([
        [2, 2, 2],
        [2, 2, 2],
      ]),
    ).toBe(6);
    expect(() => ppl.mcmc.essNumPyro([])).toThrow(ArgumentError);
    expect(() => ppl.mcmc.essNumPyro([[1, 2], [1]])).toThrow(/chains/);
  });

  it('ppl.hpdi (the tensor form) still gives the brute-force interval per column', () => {
    const x = ar1(2, 37, 0.2, 5);
    const t = tf.tensor2d(x).transpose();
    const v = expectNoLeak(() => ppl.hpdi(t, 0.8, 0));
    for (let c = 0; c < 2; c++) {
      const [lo, hi] = hpdiBrute(x[c]!, 0.8);
      expect(v[c]).toBeCloseTo(lo, 5);
      expect(v[2 + c]).toBeCloseTo(hi, 5);
    }
    t.dispose();
  });
});

describe('summarizeSite / formatSummary: the NumPyro columns', () => {
  it('hpdiLow/hpdiHigh/nEff per element of a 2-vector site over 3 chains, prob 0.9 and 0.5', () => {
    const a = ar1(3, 41, 0.6, 21);
    const b = ar1(3, 41, 0.1, 22);
    const chains = [0, 1, 2].map((c) => {
      const f = new Float32Array(41 * 2);
      for (let i = 0; i < 41; i++) {
        f[2 * i] = a[c]![i]!;
        f[2 * i + 1] = b[c]![i]!;
      }
      return f;
    });
    const f32 = (x: number[][]): number[][] => x.map((c) => Array.from(Float32Array.from(c)));
    for (const prob of [0.9, 0.5]) {
      const s = ppl.mcmc.summarizeSite(chains, [2], prob);
      [a, b].forEach((x, e) => {
        const el = s.elements[e]!;
        const [lo, hi] = hpdiBrute(f32(x).flat(), prob);
        expect(el.hpdiLow).toBe(lo);
        expect(el.hpdiHigh).toBe(hi);
        expect(el.hpdiLow).toBeLessThanOrEqual(el.median);
        expect(el.nEff).toBeCloseTo(nEffRef(f32(x)), 8);
      });
    }
    const text = ppl.mcmc.formatSummary({ v: ppl.mcmc.summarizeSite(chains, [2], 0.9) }, 3, 0.9);
    const lines = text.split('\n');
    const head = lines
      .find((l) => l.includes('n_eff'))!
      .trim()
      .split(/\s+/);
    expect(head).toEqual([
      'mean',
      'std',
      'median',
      '5.0%',
      '95.0%',
      'hpdi_5.0%',
      'hpdi_95.0%',
      'n_eff',
      'ess_bulk',
      'ess_tail',
      'r_hat',
      'split_r_hat',
    ]);
    const row = lines
      .find((l) => l.trim().startsWith('v[1]'))!
      .trim()
      .split(/\s+/);
    const el = ppl.mcmc.summarizeSite(chains, [2], 0.9).elements[1]!;
    expect(row[6]).toBe(el.hpdiLow.toFixed(2));
    expect(row[7]).toBe(el.hpdiHigh.toFixed(2));
    expect(row[8]).toBe(el.nEff.toFixed(1));
    expect(text).toContain('Number of divergences: 3');
  });
});

describe('MCMC: summary columns and getExtraFields({groupByChain})', () => {
  const model = (): void => {
    ppl.sample('mu', new D.Normal(0, 1));
    ppl.sample('tau', new D.HalfNormal(1));
  };
  const run = (): ppl.MCMC => {
    const m = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 30,
      warmupSteps: 30,
      numChains: 2,
      thinning: 2,
      seed: 3,
      progressBar: false,
    });
    m.runSync();
    return m;
  };

  it("summary().nEff equals NumPyro's n_eff of getSamples({groupByChain}); printSummary(prob) labels the HPDI", () => {
    const m = run();
    const g = m.getSamples({ groupByChain: true });
    const mu = g.mu!.arraySync() as number[][];
    const s = m.summary(0.8).mu!.elements[0]!;
    expect(s.nEff).toBeCloseTo(nEffRef(mu), 6);
    const [lo, hi] = hpdiBrute(mu.flat(), 0.8);
    expect(s.hpdiLow).toBe(lo);
    expect(s.hpdiHigh).toBe(hi);
    const orig = console.log;
    let text: string;
    console.log = (): void => {};
    try {
      text = m.printSummary(0.8);
    } finally {
      console.log = orig;
    }
    expect(text).toContain('hpdi_10.0%');
    expect(text).toContain('hpdi_90.0%');
    expect(() => m.summary(1.5)).toThrow(/prob/);
    tf.dispose(Object.values(g));
  }, 30000);

  it('getExtraFields({groupByChain}) gives [chains, kept] tensors equal to the per-chain stats', () => {
    const m = run();
    const stats = m.getExtraFields();
    expect(stats).toHaveLength(2);
    const before = tf.memory().numTensors;
    const g = m.getExtraFields({ groupByChain: true });
    const f = m.getExtraFields({ groupByChain: false });
    const d = m.getExtraFields({});
    expect(Object.keys(g).sort()).toEqual([...ppl.mcmc.EXTRA_FIELDS].sort());
    for (const k of ppl.mcmc.EXTRA_FIELDS) {
      expect(g[k].shape).toEqual([2, 15]);
      expect(f[k].shape).toEqual([30]);
      expect(d[k].shape).toEqual([30]);
      const rows = g[k].arraySync() as number[][];
      const flat = f[k].arraySync() as number[];
      for (let c = 0; c < 2; c++) {
        const want =
          k === 'divergent'
            ? stats[c]!.divergent.map((v) => (v ? 1 : 0))
            : Array.from(stats[c]![k], (v) => Math.fround(v));
        expect(rows[c]!.map(Number)).toEqual(want);
        expect(flat.slice(c * 15, c * 15 + 15).map(Number)).toEqual(want);
      }
    }
    expect(g.divergent.dtype).toBe('bool');
    expect(g.treeDepth.dtype).toBe('int32');
    expect(g.numSteps.dtype).toBe('int32');
    expect(g.potentialEnergy.dtype).toBe('float32');
    tf.dispose([...Object.values(g), ...Object.values(f), ...Object.values(d)]);
    expect(tf.memory().numTensors).toBe(before);
  }, 30000);

  it('getExtraFields refuses bad options naming them, and before run()', () => {
    const m = new ppl.MCMC(new ppl.NUTS(model), { numSamples: 5, progressBar: false });
    expect(() => m.getExtraFields({ groupByChain: true })).toThrow(/run/);
    const r = run();
    const bad: [unknown, RegExp][] = [
      [{ groupByChains: true }, /groupByChains/],
      [{ groupByChain: 1 }, /groupByChain/],
      [null, /options/],
      [3, /options/],
    ];
    for (const [o, re] of bad) {
      let err: unknown;
      try {
        r.getExtraFields(o as { groupByChain?: boolean });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ArgumentError);
      expect(String((err as Error).message)).toMatch(re);
    }
  }, 30000);
});
