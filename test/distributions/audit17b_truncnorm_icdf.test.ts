/**
 * Audit 17b: `TruncatedNormal.icdf` (scipy's `truncnorm.ppf`, TFP's `TruncatedNormal.quantile`).
 * References are float64 computations in plain JS on @stdlib's normal CDF / quantile (both
 * accurate in relative terms deep in the lower tail): `p = (1 - q) Phi(a) + q Phi(b)`,
 * `x = mu + sigma Phi^{-1}(p)`, in the mirror image `(-a, -b)` where `a > 0`. Checked on a grid of
 * bounds out to 30 standard deviations in both tails, one-sided and two-sided; the round trip
 * `cdf(icdf(q)) = q`; broadcasting; the ends `icdf(0) = low`, `icdf(1) = high`; `q` outside
 * `[0, 1]` as `Normal.icdf` (ArgumentError with validation, NaN without); gradients in `q` and
 * the four parameters against float64 finite differences of the reference; memory.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { describe, expect, it } from 'vitest';
import { ArgumentError, distributions as d } from '../../src/index.js';
import { ndtriLog } from '../../src/distributions/normal_cdf.js';
import { expectNoLeak } from '../helpers.js';

const Phi = (z: number): number => normalRef.cdf(z, 0, 1);

/**
 * Float64 `Phi^{-1}(p)` for `p <= 1/2`, relative-accurate down to 1e-300: Newton on
 * `log Phi(z) = log p` (@stdlib's CDF keeps relative accuracy in the lower tail), from the
 * asymptotic start `-sqrt(-2 log p - log(-2 log p) - log 2 pi)`.
 */
function lowerQuantile(p: number): number {
  if (p === 0.5) return 0;
  const lp = Math.log(p);
  let z =
    p > 0.1 ? normalRef.quantile(p, 0, 1) : -Math.sqrt(-2 * lp - Math.log(-2 * lp * 2 * Math.PI));
  for (let i = 0; i < 60; i++) {
    const step = (Math.log(Phi(z)) - lp) / (normalRef.pdf(z, 0, 1) / Phi(z));
    z -= step;
    if (Math.abs(step) < 1e-15 * (1 + Math.abs(z))) break;
  }
  return z;
}

/** Float64 truncated-normal quantile (scipy's formula, survival form in the upper tail). */
function ppf64(q: number, mu: number, s: number, lo: number, hi: number): number {
  if (q === 0) return lo;
  if (q === 1) return hi;
  const a = (lo - mu) / s;
  const b = (hi - mu) / s;
  // p = (1 - q) Phi(u) + q Phi(v) and 1 - p = (1 - q) Phi(-u) + q Phi(-v), u = a, v = b (or
  // their mirror image where a > 0, the quantile then negated): invert the smaller of the two
  const sign = a > 0 ? -1 : 1;
  const u = sign * a;
  const v = sign * b;
  const p = (1 - q) * Phi(u) + q * Phi(v);
  const sp = (1 - q) * Phi(-u) + q * Phi(-v);
  const z = p <= 0.5 ? lowerQuantile(p) : -lowerQuantile(sp);
  return mu + sign * s * z;
}

/** {@link ppf64} at the float32 probability the tensor op sees. */
const ppf = (q: number, mu: number, s: number, lo: number, hi: number): number =>
  ppf64(Math.fround(q), mu, s, lo, hi);

/** Float64 truncated-normal CDF. */
function cdfRef(x: number, mu: number, s: number, lo: number, hi: number): number {
  const a = (lo - mu) / s;
  const b = (hi - mu) / s;
  const z = (Math.min(Math.max(x, lo), hi) - mu) / s;
  if (a > 0) return (Phi(-a) - Phi(-z)) / (Phi(-a) - Phi(-b));
  return (Phi(z) - Phi(a)) / (Phi(b) - Phi(a));
}

const MU = 1.5;
const S = 2;
/** Standardized bounds: central, one-sided, and far in either tail (8 to 30 sigma). */
const BOUNDS: [number, number][] = [
  [-1, 2],
  [0.5, 3],
  [-3, -0.5],
  [-Infinity, 0.3],
  [-0.2, Infinity],
  [8, 9],
  [8, Infinity],
  [12, 12.5],
  [20, 20.01],
  [30, 31],
  [25, Infinity],
  [-9, -8],
  [-31, -30],
  [-Infinity, -20],
  [-30, 30],
  [-12, 40],
];
const QS = [1e-6, 0.001, 0.03, 0.3, 0.5, 0.77, 0.97, 0.999, 1 - 1e-6];

