/**
 * Audit 18: float32 edge cases of single families, against float64 references (@stdlib).
 * - `HalfNormal.cdf` at small values: `1 - erfc(y)` rounded to 0 below `x ~ 1e-7 s` (relative
 *   error 1 at the quantile of `p = 1e-12`); it must keep relative precision (Maclaurin series of
 *   `erf` below `y = 1/2`) and be continuous at the switch.
 * - `Weibull.variance` for small concentrations: `Gamma(1 + 2/k) - Gamma(1 + 1/k)^2` gave
 *   `Infinity - Infinity = NaN` where the variance overflows float32 (it must be `Infinity`), and
 *   `lambda^2 * Infinity` where a tiny scale brings it back into range (it must be finite).
 */
import * as tf from '@tensorflow/tfjs';
import erf from '@stdlib/math-base-special-erf';
import gammaln from '@stdlib/math-base-special-gammaln';
import { describe, expect, it } from 'vitest';
import { distributions as d } from '../../src/index.js';
import { expectNoLeak, finiteDiff } from '../helpers.js';

describe('audit18 HalfNormal.cdf keeps relative precision at small values', () => {
  it('matches erf(x / (sqrt 2 s)) in relative terms from 1e-30 up, and round-trips icdf(1e-12)', () => {
    const s = 2;
    const y0 = 0.5 * Math.SQRT2 * s; // the series / erfc switch
    const xs = [1e-30, 1e-20, 2.5e-12, 1e-7, 1e-3, 0.3, y0 * (1 - 1e-6), y0 * (1 + 1e-6), 2, 5];
    const dist = new d.HalfNormal(s);
    const x = tf.tensor(xs);
    const got = expectNoLeak(() => dist.cdf(x));
    xs.forEach((v, i) => {
      const want = erf(Math.fround(v) / (Math.SQRT2 * s));
      expect(Math.abs(got[i]! / want - 1), `cdf(${v})`).toBeLessThan(2e-6);
    });
    const p = tf.tensor([1e-12, 1e-7]);
    const back = expectNoLeak(() => tf.tidy(() => dist.cdf(dist.icdf(p))));
    expect(Math.abs(back[0]! / 1e-12 - 1)).toBeLessThan(1e-5);
    expect(Math.abs(back[1]! / 1e-7 - 1)).toBeLessThan(1e-5);
    tf.dispose([x, p]);
    dist.dispose();
  });
});

/** Float64 Weibull variance, `lambda^2 Gamma(1 + 2/k) (1 - exp(2 lgamma(1 + 1/k) - lgamma(1 + 2/k)))`. */
function weibullVar(scale: number, k: number): number {
  const lg1 = gammaln(1 + 1 / k);
  const lg2 = gammaln(1 + 2 / k);
  return Math.exp(2 * Math.log(scale) + lg2) * -Math.expm1(2 * lg1 - lg2);
}

describe('audit18 Weibull.variance where the gammas overflow float32', () => {
  it('is Infinity (not NaN) where the variance overflows, finite where a small scale brings it back', () => {
    const ks = [0.01, 0.03, 0.05, 0.05, 0.1, 0.5, 1, 3];
    const scales = [1, 1, 1, 1e-10, 1, 2, 1, 1.5];
    const dist = new d.Weibull(tf.tensor(scales), tf.tensor(ks));
    const got = expectNoLeak(() => dist.variance());
    dist.dispose();
    ks.forEach((k, i) => {
      const want = weibullVar(scales[i]!, k);
      if (want > 3.4e38) expect(got[i], `k=${k}`).toBe(Infinity);
      else expect(Math.abs(got[i]! / want - 1), `k=${k} scale=${scales[i]}`).toBeLessThan(2e-5);
    });
  });

  it('has finite gradients in the scale and concentration matching finite differences', () => {
    for (const [s, k] of [
      [1, 0.5],
      [2, 1],
      [0.5, 2.5],
      [1e-10, 0.05],
    ] as const) {
      const before = tf.memory().numTensors;
      const ps = [tf.scalar(s), tf.scalar(k)];
      const gs = tf.grads((a: tf.Tensor, b: tf.Tensor) => new d.Weibull(a, b).variance())(ps);
      const got = gs.map((g) => g.dataSync()[0]!);
      tf.dispose([...gs, ...ps]);
      expect(tf.memory().numTensors).toBe(before);
      const fd = [
        finiteDiff(([a]) => weibullVar(a!, k), [s], 1e-6 * s)[0]!,
        finiteDiff(([b]) => weibullVar(s, b!), [k], 1e-6 * k)[0]!,
      ];
      got.forEach((g, i) => {
        expect(Number.isFinite(g)).toBe(true);
        expect(Math.abs(g - fd[i]!), `d/d${i} (${s}, ${k})`).toBeLessThan(2e-3 * Math.abs(fd[i]!));
      });
    }
  });
});
