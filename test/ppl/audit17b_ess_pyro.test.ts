/**
 * Audit 17b: `ppl.stats.effectiveSampleSize` is Pyro's `pyro.ops.stats.effective_sample_size`
 * (it returned ArviZ's ESS, `mcmc.ess`, before). Against `essPyroRef` (test/fixtures: Pyro's
 * steps in float64, O(n²) lag sums instead of its FFT) on fixed draws: one and several chains,
 * odd and even lengths, the shortest inputs (2, 3 draws), anti-correlated chains, a hand-computed
 * case; `chainDim` / `sampleDim` (Pyro's `chain_dim` / `sample_dim`) in any position, negative
 * ones, more than one element; constant and NaN draws; memory; and what sets it apart from
 * NumPyro's (`mcmc.essNumPyro`, lag sums over `N`) and ArviZ's (`mcmc.ess`). Also
 * `stats.autocorrelation` / `autocovariance`, Pyro's lag sums over `N - t` (by hand).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ArgumentError, ppl } from '../../src/index.js';
import { essPyroRef, essRef } from '../fixtures/diagnostics.js';

/** Reproducible AR(1) chains `x_t = phi x_{t-1} + e_t` (Box-Muller on a Park-Miller stream). */
function ar(m: number, n: number, phi: number, seed: number, shift = 0): number[][] {
  let s = seed;
  const u = (): number => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  const normal = (): number => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return Array.from({ length: m }, (_, c) => {
    let x = 0;
    return Array.from({ length: n }, () => (x = phi * x + normal()) + c * shift);
  });
}
const f32 = (ch: number[][]): number[][] => ch.map((c) => Array.from(Float32Array.from(c)));

/** `ppl.stats.effectiveSampleSize` of `[chains, draws]`, as a number, with no leak. */
function statsEss(chains: number[][]): number {
  const before = tf.memory().numTensors;
  const x = tf.tensor2d(chains);
  const e = ppl.stats.effectiveSampleSize(x);
  const v = e.dataSync()[0] as number;
  tf.dispose([x, e]);
  expect(tf.memory().numTensors).toBe(before);
  return v;
}

const CASES: [string, number[][]][] = [
  ['1 chain x 200, phi 0.5', ar(1, 200, 0.5, 3)],
  ['4 chains x 101 (odd), phi 0.9', ar(4, 101, 0.9, 7)],
  ['3 chains x 60, shifted means', ar(3, 60, 0.3, 11, 0.8)],
  ['2 chains x 300, anti-correlated phi -0.6', ar(2, 300, -0.6, 5)],
  ['2 chains x 2 draws', ar(2, 2, 0.2, 17)],
  ['3 chains x 3 draws', ar(3, 3, 0.2, 19)],
  ['1 chain x 7, phi 0.95', ar(1, 7, 0.95, 23)],
];

