/**
 * NumPyro's further kernels: `BarkerMH`, `SA`, `EllipticalSlice`, `AIES`, `ESS`. Each samples a
 * correlated 2-D Gaussian (closed form) and a constrained model (HalfNormal scale, Normal mean,
 * Normal observations; the reference moments by float64 quadrature on a grid) within 5 Monte
 * Carlo standard errors from the chains' ESS; runs are reproducible by seed, continued and resumed
 * runs give the uninterrupted draws, bad options are refused naming them, and no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
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
  let a1 = 0;
  let a2 = 0;
  let b1 = 0;
  let b2 = 0;
  for (let i = 0; i < n; i++) {
    const mu = -3 + (6 * (i + 0.5)) / n;
    for (let j = 0; j < n; j++) {
      const s = (6 * (j + 0.5)) / n;
      let lp = -0.5 * mu * mu - 0.5 * s * s;
      for (const y of ys) lp += -Math.log(s) - (0.5 * (y - mu) ** 2) / (s * s);
      const w = Math.exp(lp + 5);
      z += w;
      a1 += w * mu;
      a2 += w * mu * mu;
      b1 += w * s;
      b2 += w * s * s;
    }
  }
  const sdOf = (m1: number, m2: number): number => Math.sqrt(m2 / z - (m1 / z) ** 2);
  return { mu: [a1 / z, sdOf(a1, a2)], sigma: [b1 / z, sdOf(b1, b2)] };
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
  /** The kernel over the 2-D Gaussian potential (default `make(gauss)`). */
  gaussKernel?: () => HamiltonianKernel;
  /** The constrained model and its reference (default the HalfNormal model). */
  constrained?: 'logistic';
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
    name: 'AIES stretch',
    make: (t) => new ppl.AIES(t, { moves: ppl.AIES.StretchMove(), randomizeSplit: false }),
    chains: 8,
    vectorized: true,
    numSamples: 1500,
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
        moves: new Map([
          [ppl.ESS.GaussianMove(), 0.7],
          [ppl.ESS.RandomMove(), 0.3],
        ]),
      }),
    chains: 8,
    vectorized: true,
    numSamples: 300,
    warmup: 200,
  },
  {
    name: 'EllipticalSlice',
    make: (t) => new ppl.EllipticalSlice(t),
    gaussKernel: () => new ppl.EllipticalSlice(gauss, { priorScale: [2, 2], priorMean: [0.5, 0] }),
    constrained: 'logistic',
    chains: 2,
    numSamples: 1500,
    warmup: 200,
  },
];

// a Gaussian-prior model with a non-Gaussian likelihood, for EllipticalSlice:
// a ~ MVN((0.5, -0.5), [[1, 0.6], [0.6, 2]]), b ~ Normal(0, 1.5) (plate of 1),
// y_i ~ Bernoulli(sigmoid(a_0 + a_1 x_i + b)); the reference by quadrature over (a_0, a_1, b)
const xs = [-1.5, -0.6, 0.2, 0.9, 1.7, 2.4];
const yb = [0, 1, 0, 1, 1, 1];
const A_COV = [
  [1, 0.6],
  [0.6, 2],
];
const logistic = (x: tf.Tensor, y: tf.Tensor): void => {
  const a = sample(
    'a',
    new D.MultivariateNormal(tf.tensor1d([0.5, -0.5]), { covarianceMatrix: tf.tensor2d(A_COV) }),
  );
  const b = ppl.plate('one', 1, () => sample('b', new D.Normal(0, 1.5)));
  const logits = tf.add(tf.add(a.slice([0], [1]), tf.mul(a.slice([1], [1]), x)), b);
  ppl.plate('data', xs.length, () => sample('y', new D.Bernoulli({ logits }), { obs: y }));
};
function logisticRef(): { mean: number[]; sd: number[] } {
  const det = A_COV[0]![0]! * A_COV[1]![1]! - A_COV[0]![1]! ** 2;
  const n = 90;
  const grid = (lo: number, hi: number, i: number): number => lo + ((hi - lo) * (i + 0.5)) / n;
  const m1 = [0, 0, 0];
  const m2 = [0, 0, 0];
  let z = 0;
  for (let i = 0; i < n; i++) {
    const a0 = grid(-4.5, 5.5, i);
    for (let j = 0; j < n; j++) {
      const a1 = grid(-6.5, 6.5, j);
      const d0 = a0 - 0.5;
      const d1 = a1 + 0.5;
      const qa =
        (A_COV[1]![1]! * d0 * d0 - 2 * A_COV[0]![1]! * d0 * d1 + A_COV[0]![0]! * d1 * d1) / det;
      for (let k = 0; k < n; k++) {
        const b = grid(-6, 6, k);
        let lp = -0.5 * qa - (0.5 * b * b) / 2.25;
        xs.forEach((x, t) => {
          const l = a0 + a1 * x + b;
          lp += yb[t] === 1 ? -Math.log1p(Math.exp(-l)) : -Math.log1p(Math.exp(l));
        });
        const w = Math.exp(lp);
        z += w;
        [a0, a1, b].forEach((v, c) => {
          m1[c] = m1[c]! + w * v;
          m2[c] = m2[c]! + w * v * v;
        });
      }
    }
  }
  const mean = m1.map((v) => v / z);
  return { mean, sd: m2.map((v, c) => Math.sqrt(v / z - mean[c]! ** 2)) };
}