const make = (a: number, b: number, mu = MU, s = S): d.TruncatedNormal =>
  new d.TruncatedNormal(
    mu,
    s,
    Number.isFinite(a) ? mu + s * a : undefined,
    Number.isFinite(b) ? mu + s * b : undefined,
  );

describe('audit17b TruncatedNormal.icdf against a float64 scipy-like reference', () => {
  it.each(BOUNDS)('bounds (%s, %s) sigma: finite and accurate on a grid of q', (a, b) => {
    const dist = make(a, b);
    const got = expectNoLeak(() => dist.icdf(QS));
    const lo = MU + S * a;
    const hi = MU + S * b;
    QS.forEach((q, i) => {
      const x = got[i] as number;
      const ref = ppf(q, MU, S, lo, hi);
      expect(Number.isFinite(x), `q=${q}: ${x}`).toBe(true);
      expect(x).toBeGreaterThanOrEqual(Math.fround(lo));
      expect(x).toBeLessThanOrEqual(Math.fround(hi));
      // float32: a few ulps of x, plus sigma times the error of z (that of log p, absolute
      // 1e-7 plus ulp(log p) ~ 6e-8 z^2, over dlog p/dz ~ z in the tails). Measured: at most
      // 0.31 of this bound (worst at (-1, 2) sigma, q = 1e-6); 1.2e-5 absolute at 30 sigma.
      const z = Math.abs((ref - MU) / S);
      const tol = 1e-6 * Math.abs(ref) + 1e-6 * S * Math.max(1, z);
      expect(Math.abs(x - ref), `q=${q} x=${x} ref=${ref}`).toBeLessThanOrEqual(tol);
    });
    dist.dispose();
  });

  it('far-tail quantiles keep their position inside a narrow interval (relative to its width)', () => {
    // [20, 20.01] sigma: the quantiles must be spread over the interval as the reference's
    const dist = make(20, 20.01);
    const got = expectNoLeak(() => dist.icdf([0.1, 0.5, 0.9]));
    const lo = MU + S * 20;
    const width = S * 0.01;
    [0.1, 0.5, 0.9].forEach((q, i) => {
      const rel = ((got[i] as number) - lo) / width;
      const refRel = (ppf(q, MU, S, lo, lo + width) - lo) / width;
      // float32 resolution of x near 41.5 is 3.8e-6, i.e. 2e-4 of the width
      expect(Math.abs(rel - refRel), `q=${q}`).toBeLessThan(2e-3);
    });
    dist.dispose();
  });

  it('round trip cdf(icdf(q)) = q where the CDF is defined in float32 (|bounds| <= 8 sigma)', () => {
    for (const [a, b] of BOUNDS.filter(
      ([x, y]) =>
        Math.max(Math.abs(x), Math.abs(y)) <= 8 || (x > -9 && x < 9 && !Number.isFinite(y)),
    )) {
      const dist = make(a, b);
      const back = expectNoLeak(() => tf.tidy(() => dist.cdf(dist.icdf(QS))));
      QS.forEach((q, i) =>
        expect(Math.abs((back[i] as number) - q), `(${a},${b}) q=${q}`).toBeLessThan(2e-5),
      );
      // and against the float64 CDF of the float32 quantiles
      const xs = expectNoLeak(() => dist.icdf(QS));
      QS.forEach((q, i) => {
        const c = cdfRef(xs[i] as number, MU, S, MU + S * a, MU + S * b);
        expect(Math.abs(c - q), `(${a},${b}) q=${q}`).toBeLessThan(2e-5);
      });
      dist.dispose();
    }
  });

  it('broadcasts q against the batch; the ends are the bounds; q outside [0, 1] as Normal.icdf', () => {
    const lo = [-1, 10, 3];
    const hi = [2, 11, Infinity];
    const dist = new d.TruncatedNormal([0, 0, 1], [1, 0.5, 2], lo, [2, 11, 1e9]);
    const qs = [[0.1], [0.5], [0.9]];
    const out = expectNoLeak(() => {
      const t = dist.icdf(qs);
      expect(t.shape).toEqual([3, 3]);
      return t;
    });
    const mus = [0, 0, 1];
    const ss = [1, 0.5, 2];
    qs.forEach(([q], i) =>
      lo.forEach((l, j) => {
        const ref = ppf(
          q as number,
          mus[j] as number,
          ss[j] as number,
          l,
          j === 2 ? 1e9 : (hi[j] as number),
        );
        expect(Math.abs((out[i * 3 + j] as number) - ref)).toBeLessThan(1e-4 * (1 + Math.abs(ref)));
      }),
    );
    // ends
    const ends = expectNoLeak(() => dist.icdf([[0], [1]]));
    expect(ends).toBeAllclose([-1, 10, 3, 2, 11, 1e9]);
    const oneSided = new d.TruncatedNormal(0, 1, 2);
    expect(expectNoLeak(() => oneSided.icdf([0, 1]))).toEqual([2, Infinity]);
    const upperOnly = new d.TruncatedNormal(0, 1, undefined, -2);
    expect(expectNoLeak(() => upperOnly.icdf([0, 1]))).toEqual([-Infinity, -2]);
    // q outside [0, 1]: validated -> ArgumentError naming value (as Normal); else NaN (as Normal)
    const normal = new d.Normal(0, 1);
    for (const bad of [-0.1, 1.5]) {
      const before = tf.memory().numTensors;
      expect(() => normal.icdf(bad)).toThrow(ArgumentError);
      expect(() => oneSided.icdf(bad)).toThrow(ArgumentError);
      expect(() => oneSided.icdf(bad)).toThrow(/value/);
      expect(tf.memory().numTensors).toBe(before);
    }
    const loose = new d.TruncatedNormal(0, 1, -1, 1, { validateArgs: false });
    const looseNormal = new d.Normal(0, 1, { validateArgs: false });
    const nn = expectNoLeak(() => looseNormal.icdf([-0.1, 1.5, NaN]));
    const tn = expectNoLeak(() => loose.icdf([-0.1, 1.5, NaN]));
    expect(nn.every(Number.isNaN)).toBe(true);
    expect(tn.every(Number.isNaN)).toBe(true);
    // empty
    expect(expectNoLeak(() => tf.tidy(() => dist.icdf(tf.zeros([0, 3])).reshape([-1])))).toEqual(
      [],
    );
    [dist, oneSided, upperOnly, normal, loose, looseNormal].forEach((x) => x.dispose());
  });
});

