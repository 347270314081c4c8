/**
 * Audit (fresh eyes): the diagnostics against float64 re-implementations written here from the
 * published formulas (ArviZ's `ess`/`rhat` after Vehtari et al. 2021, Pyro's `gelman_rubin` and
 * `split_gelman_rubin`, NumPyro's `hpdi`) on fixed arrays, and `MCMC.summary()` against those
 * formulas applied to `getSamples({groupByChain: true})`.
 */
import * as tf from '@tensorflow/tfjs';
import erfinv from '@stdlib/math-base-special-erfinv';
import { describe, expect, it } from 'vitest';
import { Normal } from '../../../src/distributions/index.js';
import * as ppl from '../../../src/ppl/index.js';
import { essBulk, essTail, splitRhat, ess as essRaw } from '../../../src/ppl/mcmc/diagnostics.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import {
  essPyroRef,
  essRef,
  essTailRef,
  mean,
  npQuantile,
  splitChains,
  variance,
} from '../../fixtures/diagnostics.js';

/** A linear congruential stream (float64, reproducible). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

/** `m` AR(1) chains of `n` draws: x_t = phi x_{t-1} + N(0,1)-ish noise (sum of 3 uniforms). */
function ar(m: number, n: number, phi: number, seed: number, shift = 0): number[][] {
  const u = lcg(seed);
  return Array.from({ length: m }, (_, c) => {
    let x = 0;
    return Array.from({ length: n }, () => {
      x = phi * x + (u() + u() + u() - 1.5) * 2;
      return x + c * shift;
    });
  });
}

function rankNorm(chains: number[][]): number[][] {
  const flat = chains.flat();
  const S = flat.length;
  const sorted = [...flat].sort((a, b) => a - b);
  const rank = (v: number): number => (sorted.indexOf(v) + sorted.lastIndexOf(v)) / 2 + 1; // average rank of ties (1-based)
  return chains.map((c) =>
    c.map((v) => Math.SQRT2 * erfinv(2 * ((rank(v) - 0.375) / (S + 0.25)) - 1)),
  );
}

/** Pyro's gelman_rubin. */
function refRhat(chains: number[][]): number {
  const n = chains[0]!.length;
  const W = mean(chains.map((c) => variance(c)));
  let v = ((n - 1) / n) * W;
  if (chains.length > 1) v += variance(chains.map(mean));
  return Math.sqrt(v / W);
}

function refSplitRhatRank(chains: number[][]): number {
  const s = splitChains(chains);
  const bulk = refRhat(rankNorm(s));
  const med = npQuantile(s.flat(), 0.5);
  const tail = refRhat(rankNorm(s.map((c) => c.map((v) => Math.abs(v - med)))));
  return Math.max(bulk, tail);
}

const refEssBulk = (chains: number[][]): number => essRef(rankNorm(splitChains(chains)));

