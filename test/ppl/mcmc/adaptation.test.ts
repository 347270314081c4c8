import { describe, expect, it } from 'vitest';
import {
  ChainRng,
  DualAveraging,
  Metric,
  WelfordEstimator,
  warmupWindows,
} from '../../../src/ppl/mcmc/index.js';

describe("Stan's warmup pieces", () => {
  it('windows: 75 / 25, 50, 100, 200, 500 / 50 for 1000 iterations; 15 % / 75 % / 10 % for 100', () => {
    expect(warmupWindows(1000)).toEqual([
      [75, 99],
      [100, 149],
      [150, 249],
      [250, 449],
      [450, 949],
    ]);
    expect(warmupWindows(100)).toEqual([[15, 89]]);
    expect(warmupWindows(19)).toEqual([]);
    expect(() => warmupWindows(-1)).toThrow(/warmupSteps/);
  });

  it('Welford: sample (co)variance and Stan regularisation n/(n+5) S + 1e-3 * 5/(n+5) I', () => {
    const xs = [
      [1, 2],
      [2, 1],
      [4, 7],
      [0, -1],
    ];
    const dense = new WelfordEstimator(2, true);
    const diag = new WelfordEstimator(2, false);
    for (const x of xs) {
      dense.add(Float64Array.from(x));
      diag.add(Float64Array.from(x));
    }
    const m = [7 / 4, 9 / 4];
    const cov = (i: number, j: number) =>
      xs.reduce(
        (s, x) => s + ((x[i] as number) - (m[i] as number)) * ((x[j] as number) - (m[j] as number)),
        0,
      ) / 3;
    const S = [cov(0, 0), cov(0, 1), cov(1, 0), cov(1, 1)];
    expect(Array.from(dense.variance())).toBeAllclose(S, { rtol: 1e-12 });
    const w = 4 / 9;
    const e = 1e-3 * (5 / 9);
    expect(Array.from(dense.regularizedVariance())).toBeAllclose(
      [
        w * (S[0] as number) + e,
        w * (S[1] as number),
        w * (S[2] as number),
        w * (S[3] as number) + e,
      ],
      { rtol: 1e-12 },
    );
    expect(Array.from(diag.regularizedVariance())).toBeAllclose(
      [w * (S[0] as number) + e, w * (S[3] as number) + e],
      { rtol: 1e-12 },
    );
  });

  it('dual averaging: the first update by hand; the step size falls when acceptance is low', () => {
    const da = new DualAveraging({ targetAcceptProb: 0.8 });
    da.restart(0.5);
    // t = 1: s_bar = (0.8 - 0.3) / 11, x = log(5) - s_bar / 0.05, x_bar = x
    const eps = da.update(0.3);
    const x = Math.log(5) - 0.5 / 11 / 0.05;
    expect(eps).toBeCloseTo(Math.exp(x), 12);
    expect(da.final()).toBeCloseTo(Math.exp(x), 12);
    let e = eps;
    for (let i = 0; i < 50; i++) e = da.update(0.1);
    expect(e).toBeLessThan(eps);
  });

  it('metric: kinetic energy p^T M^-1 p / 2; dense momenta have covariance M = (M^-1)^-1', () => {
    const inv = Float64Array.from([2, 0.6, 0.6, 0.5]);
    const m = new Metric(2, 'dense', inv);
    const p = Float64Array.from([1, -2]);
    expect(m.kinetic(p)).toBeCloseTo(0.5 * (2 * 1 - 2 * 0.6 * 2 + 0.5 * 4), 12);
    expect(Array.from(m.velocity(p, new Float64Array(2)))).toBeAllclose([2 - 1.2, 0.6 - 1], {
      rtol: 1e-12,
    });
    const rng = new ChainRng(3);
    const n = 20000;
    const acc = [0, 0, 0];
    const q = new Float64Array(2);
    for (let i = 0; i < n; i++) {
      m.sampleMomentum(rng, q);
      acc[0] = (acc[0] as number) + (q[0] as number) ** 2;
      acc[1] = (acc[1] as number) + (q[0] as number) * (q[1] as number);
      acc[2] = (acc[2] as number) + (q[1] as number) ** 2;
    }
    // M = inverse of [[2, .6], [.6, .5]] = [[.5, -.6], [-.6, 2]] / (1 - .36)
    const d = 2 * 0.5 - 0.36;
    const M = [0.5 / d, -0.6 / d, 2 / d];
    // Monte Carlo: 5 standard errors of a second moment (sqrt(2/n) * scale)
    acc.forEach((a, k) => {
      expect(Math.abs(a / n - (M[k] as number))).toBeLessThan(5 * Math.sqrt(2 / n) * 3.2);
    });
    expect(() => new Metric(2, 'dense', Float64Array.from([1, 2, 2, 1]))).toThrow(/inverseMass/);
  });
});
