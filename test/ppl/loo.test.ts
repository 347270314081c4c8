/**
 * `logLikelihood`, WAIC and PSIS-LOO on the Normal model with known variance, where everything is
 * closed form. `mu ~ N(0, s0²)`, `y_i ~ N(mu, 1)`; posterior `N(m, s²)`, drawn exactly (no MCMC).
 *
 * - the leave-one-out predictive (the brute-force refit without `y_i`, conjugate):
 *   `p(y_i | y_{-i}) = N(y_i; m_{-i}, 1 + s_{-i}²)`;
 * - WAIC's terms: `lppd_i -> log N(y_i; m, 1 + s²)` (the posterior predictive) and
 *   `p_i -> V[(y_i - mu)² / 2] = (4 d_i² s² + 2 s⁴) / 4`, `d_i = y_i - m`.
 *
 * Monte Carlo tolerances are 4 standard errors from batch means (10 disjoint batches of draws).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { normalQuantile } from '../../src/utils/normal_quantile.js';
import { expectNoLeak } from '../helpers.js';

const s0 = 3;
const ys = Array.from({ length: 20 }, (_, i) => 0.8 + 1.3 * Math.sin(1.7 * i + 0.3));
const n = ys.length;

function posterior(y: number[]): { m: number; v: number } {
  const v = 1 / (1 / s0 ** 2 + y.length);
  return { m: v * y.reduce((a, b) => a + b, 0), v };
}
const logNormal = (x: number, m: number, v: number): number =>
  -0.5 * Math.log(2 * Math.PI * v) - (x - m) ** 2 / (2 * v);

/** `count` exact posterior draws of mu (Box-Muller on a Mulberry32 stream). */
function draws(count: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const u = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const { m, v } = posterior(ys);
  return Float32Array.from({ length: count }, () => {
    return m + Math.sqrt(v) * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  });
}

const model = (y: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(0, s0));
  ppl.deterministic('mu2', tf.square(mu));
  ppl.plate('data', n, () => ppl.sample('y', new D.Normal(mu, 1), { obs: y }));
};

const S = 4000;
const B = 10;

/** Estimate on all draws, and 4 batch-means standard errors of it. */
function withError(f: (ll: tf.Tensor) => number, ll: tf.Tensor): { est: number; tol: number } {
  const est = f(ll);
  const size = ll.shape[0] / B;
  const per = Array.from({ length: B }, (_, b) => {
    const part = tf.slice(ll, [b * size, 0], [size, n]);
    const r = f(part);
    part.dispose();
    return r;
  });
  const mean = per.reduce((a, b) => a + b, 0) / B;
  const sd = Math.sqrt(per.reduce((a, b) => a + (b - mean) ** 2, 0) / (B - 1));
  return { est, tol: (4 * sd) / Math.sqrt(B) };
}