function runOf(
  c: Case,
  target: unknown,
  seed: number,
  kernel?: () => HamiltonianKernel,
  extra: Partial<ppl.MCMCOptions> = {},
): ppl.MCMC {
  const m = new ppl.MCMC(kernel !== undefined ? kernel() : c.make(target), {
    numSamples: c.numSamples,
    warmupSteps: c.warmup,
    numChains: c.chains,
    progressBar: false,
    seed,
    ...(c.vectorized === true ? { chainMethod: 'vectorized' as const } : {}),
    ...extra,
  });
  return m;
}

describe.each(CASES)('$name', (c) => {
  it('samples a correlated 2-D Gaussian within 5 MCSE', () => {
    const m = runOf(c, gauss, 3, c.gaussKernel);
    m.runSync();
    const { z } = m.getSamples({ groupByChain: true });
    expectMoments(rowsOf(z as tf.Tensor, 0), M[0]!, S[0]!, 'z0');
    expectMoments(rowsOf(z as tf.Tensor, 1), M[1]!, S[1]!, 'z1');
    tf.dispose(z);
  }, 60_000);

  it('samples a constrained model within 5 MCSE, leaking no tensor', () => {
    if (c.constrained === 'logistic') {
      const ref = logisticRef();
      const x = tf.tensor1d(xs);
      const y = tf.tensor1d(yb);
      const before = tf.memory().numTensors;
      const m = runOf(c, logistic, 5);
      m.runSync(x, y);
      expect(tf.memory().numTensors).toBe(before);
      const s = m.getSamples({ groupByChain: true });
      expectMoments(rowsOf(s.a as tf.Tensor, 0), ref.mean[0]!, ref.sd[0]!, 'a0');
      expectMoments(rowsOf(s.a as tf.Tensor, 1), ref.mean[1]!, ref.sd[1]!, 'a1');
      expectMoments(rowsOf(s.b as tf.Tensor, 0), ref.mean[2]!, ref.sd[2]!, 'b');
      tf.dispose([...Object.values(s), x, y]);
      return;
    }
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
    const a = runOf(short, gauss, 11, c.gaussKernel);
    a.runSync();
    const b = runOf(short, gauss, 11, c.gaussKernel);
    b.runSync();
    const za = a.getSamples().z as tf.Tensor;
    const zb = b.getSamples().z as tf.Tensor;
    expect(Array.from(za.dataSync())).toEqual(Array.from(zb.dataSync()));
    // 80 draws in one run = 40 draws, then 40 more continued from lastState
    const long = runOf({ ...short, numSamples: 80 }, gauss, 11, c.gaussKernel);
    long.runSync();
    b.postWarmupState = b.lastState;
    b.runSync();
    const zl = long.getSamples({ groupByChain: true }).z as tf.Tensor;
    const zc = b.getSamples({ groupByChain: true }).z as tf.Tensor;
    expect(Array.from(zl.slice([0, 40], [-1, 40]).dataSync())).toEqual(Array.from(zc.dataSync()));
    tf.dispose([za, zb, zl, zc]);
  }, 60_000);
});

