/**
 * Stein variational gradient descent (Pyro's `SVGD`) against independent references:
 * - the kernels' bandwidth (median heuristic) against a float64 median written here, their
 *   gradient term against central finite differences of their own log-kernel;
 * - one SGD step with learning rate 1 against `x + φ(x)` computed in float64 here from the
 *   closed-form scores of a Gaussian target, in both modes;
 * - the particles' moments against a conjugate Normal-Normal posterior (1-D) and a correlated
 *   2-D Gaussian (multivariate mode), and a Gamma target staying in its support.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { ArgumentError } from '../../src/utils/errors.js';
import { thrown } from '../helpers.js';

beforeEach(() => ppl.clearParamStore());
afterEach(() => {
  clearSeed();
  ppl.clearParamStore();
});

/** The lower median of `v` (as torch.median). */
function lowerMedian(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] as number;
}

/** Float64 per-coordinate bandwidth of the median heuristic. */
function bandwidthRef(x: number[][], factor = 1): number[] {
  const n = x.length;
  const d = (x[0] as number[]).length;
  const out: number[] = [];
  for (let k = 0; k < d; k++) {
    const sq: number[] = [];
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++)
        sq.push(((x[j] as number[])[k]! - (x[i] as number[])[k]!) ** 2);
    out.push((factor * lowerMedian(sq)) / Math.log(n + 1));
  }
  return out;
}

const X0 = [
  [0.3, -1.2, 2.0],
  [1.1, 0.4, -0.5],
  [-0.7, 0.9, 0.1],
  [2.2, -0.3, 1.4],
  [0.05, 1.6, -1.1],
];

describe('Stein kernels', () => {
  it('bandwidth is the float64 median heuristic, scaled by bandwidthFactor', () => {
    const x = tf.tensor2d(X0);
    for (const f of [undefined, 0.5]) {
      const k = new ppl.RBFSteinKernel({ bandwidthFactor: f });
      const h = k.bandwidth(x);
      const ref = bandwidthRef(X0, f ?? 1);
      Array.from(h.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(ref[i] as number, 5));
      h.dispose();
    }
    // an even number of pairs (N = 4: 6 pairs): the lower of the two middle values
    const x4 = X0.slice(0, 4);
    const h4 = new ppl.IMQSteinKernel().bandwidth(tf.tensor2d(x4));
    Array.from(h4.dataSync()).forEach((v, i) =>
      expect(v).toBeCloseTo(bandwidthRef(x4)[i] as number, 5),
    );
    tf.dispose([x, h4]);
  });

  for (const [name, make] of [
    ['RBF', () => new ppl.RBFSteinKernel()],
    ['IMQ', () => new ppl.IMQSteinKernel({ alpha: 0.7, beta: -0.8 })],
  ] as const) {
    it(`${name}: gradTerm = -d/dx_m log k(x_m, x_n), by finite differences`, () => {
      const kernel = make();
      const x = tf.tensor2d(X0);
      const h = kernel.bandwidth(x);
      const before = tf.memory().numTensors;
      const { logKernel, gradTerm } = kernel.logKernelAndGrad(x, h);
      const g = gradTerm.arraySync();
      tf.dispose([logKernel, gradTerm]);
      expect(tf.memory().numTensors).toBe(before);
      const eps = 1e-2;
      const logK = (xs: number[][], n: number, m: number, d: number): number => {
        const t = tf.tensor2d(xs);
        const r = kernel.logKernelAndGrad(t, h);
        const v = r.logKernel.arraySync()[n]![m]![d] as number;
        tf.dispose([t, r.logKernel, r.gradTerm]);
        return v;
      };
      for (const [n, m, d] of [
        [0, 1, 0],
        [2, 4, 1],
        [3, 0, 2],
        [4, 2, 2],
      ] as const) {
        const xp = X0.map((r) => [...r]);
        const xm = X0.map((r) => [...r]);
        xp[m]![d]! += eps;
        xm[m]![d]! -= eps;
        const fd = -(logK(xp, n, m, d) - logK(xm, n, m, d)) / (2 * eps);
        expect(g[n]![m]![d]).toBeCloseTo(fd, 3);
      }
      tf.dispose([x, h]);
    });
  }

  it('refuses bad options and particles, naming them', () => {
    expect(() => new ppl.RBFSteinKernel({ bandwidthFactor: 0 })).toThrow(/bandwidthFactor/);
    expect(() => new ppl.IMQSteinKernel({ alpha: -1 })).toThrow(/alpha/);
    expect(() => new ppl.IMQSteinKernel({ beta: 0.5 })).toThrow(/beta/);
    expect(() => new ppl.RBFSteinKernel({ bandwith: 1 } as never)).toThrow(/bandwith/);
    const k = new ppl.RBFSteinKernel();
    const one = tf.tensor2d([[1, 2]]);
    expect(() => k.bandwidth(one)).toThrow(/particles/);
    const x = tf.tensor2d(X0);
    const h = tf.ones([2]);
    expect(() => k.logKernelAndGrad(x, h)).toThrow(/bandwidth/);
    tf.dispose([one, x, h]);
  });
});