describe('logLikelihood', () => {
  it('gives log N(y_i; mu_s, 1) per draw and datum, [S, N] or [C, D, N]', () => {
    const y = tf.tensor1d(ys);
    const mu = tf.tensor1d(draws(40, 1));
    const muv = mu.dataSync();
    expectNoLeak(() => {
      const ll = ppl.logLikelihood(model, { mu }, y);
      expect(Object.keys(ll)).toEqual(['y']); // not mu2 (deterministic), not mu (latent)
      const t = ll['y'] as tf.Tensor;
      expect(t.shape).toEqual([40, n]);
      const v = t.dataSync();
      for (const [s, i] of [
        [0, 0],
        [7, 13],
        [39, 19],
      ] as const) {
        expect(v[s * n + i]).toBeCloseTo(logNormal(ys[i] as number, muv[s] as number, 1), 4);
      }
      const grouped = tf.reshape(mu, [4, 10]);
      const ll2 = ppl.logLikelihood(model, { posteriorSamples: { mu: grouped }, batchNdims: 2 }, y);
      expect(ll2['y']?.shape).toEqual([4, 10, n]);
      expect(Array.from(ll2['y']?.dataSync() ?? [])).toEqual(Array.from(v));
      tf.dispose([t, grouped, ll2['y'] as tf.Tensor]);
    });
    tf.dispose([y, mu]);
  });

  it('names a bad argument before any run, and leaks nothing when the model throws', () => {
    const y = tf.tensor1d(ys);
    const mu = tf.tensor1d([0.1, 0.2, 0.3]);
    let runs = 0;
    const counted = (obs: tf.Tensor): void => {
      runs++;
      model(obs);
    };
    expect(() => ppl.logLikelihood(counted, {}, y)).toThrow(/^posteriorSamples:/);
    expect(() => ppl.logLikelihood(counted, { mu: [1, 2] as never }, y)).toThrow(
      /^posteriorSamples: site 'mu'/,
    );
    expect(() =>
      ppl.logLikelihood(counted, { mu, b: tf.zeros([2]) as tf.Tensor } as never, y),
    ).toThrow(/^posteriorSamples: site 'b'/);
    expect(() =>
      ppl.logLikelihood(counted, { posteriorSamples: { mu }, batchNdims: 3 } as never, y),
    ).toThrow(/^batchNdims:/);
    expect(() =>
      ppl.logLikelihood(counted, { posteriorSamples: { mu }, batch_ndims: 2 } as never, y),
    ).toThrow(/^batch_ndims:/);
    expect(() => ppl.logLikelihood(3 as never, { mu }, y)).toThrow(/model/);
    expect(runs).toBe(0);
    // draws grouped by chain passed without batchNdims: 2 (the old error was the model's own,
    // "y: sample site 'y' inside plate 'data' ...: its batch shape [10] ...", without the hint)
    const grouped = tf.zeros([4, 10]);
    const before0 = tf.memory().numTensors;
    expect(() => ppl.logLikelihood(model, { mu: grouped }, y)).toThrow(
      /^batchNdims: logLikelihood: the model failed on the first draw .*grouped by chain \(\[4, 10, \.\.\.\]/,
    );
    expect(tf.memory().numTensors).toBe(before0);
    grouped.dispose();
    let k = 0;
    const failing = (obs: tf.Tensor): void => {
      if (++k === 2) throw new Error('boom');
      model(obs);
    };
    const before = tf.memory().numTensors;
    expect(() => ppl.logLikelihood(failing, { mu }, y)).toThrow(/boom/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y, mu]);
  });
  it('refuses a discrete latent site with no draws (summed out by MCMC) instead of a prior draw of it; takes its draws when given; MixtureSameFamily gives the marginal', () => {
    // y_i ~ 0.3 N(locs_0, 1) + 0.7 N(locs_1, 1) written with an assignment z_i (as MCMC sums out)
    const W = [0.3, 0.7];
    const yv = [-2.1, 1.5, 2.3];
    const mixture = (obs: tf.Tensor): void => {
      const locs = ppl.sample('locs', new D.Normal(tf.tensor1d([-2, 2]), 1.5).toEvent(1));
      ppl.plate('data', 3, () => {
        const z = ppl.sample('z', new D.Categorical({ probs: W }));
        ppl.sample('y', new D.Normal(tf.gather(locs, tf.cast(z, 'int32')), 1), { obs });
      });
    };
    const msf = (obs: tf.Tensor): void => {
      const locs = ppl.sample('locs', new D.Normal(tf.tensor1d([-2, 2]), 1.5).toEvent(1));
      ppl.plate('data', 3, () => {
        const mix = new D.MixtureSameFamily(new D.Categorical({ probs: W }), new D.Normal(locs, 1));
        ppl.sample('y', mix, { obs });
      });
    };
    const y = tf.tensor1d(yv);
    const locs = tf.tensor2d([
      [-2, 2],
      [-1.5, 2.5],
    ]);
    const z = tf.tensor2d([
      [0, 1, 1],
      [1, 1, 0],
    ]);
    const lv = [
      [-2, 2],
      [-1.5, 2.5],
    ];
    const lse2 = (a: number, b: number): number =>
      Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
    const before = tf.memory().numTensors;
    // the old code gave a prior draw of z: -9.32 instead of the marginal -2.13 for y_0 at draw 0
    expect(() => ppl.logLikelihood(mixture, { locs }, y)).toThrow(
      /^posteriorSamples: logLikelihood: the discrete latent site 'z' has no draws/,
    );
    expect(tf.memory().numTensors).toBe(before);
    expectNoLeak(() => {
      const cond = ppl.logLikelihood(mixture, { locs, z }, y)['y'] as tf.Tensor;
      const marg = ppl.logLikelihood(msf, { locs }, y)['y'] as tf.Tensor;
      const cv = cond.dataSync();
      const mv = marg.dataSync();
      const zv = z.dataSync();
      for (let s = 0; s < 2; s++) {
        for (let i = 0; i < 3; i++) {
          const [l0, l1] = lv[s] as [number, number];
          const yi = yv[i] as number;
          expect(cv[s * 3 + i]).toBeCloseTo(logNormal(yi, zv[s * 3 + i] === 1 ? l1 : l0, 1), 4);
          const want = lse2(
            Math.log(W[0] as number) + logNormal(yi, l0, 1),
            Math.log(W[1] as number) + logNormal(yi, l1, 1),
          );
          expect(mv[s * 3 + i]).toBeCloseTo(want, 4);
        }
      }
      return [cond, marg];
    });
    tf.dispose([y, locs, z]);
  });
});

