/**
 * SineBivariateVonMises and CAR beyond the conformance table: special cases (independence,
 * the weighted correlation), the normaliser in the bimodal and concentrated regimes, gradients
 * against finite differences of float64 formulas, draws against quadrature / covariance
 * references within Monte Carlo standard errors, shapes and memory.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ArgumentError, distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';
import {
  carPrecision,
  inverse64,
  mvnPrecisionLogpdf,
  sineLogNormalizer64,
} from './cases_mixtures_censored.js';

afterEach(() => clearSeed());

/** `tf.grads` of `sum(f(...ps))` at `theta`, as numbers, checking no tensor is left behind. */
function grads(theta: number[], f: (ps: tf.Tensor[]) => tf.Tensor): number[] {
  const before = tf.memory().numTensors;
  const ps = theta.map((t) => tf.scalar(t));
  const gs = tf.grads((...xs: tf.Tensor[]) => tf.sum(f(xs)))(ps);
  const out = gs.map((g) => g.dataSync()[0] as number);
  tf.dispose([...gs, ...ps]);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

const sineLogpdf64 = ([phi, psi]: number[], [mu, nu, k1, k2, lam]: number[]): number =>
  k1! * Math.cos(phi! - mu!) +
  k2! * Math.cos(psi! - nu!) +
  lam! * Math.sin(phi! - mu!) * Math.sin(psi! - nu!) -
  sineLogNormalizer64(k1!, k2!, lam!);

describe('SineBivariateVonMises', () => {
  it('lambda = 0 is the product of two von Mises; weightedCorrelation is lambda / sqrt(k1 k2)', () => {
    const s = new D.SineBivariateVonMises(0.3, -1, 2, 5, { correlation: 0 });
    const v1 = new D.VonMises(0.3, 2);
    const v2 = new D.VonMises(-1, 5);
    const x = [
      [0.5, -0.7],
      [3, 2],
    ];
    const ref = tf.tidy(() =>
      Array.from(tf.add(v1.logProb([0.5, 3]), v2.logProb([-0.7, 2])).dataSync()),
    );
    expect(expectNoLeak(() => s.logProb(x))).toBeAllclose(ref, { rtol: 1e-5 });
    const a = new D.SineBivariateVonMises(0.3, -1, 2, 5, { correlation: 1.5 });
    const b = new D.SineBivariateVonMises(0.3, -1, 2, 5, {
      weightedCorrelation: 1.5 / Math.sqrt(10),
    });
    expect(expectNoLeak(() => b.logProb(x))).toBeAllclose(
      expectNoLeak(() => a.logProb(x)),
      {
        rtol: 1e-5,
      },
    );
    [s, v1, v2, a, b].forEach((t) => t.dispose());
  });

  it('log C matches float64 quadrature: bimodal (lambda^2 > k1 k2), concentrated, near-degenerate', () => {
    for (const [k1, k2, lam] of [
      [2, 1, 4],
      [40, 25, 10],
      [0.05, 0.1, 0.02],
      [8, 8, -7.9],
    ] as const) {
      const s = new D.SineBivariateVonMises(0, 0, k1, k2, { correlation: lam });
      const ref = sineLogNormalizer64(k1, k2, lam, 400);
      expect(expectNoLeak(() => s.logNormalizer())).toBeAllclose([ref], {
        rtol: 2e-6,
        atol: 1e-4,
      });
      s.dispose();
    }
  });

  it('gradient of logProb in (k1, k2, lambda, phi, psi) matches finite differences', () => {
    const th = [1.7, 2.4, 0.9, 0.4, -0.6];
    const f64 = ([k1, k2, lam, phi, psi]: number[]): number =>
      sineLogpdf64([phi!, psi!], [0.2, -0.3, k1!, k2!, lam!]);
    const g = grads(th, ([k1, k2, lam, phi, psi]) =>
      new D.SineBivariateVonMises(0.2, -0.3, k1!, k2!, { correlation: lam! }).logProb(
        tf.stack([phi!, psi!]),
      ),
    );
    expect(g).toBeAllclose(finiteDiff(f64, th, 1e-4), { rtol: 2e-3, atol: 2e-4 });
  });

  it('draws: circular moments match quadrature within 5 standard errors (unimodal and bimodal)', () => {
    const n = 20000;
    for (const [mu, nu, k1, k2, lam] of [
      [0.4, -1, 2, 3, 1.5],
      [-2, 2.5, 1, 0.5, 3], // bimodal
      [0, 0, 30, 20, 5],
    ] as const) {
      const s = new D.SineBivariateVonMises(mu, nu, k1, k2, { correlation: lam });
      const x = s.sample([n], 17);
      expect(x.shape).toEqual([n, 2]);
      const xs = x.arraySync() as number[][];
      x.dispose();
      expect(
        xs.every(([a, b]) => a! >= -Math.PI && a! < Math.PI && b! >= -Math.PI && b! < Math.PI),
      ).toBe(true);
      const stats = (a: number, b: number): number[] => [
        Math.cos(a),
        Math.cos(b),
        Math.sin(a) * Math.sin(b),
        Math.cos(a) * Math.cos(b),
      ];
      // quadrature of the same statistics (centred angles) under the float64 density
      const g = 256;
      const h = (2 * Math.PI) / g;
      const logC = sineLogNormalizer64(k1, k2, lam, g);
      const ref = [0, 0, 0, 0];
      for (let i = 0; i < g; i++) {
        for (let j = 0; j < g; j++) {
          const a = i * h;
          const b = j * h;
          const w =
            Math.exp(k1 * Math.cos(a) + k2 * Math.cos(b) + lam * Math.sin(a) * Math.sin(b) - logC) *
            h *
            h;
          stats(a, b).forEach((v, k) => (ref[k] = ref[k]! + w * v));
        }
      }
      const per = xs.map(([a, b]) => stats(a! - mu, b! - nu));
      ref.forEach((r, k) => {
        const vals = per.map((p) => p[k]!);
        const m = vals.reduce((p, q) => p + q, 0) / n;
        const sd = Math.sqrt(vals.reduce((p, q) => p + (q - m) ** 2, 0) / (n - 1));
        expect(Math.abs(m - r)).toBeLessThan((5 * sd) / Math.sqrt(n) + 1e-6);
      });
      s.dispose();
    }
  });

  it('as a latent site under NUTS (bijectTo onto (-pi, pi)^2): E[cos(phi - mu)] matches quadrature', async () => {
    const [mu, nu, k1, k2, lam] = [0.5, -1, 4, 3, 1];
    const model = (): void => {
      ppl.sample('a', new D.SineBivariateVonMises(mu, nu, k1, k2, { correlation: lam }));
    };
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 400,
      warmupSteps: 200,
      progressBar: false,
      seed: 1,
    });
    await mcmc.run();
    const a = mcmc.getSamples().a as tf.Tensor;
    const xs = a.arraySync() as number[][];
    a.dispose();
    const c = xs.map((r) => Math.cos(r[0]! - mu));
    const m = c.reduce((p, q) => p + q, 0) / c.length;
    const sd = Math.sqrt(c.reduce((p, q) => p + (q - m) ** 2, 0) / (c.length - 1));
    const g = 256;
    const h = (2 * Math.PI) / g;
    const logC = sineLogNormalizer64(k1, k2, lam, g);
    let ref = 0;
    for (let i = 0; i < g; i++) {
      for (let j = 0; j < g; j++) {
        const x = i * h;
        const y = j * h;
        ref +=
          Math.cos(x) *
          Math.exp(k1 * Math.cos(x) + k2 * Math.cos(y) + lam * Math.sin(x) * Math.sin(y) - logC) *
          h *
          h;
      }
    }
    // draws are correlated: an effective size of at least a fifth of the draws
    expect(Math.abs(m - ref)).toBeLessThan((5 * sd) / Math.sqrt(c.length / 5));
  });

  it('batch broadcasting, expand, sample([0]) and mean; no tensors left behind', () => {
    const s = new D.SineBivariateVonMises([0, 1, 2], 0.5, tf.tensor2d([[1], [2]]), 3, {
      weightedCorrelation: 0.3,
    });
    expect(s.batchShape).toEqual([2, 3]);
    expect(s.eventShape).toEqual([2]);
    expect(expectNoLeak(() => s.sample([4])).length).toBe(48);
    expect(expectNoLeak(() => s.sample([0]))).toEqual([]);
    expect(expectNoLeak(() => s.logProb([0.1, 0.2])).length).toBe(6);
    expect(expectNoLeak(() => s.mean())).toEqual([0, 0.5, 1, 0.5, 2, 0.5, 0, 0.5, 1, 0.5, 2, 0.5]);
    const e = s.expand([5, 2, 3]);
    expect(expectNoLeak(() => e.sample([2])).length).toBe(120);
    s.dispose();
  });
});