class Killed extends Error {}

/** Checkpoints in memory; the "process" dies after write `killAt`. */
function memoryIO(files: Map<string, Uint8Array>, killAt = Infinity): ppl.MCMCCheckpointIO {
  let writes = 0;
  return {
    read: (p: string) => files.get(p)?.slice(),
    write: (p: string, d: Uint8Array) => {
      files.set(p, d.slice());
      writes += 1;
      if (writes >= killAt) throw new Killed(`killed after write ${writes}`);
    },
  };
}

describe.each(CASES)('$name checkpoints', (c) => {
  it('a run killed mid-way and resumed gives the uninterrupted draws', async () => {
    const short = { ...c, numSamples: 30, warmup: 20 };
    const target = c.constrained === 'logistic' ? logistic : model;
    const args =
      c.constrained === 'logistic' ? [tf.tensor1d(xs), tf.tensor1d(yb)] : [tf.tensor1d(ys)];
    const get = (m: ppl.MCMC): number[][] => {
      const s = m.getSamples({ groupByChain: true });
      const out = Object.keys(s)
        .sort()
        .map((k) => Array.from((s[k] as tf.Tensor).dataSync()));
      tf.dispose(Object.values(s));
      return out;
    };
    const ref = runOf(short, target, 21);
    await ref.run(...args);
    const files = new Map<string, Uint8Array>();
    const ck = (killAt: number, resume: boolean) => ({
      checkpoint: { path: 'k.ckpt', every: 7, resume, io: memoryIO(files, killAt) },
    });
    await expect(runOf(short, target, 21, undefined, ck(3, false)).run(...args)).rejects.toThrow(
      Killed,
    );
    const resumed = runOf(short, target, 21, undefined, ck(Infinity, true));
    await resumed.run(...args);
    expect(get(resumed)).toEqual(get(ref));
    tf.dispose(args);
  }, 60_000);
});

describe('adaptation and reports', () => {
  it("BarkerMH's warmup brings the acceptance rate near its target 0.4", () => {
    for (const fullMass of [false, true]) {
      const m = new ppl.MCMC(new ppl.BarkerMH(gauss, { fullMass, stepSize: 0.01 }), {
        numSamples: 1000,
        warmupSteps: 1000,
        progressBar: false,
        seed: 2,
      });
      m.runSync();
      const acc = m.getExtraFields()[0]!.acceptStat;
      const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
      expect(Math.abs(mean - 0.4), `fullMass ${fullMass}: ${mean}`).toBeLessThan(0.1);
      // the adapted inverse mass is the posterior's (co)variance: var z1 = 4
      const im = m.lastState!.chains[0]!.inverseMass;
      expect(im[fullMass ? 3 : 1]! / im[0]!).toBeGreaterThan(2);
      const z = m.getSamples().z as tf.Tensor;
      z.dispose();
    }
  }, 60_000);

  it('ESS tunes mu during warmup only; printSummary covers the ensemble walkers', () => {
    const m = new ppl.MCMC(new ppl.ESS(gauss, { initMu: 50 }), {
      numSamples: 50,
      warmupSteps: 100,
      numChains: 6,
      chainMethod: 'vectorized',
      progressBar: false,
      seed: 4,
    });
    m.runSync();
    const mu = m.getExtraFields()[0]!.stepSize;
    // tuned from 50 down to the scale of the walker differences, then fixed
    expect(mu[0]!).toBeLessThan(5);
    expect(new Set(Array.from(mu)).size).toBe(1);
    const spy = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const text = m.printSummary();
    spy.mockRestore();
    expect(text).toMatch(/z\[0\]/);
    const sm = m.summary().z!;
    expect(sm).toBeDefined();
  });
});

