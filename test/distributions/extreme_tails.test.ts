/**
 * CDFs, survival functions and their logs at extreme arguments (|x| up to 1e3 standard units, or
 * 1e-30 near a lower bound), where the value is finite in log space but the naive forms give
 * `-Infinity` (`log` of an underflowed CDF, `1 - cdf` rounded to 0) or a wrong tiny number
 * (`tf.sigmoid` on wasm clamps at 1.2e-38). References: closed forms in float64 (`Math.log1p`,
 * `Math.expm1`), asymptotic forms where float64 itself underflows (`log(1 - exp(-e^{-z})) = -z`
 * to 1e-300 at `z = 1e3`), and @stdlib's float64 log-CDFs.
 */
import { describe, expect, it } from 'vitest';
import tRef from '@stdlib/stats-base-dists-t';
import normalRef from '@stdlib/stats-base-dists-normal';
import erfRef from '@stdlib/math-base-special-erf';
import { distributions } from '../../src/index.js';
import { expectNoLeak } from '../helpers.js';

type Fn = (...a: number[]) => number;
type Method = 'cdf' | 'logCdf' | 'survival' | 'logSurvival' | 'logProb';
interface Row {
  name: string;
  make: () => distributions.Distribution;
  method: Method;
  x: number[];
  ref: (x: number) => number;
  /** relative tolerance (default 1e-5) */
  rtol?: number;
}

/** float64 `log(1 + e^v)`. */
const softplus = (v: number): number =>
  v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
const d = distributions;