describe('waic and PSIS-LOO on the conjugate Normal model', () => {
  const y = tf.tensor1d(ys);
  const mu = tf.tensor1d(draws(S, 7));
  const ll = ppl.logLikelihood(model, { mu }, y)['y'] as tf.Tensor;
  const { m, v } = posterior(ys);

  it('WAIC: lppd and p_waic = their closed forms within Monte Carlo error', () => {
    const lppdExact = ys.reduce((a, yi) => a + logNormal(yi, m, 1 + v), 0);
    const pExact = ys.reduce((a, yi) => a + (4 * (yi - m) ** 2 * v + 2 * v * v) / 4, 0);
    const lppd = withError((t) => ppl.waic(t).lppd, ll);
    const p = withError((t) => ppl.waic(t).pWaic, ll);
    expect(Math.abs(lppd.est - lppdExact)).toBeLessThan(lppd.tol);
    expect(Math.abs(p.est - pExact)).toBeLessThan(p.tol);
    expect(lppd.tol).toBeLessThan(0.01);
    const w = expectNoLeak(() => {
      const r = ppl.waic(ll);
      expect(r.elpd).toBeCloseTo(r.lppd - r.pWaic, 10);
      expect(r.waic).toBeCloseTo(-2 * r.elpd, 10);
      expect(r.pointwise.length).toBe(n);
      expect(r.warning).toBe(false);
      // se = sqrt(N V_i elpd_i), the variance of divisor N (ArviZ's np.var)
      const pw = Array.from(r.pointwise);
      const mean = pw.reduce((a, b) => a + b, 0) / n;
      const vv = pw.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
      expect(r.se).toBeCloseTo(Math.sqrt(n * vv), 10);
    });
    expect(w).toEqual([]);
  });

  it('PSIS-LOO: elpd_loo = the exact leave-one-out refit (posterior-quantile draws)', () => {
    const exact = ys.map((yi, i) => {
      const post = posterior(ys.filter((_, j) => j !== i));
      return logNormal(yi, post.m, 1 + post.v);
    });
    const total = exact.reduce((a, b) => a + b, 0);
    // draws at the posterior's quantiles (i + 1/2) / S: no Monte Carlo noise, a discretization
    // error O(1/S) (raw importance sampling on them is off by 5e-4 in total, PSIS's smoothing of
    // the tail by 1.4e-3); independent draws are off by ~0.02 at this S.
    const q = tf.tensor1d(
      Float32Array.from({ length: S }, (_, i) => m + Math.sqrt(v) * normalQuantile((i + 0.5) / S)),
    );
    const lq = ppl.logLikelihood(model, { mu: q }, y)['y'] as tf.Tensor;
    const rq = ppl.loo(lq);
    expect(Math.abs(rq.elpd - total)).toBeLessThan(3e-3);
    rq.pointwise.forEach((e, i) => expect(Math.abs(e - (exact[i] as number))).toBeLessThan(3e-4));
    tf.dispose([q, lq]);
    // with independent draws: within 4 batch-means standard errors
    const est = withError((t) => ppl.loo(t).elpd, ll);
    expect(Math.abs(est.est - total)).toBeLessThan(est.tol);
    const r = ppl.loo(ll);
    // every Pareto k good
    for (const k of r.paretoK) expect(k).toBeLessThan(0.5);
    expect(r.warning).toBe(false);
    // the effective number of parameters of a one-parameter model is about 1
    expect(r.pLoo).toBeGreaterThan(0.8);
    expect(r.pLoo).toBeLessThan(1.3);
    expect(r.looic).toBeCloseTo(-2 * r.elpd, 10);
    // grouped by chain, the same numbers
    const g = tf.reshape(ll, [4, S / 4, n]);
    expect(ppl.loo(g, { batchNdims: 2 }).elpd).toBeCloseTo(r.elpd, 10);
    g.dispose();
  });

  it('flags an outlier the posterior cannot reach with a large Pareto k', () => {
    // a datum 12 sds away: leaving it out moves the posterior far, the ratios are heavy-tailed
    const yo = [...ys.slice(0, n - 1), 14];
    const yt = tf.tensor1d(yo);
    const vv = 1 / (1 / s0 ** 2 + n);
    const mm = vv * yo.reduce((a, b) => a + b, 0);
    const mus = tf.tensor1d(draws(S, 9).map((x) => mm + ((x - m) / Math.sqrt(v)) * Math.sqrt(vv)));
    const l2 = ppl.logLikelihood(model, { mu: mus }, yt)['y'] as tf.Tensor;
    const r = ppl.loo(l2);
    expect(r.paretoK[n - 1]).toBeGreaterThan(0.7);
    expect(r.warning).toBe(true);
    expect(Math.max(...Array.from(r.paretoK).slice(0, n - 1))).toBeLessThan(0.7);
    tf.dispose([yt, mus, l2]);
  });

  it('names bad arguments', () => {
    expect(() => ppl.waic([1, 2] as never)).toThrow(/^logLik:/);
    expect(() => ppl.waic(tf.zeros([5]))).toThrow(/^logLik:.*data dim/);
    expect(() => ppl.waic(ll, { batchNdims: 0 } as never)).toThrow(/^batchNdims:/);
    expect(() => ppl.loo(ll, { reff: 0 })).toThrow(/^reff:/);
    expect(() => ppl.loo(ll, { r_eff: 1 } as never)).toThrow(/^r_eff:/);
    const nan = tf.tensor2d([
      [0, NaN],
      [0, 0],
    ]);
    expect(() => ppl.loo(nan)).toThrow(/^logLik:.*NaN/);
    nan.dispose();
  });
});

