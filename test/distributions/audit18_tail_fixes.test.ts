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
import { describe, expect, it } from 'vitest';
import { distributions as d } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

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