const ROWS: Row[] = [
  // Logistic(0, 1): log F(z) = -softplus(-z); F = exp of it (sigmoid gave 1.2e-38 below z = -88)
  {
    name: 'Logistic',
    make: () => new d.Logistic(0, 1),
    method: 'logCdf',
    x: [-1e3, -100, 0, 30],
    ref: (z) => -softplus(-z),
  },
  {
    name: 'Logistic',
    make: () => new d.Logistic(0, 1),
    method: 'cdf',
    // e^-92 = 1.1e-40 (subnormal in float32; spacing 1.4e-45): tf.sigmoid gave 1.2e-38
    x: [-92, -80, -20],
    rtol: 1e-3,
    ref: (z) => Math.exp(-softplus(-z)),
  },
  {
    name: 'Logistic',
    make: () => new d.Logistic(0, 1),
    method: 'survival',
    x: [92, 80, 20],
    rtol: 1e-3,
    ref: (z) => Math.exp(-softplus(z)),
  },
  {
    name: 'Logistic',
    make: () => new d.Logistic(0, 1),
    method: 'logSurvival',
    x: [1e3, 100, -30],
    ref: (z) => -softplus(z),
  },
  // Laplace(0, 1): log F(z) = z - log 2 below 0
  {
    name: 'Laplace',
    make: () => new d.Laplace(0, 1),
    method: 'logCdf',
    x: [-1e3, -100, -1, 2],
    ref: (z) => (z < 0 ? z - Math.LN2 : Math.log1p(-0.5 * Math.exp(-z))),
  },
  {
    name: 'Laplace',
    make: () => new d.Laplace(0, 1),
    method: 'logSurvival',
    x: [1e3, 100, 1, -2],
    ref: (z) => (z > 0 ? -z - Math.LN2 : Math.log1p(-0.5 * Math.exp(z))),
  },
  // AsymmetricLaplace(0, 1, 2): k^2/(1+k^2) e^{z/k} below 0, e^{-kz}/(1+k^2) above
  {
    name: 'AsymmetricLaplace',
    make: () => new d.AsymmetricLaplace(0, 1, 2),
    method: 'logCdf',
    x: [-1e3, -100, 1],
    ref: (z) => (z < 0 ? Math.log(0.8) + z / 2 : Math.log1p(-Math.exp(-2 * z) / 5)),
  },
  {
    name: 'AsymmetricLaplace',
    make: () => new d.AsymmetricLaplace(0, 1, 2),
    method: 'logSurvival',
    x: [1e3, 100, -1],
    ref: (z) => (z > 0 ? -2 * z - Math.log(5) : Math.log1p(-0.8 * Math.exp(z / 2))),
  },
  {
    name: 'AsymmetricLaplace',
    make: () => new d.AsymmetricLaplace(0, 1, 2),
    method: 'survival',
    x: [20, 40],
    ref: (z) => Math.exp(-2 * z) / 5,
  },
  // Weibull(scale 1, concentration 2): log F = log(-expm1(-x^2)), log S = -x^2
  {
    name: 'Weibull',
    make: () => new d.Weibull(1, 2),
    method: 'logCdf',
    x: [1e-30, 1e-10, 0.3, 3],
    ref: (x) => Math.log(-Math.expm1(-x * x)),
  },
  {
    name: 'Weibull',
    make: () => new d.Weibull(1, 2),
    method: 'logSurvival',
    x: [30, 1e3],
    ref: (x) => -x * x,
  },
  // Gumbel(0, 1): log S = log(1 - exp(-e^{-z})), = -z - e^{-z}/2 far right
  {
    name: 'Gumbel',
    make: () => new d.Gumbel(0, 1),
    method: 'logSurvival',
    x: [1e3, 100, 1, -1],
    ref: (z) => (z > 600 ? -z : Math.log(-Math.expm1(-Math.exp(-z)))),
  },
  // LogNormal(0, 1): log S = log Phi(-log x)
  {
    name: 'LogNormal',
    make: () => new d.LogNormal(0, 1),
    method: 'logSurvival',
    x: [1e10, 1e30, 2],
    ref: (x) => (normalRef.logcdf as Fn)(-Math.log(x), 0, 1),
  },
  // StudentT(3): S(z) = F(-z)
  {
    name: 'StudentT',
    make: () => new d.StudentT(3, 0, 1),
    method: 'logSurvival',
    x: [1e3, 1e6, 1],
    ref: (z) => (tRef.logcdf as Fn)(-z, 3),
    rtol: 2e-5,
  },
  {
    name: 'StudentT',
    make: () => new d.StudentT(3, 0, 1),
    method: 'survival',
    x: [1e3, 1e6],
    ref: (z) => (tRef.cdf as Fn)(-z, 3),
    rtol: 2e-5,
  },
  // HalfNormal(1): log F = log erf(x / sqrt 2)
  {
    name: 'HalfNormal',
    make: () => new d.HalfNormal(1),
    method: 'logCdf',
    x: [1e-30, 1e-5, 0.3, 0.8, 3],
    ref: (x) => Math.log((erfRef as unknown as Fn)(x / Math.SQRT2)),
  },
  // Kumaraswamy(a = 2, b = 3): F = 1 - (1 - x^2)^3
  {
    name: 'Kumaraswamy',
    make: () => new d.Kumaraswamy(2, 3),
    method: 'logCdf',
    x: [1e-30, 1e-10, 0.01, 0.5],
    ref: (x) => Math.log(-Math.expm1(3 * Math.log1p(-x * x))),
  },
  {
    name: 'Kumaraswamy',
    make: () => new d.Kumaraswamy(2, 3),
    method: 'cdf',
    x: [1e-10, 1e-3, 0.5],
    ref: (x) => -Math.expm1(3 * Math.log1p(-x * x)),
  },
];

describe('CDFs and their logs at extreme arguments', () => {
  it.each(ROWS.map((r) => [`${r.name}.${r.method}(${r.x.join(', ')})`, r] as const))(
    '%s',
    (_, r) => {
      const dist = r.make();
      const got = expectNoLeak(() => dist[r.method](r.x));
      dist.dispose();
      const want = r.x.map(r.ref);
      for (const v of want) expect(Number.isFinite(v)).toBe(true);
      expect(got).toBeAllclose(want, { rtol: r.rtol ?? 1e-5, atol: 0 });
    },
  );
});
