/**
 * Audit 18: draws that round onto the edge of the support in float32, so that the family's own
 * `logProb` refuses them or scores them infinite.
 * - `LKJCholesky` at small concentrations: the last diagonal entry `sqrt(relu(1 - |row|^2))` was 0
 *   where a Beta draw at `1 - 2^-24` rounded the row's squares to 1; a zero diagonal lies outside
 *   `corrCholesky`, so `logProb` of the distribution's own draw threw. torch clamps at
 *   `finfo.tiny`; every draw must pass the support check and score finitely.
 * - `Weibull` with `k < 1`: `scale (-log u)^{1/k}` underflowed to 0 (density `+Infinity`) for ~1%
 *   of draws at `k = 0.05`; draws are kept at or above `finfo.tiny` (as `Gamma`'s).
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { distributions as d } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

describe('audit18 draws stay inside their own support', () => {
  it('LKJCholesky at small concentrations: positive diagonals, unit rows, finite logProb', () => {
    for (const [dim, eta] of [
      [3, 0.01],
      [4, 0.05],
      [3, 0.1],
    ] as const) {
      const dist = new d.LKJCholesky(dim, eta);
      const l = dist.sample([5000], 5);
      const ok = expectNoLeak(() => dist.support.check(l));
      expect(
        ok.every((v) => v === 1),
        `support (${dim}, ${eta})`,
      ).toBe(true);
      // the smallest diagonal entry of all draws
      const diag = expectNoLeak(() => tf.tidy(() => tf.min(tf.sum(tf.mul(l, tf.eye(dim)), -1))));
      expect(diag[0], `smallest diagonal (${dim}, ${eta})`).toBeGreaterThan(0);
      const lp = expectNoLeak(() => dist.logProb(l));
      expect(lp.every(Number.isFinite), `logProb (${dim}, ${eta})`).toBe(true);
      l.dispose();
      dist.dispose();
    }
  });

  it('Weibull with k < 1: no draw underflows to 0, every draw scores finitely', () => {
    for (const k of [0.05, 0.1, 0.3]) {
      const dist = new d.Weibull(1, k);
      const xs = expectNoLeak(() => dist.sample([20000], 5));
      const x = tf.tensor(xs);
      const lp = expectNoLeak(() => dist.logProb(x));
      x.dispose();
      dist.dispose();
      expect(Math.min(...xs), `k = ${k}`).toBeGreaterThan(0);
      expect(lp.every(Number.isFinite), `logProb k = ${k}`).toBe(true);
    }
  });
});