/** Two independent Gaussian latents: a ~ N(1, 1), b ~ N(-1, 2). */
function gaussModel(): void {
  ppl.sample('a', new D.Normal(1, 1));
  ppl.sample('b', new D.Normal(-1, 2));
}

/** `φ(x_n)` in float64 for the Gaussian target of {@link gaussModel}. */
function phiRef(x: number[][], mode: 'univariate' | 'multivariate'): number[][] {
  const n = x.length;
  const h = bandwidthRef(x);
  const score = (p: number[]): number[] => [-(p[0]! - 1), -(p[1]! + 1) / 4];
  return x.map((xn) => {
    const phi = [0, 0];
    for (let m = 0; m < n; m++) {
      const xm = x[m] as number[];
      const s = score(xm);
      const kd = [0, 1].map((d) => Math.exp(-((xm[d]! - xn[d]!) ** 2) / h[d]!));
      const kAll = kd[0]! * kd[1]!;
      for (let d = 0; d < 2; d++) {
        const k = mode === 'multivariate' ? kAll : kd[d]!;
        // k s + d/dx_m k = k (s - 2 (x_m - x_n) / h)
        phi[d]! += k * (s[d]! - (2 * (xm[d]! - xn[d]!)) / h[d]!);
      }
    }
    return phi.map((v) => v / n);
  });
}

