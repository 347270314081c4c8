/**
 * Audit (NumPyro/ArviZ parity): the diagnostics and interval helpers against an independent
 * float64 implementation of ArviZ's definitions (Vehtari et al. 2021) written here, on draws
 * that are not MCMC output (odd lengths, several chains, ties), plus summary() of a run.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import {
  essPyroRef,
  essRef,
  essTailRef,
  mean,
  npQuantile,
  splitChains,
  variance,
} from '../../fixtures/diagnostics.js';
const quantileNormal = (p: number, mu: number, s: number): number => normalQuantile(p, mu, s);

// ---- reference (ArviZ's stats_utils / diagnostics, re-derived) ----
const zScale = (ch: number[][]): number[][] => {
  const flat = ch.flat();
  const S = flat.length;
  const rank = flat.map((v) => {
    let less = 0;
    let eq = 0;
    for (const w of flat) {
      if (w < v) less++;
      else if (w === v) eq++;
    }
    return less + (eq + 1) / 2;
  });
  let k = 0;
  return ch.map((c) => c.map(() => quantileNormal((rank[k++]! - 0.375) / (S + 0.25), 0, 1)));
};
const rhatRef = (ch: number[][]): number => {
  const n = ch[0]!.length;
  const b = n * variance(ch.map((c) => mean(c)));
  const w = mean(ch.map((c) => variance(c)));
  return Math.sqrt((b / w + n - 1) / n);
};
const rhatRank = (ch: number[][]): number => {
  const bulk = rhatRef(zScale(splitChains(ch)));
  const med = npQuantile(ch.flat(), 0.5);
  const tail = rhatRef(zScale(splitChains(ch.map((c) => c.map((v) => Math.abs(v - med))))));
  return Math.max(bulk, tail);
};
const essBulkRef = (ch: number[][]): number => essRef(zScale(splitChains(ch)));
const hpdiRef = (a: number[], prob: number): [number, number] => {
  const s = [...a].sort((x, y) => x - y);
  const len = Math.floor(prob * s.length);
  let best = 0;
  for (let i = 0; i + len < s.length; i++)
    if (s[i + len]! - s[i]! < s[best + len]! - s[best]!) best = i;
  return [s[best]!, s[best + len]!];
};

// AR(1) draws with a seeded LCG: autocorrelated, chains with different means
function ar1(m: number, n: number, phi: number, seed: number, shift = 0): number[][] {
  let st = seed >>> 0;
  const u = (): number => {
    st = (Math.imul(st, 1664525) + 1013904223) >>> 0;
    return (st + 0.5) / 4294967296;
  };
  const g = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return Array.from({ length: m }, (_, c) => {
    let x = 0;
    return Array.from({ length: n }, () => (x = phi * x + g() + (c === m - 1 ? shift : 0) * 0.1));
  });
}

describe('diagnostics against ArviZ definitions (float64 reference)', () => {
  const cases: [string, number[][]][] = [
    ['3 chains x 101 draws, phi 0.7 (odd length)', ar1(3, 101, 0.7, 1)],
    ['4 chains x 64 draws, one chain shifted', ar1(4, 64, 0.3, 2, 2)],
    ['1 chain x 57 draws, phi -0.4 (antithetic)', ar1(1, 57, -0.4, 3)],
    [
      '2 chains x 40 draws with ties',
      ar1(2, 40, 0.5, 4).map((c) => c.map((v) => Math.round(v * 2) / 2)),
    ],
  ];
  for (const [label, ch] of cases) {
    it(`${label}: splitRhat, essBulk, essTail, ess`, () => {
      expect(ppl.mcmc.splitRhat(ch)).toBeCloseTo(rhatRank(ch), 10);
      expect(ppl.mcmc.essBulk(ch)).toBeCloseTo(essBulkRef(ch), 8);
      expect(ppl.mcmc.essTail(ch)).toBeCloseTo(essTailRef(ch), 8);
      if (ch.length > 0) expect(ppl.mcmc.ess(ch)).toBeCloseTo(essRef(ch), 8);
    });
  }

  it('stats.effectiveSampleSize / splitGelmanRubin / gelmanRubin over [samples, chains, 2] with chainDim 1, sampleDim 0', () => {
    const a = ar1(3, 50, 0.6, 5);
    const b = ar1(3, 50, 0.2, 6);
    const data: number[][][] = Array.from({ length: 50 }, (_, i) =>
      Array.from({ length: 3 }, (_, c) => [a[c]![i]!, b[c]![i]!]),
    );
    const x = tf.tensor3d(data);
    const before = tf.memory().numTensors;
    const e = ppl.stats.effectiveSampleSize(x, 1, 0);
    const r = ppl.stats.splitGelmanRubin(x, 1, 0);
    const g = ppl.stats.gelmanRubin(x, 1, 0);
    expect(e.shape).toEqual([2]);
    const ev = Array.from(e.dataSync());
    const rv = Array.from(r.dataSync());
    const gv = Array.from(g.dataSync());
    [a, b].forEach((ch, k) => {
      // Pyro's effective_sample_size (session 17; it was ArviZ's essRef before)
      const f32 = ch.map((c) => Array.from(Float32Array.from(c)));
      expect(ev[k]! / essPyroRef(f32)).toBeCloseTo(1, 4);
      expect(rv[k]).toBeCloseTo(rhatRef(splitChains(ch)), 5);
      expect(gv[k]).toBeCloseTo(rhatRef(ch), 5);
    });
    tf.dispose([e, r, g]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it("stats.autocorrelation along dim 1 of a [2, 37] tensor equals Pyro's (lag sums over N - t, normalized)", () => {
    const ch = ar1(2, 37, 0.5, 7);
    const x = tf.tensor2d(ch);
    const ac = ppl.stats.autocorrelation(x, 1);
    const got = ac.arraySync() as number[][];
    ch.forEach((c, k) => {
      const mu = mean(c);
      const g0 = c.reduce((s, v) => s + (v - mu) ** 2, 0);
      for (let t = 0; t < c.length; t++) {
        let s = 0;
        for (let i = 0; i + t < c.length; i++) s += (c[i]! - mu) * (c[i + t]! - mu);
        // Pyro: (S_t / (N - t)) / (S_0 / N) (session 17; the biased S_t / S_0 before)
        expect(got[k]![t]).toBeCloseTo(s / (c.length - t) / (g0 / c.length), 4);
      }
    });
    tf.dispose([x, ac]);
  });

  it('hpdi (NumPyro): narrowest interval over axis 1 of a [2, 203, 3] tensor, prob 0.5 and 0.95', () => {
    const cols = ar1(6, 203, 0.0, 8).map((c, k) => c.map((v) => (k % 2 ? Math.exp(v) : v)));
    const data = [0, 1].map((i) =>
      Array.from({ length: 203 }, (_, n) => [0, 1, 2].map((j) => cols[i * 3 + j]![n]!)),
    );
    const x = tf.tensor3d(data);
    for (const prob of [0.5, 0.95]) {
      const h = ppl.hpdi(x, prob, 1);
      expect(h.shape).toEqual([2, 2, 3]);
      const hv = h.arraySync() as number[][][];
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 3; j++) {
          const [lo, hi] = hpdiRef(cols[i * 3 + j]!, prob);
          expect(hv[i]![0]![j]).toBeCloseTo(lo, 4);
          expect(hv[i]![1]![j]).toBeCloseTo(hi, 4);
        }
      }
      h.dispose();
    }
    // negative axis as NumPy's
    const hneg = ppl.hpdi(x, 0.9, -2);
    expect(hneg.shape).toEqual([2, 2, 3]);
    tf.dispose([hneg, x]);
  });

  it('bad inputs are ArgumentErrors naming the argument', () => {
    const x = tf.ones([10, 2]);
    const names: [() => unknown, string][] = [
      [() => ppl.hpdi(x, 1.2), 'prob'],
      [() => ppl.hpdi(x, 0), 'prob'],
      [() => ppl.hpdi(x, 0.9, 2), 'axis'],
      [() => ppl.quantiles(x, [0.5, 1.5]), 'probs'],
      [() => ppl.stats.effectiveSampleSize(x, 0, 0), 'sampleDim'],
      [() => ppl.stats.effectiveSampleSize(tf.ones([4]) as tf.Tensor), 'input'],
      [
        () =>
          ppl.mcmc.splitRhat([
            [1, 2, 3, 4],
            [1, 2],
          ]),
        'chains',
      ],
      [() => ppl.mcmc.essBulk([]), 'chains'],
    ];
    for (const [f, name] of names) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(ArgumentError);
      expect(String((err as Error).message)).toContain(name);
    }
    x.dispose();
  });
});

describe('MCMC.summary() against the reference on its own draws', () => {
  it('3 chains of a 2-vector site and a scalar: mean, sd, quantiles, ess, r_hat per element', async () => {
    const model = (): void => {
      ppl.sample('theta', new D.Normal(tf.tensor1d([0, 3]), tf.tensor1d([1, 0.5])).toEvent(1));
      ppl.sample('s', new D.HalfNormal(1));
    };
    const m = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 61,
      warmupSteps: 60,
      numChains: 3,
      seed: 11,
      progressBar: false,
    });
    await m.run();
    const g = m.getSamples({ groupByChain: true });
    expect(g.theta!.shape).toEqual([3, 61, 2]);
    const th = g.theta!.arraySync() as number[][][];
    const s = g.s!.arraySync() as number[][];
    const sum = m.summary();
    const check = (ch: number[][], el: ppl.mcmc.ScalarSummary): void => {
      const flat = ch.flat();
      expect(el.mean).toBeCloseTo(mean(flat), 5);
      expect(el.sd).toBeCloseTo(Math.sqrt(variance(flat)), 5);
      expect(el.median).toBeCloseTo(npQuantile(flat, 0.5), 5);
      expect(el.q5).toBeCloseTo(npQuantile(flat, 0.05), 5);
      expect(el.q95).toBeCloseTo(npQuantile(flat, 0.95), 5);
      expect(el.rHat).toBeCloseTo(rhatRank(ch), 5);
      expect(el.essBulk).toBeCloseTo(essBulkRef(ch), 3);
      expect(el.essTail).toBeCloseTo(essTailRef(ch), 3);
    };
    for (let j = 0; j < 2; j++)
      check(
        th.map((c) => c.map((d) => d[j]!)),
        sum.theta!.elements[j]!,
      );
    check(s, sum.s!.elements[0]!);
    expect(sum.theta!.shape).toEqual([2]);
    tf.dispose(Object.values(g));
  }, 30000);
});
