/**
 * Audit 20: regression metrics of a Gaussian predictive (uncertainty-toolbox, properscoring):
 * `gaussianNll`, `gaussianCrps`, `intervalCoverage` and `regressionCalibrationError`, each checked
 * against a float64 re-implementation here (with @stdlib's normal CDF and quantile), the CRPS
 * against a Monte Carlo estimate, the coverage and calibration of a well-specified model against
 * their sampling bands, the argument checks and the absence of tensor leaks.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { toolbox } from '../../src/index.js';
import { makeRng } from '../../src/utils/seed.js';
import { expectArgumentError, expectNoLeak } from '../helpers.js';

/** Seeded standard normal draws (Box-Muller). */
function normals(rng: () => number, n: number): number[] {
  const out: number[] = [];
  while (out.length < n) {
    const u = 1 - rng();
    const v = rng();
    out.push(Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  }
  return out;
}

/** A seeded problem: `y = mu + scale * sigma * eps` (well specified when scale = 1). */
function problem(n: number, seed: number, scale = 1): { mu: number[]; sd: number[]; y: number[] } {
  const rng = makeRng(seed);
  const mu = normals(rng, n).map((v) => 3 * v);
  const sd = mu.map(() => 0.2 + 2 * rng());
  const eps = normals(rng, n);
  const y = mu.map((m, i) => m + scale * (sd[i] as number) * (eps[i] as number));
  return { mu, sd, y };
}

const refNll = (mu: number[], sd: number[], y: number[]): number =>
  mu.reduce((s, m, i) => {
    const v = (sd[i] as number) ** 2;
    return s + 0.5 * Math.log(2 * Math.PI * v) + ((y[i] as number) - m) ** 2 / (2 * v);
  }, 0) / mu.length;

const refCrps = (mu: number[], sd: number[], y: number[]): number =>
  mu.reduce((s, m, i) => {
    const sg = sd[i] as number;
    const z = ((y[i] as number) - m) / sg;
    const pdf = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
    return s + sg * (z * (2 * normalCdf(z, 0, 1) - 1) + 2 * pdf - 1 / Math.sqrt(Math.PI));
  }, 0) / mu.length;

describe('audit 20: Gaussian regression metrics', () => {
  const { mu, sd, y } = problem(400, 11);

  it('gaussianNll matches a float64 re-implementation, on arrays, tensors and [N, D]', () => {
    const ref = refNll(mu, sd, y);
    expect(toolbox.gaussianNll(mu, sd, y)).toBeCloseTo(ref, 10);
    const rows = (a: number[]): number[][] =>
      Array.from({ length: 200 }, (_, i) => a.slice(2 * i, 2 * i + 2));
    expect(toolbox.gaussianNll(rows(mu), rows(sd), rows(y))).toBeCloseTo(ref, 10);
    expectNoLeak(() => {
      const [m, s, t] = [mu, sd, y].map((a) => tf.tensor2d(a, [200, 2]));
      expect(toolbox.gaussianNll(m!, s!, t!)).toBeCloseTo(ref, 4);
      tf.dispose([m!, s!, t!]);
    });
  });

  it('gaussianCrps matches the closed form and a Monte Carlo estimate', () => {
    expect(toolbox.gaussianCrps(mu, sd, y)).toBeCloseTo(refCrps(mu, sd, y), 5);
    // MC: E|X - y| - 1/2 E|X - X'| per point, averaged, from M draws of each predictive.
    const rng = makeRng(5);
    const m = 400;
    const per: number[] = [];
    for (let i = 0; i < 40; i++) {
      const x1 = normals(rng, m);
      const x2 = normals(rng, m);
      for (let k = 0; k < m; k++) {
        const a = (mu[i] as number) + (sd[i] as number) * (x1[k] as number);
        const b = (mu[i] as number) + (sd[i] as number) * (x2[k] as number);
        per.push(
          (Math.abs(a - (y[i] as number)) + Math.abs(b - (y[i] as number))) / 2 -
            0.5 * Math.abs(a - b),
        );
      }
    }
    // each point's samples averaged, then the points averaged: the grand mean of `per`
    const mean = per.reduce((s, v) => s + v, 0) / per.length;
    const varEst = per.reduce((s, v) => s + (v - mean) ** 2, 0) / (per.length - 1);
    const se = Math.sqrt(varEst / per.length);
    const exact = toolbox.gaussianCrps(mu.slice(0, 40), sd.slice(0, 40), y.slice(0, 40));
    expect(Math.abs(mean - exact)).toBeLessThan(5 * se);
    expectNoLeak(() => {
      toolbox.gaussianCrps(mu, sd, y);
    });
  });

  it('intervalCoverage matches a re-implementation and its binomial band', () => {
    for (const level of [0.5, 0.9, 0.95]) {
      const z = normalQuantile((1 + level) / 2, 0, 1);
      let inside = 0;
      let width = 0;
      mu.forEach((m, i) => {
        if (Math.abs((y[i] as number) - m) <= z * (sd[i] as number)) inside++;
        width += 2 * z * (sd[i] as number);
      });
      const r = toolbox.intervalCoverage(mu, sd, y, level);
      expect(r.coverage).toBe(inside / mu.length);
      expect(r.meanWidth).toBeCloseTo(width / mu.length, 10);
      const se = Math.sqrt((level * (1 - level)) / mu.length);
      expect(Math.abs(r.coverage - level)).toBeLessThan(4 * se);
    }
    const big = problem(4000, 3);
    const r = toolbox.intervalCoverage(big.mu, big.sd, big.y);
    expect(Math.abs(r.coverage - 0.95)).toBeLessThan(4 * Math.sqrt((0.95 * 0.05) / 4000));
  });

  it('regressionCalibrationError matches a re-implementation; near 0 when well specified', () => {
    const r = toolbox.regressionCalibrationError(mu, sd, y, { numLevels: 21 });
    let abs = 0;
    r.expected.forEach((p, k) => {
      expect(p).toBeCloseTo(0.01 + (0.98 * k) / 20, 12);
      const q = normalQuantile(p, 0, 1);
      const obs =
        mu.filter((m, i) => (y[i] as number) <= m + (sd[i] as number) * q).length / mu.length;
      expect(r.observed[k]).toBe(obs);
      abs += Math.abs(obs - p);
    });
    expect(r.mace).toBeCloseTo(abs / 21, 12);
    expect(r.expected).toHaveLength(21);
    const good = problem(4000, 7);
    const bad = problem(4000, 7, 2.5); // over-confident: std 2.5x too small
    const g = toolbox.regressionCalibrationError(good.mu, good.sd, good.y);
    const b = toolbox.regressionCalibrationError(bad.mu, bad.sd, bad.y);
    expect(g.mace).toBeLessThan(0.02);
    expect(b.mace).toBeGreaterThan(0.1);
    expect(b.maxError).toBeGreaterThan(g.maxError);
  });

  it('refuses bad input naming the argument, before any work', () => {
    const f = toolbox.gaussianNll;
    expectArgumentError(() => f([1, 2], [1], [1, 2]), 'std', /shape/);
    expectArgumentError(() => f([1, 2], [1, 1], [1]), 'y', /shape/);
    expectArgumentError(() => f([1, 2], [1, 0], [1, 2]), 'std', /> 0/);
    expectArgumentError(() => f([1, 2], [1, -1], [1, 2]), 'std', /> 0/);
    expectArgumentError(() => f([1, 2], [1, NaN], [1, 2]), 'std', /> 0/);
    expectArgumentError(() => toolbox.gaussianCrps([1, 2], [1, 1], [1, NaN]), 'y', /NaN/);
    expectArgumentError(() => f([], [], []), 'mean', /at least one/);
    expectArgumentError(() => f([[1, 2], [3]], [[1, 1], [1]], [[1, 1], [1]]), 'mean', /length/);
    for (const level of [0, 1, -0.5, NaN, 2]) {
      expectArgumentError(
        () => toolbox.intervalCoverage([1], [1], [1], level),
        'level',
        /\(0, 1\)/,
      );
    }
    expectArgumentError(
      () => toolbox.regressionCalibrationError([1], [1], [1], { numLevels: 1 }),
      'options.numLevels',
      /integer/,
    );
    expectNoLeak(() => {
      const t = tf.tensor3d([1], [1, 1, 1]);
      expectArgumentError(() => f(t, [1], [1]), 'mean', /shape/);
      t.dispose();
    });
  });
});