describe('audit17b TruncatedNormal.icdf gradients against float64 finite differences', () => {
  const cases: [number, number, number, number, number][] = [
    // q, mu, sigma, low, high
    [0.3, 0.4, 1.3, -1, 2.5],
    [0.8, -0.5, 0.7, 0.2, 1.5], // alpha > 0: the survival form
    [0.6, 1, 2, -3, 2], // both tails
    [0.4, 0, 1, 8, 9], // far upper tail
    [0.7, 0, 1, -9, -8.5], // far lower tail
  ];
  it.each(cases)('q=%s mu=%s sigma=%s [%s, %s]', (q, mu, s, lo, hi) => {
    const theta = [q, mu, s, lo, hi];
    const before = tf.memory().numTensors;
    const ps = theta.map((t) => tf.scalar(t));
    const f = (...xs: tf.Tensor[]): tf.Tensor => {
      const [tq, tm, ts, tl, th] = xs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const dist = new d.TruncatedNormal(tm, ts, tl, th);
      const out = dist.icdf(tq);
      dist.dispose();
      return out;
    };
    const gs = tf.grads(f)(ps);
    const got = gs.map((g) => g.dataSync()[0] as number);
    tf.dispose([...gs, ...ps]);
    expect(tf.memory().numTensors).toBe(before);
    const h = 1e-5;
    const fd = theta.map((_, i) => {
      const up = [...theta];
      const dn = [...theta];
      up[i] = (up[i] as number) + h;
      dn[i] = (dn[i] as number) - h;
      const f64 = ppf64 as (...a: number[]) => number;
      return (f64(...up) - f64(...dn)) / (2 * h);
    });
    // dx/dq also in closed form: sigma Z / phi(xi)
    const a = (lo - mu) / s;
    const b = (hi - mu) / s;
    const x = ppf(q, mu, s, lo, hi);
    const xi = (x - mu) / s;
    const Z = a > 0 ? Phi(-a) - Phi(-b) : Phi(b) - Phi(a);
    const dq = (s * Z) / normalRef.pdf(xi, 0, 1);
    expect(fd[0]).toBeCloseTo(dq, 4);
    got.forEach((g, i) => {
      expect(Number.isFinite(g), `d/d${i}`).toBe(true);
      expect(Math.abs(g - (fd[i] as number)), `d/d${i}: ${g} vs ${fd[i]}`).toBeLessThanOrEqual(
        2e-3 * (Math.abs(fd[i] as number) + 0.05),
      );
    });
  });
});

