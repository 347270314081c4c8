// Session 17 audit of the existing quantile functions at the float32 tails (p from 1e-30 to
// 1 - 6e-8) against float64 references: Laplace (its p - 1/2 form gave -Infinity below p ~ 3e-8),
// HalfNormal (Phi^{-1}((1 + p)/2) gave Infinity above 1 - 6e-8 and 0 below 6e-8), SoftLaplace
// (tan(pi p / 2) near its pole), and the families found accurate (kept as regression checks).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import normalQ from '@stdlib/stats-base-dists-normal-quantile';
import { distributions as d } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

const F = Math.fround;
const PS = [
  1e-30,
  1e-20,
  1e-10,
  1e-6,
  1e-3,
  0.05,
  0.1,
  0.3,
  0.5,
  0.7,
  0.9,
  0.999,
  1 - 1e-5,
  F(1 - 6e-8),
];

/** float64 erfinv: its Maclaurin series below 1e-3, @stdlib's normal quantile elsewhere. */
function erfinv(p: number): number {
  if (p < 1e-3) {
    const w = (Math.sqrt(Math.PI) * p) / 2;
    return w + w ** 3 / 3 + (7 * w ** 5) / 30;
  }
  return p > 0.5
    ? -normalQ((1 - p) / 2, 0, 1) / Math.SQRT2
    : normalQ((1 + p) / 2, 0, 1) / Math.SQRT2;
}

const CASES: [string, () => d.Distribution, (p: number) => number][] = [
  [
    'Laplace(1, 2)',
    () => new d.Laplace(1, 2),
    (p) => (p <= 0.5 ? 1 + 2 * Math.log(2 * p) : 1 - 2 * Math.log(2 * (1 - p))),
  ],
  ['HalfNormal(2)', () => new d.HalfNormal(2), (p) => 2 * Math.SQRT2 * erfinv(p)],
  [
    'SoftLaplace(1, 2)',
    () => new d.SoftLaplace(1, 2),
    (p) =>
      p <= 0.5
        ? 1 + 2 * Math.log(Math.tan((Math.PI * p) / 2))
        : 1 - 2 * Math.log(Math.tan((Math.PI * (1 - p)) / 2)),
  ],
  ['Gumbel(1, 2)', () => new d.Gumbel(1, 2), (p) => 1 - 2 * Math.log(-Math.log(p))],
  ['Logistic(1, 2)', () => new d.Logistic(1, 2), (p) => 1 + 2 * (Math.log(p) - Math.log1p(-p))],
  ['Gompertz(0.5, 2)', () => new d.Gompertz(0.5, 2), (p) => Math.log1p(-Math.log1p(-p) / 0.5) / 2],
  ['Exponential(2)', () => new d.Exponential(2), (p) => -Math.log1p(-p) / 2],
  // the pole's distance 1/2 - p (exact in float64 for these p) avoids tan(pi (p - 1/2)) at p ~ 0
  ['Cauchy(1, 2)', () => new d.Cauchy(1, 2), (p) => 1 - 2 / Math.tan(Math.PI * p)],
];

describe('quantiles at the float32 tails against float64 references', () => {
  for (const [name, make, ref] of CASES) {
    it(name, () => {
      const dist = make();
      const got = expectNoLeak(() => dist.icdf(PS));
      dist.dispose();
      // location families: an absolute float32 rounding of loc + scale z near x = 0
      const atol = name.startsWith('HalfNormal') || name.startsWith('Exponential') ? 1e-38 : 1e-6;
      got.forEach((g, i) => {
        const w = ref(F(PS[i] as number));
        expect(Math.abs(g - w), `${name} p=${PS[i]}: ${g} vs ${w}`).toBeLessThanOrEqual(
          1e-6 * Math.abs(w) + atol,
        );
      });
    });
  }
  it('Laplace, HalfNormal, SoftLaplace: finite gradients in p and the scale at both tails', () => {
    for (const make of [
      (s: tf.Tensor) => new d.Laplace(0, s),
      (s: tf.Tensor) => new d.HalfNormal(s),
      (s: tf.Tensor) => new d.SoftLaplace(0, s),
    ]) {
      const inputs = [tf.tensor([1e-10, 0.05, 0.3, 0.7, 1 - 1e-5]), tf.scalar(2)];
      const before = tf.memory().numTensors;
      const [gp, gs] = tf.grads((p: tf.Tensor, s: tf.Tensor) => {
        const dist = make(s);
        const x = tf.sum(dist.icdf(p));
        dist.dispose();
        return x;
      })(inputs);
      const vp = Array.from((gp as tf.Tensor).dataSync());
      const vs = (gs as tf.Tensor).dataSync()[0] as number;
      tf.dispose([gp, gs]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(inputs);
      expect(vp.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
      expect(Number.isFinite(vs)).toBe(true);
    }
  });
});
