/**
 * `SMCFilter.logEvidence` (the SMC estimate of `log p(y_{1:t})`) on a 1-D linear-Gaussian
 * state-space model against the exact Kalman-filter log evidence, computed here in float64:
 *
 * `z_{-1} ~ N(0, s0²)`, `z_t = a z_{t-1} + w_t`, `w_t ~ N(0, q²)`, `y_t ~ N(z_t, r²)`;
 * `log p(y_{0:T}) = Σ_t log N(y_t; a m_{t-1}, a² P_{t-1} + q² + r²)`.
 *
 * `Ẑ` is unbiased, so `log Ẑ` is biased down by about half its variance: over `R` seeds the
 * mean of `log Ẑ` plus half the sample variance must be within 5 standard errors of the exact
 * value (bootstrap filter and locally optimal proposal, with resampling); with many particles
 * one step is close to the exact `log p(y_0)`, and `init` starts the estimate afresh.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { bootstrap, kalman, model, optimal, ys } from './fixtures/linear_gaussian_ssm.js';

afterEach(() => clearSeed());

describe('SMCFilter.logEvidence vs the Kalman filter', () => {
  for (const [name, guide] of [
    ['bootstrap', bootstrap],
    ['optimal proposal', optimal],
  ] as const) {
    it(`${name}: log Ẑ after each step is unbiased (up to half its variance) for log p(y_0:t)`, () => {
      const exact = kalman(ys).logEvidence;
      const R = 6;
      const runs: number[][] = [];
      let resampled = 0;
      for (let s = 0; s < R; s++) {
        setSeed(100 + s);
        const f = new ppl.SMCFilter(model, guide, { numParticles: 400 });
        f.init();
        expect(f.logEvidence).toBe(0); // no observation at init
        const row: number[] = [];
        ys.forEach((yv, t) => {
          const y = tf.scalar(yv);
          f.step(y, t);
          y.dispose();
          row.push(f.logEvidence);
        });
        resampled += f.numResamples;
        runs.push(row);
        f.dispose();
      }
      expect(resampled).toBeGreaterThan(0);
      exact.forEach((e, t) => {
        const col = runs.map((row) => row[t]!);
        const mean = col.reduce((x, v) => x + v, 0) / R;
        const v = col.reduce((x, u) => x + (u - mean) ** 2, 0) / (R - 1);
        const se = Math.sqrt(v / R);
        expect(Math.abs(mean + v / 2 - e), `t=${t}: ${mean} vs ${e}`).toBeLessThan(5 * se + 0.02);
      });
    });
  }

  it('init resets the estimate; one observed step from exact draws of the state', () => {
    // the state drawn from its exact predictive: the increment is p(y | z), whose mean over the
    // particles estimates p(y_0) within its Monte Carlo error, and a new init starts from 0
    setSeed(7);
    const f = new ppl.SMCFilter(model, bootstrap, { numParticles: 4000 });
    f.init();
    const y = tf.scalar(ys[0]!);
    f.step(y, 0);
    const exact = kalman(ys.slice(0, 1)).logEvidence[0]!;
    expect(Math.abs(f.logEvidence - exact)).toBeLessThan(0.03);
    f.init();
    expect(f.logEvidence).toBe(0);
    y.dispose();
    f.dispose();
  });
});