describe('ensemble batches', () => {
  it("a half-update's walkers are evaluated in one batch, with the draws of one-at-a-time", () => {
    const sizes: number[] = [];
    const batched: Potential = {
      dim: 2,
      valueAndGrad: (z) => gauss.valueAndGrad(z),
      valueAndGradBatch: (zs) => {
        sizes.push(zs.length);
        return zs.map((z) => gauss.valueAndGrad(z));
      },
    };
    const draws = (p: Potential, kernel: (p: Potential) => HamiltonianKernel): number[] => {
      const m = new ppl.MCMC(kernel(p), {
        numSamples: 30,
        warmupSteps: 20,
        numChains: 8,
        chainMethod: 'vectorized',
        progressBar: false,
        seed: 6,
      });
      m.runSync();
      const z = m.getSamples().z as tf.Tensor;
      const out = Array.from(z.dataSync());
      z.dispose();
      return out;
    };
    for (const k of [(p: Potential) => new ppl.AIES(p), (p: Potential) => new ppl.ESS(p)]) {
      sizes.length = 0;
      expect(draws(batched, k)).toEqual(draws(gauss, k));
      // the 8 walkers' initial points, then at most the 4 walkers of a half per batch
      expect(sizes[0]).toBe(8);
      expect(Math.max(...sizes.slice(1))).toBe(4);
    }
  });

  it('ESS on a tfjs potential (compile: false) batches the walkers through the model', () => {
    const y = tf.tensor1d(ys);
    const before = tf.memory().numTensors;
    const m = new ppl.MCMC(new ppl.ESS(model, { compile: false }), {
      numSamples: 30,
      warmupSteps: 20,
      numChains: 8,
      chainMethod: 'vectorized',
      progressBar: false,
      seed: 9,
    });
    m.runSync(y);
    expect(tf.memory().numTensors).toBe(before);
    const st = m.getExtraFields()[0]!;
    expect(st.compiled).toBe(false);
    // one batched evaluation per lockstep round: fewer than the kept draws' own evaluations
    const kept = m.getExtraFields().reduce((a, c) => a + c.numSteps.reduce((x, v) => x + v, 0), 0);
    expect(st.gradientEvaluations).toBeLessThan(kept);
    const s = m.getSamples();
    expect((s.sigma as tf.Tensor).min().arraySync()).toBeGreaterThan(0);
    tf.dispose(Object.values(s));
    y.dispose();
  }, 60_000);
});

describe('AIES stretch move in 6-D', () => {
  it("keeps a standard normal's variance (the Z^(d-1) factor of the acceptance)", () => {
    const d = 6;
    const iid: Potential = {
      dim: d,
      valueAndGrad: (z) => ({ value: 0.5 * z.reduce((a, v) => a + v * v, 0), grad: z.slice() }),
    };
    const m = new ppl.MCMC(new ppl.AIES(iid, { moves: ppl.AIES.StretchMove() }), {
      numSamples: 1500,
      warmupSteps: 500,
      numChains: 16,
      chainMethod: 'vectorized',
      progressBar: false,
      seed: 8,
    });
    m.runSync();
    const z = m.getSamples({ groupByChain: true }).z as tf.Tensor;
    // E z_k^2 = 1 for every coordinate; the pooled second moment within 5 MCSE (var z^2 = 2)
    let sum = 0;
    let e = 0;
    for (let k = 0; k < d; k++) {
      const rows = rowsOf(z, k).map((r) => r.map((v) => v * v));
      sum += rows.flat().reduce((a, b) => a + b, 0) / rows.flat().length;
      e += mcmc.ess(rows);
    }
    z.dispose();
    expect(e / d).toBeGreaterThan(100);
    expect(Math.abs(sum / d - 1)).toBeLessThan(5 * Math.sqrt(2 / e));
  }, 60_000);
});

