/**
 * Pyro/NumPyro example programs ported as their users write them, each checked against an
 * independent reference: grid quadrature with the conjugate part integrated analytically, a
 * Kalman smoother, Pyro's published tutorial optimum, the exact amortized posterior. MCMC
 * tolerances are Monte Carlo standard errors from the draws' bulk ESS.
 */
import * as tf from '@tensorflow/tfjs';
import betaln from '@stdlib/math-base-special-betaln';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';
import { weightedMeans } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

describe('ported Pyro/NumPyro examples', () => {
  it("Neal's funnel: LocScaleReparam(0) gives y ~ N(0, 3^2) without divergences (NumPyro funnel)", async () => {
    const model = (dim: number): void => {
      const y = ppl.sample('y', new D.Normal(0, 3));
      ppl.plate('dim', dim - 1, () => ppl.sample('x', new D.Normal(0, tf.exp(tf.div(y, 2)))));
    };
    const reparamModel = ppl.reparam(model, { x: new ppl.LocScaleReparam(0) });
    const before = tf.memory().numTensors;
    const mcmc = new ppl.MCMC(new ppl.NUTS(reparamModel), {
      numSamples: 1000,
      warmupSteps: 500,
      progressBar: false,
      seed: 3,
    });
    await mcmc.run(10);
    const s = mcmc.getSamples();
    expect(Object.keys(s).sort()).toEqual(['x', 'x_decentered', 'y']);
    expect(s.x?.shape).toEqual([1000, 9]);
    expect(mcmc.numDivergences).toBeLessThanOrEqual(2);
    const { mean, se } = meanAndSe(mcmc, 'y');
    expect(Math.abs(mean)).toBeLessThan(4 * se);
    const sd = mcmc.summary().y?.elements[0]?.sd as number;
    expect(Math.abs(sd - 3)).toBeLessThan(0.3);
    tf.dispose(Object.values(s));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('baseball partial pooling (Pyro baseball.py, Beta-Binomial): NUTS means match a grid with theta integrated out', async () => {
    // Efron & Morris (1975): hits in the first 45 at-bats of 18 players
    const hits = [18, 17, 16, 15, 14, 14, 13, 12, 11, 11, 10, 10, 10, 10, 10, 9, 8, 7];
    const n = 45;
    const model = (atBats: tf.Tensor, obs?: tf.Tensor): void => {
      const phi = ppl.sample('phi', new D.Uniform(0, 1));
      const kappa = ppl.sample('kappa', new D.Pareto(1, 1.5));
      ppl.plate('players', atBats.shape[0] as number, () => {
        const a = tf.mul(phi, kappa);
        const theta = ppl.sample('theta', new D.Beta(a, tf.sub(kappa, a)));
        ppl.sample('obs', new D.Binomial(atBats, { probs: theta }), { obs });
      });
    };
    const ab = tf.fill([hits.length], n);
    const h = tf.tensor1d(hits);
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 800,
      warmupSteps: 500,
      progressBar: false,
      seed: 2,
    });
    await mcmc.run(ab, h);
    // reference: p(phi, kappa | y) ∝ Pareto(kappa) prod_i BetaBinomial(y_i), on a (phi, log kappa)
    // grid; E[theta_i | y] = E[(phi kappa + y_i) / (kappa + n)]
    const logw: number[] = [];
    const vals: number[][] = [];
    const G = 200;
    for (let i = 0; i < G; i++) {
      for (let j = 0; j < G; j++) {
        const phi = (i + 0.5) / G;
        const lk = (9 * (j + 0.5)) / G;
        const k = Math.exp(lk);
        let lp = -1.5 * lk; // Pareto(1, 1.5) density k^-2.5 times the Jacobian k
        for (const y of hits)
          lp += betaln(phi * k + y, (1 - phi) * k + n - y) - betaln(phi * k, (1 - phi) * k);
        logw.push(lp);
        vals.push([phi, (phi * k + (hits[0] as number)) / (k + n), (phi * k + 7) / (k + n)]);
      }
    }
    const [phiRef, th0Ref, th17Ref] = weightedMeans(logw, vals) as [number, number, number];
    for (const [site, i, ref] of [
      ['phi', 0, phiRef],
      ['theta', 0, th0Ref],
      ['theta', 17, th17Ref],
    ] as const) {
      const { mean, se } = meanAndSe(mcmc, site, i);
      expect(Math.abs(mean - ref)).toBeLessThan(4 * se + 2e-3);
    }
    tf.dispose([ab, h, ...Object.values(mcmc.getSamples())]);
  });

  it('GaussianRandomWalk level under NUTS matches the Kalman smoother integrated over its scale', async () => {
    const T = 20;
    const obsSd = 0.5;
    const ya = [
      0.49, 0.38, 0.61, 1.02, 0.72, 0.31, 0.44, 0.95, 1.31, 0.88, 0.63, 0.21, -0.15, 0.12, 0.4,
      -0.32, -0.6, -0.21, -0.45, 0.05,
    ];
    const model = (y: tf.Tensor): void => {
      const sigma = ppl.sample('sigma', new D.HalfNormal(1));
      const level = ppl.sample('level', new D.GaussianRandomWalk(sigma, y.shape[0]));
      ppl.sample('obs', new D.Normal(level, obsSd).toEvent(1), { obs: y });
    };
    const y = tf.tensor1d(ya);
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 1000,
      warmupSteps: 500,
      progressBar: false,
      seed: 5,
    });
    await mcmc.run(y);
    // reference: a grid over sigma; at each, the Kalman filter's log-likelihood and the RTS
    // smoother's means (x_0 ~ N(0, sigma^2), x_t = x_{t-1} + N(0, sigma^2))
    const logw: number[] = [];
    const vals: number[][] = [];
    for (let g = 0; g < 1000; g++) {
      const sg = (3 * (g + 0.5)) / 1000;
      let m = 0;
      let P = 0;
      let ll = 0;
      const mf: number[] = [];
      const pf: number[] = [];
      const pp: number[] = [];
      for (let t = 0; t < T; t++) {
        const ppr = P + sg * sg;
        const S = ppr + obsSd ** 2;
        const r = (ya[t] as number) - m;
        ll += -0.5 * Math.log(2 * Math.PI * S) - (0.5 * r * r) / S;
        m += (ppr / S) * r;
        P = ppr * (1 - ppr / S);
        mf.push(m);
        pf.push(P);
        pp.push(ppr);
      }
      const ms = mf.slice();
      for (let t = T - 2; t >= 0; t--) {
        ms[t] =
          (mf[t] as number) +
          ((pf[t] as number) / (pp[t + 1] as number)) * ((ms[t + 1] as number) - (mf[t] as number));
      }
      logw.push(ll - 0.5 * sg * sg);
      vals.push([sg, ms[0] as number, ms[10] as number, ms[19] as number]);
    }
    const ref = weightedMeans(logw, vals);
    const checks: [string, number, number][] = [
      ['sigma', 0, ref[0] as number],
      ['level', 0, ref[1] as number],
      ['level', 10, ref[2] as number],
      ['level', 19, ref[3] as number],
    ];
    for (const [site, i, r] of checks) {
      const { mean, se } = meanAndSe(mcmc, site, i);
      expect(Math.abs(mean - r)).toBeLessThan(4 * se);
    }
    tf.dispose([y, ...Object.values(mcmc.getSamples())]);
  });

  it("Pyro's GMM tutorial: AutoDelta + TraceEnumELBO + configEnumerate from given values reach the MAP", () => {
    const K = 2;
    const data = tf.tensor1d([0, 1, 10, 11, 12]);
    const model = (x: tf.Tensor): void => {
      const weights = ppl.sample('weights', new D.Dirichlet(tf.fill([K], 0.5)));
      const scale = ppl.sample('scale', new D.LogNormal(0, 2));
      const locs = ppl.plate('components', K, () => ppl.sample('locs', new D.Normal(0, 10)));
      ppl.plate('data', x.shape[0] as number, () => {
        const assignment = ppl.sample('assignment', new D.Categorical({ probs: weights }));
        ppl.sample('obs', new D.Normal(tf.gather(locs, tf.cast(assignment, 'int32')), scale), {
          obs: x,
        });
      });
    };
    const enumModel = ppl.configEnumerate(model);
    const init: Record<string, number[]> = { weights: [0.5, 0.5], scale: [1.5], locs: [0, 11] };
    const guide = new ppl.AutoDelta(
      ppl.block(enumModel, { expose: ['weights', 'locs', 'scale'] }),
      { initLoc: (name, draw) => tf.tensor(init[name] ?? [], draw.shape) },
    );
    const svi = new ppl.SVI(enumModel, guide, tf.train.adam(0.1), new ppl.TraceEnumELBO());
    svi.step(data);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 199; i++) svi.step(data);
    expect(tf.memory().numTensors).toBe(before);
    const med = guide.median();
    // Pyro's tutorial prints weights [0.375, 0.625], locs [0.49, 10.98], scale 0.65; the MAP of
    // the marginal posterior (constrained space, as AutoDelta's) solved by fixed point below
    const xs = [0, 1, 10, 11, 12];
    let [w, l1, l2, s] = [0.5, 0, 11, 1.5];
    for (let it = 0; it < 2000; it++) {
      // EM with the priors (MAP-EM): responsibilities, then the stationarity conditions
      const r = xs.map((x) => {
        const a = w * Math.exp(-0.5 * ((x - l1) / s) ** 2);
        const b = (1 - w) * Math.exp(-0.5 * ((x - l2) / s) ** 2);
        return a / (a + b);
      });
      const n1 = r.reduce((a, b) => a + b, 0);
      // Dirichlet(0.5) mode on the simplex: (n1 - 0.5) / (N - 1)
      w = (n1 - 0.5) / (xs.length - 1);
      l1 = r.reduce((a, ri, i) => a + ri * (xs[i] as number), 0) / (n1 + (s * s) / 100);
      l2 =
        r.reduce((a, ri, i) => a + (1 - ri) * (xs[i] as number), 0) /
        (xs.length - n1 + (s * s) / 100);
      const ss = xs.reduce(
        (a, x, i) => a + (r[i] as number) * (x - l1) ** 2 + (1 - (r[i] as number)) * (x - l2) ** 2,
        0,
      );
      // LogNormal(0, 2): d/ds [-N log s - ss/(2s^2) - log s - (log s)^2/8] = 0, solved for s^2
      for (let k = 0; k < 50; k++) s = Math.sqrt(ss / (xs.length + 1 + Math.log(s) / 4));
    }
    const got = Object.fromEntries(
      Object.entries(med).map(([k, v]) => [k, Array.from(v.dataSync())]),
    );
    expect(got.weights?.[0]).toBeCloseTo(w, 2);
    expect(got.locs?.[0]).toBeCloseTo(l1, 2);
    expect(got.locs?.[1]).toBeCloseTo(l2, 2);
    expect(got.scale?.[0]).toBeCloseTo(s, 2);
    expect(w).toBeCloseTo(0.375, 3);
    tf.dispose([data, ...Object.values(med)]);
  });

  it('an amortized guide over a subsampled plate learns the exact local posterior', () => {
    // z_i ~ N(0, 1), x_i ~ N(z_i, 1): p(z_i | x_i) = N(x_i / 2, 1/2); q(z_i | x_i) = N(a x_i + b, s)
    const N = 200;
    const B = 20;
    setSeed(4);
    const x = tf.mul(tf.randomNormal([N]), Math.SQRT2);
    const model = (xs: tf.Tensor): void => {
      ppl.plate('data', N, { subsampleSize: B }, (idx) => {
        const z = ppl.sample('z', new D.Normal(0, 1));
        ppl.sample('x', new D.Normal(z, 1), { obs: tf.gather(xs, idx) });
      });
    };
    const guide = (xs: tf.Tensor): void => {
      const a = ppl.param('a', 0);
      const b = ppl.param('b', 0);
      const s = ppl.param('s', 1, { constraint: ppl.constraints.positive });
      ppl.plate('data', N, { subsampleSize: B }, (idx) =>
        ppl.sample('z', new D.Normal(tf.add(tf.mul(a, tf.gather(xs, idx)), b), s)),
      );
    };
    // the exact optimum of the full-data ELBO is a = 1/2, b = 0, s = sqrt(1/2) for any x (each
    // m_i = a x_i + b minimises m_i^2 + (x_i - m_i)^2, and s maximises -s^2 + log s); constant-lr
    // Adam on 20-of-200 subsamples leaves its last iterate with sd ~0.04 in a (measured over 8
    // seeds), so the check reads the mean of the last 400 iterates (Polyak averaging), whose
    // error was <= 0.011 over the same seeds
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.03), new ppl.TraceELBO());
    svi.step(x);
    const before = tf.memory().numTensors;
    const ps = ppl.getParamStore();
    const v = (k: string): number => tf.tidy(() => ps.get(k).dataSync()[0] as number);
    const avg = { a: 0, b: 0, s: 0 };
    for (let i = 0; i < 1200; i++) {
      svi.step(x);
      if (i >= 800) for (const k of ['a', 'b', 's'] as const) avg[k] += v(k) / 400;
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(avg.a - 0.5)).toBeLessThan(0.035);
    expect(Math.abs(avg.b)).toBeLessThan(0.035);
    expect(Math.abs(avg.s - Math.SQRT1_2)).toBeLessThan(0.035);
    x.dispose();
  });

  it('vectorizeParticles: a model that does not broadcast over the particle dim is named, with the way out', () => {
    const X = tf.tensor2d([
      [1, 0.5],
      [-0.3, 2],
      [0.7, -1],
    ]);
    const y = tf.tensor1d([1, 2, -1]);
    const reshaped = (Xs: tf.Tensor, ys: tf.Tensor): void => {
      const beta = ppl.sample('beta', new D.Normal(tf.zeros([2]), 1).toEvent(1));
      const mu = tf.squeeze(tf.matMul(Xs, tf.reshape(beta, [-1, 1])), [-1]);
      ppl.plate('data', 3, () => ppl.sample('obs', new D.Normal(mu, 1), { obs: ys }));
    };
    const broadcast = (Xs: tf.Tensor, ys: tf.Tensor): void => {
      const beta = ppl.sample('beta', new D.Normal(tf.zeros([2]), 1).toEvent(1));
      // beta [P, 1, 2] under the particles: X [3, 2] * beta -> [P, 3, 2] -> mu [P, 3] (an
      // expandDims(beta, -2) here gave mu [P, 1, 3], the plate site [P, P, 3], now refused)
      const mu = tf.sum(tf.mul(Xs, beta), -1);
      ppl.plate('data', 3, () => ppl.sample('obs', new D.Normal(mu, 1), { obs: ys }));
    };
    const elbo = new ppl.TraceELBO({ numParticles: 4, vectorizeParticles: true });
    const g1 = new ppl.AutoNormal(reshaped);
    g1.call(X, y); // the unvectorized model runs (and the guide creates its parameters)
    const before = tf.memory().numTensors;
    expect(() => elbo.loss(reshaped, g1, X, y)).toThrow(
      /vectorizeParticles: .*4 particles at dim -2.*matMul.*broadcast.*vectorizeParticles: false/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const g2 = new ppl.AutoNormal(broadcast);
    expect(Number.isFinite(elbo.loss(broadcast, g2, X, y))).toBe(true);
    tf.dispose([X, y]);
  });

  it('TraceMeanFieldELBO with AutoNormal on a horseshoe: positive latents in a plate are scored once (as TraceELBO)', () => {
    // tau, lambda_j ~ HalfCauchy(1), beta_j ~ N(0, tau lambda_j): AutoNormal's q of lambda is one
    // event over the plate; the sites without an analytic KL must give TraceELBO's log p - log q
    const X = tf.tensor2d([
      [1, 0.5, -1],
      [-0.3, 2, 0.2],
      [0.7, -1, 1.5],
      [1.2, 0.1, -0.4],
    ]);
    const y = tf.tensor1d([2.1, -0.4, 0.3, 2.2]);
    const model = (Xs: tf.Tensor, ys: tf.Tensor): void => {
      const tau = ppl.sample('tau', new D.HalfCauchy(1));
      const lam = ppl.plate('features', 3, () => ppl.sample('lambda', new D.HalfCauchy(1)));
      const beta = ppl.plate('features', 3, () =>
        ppl.sample('beta', new D.Normal(0, tf.mul(tau, lam))),
      );
      const mu = tf.sum(tf.mul(Xs, tf.expandDims(beta, -2)), -1);
      ppl.plate('data', 4, () => ppl.sample('obs', new D.Normal(mu, 0.5), { obs: ys }));
    };
    const guide = new ppl.AutoNormal(model);
    guide.call(X, y);
    const mf = new ppl.TraceMeanFieldELBO();
    const te = new ppl.TraceELBO();
    // the same draws; the difference is E_q log q(beta) - log p(beta) replaced by the analytic KL
    setSeed(9);
    const a = mf.loss(model, guide, X, y);
    setSeed(9);
    const tr = ppl.trace(() => guide.call(X, y)).getTrace();
    const mt = ppl.trace(ppl.replay(model, { trace: tr })).getTrace(X, y);
    const qb = tr.get('beta');
    const pb = mt.get('beta');
    if (qb?.fn == null || pb?.fn == null) throw new Error('no beta site');
    // KL(N(m, s) || N(0, c)) by hand from the two sites' parameters
    const [m, sq, c] = [qb.fn, qb.fn, pb.fn].map((d, i) =>
      Array.from(
        (i === 0
          ? (d as D.Normal).loc
          : i === 1
            ? (d as D.Normal).scale
            : (d as D.Normal).scale
        ).dataSync(),
      ),
    ) as [number[], number[], number[]];
    let kl = 0;
    for (let j = 0; j < 3; j++) {
      const [mj, sj, cj] = [m[j] as number, sq[j] as number, c[j] as number];
      kl += Math.log(cj / sj) + (sj * sj + mj * mj) / (2 * cj * cj) - 0.5;
    }
    const logqBeta = ppl.siteLogProbSum(qb).dataSync()[0] as number;
    const logpBeta = ppl.siteLogProbSum(pb).dataSync()[0] as number;
    tr.dispose();
    mt.dispose();
    setSeed(9);
    const b = te.loss(model, guide, X, y);
    expect(a).toBeCloseTo(b - (logqBeta - logpBeta) + kl, 3);
    // and it fits: the loss stays finite and lambda's location does not run off
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.05), mf);
    for (let i = 0; i < 300; i++) svi.step(X, y);
    const locs = ppl.getParamStore().value('AutoNormal.locs.lambda');
    expect(Math.max(...Array.from(locs.dataSync()))).toBeLessThan(5);
    expect(Number.isFinite(mf.loss(model, guide, X, y))).toBe(true);
    tf.dispose([X, y]);
  });

  it('vectorizeParticles with AutoNormal on positive local latents: the same ELBO as particles drawn one by one', () => {
    // lambda_j ~ HalfCauchy(1) in a plate, beta_j ~ N(0, lambda_j): AutoNormal's guide of lambda
    // must broadcast along the particle plate on its left ([P, 3], as the model's site)
    const y = tf.tensor1d([1.5, -0.2, 0.1]);
    const model = (ys: tf.Tensor): void => {
      const lam = ppl.plate('features', 3, () => ppl.sample('lambda', new D.HalfCauchy(1)));
      const beta = ppl.plate('features', 3, () => ppl.sample('beta', new D.Normal(0, lam)));
      ppl.plate('features', 3, () => ppl.sample('obs', new D.Normal(beta, 0.5), { obs: ys }));
    };
    const guide = new ppl.AutoNormal(model, { initScale: 0.3 });
    guide.call(y);
    setSeed(10);
    const seq = Array.from({ length: 300 }, () => new ppl.TraceELBO().loss(model, guide, y));
    const mean = seq.reduce((a, b) => a + b, 0) / seq.length;
    const sd = Math.sqrt(seq.reduce((a, b) => a + (b - mean) ** 2, 0) / (seq.length - 1));
    const vec = new ppl.TraceELBO({ numParticles: 2000, vectorizeParticles: true });
    const before = tf.memory().numTensors;
    const v = vec.loss(model, guide, y);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(v - mean)).toBeLessThan(4 * sd * Math.sqrt(1 / 300 + 1 / 2000));
    // the guide's draw in the particle plate has the model site's shape
    const tr = ppl
      .trace(() => ppl.plate('particles', 4, { dim: -2 }, () => guide.call(y)))
      .getTrace();
    expect(tr.value('lambda').shape).toEqual([4, 3]);
    tr.dispose();
    y.dispose();
  });
});