describe('CAR', () => {
  const W = [
    [0, 1, 1, 0, 0],
    [1, 0, 1, 0, 0],
    [1, 1, 0, 1, 0],
    [0, 0, 1, 0, 2],
    [0, 0, 0, 2, 0],
  ];
  const mu = [0.2, -0.5, 1, 0, 0.7];

  it('gradient of logProb in (alpha, tau) and the value matches finite differences', () => {
    const x = [0.1, -0.2, 0.4, 1.5, -0.3];
    const th = [0.6, 1.8, ...x];
    const f64 = ([a, t, ...xs]: number[]): number =>
      mvnPrecisionLogpdf(xs, mu, carPrecision(W, a!, t!));
    const g = grads(th, ([a, t, ...xs]) => new D.CAR(mu, a!, t!, W).logProb(tf.stack(xs)));
    expect(g).toBeAllclose(finiteDiff(f64, th, 1e-5), { rtol: 2e-3, atol: 2e-4 });
  });

  it('draws: the sample covariance (off-diagonals too) matches Q^-1 within 5 standard errors', () => {
    const n = 20000;
    const alpha = 0.85;
    const tau = 1.5;
    const car = new D.CAR(mu, alpha, tau, W);
    const x = car.sample([n], 21);
    const xs = x.arraySync() as number[][];
    x.dispose();
    const cov = inverse64(carPrecision(W, alpha, tau));
    for (const [i, j] of [
      [0, 0],
      [0, 1],
      [2, 3],
      [3, 4],
      [0, 4],
    ] as const) {
      const prods = xs.map((r) => (r[i]! - mu[i]!) * (r[j]! - mu[j]!));
      const m = prods.reduce((p, q) => p + q, 0) / n;
      const sd = Math.sqrt(prods.reduce((p, q) => p + (q - m) ** 2, 0) / (n - 1));
      expect(Math.abs(m - cov[i]![j]!)).toBeLessThan((5 * sd) / Math.sqrt(n));
    }
    expect(expectNoLeak(() => car.variance())).toBeAllclose(
      cov.map((r, i) => r[i]!),
      { rtol: 1e-4 },
    );
    car.dispose();
  });

  it('batch shapes broadcast (loc [3, 1, n], correlation [2]); expand; empty sample; memory', () => {
    const before = tf.memory().numTensors;
    const loc = tf.zeros([3, 1, 5]);
    const car = new D.CAR(loc, [0.2, -0.4], 2, W);
    expect(car.batchShape).toEqual([3, 2]);
    expect(car.eventShape).toEqual([5]);
    expect(expectNoLeak(() => car.rsample([4])).length).toBe(4 * 3 * 2 * 5);
    expect(expectNoLeak(() => car.logProb([0, 0, 0, 0, 0])).length).toBe(6);
    expect(expectNoLeak(() => car.variance()).length).toBe(30);
    expect(expectNoLeak(() => car.sample([0]))).toEqual([]);
    const e = car.expand([4, 3, 2]);
    expect(expectNoLeak(() => e.sample([1])).length).toBe(120);
    car.dispose();
    loc.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('GaussianScaleMixture', () => {
  const s = [1.5, 0.7];
  const l = [0.3, -0.4, 0.1];
  const sg = [0.5, 1.2, 2.5];
  const pi = ((): number[] => {
    const e = l.map(Math.exp);
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  })();
  const m2 = pi.reduce((a, p, k) => a + p * sg[k]! ** 2, 0);

  it('logProb against the float64 mixture of diagonal normals; the 1-D density integrates to 1', () => {
    const g = new D.GaussianScaleMixture(s, l, sg);
    const pts = [
      [0.3, -1],
      [4, 2.5],
    ];
    const ref = pts.map(([x, y]) =>
      Math.log(
        pi.reduce((a, p, k) => {
          const v0 = (s[0]! * sg[k]!) ** 2;
          const v1 = (s[1]! * sg[k]!) ** 2;
          const q = x! ** 2 / v0 + y! ** 2 / v1;
          return a + (p * Math.exp(-q / 2)) / (2 * Math.PI * Math.sqrt(v0 * v1));
        }, 0),
      ),
    );
    expect(expectNoLeak(() => g.logProb(pts))).toBeAllclose(ref, { rtol: 1e-5 });
    expect(expectNoLeak(() => g.mean())).toEqual([0, 0]);
    expect(expectNoLeak(() => g.variance())).toBeAllclose(
      s.map((v) => v * v * m2),
      { rtol: 1e-5 },
    );
    g.dispose();
    const one = new D.GaussianScaleMixture([0.8], [0, 1], [0.3, 2]);
    const n = 8000;
    const h = 40 / n;
    const xs = Array.from({ length: n + 1 }, (_, i) => [-20 + i * h]);
    const p = expectNoLeak(() => one.prob(xs));
    const integral =
      (p.reduce((a, v, i) => a + v * (i === 0 || i === n ? 1 : i % 2 ? 4 : 2), 0) * h) / 3;
    expect(integral).toBeAllclose(1, { atol: 1e-4 });
    one.dispose();
  });

  it('draws: coordinate variances within 5 standard errors; sample([0]); memory', () => {
    const g = new D.GaussianScaleMixture(s, l, sg);
    const n = 40000;
    const x = g.sample([n], 9);
    const xs = x.arraySync() as number[][];
    x.dispose();
    [0, 1].forEach((i) => {
      const sq = xs.map((r) => r[i]! ** 2);
      const m = sq.reduce((a, b) => a + b, 0) / n;
      const sd = Math.sqrt(sq.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
      expect(Math.abs(m - s[i]! ** 2 * m2)).toBeLessThan((5 * sd) / Math.sqrt(n));
    });
    expect(expectNoLeak(() => g.sample([0]))).toEqual([]);
    expect(expectNoLeak(() => g.rsample([3, 2])).length).toBe(12);
    g.dispose();
  });

  it('pathwise gradients of E[x_1^2] are unbiased in all three parameters (10 seeds, 5 SE)', () => {
    const n = 4000;
    const runs = Array.from({ length: 10 }, (_, seed) => {
      const ps = [tf.tensor1d(s), tf.tensor1d(l), tf.tensor1d(sg)];
      const gs = tf.grads((c: tf.Tensor, lg: tf.Tensor, sc: tf.Tensor) => {
        const x = new D.GaussianScaleMixture(c, lg, sc).rsample([n], 100 + seed);
        return tf.div(tf.sum(tf.square(tf.slice(x, [0, 0], [n, 1]))), n);
      })(ps);
      const out = gs.flatMap((t) => Array.from(t.dataSync()));
      tf.dispose([...gs, ...ps]);
      return out;
    });
    const ref = [
      2 * s[0]! * m2,
      0,
      ...pi.map((p, j) => s[0]! ** 2 * p * (sg[j]! ** 2 - m2)),
      ...pi.map((p, k) => s[0]! ** 2 * p * 2 * sg[k]!),
    ];
    ref.forEach((r, i) => {
      const v = runs.map((row) => row[i]!);
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
      expect(Math.abs(m - r)).toBeLessThan((5 * sd) / Math.sqrt(v.length) + 1e-6);
    });
  });

  it('bad parameters are refused naming them, leaking nothing', () => {
    for (const [run, arg] of [
      [() => new D.GaussianScaleMixture([1, -1], [0], [1]), 'coordScale'],
      [() => new D.GaussianScaleMixture([1], [0, 1], [1]), 'componentScale'],
      [() => new D.GaussianScaleMixture([[1]], [0], [1]), 'coordScale'],
      [() => new D.GaussianScaleMixture([1], [NaN], [1]), 'componentLogits'],
    ] as const) {
      const before = tf.memory().numTensors;
      expect(run).toThrow(ArgumentError);
      try {
        run();
      } catch (e) {
        expect((e as ArgumentError).argument).toBe(arg);
      }
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