describe("audit17b ppl.stats.effectiveSampleSize is Pyro's effective_sample_size", () => {
  it.each(CASES)('%s: equals the float64 Pyro reference', (_, chains) => {
    const c = f32(chains);
    const ref = essPyroRef(c);
    expect(Number.isFinite(ref)).toBe(true);
    expect(statsEss(c) / ref).toBeCloseTo(1, 5);
    expect(ppl.mcmc.essPyro(c) / ref).toBeCloseTo(1, 10);
  });

  it('a hand-computed case: [1, 2, 3, 4] gives 2.4 (NumPyro 8/3)', () => {
    // centred (-1.5, -0.5, 0.5, 1.5): lag sums S = (5, 1.25, -1.5, -2.25); gamma_t = S_t / (4 - t)
    // = (1.25, 5/12, -0.75, -2.25); one chain: rho_t = gamma_t / 1.25 = (1, 1/3, -0.6, -1.8);
    // P = (4/3, -2.4 -> 0); tau = -1 + 8/3 = 5/3; n_eff = 4 / (5/3) = 2.4. NumPyro divides by
    // N: gamma_1 = 1.25 / 4, rho_1 = 1/4, tau = 3/2, n_eff = 8/3.
    expect(statsEss([[1, 2, 3, 4]])).toBeCloseTo(2.4, 5);
    expect(essPyroRef([[1, 2, 3, 4]])).toBeCloseTo(2.4, 12);
    expect(ppl.mcmc.essNumPyro([[1, 2, 3, 4]])).toBeCloseTo(8 / 3, 12);
  });

  it("stats.autocorrelation / autocovariance are Pyro's too: [1, 2, 3, 4] by hand", () => {
    // S = (5, 1.25, -1.5, -2.25); gamma_t = S_t / (4 - t) = (1.25, 5/12, -0.75, -2.25);
    // rho_t = gamma_t / (S_0 / 4) = (1, 1/3, -0.6, -1.8) (the biased form gave (1, 0.25, -0.3, -0.45))
    const before = tf.memory().numTensors;
    const x = tf.tensor1d([1, 2, 3, 4]);
    const rho = ppl.stats.autocorrelation(x);
    const gamma = ppl.stats.autocovariance(x);
    expect(Array.from(rho.dataSync())).toBeAllclose([1, 1 / 3, -0.6, -1.8], { atol: 1e-6 });
    expect(Array.from(gamma.dataSync())).toBeAllclose([1.25, 5 / 12, -0.75, -2.25], { atol: 1e-6 });
    tf.dispose([x, rho, gamma]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('differs from NumPyro (lags over N) and ArviZ (mcmc.ess) on correlated chains', () => {
    const c = f32(ar(2, 40, 0.8, 29));
    const pyro = statsEss(c);
    expect(Math.abs(pyro - ppl.mcmc.essNumPyro(c)) / pyro).toBeGreaterThan(1e-3);
    expect(Math.abs(pyro - essRef(c)) / pyro).toBeGreaterThan(1e-3);
    expect(pyro / essPyroRef(c)).toBeCloseTo(1, 5);
  });

  it('chainDim / sampleDim anywhere (also negative), several elements, the other axes kept', () => {
    const a = f32(ar(3, 50, 0.6, 31));
    const b = f32(ar(3, 50, -0.3, 37));
    const refs = [essPyroRef(a), essPyroRef(b)];
    // [draws, 2 elements, chains]: sampleDim 0, chainDim 2 (and -1)
    const data = Array.from({ length: 50 }, (_, i) => [
      [0, 1, 2].map((c) => a[c]![i]!),
      [0, 1, 2].map((c) => b[c]![i]!),
    ]);
    const before = tf.memory().numTensors;
    const x = tf.tensor3d(data);
    for (const [chainDim, sampleDim] of [
      [2, 0],
      [-1, 0],
      [2, -3],
    ] as const) {
      const e = ppl.stats.effectiveSampleSize(x, chainDim, sampleDim);
      expect(e.shape).toEqual([2]);
      const v = Array.from(e.dataSync());
      v.forEach((val, k) => expect(val / refs[k]!).toBeCloseTo(1, 5));
      e.dispose();
    }
    // 4-D: [chains, 2, draws, 1] -> shape [2, 1]
    const y = tf.tidy(() => tf.transpose(x, [2, 1, 0]).expandDims(-1));
    const e4 = ppl.stats.effectiveSampleSize(y, 0, 2);
    expect(e4.shape).toEqual([2, 1]);
    Array.from(e4.dataSync()).forEach((val, k) => expect(val / refs[k]!).toBeCloseTo(1, 5));
    tf.dispose([x, y, e4]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("constant draws give NaN (Pyro's 0 / 0), as do NaN draws; bad axes are ArgumentErrors", () => {
    expect(
      Number.isNaN(statsEss([new Array<number>(8).fill(3), new Array<number>(8).fill(3)])),
    ).toBe(true);
    expect(Number.isNaN(essPyroRef([new Array<number>(8).fill(3)]))).toBe(true);
    expect(Number.isNaN(statsEss([[1, 2, NaN, 4, 5]]))).toBe(true);
    const x = tf.zeros([2, 5]);
    const before = tf.memory().numTensors;
    expect(() => ppl.stats.effectiveSampleSize(x, 1, 1)).toThrow(ArgumentError);
    expect(() => ppl.stats.effectiveSampleSize(x, 0, 2)).toThrow(/sampleDim/);
    expect(() => ppl.stats.effectiveSampleSize(x, 3, 1)).toThrow(/chainDim/);
    expect(() => ppl.stats.effectiveSampleSize(tf.zeros([2, 1]), 0, 1)).toThrow(/input/);
    expect(tf.memory().numTensors).toBe(before + 1);
    x.dispose();
  });

  it('AR(1) with phi = 0.8: about N (1 - phi) / (1 + phi) (Monte Carlo, long chain)', () => {
    const n = 20000;
    const e = statsEss(f32(ar(1, n, 0.8, 41)));
    const ref = (n * 0.2) / 1.8;
    // the ESS estimate's relative sampling error at this length is a few percent
    expect(Math.abs(e - ref) / ref).toBeLessThan(0.15);
  });
});