describe('audit17b ndtriLog (the log-probability quantile behind it)', () => {
  it('matches the float64 quantile from lp = log p, far below float32, and has the right ends', () => {
    const zs = [-37, -30, -12, -3, -1.2, 0, 0.7, 1.5, 3, 5];
    // lp = log Phi(z) in float64; for z > 0 from log1p(-Phi(-z)) (keeps the digits of 1 - p)
    const lps = zs.map((z) => (z <= 0 ? Math.log(Phi(z)) : Math.log1p(-Phi(-z))));
    const got = expectNoLeak(() => tf.tidy(() => ndtriLog(tf.tensor1d(lps))));
    zs.forEach((z, i) => {
      // the error of lp's float32 rounding, |lp| 6e-8, over dlp/dz = phi/Phi (~|z| in the tail)
      const dz = (Math.abs(lps[i] as number) * 1.2e-7) / (normalRef.pdf(z, 0, 1) / Phi(z));
      expect(Math.abs((got[i] as number) - z), `z=${z}`).toBeLessThanOrEqual(
        dz + 2e-6 * (1 + Math.abs(z)),
      );
    });
    expect(
      expectNoLeak(() => tf.tidy(() => ndtriLog(tf.tensor1d([-Infinity, 0, 0.5, NaN])))),
    ).toEqual([-Infinity, Infinity, NaN, NaN]);
  });
});

describe('audit17b TruncatedNormal.logProb: log Z in log space (finite far in the tails)', () => {
  it.each(BOUNDS)(
    'bounds (%s, %s) sigma: logProb at its own quantiles = float64 reference',
    (a, b) => {
      const dist = make(a, b);
      const lo = MU + S * a;
      const hi = MU + S * b;
      const xs = [0.05, 0.5, 0.95].map((q) => ppf(q, MU, S, lo, hi));
      const got = expectNoLeak(() => dist.logProb(xs));
      const logZ = a > 0 ? Math.log(Phi(-a) - Phi(-b)) : Math.log(Phi(b) - Phi(a));
      xs.forEach((x, i) => {
        const z = (Math.fround(x) - MU) / S;
        const ref = -0.5 * z * z - 0.5 * Math.log(2 * Math.PI) - Math.log(S) - logZ;
        expect(Number.isFinite(got[i] as number), `x=${x}`).toBe(true);
        // float32: z^2 / 2 loses ulp(z^2 / 2) ~ 6e-8 z^2; log Z ~1e-7 relative
        expect(Math.abs((got[i] as number) - ref), `x=${x}`).toBeLessThanOrEqual(
          2e-6 * (1 + Math.abs(ref) + z * z),
        );
      });
      dist.dispose();
    },
  );

  it('gradients of logProb in the four parameters stay finite and match finite differences at 9 sigma', () => {
    const theta = [0.2, 1.1, 0.2 + 1.1 * 9, 0.2 + 1.1 * 9.5];
    const x = 0.2 + 1.1 * 9.2;
    const lpRef = (t: number[]): number => {
      const [mu, s, lo, hi] = t as [number, number, number, number];
      const z = (x - mu) / s;
      return -0.5 * z * z - Math.log(s) - Math.log(Phi(-(lo - mu) / s) - Phi(-(hi - mu) / s));
    };
    const before = tf.memory().numTensors;
    const ps = theta.map((t) => tf.scalar(t));
    const gs = tf.grads((...v: tf.Tensor[]) => {
      const dist = new d.TruncatedNormal(v[0]!, v[1]!, v[2]!, v[3]!);
      const out = dist.logProb(x);
      dist.dispose();
      return out;
    })(ps);
    const got = gs.map((g) => g.dataSync()[0] as number);
    tf.dispose([...gs, ...ps]);
    expect(tf.memory().numTensors).toBe(before);
    const h = 1e-5;
    theta.forEach((_, i) => {
      const up = [...theta];
      const dn = [...theta];
      up[i] = up[i]! + h;
      dn[i] = dn[i]! - h;
      const fd = (lpRef(up) - lpRef(dn)) / (2 * h);
      expect(Math.abs(got[i]! - fd), `d/d${i}: ${got[i]} vs ${fd}`).toBeLessThanOrEqual(
        2e-3 * (Math.abs(fd) + 1),
      );
    });
  });
});