describe('audit14: chain diagnostics against float64 ArviZ/Pyro formulas', () => {
  const cases: [string, number[][]][] = [
    ['1 chain x 200, phi 0.5', ar(1, 200, 0.5, 3)],
    ['4 chains x 101 (odd), phi 0.9', ar(4, 101, 0.9, 7)],
    ['3 chains x 60, shifted means', ar(3, 60, 0.3, 11, 0.8)],
    ['2 chains x 300, anti-correlated phi -0.6', ar(2, 300, -0.6, 5)],
    [
      '2 chains x 50, ties (rounded to 0.5)',
      ar(2, 50, 0.4, 9).map((c) => c.map((v) => Math.round(2 * v) / 2)),
    ],
  ];
  it.each(cases)('%s: ess, bulk/tail ESS, rank split R-hat', (_, chains) => {
    expect(essRaw(chains)).toBeCloseTo(essRef(chains), 6);
    expect(essBulk(chains)).toBeCloseTo(refEssBulk(chains), 4);
    expect(essTail(chains)).toBeCloseTo(essTailRef(chains), 4);
    expect(splitRhat(chains)).toBeCloseTo(refSplitRhatRank(chains), 8);
  });

  it.each(cases)(
    '%s: stats.effectiveSampleSize / gelmanRubin / splitGelmanRubin tensors',
    (_, chains) => {
      const before = tf.memory().numTensors;
      const x = tf.tensor2d(chains);
      // another element along a trailing axis: the chains times 2 plus 1 (ESS and R-hat invariant)
      const x3 = tf.tidy(() => tf.stack([x, x.mul(2).add(1)], -1));
      const essT = ppl.stats.effectiveSampleSize(x3);
      const gr = chains.length > 1 ? ppl.stats.gelmanRubin(x3) : undefined;
      const sgr = ppl.stats.splitGelmanRubin(x3);
      expect(essT.shape).toEqual([2]);
      const f32 = (v: number[][]): number[][] => v.map((c) => Array.from(Float32Array.from(c)));
      const c32 = f32(chains);
      const e = Array.from(essT.dataSync());
      // Pyro's effective_sample_size (session 17; it was ArviZ's essRef before)
      expect(e[0]! / essPyroRef(c32)).toBeCloseTo(1, 3);
      expect(e[1]! / essPyroRef(c32)).toBeCloseTo(1, 2);
      if (gr !== undefined) expect(gr.dataSync()[0]).toBeCloseTo(refRhat(c32), 4);
      expect(sgr.dataSync()[0]).toBeCloseTo(refRhat(splitChains(c32)), 4);
      tf.dispose([x, x3, essT, sgr, ...(gr ? [gr] : [])]);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('chainDim/sampleDim: draws laid out [samples, chains] give the same numbers', () => {
    const chains = ar(3, 80, 0.6, 21);
    const x = tf.tensor2d(chains);
    const xt = x.transpose();
    const a = ppl.stats.effectiveSampleSize(x);
    const b = ppl.stats.effectiveSampleSize(xt, 1, 0);
    const c = ppl.stats.splitGelmanRubin(xt, 1, 0);
    expect(b.dataSync()[0]).toBeCloseTo(a.dataSync()[0]!, 4);
    expect(c.dataSync()[0]).toBeCloseTo(refRhat(splitChains(chains)), 4);
    tf.dispose([x, xt, a, b, c]);
  });

  it('constant chains: ESS is the number of draws (ArviZ), R-hat is NaN, no throw', () => {
    const chains = [new Array<number>(20).fill(3), new Array<number>(20).fill(3)];
    expect(essRaw(chains)).toBe(40);
    expect(Number.isNaN(splitRhat(chains)) || splitRhat(chains) === 1).toBe(true);
  });

  it('bad inputs are ArgumentErrors naming the argument', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.tensor2d([[1, 2, 3, 4]]);
    expect(() => ppl.stats.effectiveSampleSize(x)).toThrow(ArgumentError);
    expect(() => ppl.stats.effectiveSampleSize(y, 0, 0)).toThrow(/sampleDim/);
    expect(() => ppl.stats.effectiveSampleSize(y, 0, 2)).toThrow(/sampleDim/);
    expect(() => ppl.stats.splitGelmanRubin(tf.tensor2d([[1, 2]]))).toThrow(ArgumentError);
    expect(() =>
      essBulk([
        [1, 2, 3, 4, 5],
        [1, 2],
      ]),
    ).toThrow(/chains/);
    expect(() => essBulk([])).toThrow(/chains/);
    tf.dispose([x, y]);
  });
});

/** NumPyro's hpdi on one column. */
function refHpdi(a: number[], prob: number): [number, number] {
  const s = [...a].sort((x, y) => x - y);
  const len = Math.floor(prob * s.length);
  let best = 0;
  for (let i = 1; i < s.length - len; i++) {
    if (s[i + len]! - s[i]! < s[best + len]! - s[best]!) best = i;
  }
  return [s[best]!, s[best + len]!];
}

describe('audit14: hpdi against NumPyro formula', () => {
  it.each([0.5, 0.9, 0.95, 0.999])(
    'prob %f on a skewed sample, two columns, axis 0 and -1',
    (p) => {
      const u = lcg(17);
      const a = Array.from({ length: 301 }, () => -Math.log(u()));
      const b = Array.from({ length: 301 }, () => u() * 4 - 1);
      const before = tf.memory().numTensors;
      const t = tf.tensor2d(a.map((v, i) => [v, b[i]!]));
      const h = ppl.hpdi(t, p);
      expect(h.shape).toEqual([2, 2]);
      const hv = h.arraySync() as number[][];
      const f = (v: number[]): number[] => Array.from(Float32Array.from(v));
      const ra = refHpdi(f(a), p);
      const rb = refHpdi(f(b), p);
      expect(hv[0]![0]).toBeCloseTo(ra[0], 5);
      expect(hv[1]![0]).toBeCloseTo(ra[1], 5);
      expect(hv[0]![1]).toBeCloseTo(rb[0], 5);
      expect(hv[1]![1]).toBeCloseTo(rb[1], 5);
      const tt = t.transpose();
      const h2 = ppl.hpdi(tt, p, -1);
      expect(h2.shape).toEqual([2, 2]);
      expect(h2.arraySync()).toEqual([
        hv[0]!.length ? [hv[0]![0], hv[1]![0]] : [],
        [hv[0]![1], hv[1]![1]],
      ]);
      tf.dispose([t, h, tt, h2]);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('bad prob and axis are ArgumentErrors', () => {
    const t = tf.tensor1d([1, 2, 3]);
    expect(() => ppl.hpdi(t, 0)).toThrow(/prob/);
    expect(() => ppl.hpdi(t, 1.2)).toThrow(/prob/);
    expect(() => ppl.hpdi(t, NaN)).toThrow(/prob/);
    expect(() => ppl.hpdi(t, 0.9, 3)).toThrow(/axis/);
    t.dispose();
  });
});

describe('audit14: MCMC.summary() against the formulas on getSamples({groupByChain})', () => {
  it('3 chains of a 2-site model: mean, sd, quantiles, ESS, R-hat per element; the table', async () => {
    const model = (): void => {
      ppl.sample('a', new Normal(1, 2));
      ppl.sample('b', new Normal(tf.tensor1d([0, -3]), tf.tensor1d([0.5, 1])).toEvent(1));
    };
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 120,
      warmupSteps: 80,
      numChains: 3,
      progressBar: false,
      seed: 2,
    });
    await mcmc.run();
    const g = mcmc.getSamples({ groupByChain: true });
    const sm = mcmc.summary();
    const sm80 = mcmc.summary(0.8);
    for (const [site, size] of [
      ['a', 1],
      ['b', 2],
    ] as const) {
      const v = g[site]!.arraySync() as number[][] | number[][][];
      for (let e = 0; e < size; e++) {
        const chains = (v as unknown[][]).map((c) =>
          c.map((d) => (size === 1 ? (d as number) : (d as number[])[e]!)),
        );
        const s = sm[site]!.elements[e]!;
        const all = chains.flat();
        expect(s.mean).toBeCloseTo(mean(all), 6);
        expect(s.sd).toBeCloseTo(Math.sqrt(variance(all)), 6);
        expect(s.median).toBeCloseTo(npQuantile(all, 0.5), 6);
        expect(s.q5).toBeCloseTo(npQuantile(all, 0.05), 6);
        expect(s.q95).toBeCloseTo(npQuantile(all, 0.95), 6);
        expect(s.essBulk).toBeCloseTo(refEssBulk(chains), 3);
        expect(s.essTail).toBeCloseTo(essTailRef(chains), 3);
        expect(s.rHat).toBeCloseTo(refSplitRhatRank(chains), 6);
        const s8 = sm80[site]!.elements[e]!;
        expect(s8.q5).toBeCloseTo(npQuantile(all, 0.1), 6);
        expect(s8.q95).toBeCloseTo(npQuantile(all, 0.9), 6);
        // ArviZ's ess_tail is at the 5 % and 95 % quantiles whatever the interval mass (audit 18)
        expect(s8.essTail).toBeCloseTo(essTailRef(chains), 3);
      }
    }
    tf.dispose(Object.values(g));
    const text = mcmc.printSummary();
    expect(text).toMatch(/b\[1\]/);
    expect(text).toMatch(/r_hat/);
    expect(text).toMatch(/Number of divergences: \d+/);
  });
});