describe('SVGD', () => {
  for (const mode of ['univariate', 'multivariate'] as const) {
    it(`${mode}: one SGD step (lr 1) moves the particles by the float64 φ(x)`, () => {
      const x = [
        [0.2, 0.5],
        [1.5, -2.0],
        [-0.4, 1.1],
        [2.1, -0.6],
        [0.9, 3.0],
        [-1.2, -1.5],
      ];
      const init = (name: string): tf.Tensor =>
        tf.tensor1d(x.map((r) => r[name === 'a' ? 0 : 1] as number));
      const opt = tf.train.sgd(1);
      const svgd = new ppl.SVGD(gaussModel, new ppl.RBFSteinKernel(), opt, {
        numParticles: 6,
        maxPlateNesting: 0,
        mode,
        initLoc: init,
      });
      const loss = svgd.step();
      // loss = -Σ_i log p(x_i)
      let ref = 0;
      for (const [a, b] of x) {
        ref -= -0.5 * Math.log(2 * Math.PI) - 0.5 * (a! - 1) ** 2;
        ref -= -0.5 * Math.log(2 * Math.PI * 4) - (b! + 1) ** 2 / 8;
      }
      expect(loss).toBeCloseTo(ref, 3);
      const phi = phiRef(x, mode);
      const p = svgd.getParticles();
      const a = Array.from(p['a']!.dataSync());
      const b = Array.from(p['b']!.dataSync());
      for (let i = 0; i < 6; i++) {
        expect(a[i]).toBeCloseTo(x[i]![0]! + phi[i]![0]!, 4);
        expect(b[i]).toBeCloseTo(x[i]![1]! + phi[i]![1]!, 4);
      }
      tf.dispose(Object.values(p));
      expect(Object.keys(svgd.squaredGradients).sort()).toEqual(['a', 'b']);
      const sqA = phi.reduce((s, r) => s + r[0]! ** 2, 0) / 6;
      expect(svgd.squaredGradients['a']).toBeCloseTo(sqA, 4);
      svgd.dispose();
      opt.dispose();
    });
  }

  it('recovers the 1-D conjugate Normal posterior (mean and variance)', () => {
    setSeed(3);
    const ys = [1.2, 0.3, 2.1, 1.7, 0.9];
    const y = tf.tensor1d(ys);
    const s0 = 2;
    const model = (obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, s0));
      ppl.plate('data', ys.length, { dim: -1 }, () =>
        ppl.sample('y', new D.Normal(mu, 1), { obs }),
      );
    };
    // mu | y ~ N(m, s²), 1/s² = 1/s0² + n, m = s² Σy
    const s2 = 1 / (1 / s0 ** 2 + ys.length);
    const m = s2 * ys.reduce((a, v) => a + v, 0);
    const n = 40;
    const opt = tf.train.adam(0.1);
    const svgd = new ppl.SVGD(model, new ppl.RBFSteinKernel(), opt, {
      numParticles: n,
      maxPlateNesting: 1,
    });
    for (let i = 0; i < 300; i++) svgd.step(y);
    const p = svgd.getParticles();
    const mu = Array.from(p['mu']!.dataSync());
    expect(p['mu']!.shape).toEqual([n, 1]);
    const mean = mu.reduce((a, v) => a + v, 0) / n;
    const v = mu.reduce((a, x) => a + (x - mean) ** 2, 0) / n;
    // converged SVGD is deterministic: its error is the finite-n bias of the fixed point, not a
    // Monte Carlo error. For n particles in 1-D, the mean is exact by symmetry up to the
    // optimizer's noise and the variance within a few percent (Liu & Wang 2016, Fig. 1);
    // we allow 0.1 s for the mean and 15 % for the variance, of the order of an i.i.d. sample
    // of n draws' standard errors (s / sqrt(n) = 0.16 s, sqrt(2 / n) = 22 %).
    expect(Math.abs(mean - m), `mean ${mean} vs ${m}`).toBeLessThan(0.1 * Math.sqrt(s2));
    expect(Math.abs(v / s2 - 1), `var ${v} vs ${s2}`).toBeLessThan(0.15);
    tf.dispose([...Object.values(p), y]);
    svgd.dispose();
    opt.dispose();
  });

  it('multivariate mode recovers a correlated 2-D Gaussian posterior', () => {
    setSeed(5);
    // z ~ N(0, 3² I), y ~ N(z, R): z | y ~ N(S R⁻¹ y, S), S = (I / 9 + R⁻¹)⁻¹ (float64 here)
    const R = [
      [1, 0.8],
      [0.8, 1],
    ];
    const y = [1.5, -0.5];
    const inv2 = (m: number[][]): number[][] => {
      const det = m[0]![0]! * m[1]![1]! - m[0]![1]! * m[1]![0]!;
      return [
        [m[1]![1]! / det, -m[0]![1]! / det],
        [-m[1]![0]! / det, m[0]![0]! / det],
      ];
    };
    const Ri = inv2(R);
    const S = inv2([
      [Ri[0]![0]! + 1 / 9, Ri[0]![1]!],
      [Ri[1]![0]!, Ri[1]![1]! + 1 / 9],
    ]);
    const b = [0, 1].map((i) => Ri[i]![0]! * y[0]! + Ri[i]![1]! * y[1]!);
    const mu = [0, 1].map((i) => S[i]![0]! * b[0]! + S[i]![1]! * b[1]!);
    const rhoRef = S[0]![1]! / Math.sqrt(S[0]![0]! * S[1]![1]!);
    const obs = tf.tensor1d(y);
    const model = (): void => {
      const z = ppl.sample('z', new D.Normal([0, 0], [3, 3]).toEvent(1));
      ppl.sample('y', new D.MultivariateNormal(z, { covarianceMatrix: R }), { obs });
    };
    const n = 50;
    const opt = tf.train.adam(0.1);
    const svgd = new ppl.SVGD(model, new ppl.RBFSteinKernel(), opt, {
      numParticles: n,
      maxPlateNesting: 0,
      mode: 'multivariate',
    });
    for (let i = 0; i < 200; i++) svgd.step();
    const p = svgd.getParticles();
    expect(p['z']!.shape).toEqual([n, 2]);
    const z = p['z']!.arraySync() as number[][];
    const m0 = z.reduce((a, r) => a + r[0]!, 0) / n;
    const m1 = z.reduce((a, r) => a + r[1]!, 0) / n;
    const c00 = z.reduce((a, r) => a + (r[0]! - m0) ** 2, 0) / n;
    const c11 = z.reduce((a, r) => a + (r[1]! - m1) ** 2, 0) / n;
    const c01 = z.reduce((a, r) => a + (r[0]! - m0) * (r[1]! - m1), 0) / n;
    const rho = c01 / Math.sqrt(c00 * c11);
    // the converged particles are deterministic given their start; tolerances of the order of
    // an i.i.d. sample of n = 50 (SE of a mean 0.14 sd, of a correlation (1 - ρ²)/sqrt(n) =
    // 0.06): means within 0.1 (0.11 sd), ρ within 0.1. The variances are those of SVGD's fixed
    // point, which under-disperses with the median heuristic (Ba et al. 2021, "variance
    // collapse"; measured here 0.77 of the exact): within [0.6, 1.1] of the exact.
    expect(Math.abs(m0 - mu[0]!)).toBeLessThan(0.1);
    expect(Math.abs(m1 - mu[1]!)).toBeLessThan(0.1);
    for (const [c, ref] of [
      [c00, S[0]![0]!],
      [c11, S[1]![1]!],
    ] as const) {
      expect(c / ref).toBeGreaterThan(0.6);
      expect(c / ref).toBeLessThan(1.1);
    }
    expect(Math.abs(rho - rhoRef)).toBeLessThan(0.1);
    tf.dispose([...Object.values(p), obs]);
    // the particles returned were copies: the store's variable lives on
    const again = svgd.getParticles();
    expect(again['z']!.shape).toEqual([n, 2]);
    tf.dispose(Object.values(again));
    svgd.dispose();
    opt.dispose();
  });

  it('a Gamma target: particles move in log space and stay positive, mean and variance close', () => {
    setSeed(11);
    const model = (): void => {
      ppl.sample('rate', new D.Gamma(4, 2));
    };
    const n = 40;
    const opt = tf.train.adam(0.1);
    const svgd = new ppl.SVGD(model, new ppl.IMQSteinKernel(), opt, { numParticles: n });
    for (let i = 0; i < 200; i++) svgd.step();
    const p = svgd.getParticles();
    const r = Array.from(p['rate']!.dataSync());
    expect(r.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    // the unconstrained particles are log(rate)
    const u = svgd.getUnconstrainedParticles();
    Array.from(u.dataSync()).forEach((v, i) => expect(Math.exp(v)).toBeCloseTo(r[i]!, 4));
    const mean = r.reduce((a, v) => a + v, 0) / n;
    const v = r.reduce((a, x) => a + (x - mean) ** 2, 0) / n;
    // Gamma(4, 2): mean 2, variance 1; n = 40: mean within 0.2 sd, variance within 30 %
    expect(Math.abs(mean - 2), `mean ${mean}`).toBeLessThan(0.2);
    expect(Math.abs(v - 1), `var ${v}`).toBeLessThan(0.3);
    tf.dispose([...Object.values(p), u]);
    svgd.dispose();
    opt.dispose();
  });

  it('a model param is trained alongside the particles', () => {
    setSeed(2);
    // y ~ N(mu + b, 1) with a learned offset b and mu ~ N(0, 1): the particles and b both move
    const model = (): void => {
      const b = ppl.param('b', tf.scalar(0));
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.sample('y', new D.Normal(tf.add(mu, b), 1), { obs: tf.scalar(3) });
    };
    const opt = tf.train.sgd(0.05);
    const svgd = new ppl.SVGD(model, new ppl.RBFSteinKernel(), opt, { numParticles: 5 });
    svgd.step();
    const b1 = ppl.getParamStore().value('b');
    expect(b1.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose(b1);
    svgd.dispose();
    opt.dispose();
  });

  it('refuses bad arguments and options before any work, naming them', () => {
    const k = new ppl.RBFSteinKernel();
    const opt = tf.train.sgd(0.1);
    const before = tf.memory().numTensors;
    const make =
      (o: unknown, m: unknown = gaussModel, kk: unknown = k, oo: unknown = opt) =>
      () =>
        new ppl.SVGD(m as typeof gaussModel, kk as ppl.SteinKernel, oo as tf.Optimizer, o as never);
    const cases: [() => unknown, string][] = [
      [make({ numParticles: 1 }), 'numParticles'],
      [make({ numParticles: 2.5 }), 'numParticles'],
      [make({}), 'numParticles'],
      [make({ numParticles: 4, maxPlateNesting: -1 }), 'maxPlateNesting'],
      [make({ numParticles: 4, mode: 'joint' }), 'mode'],
      [make({ numParticles: 4, num_particles: 4 }), 'num_particles'],
      [make(null), 'options'],
      [make({ numParticles: 4 }, 3), 'model'],
      [make({ numParticles: 4 }, gaussModel, {}), 'kernel'],
      [make({ numParticles: 4 }, gaussModel, k, {}), 'optimizer'],
    ];
    for (const [f, name] of cases) {
      const err = thrown(f);
      expect(err, name).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).message).toContain(name);
    }
    const svgd = new ppl.SVGD(gaussModel, k, opt, { numParticles: 3 });
    expect(() => svgd.getParticles()).toThrow(ArgumentError);
    // a discrete latent is refused naming the site
    const disc = new ppl.SVGD(
      () => {
        ppl.sample('c', new D.Bernoulli(0.5));
      },
      k,
      opt,
      { numParticles: 3 },
    );
    expect(() => disc.step()).toThrow(/'c'/);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
  });

  it('leaves the tensor count unchanged per step and after dispose; reproducible by seed', () => {
    const run = (): number[] => {
      setSeed(7);
      const opt = tf.train.sgd(0.1);
      const before = tf.memory().numTensors;
      const svgd = new ppl.SVGD(gaussModel, new ppl.IMQSteinKernel(), opt, { numParticles: 8 });
      svgd.step();
      const after1 = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) svgd.step();
      expect(tf.memory().numTensors).toBe(after1);
      const p = svgd.getParticles();
      const out = [...p['a']!.dataSync(), ...p['b']!.dataSync()];
      tf.dispose(Object.values(p));
      expect(tf.memory().numTensors).toBe(after1);
      svgd.dispose();
      ppl.clearParamStore();
      expect(tf.memory().numTensors).toBe(before);
      opt.dispose();
      return out;
    };
    const a = run();
    const b = run();
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(16);
  });

  it("maxPlateNesting defaults to the model's plates; a model that does not broadcast is named", () => {
    const ys = tf.tensor1d([0.5, 1.5, 1.0]);
    const model = (obs: tf.Tensor): void => {
      const mu = ppl.sample('mu', new D.Normal(0, 1));
      ppl.plate('data', 3, () => ppl.sample('y', new D.Normal(mu, 1), { obs }));
    };
    const first = (mpn: number | undefined): number[] => {
      ppl.clearParamStore();
      setSeed(4);
      const opt = tf.train.sgd(0.1);
      const svgd = new ppl.SVGD(model, new ppl.RBFSteinKernel(), opt, {
        numParticles: 6,
        maxPlateNesting: mpn,
      });
      svgd.step(ys);
      const { mu } = svgd.getNamedParticles();
      expect(mu!.shape).toEqual([6, 1]);
      const out = Array.from(mu!.dataSync());
      tf.dispose(mu);
      svgd.dispose();
      opt.dispose();
      return out;
    };
    expect(first(undefined)).toEqual(first(1));
    // a matMul that assumes an unbatched latent fails inside the particles plate
    const bad = (): void => {
      const w = ppl.sample('w', new D.Normal([0, 0], [1, 1]).toEvent(1));
      ppl.factor('f', tf.sum(tf.matMul(tf.reshape(w, [1, 2]), tf.ones([2, 1]))));
    };
    const opt = tf.train.sgd(0.1);
    const svgd = new ppl.SVGD(bad, new ppl.RBFSteinKernel(), opt, { numParticles: 4 });
    const before = tf.memory().numTensors;
    expect(() => svgd.step()).toThrow(/model.*4 particles/);
    expect(tf.memory().numTensors).toBe(before);
    // a site that appears after the first step is refused naming it, without a leak
    let extra = false;
    const growing = (): void => {
      ppl.sample('a', new D.Normal(0, 1));
      if (extra) ppl.sample('late', new D.Normal(0, 1));
    };
    const g = new ppl.SVGD(growing, new ppl.RBFSteinKernel(), opt, { numParticles: 4 });
    g.step();
    extra = true;
    const count = tf.memory().numTensors;
    expect(() => g.step()).toThrow(/'late'/);
    expect(tf.memory().numTensors).toBe(count);
    g.dispose();
    svgd.dispose();
    opt.dispose();
    ys.dispose();
  });
});