describe('refusals', () => {
  it('refuses unknown options and bad values naming them, before any work', () => {
    expect(() => new ppl.BarkerMH(model, { numSteps: 3 } as never)).toThrow(
      /numSteps: not an option of BarkerMH/,
    );
    expect(() => new ppl.BarkerMH(model, { targetAcceptProb: 0 })).toThrow(/^targetAcceptProb:/);
    expect(() => new ppl.SA(model, { adaptStateSize: 1 })).toThrow(
      /^adaptStateSize: SA: expected an integer >= 2/,
    );
    expect(() => new ppl.SA(model, { denseMass: 'yes' } as never)).toThrow(/^denseMass:/);
    expect(() => new ppl.SA(model, { stepSize: 1 } as never)).toThrow(
      /stepSize: not an option of SA/,
    );
    expect(() => new ppl.AIES(model, { moves: [[ppl.AIES.StretchMove(), -1]] })).toThrow(
      /^moves: AIES: .*weight -1/,
    );
    expect(() => new ppl.AIES(model, { moves: ppl.ESS.RandomMove() as never })).toThrow(/^moves:/);
    expect(() => ppl.AIES.StretchMove({ a: 1 })).toThrow(
      /^a: AIES.StretchMove: expected a finite number > 1/,
    );
    expect(() => ppl.AIES.DEMove({ g0: 0 })).toThrow(/^g0:/);
    expect(() => new ppl.ESS(model, { maxSteps: 0 })).toThrow(
      /^maxSteps: ESS: expected an integer >= 1/,
    );
    expect(() => new ppl.ESS(model, { initMu: -1 })).toThrow(/^initMu:/);
    expect(() => new ppl.ESS(model, { tuneMu: 1 } as never)).toThrow(/^tuneMu:/);
    expect(() => new ppl.EllipticalSlice(gauss)).toThrow(
      /^priorCov: EllipticalSlice over a Potential/,
    );
    expect(() => new ppl.EllipticalSlice(gauss, { priorScale: [1] })).toThrow(
      /^priorScale: .*expected 2/,
    );
    expect(
      () =>
        new ppl.EllipticalSlice(gauss, {
          priorCov: [
            [1, 2],
            [2, 1],
          ],
        }),
    ).toThrow(/^priorCov: EllipticalSlice: expected a positive-definite matrix/);
    expect(() => new ppl.EllipticalSlice(model, { priorScale: [1, 1] })).toThrow(
      /^priorScale: EllipticalSlice: only for a flat Potential/,
    );
  });

  it('ensembles need chainMethod vectorized and enough walkers', () => {
    const opts = { numSamples: 10, progressBar: false, seed: 1 };
    expect(() => new ppl.MCMC(new ppl.AIES(gauss), { ...opts, numChains: 8 })).toThrow(
      /^chainMethod: AIES moves its walkers together/,
    );
    expect(
      () => new ppl.MCMC(new ppl.ESS(gauss), { ...opts, numChains: 2, chainMethod: 'vectorized' }),
    ).toThrow(/^numChains: ESS needs at least 4 walkers/);
    const before = tf.memory().numTensors;
    const y = tf.tensor1d(ys);
    // 2 coordinates need >= 4 walkers; a 3-coordinate potential needs 6
    const three: Potential = {
      dim: 3,
      valueAndGrad: (z) => ({
        value: 0.5 * z.reduce((a, v) => a + v * v, 0),
        grad: z.slice(),
      }),
    };
    const m = new ppl.MCMC(new ppl.AIES(three), {
      ...opts,
      numChains: 4,
      chainMethod: 'vectorized',
    });
    expect(() => m.runSync()).toThrow(
      /^numChains: AIES needs numChains \(walkers\) >= max\(4, 2 \* dim\) = 6/,
    );
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('EllipticalSlice refuses a latent without a fixed Gaussian prior, naming it', () => {
    const y = tf.tensor1d(ys);
    const before = tf.memory().numTensors;
    const opts = { numSamples: 10, progressBar: false, seed: 1 };
    expect(() => new ppl.MCMC(new ppl.EllipticalSlice(model), opts).runSync(y)).toThrow(
      /^sigma: EllipticalSlice: the latent site 'sigma' (is not real-valued|has a HalfNormal prior)/,
    );
    const hier = (): void => {
      const mu = sample('mu', new D.Normal(0, 1));
      sample('x', new D.Normal(mu, 1));
    };
    expect(() => new ppl.MCMC(new ppl.EllipticalSlice(hier), opts).runSync()).toThrow(
      /^x: EllipticalSlice: the prior of the latent site 'x' depends on other latent sites/,
    );
    expect(tf.memory().numTensors).toBe(before);
    y.dispose();
  });
});