describe('psis / gpdFit', () => {
  it('recovers the shape of generalized Pareto draws within 4 standard errors', () => {
    // inverse-CDF draws from GPD(k, sigma); the estimate's sd is about (1 + k) / sqrt(n)
    for (const k of [0.2, 0.8]) {
      const count = 2000;
      const x = Array.from({ length: count }, (_, i) => {
        const p = (i + 0.5) / count; // stratified: a smooth empirical distribution
        return (2 * Math.expm1(-k * Math.log1p(-p))) / k;
      });
      const fit = ppl.gpdFit(x);
      expect(Math.abs(fit.k - k)).toBeLessThan((4 * (1 + k)) / Math.sqrt(count));
      expect(Math.abs(fit.sigma / 2 - 1)).toBeLessThan(0.1);
    }
    expect(() => ppl.gpdFit([1, 2, 3])).toThrow(/^x:/);
  });

  it('equal ratios give uniform weights; weights are normalized and capped by the largest raw', () => {
    const flat = ppl.psis(new Float64Array(100));
    for (const w of flat.logWeights) expect(w).toBeCloseTo(-Math.log(100), 10);
    const lr = Float64Array.from({ length: 500 }, (_, i) => 3 * Math.log((i + 1) / 500));
    const r = ppl.psis(lr);
    const tot = Array.from(r.logWeights).reduce((a, b) => a + Math.exp(b), 0);
    expect(tot).toBeCloseTo(1, 10);
    // truncation: no smoothed ratio above the largest raw one (the body keeps its ratios, so
    // the normalizer is the shift of the smallest)
    const norm = (lr[0] as number) - (r.logWeights[0] as number);
    const top = Math.max(...Array.from(r.logWeights, (w) => w + norm));
    expect(top).toBeLessThanOrEqual(Math.max(...lr) + 1e-12);
    expect(r.logWeights[250]).toBeCloseTo((lr[250] as number) - norm, 12);
    // ratios that already are the quantiles of a generalized Pareto (k = 0.3) are a fixed point
    // of the smoothing (the exceedances of a GPD over a threshold are GPD with the same k), up to
    // the truncation of the largest at the largest raw ratio
    const S2 = 1000;
    const gq = Float64Array.from({ length: S2 }, (_, i) =>
      Math.log(1 + Math.expm1(-0.3 * Math.log1p(-(i + 0.5) / S2)) / 0.3),
    );
    const sm = ppl.psis(gq);
    expect(Math.abs(sm.k - 0.3)).toBeLessThan(0.1);
    const shift = sm.logWeights[0] as number; // the body is untouched: one normalizer
    for (let i = S2 - 95; i < S2 - 1; i++) {
      expect(
        Math.abs((sm.logWeights[i] as number) - shift - (gq[i] as number) + (gq[0] as number)),
      ).toBeLessThan(0.05);
    }
    expect(() => ppl.psis([0])).toThrow(/^logRatios:/);
    expect(() => ppl.psis([0, NaN])).toThrow(/^logRatios:/);
    expect(() => ppl.psis([0, 1], 0)).toThrow(/^reff:/);
  });
});
