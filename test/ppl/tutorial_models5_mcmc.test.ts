/**
 * NumPyro's example programs under NUTS, ported as their users write them, each checked against
 * an exact float64 reference.
 *
 * NumPyro's "Getting started" eight schools example (Rubin 1981; BDA §5.5), ported as its users
 * write it: the centered model and the non-centered one made by
 * `handlers.reparam(config={'theta': TransformReparam()})` on
 * `TransformedDistribution(Normal(0, 1), AffineTransform(mu, tau))`, each by NUTS with the
 * divergent transitions counted, and the tutorial's `new_school` posterior predictive.
 *
 * Reference in float64: given `tau`, `(mu, theta)` is Gaussian, so the posterior is a 1-d grid over
 * `log tau` with `p(y | tau) = N(y; 0, 25 11ᵀ + diag(sigma² + tau²))` and, given `tau`,
 * `E[mu | y, tau] = Σ_j w_j y_j / (1/25 + Σ_j w_j)`, `w_j = 1 / (sigma_j² + tau²)`,
 * `E[theta_j | y, tau] = (y_j / sigma_j² + E[mu | y, tau] / tau²) / (1/sigma_j² + 1/tau²)`.
 *
 * NumPyro's Bayesian imputation example (`bayesian_imputation.py`): a covariate with missing
 * entries imputed inside the model, its mean by group, first as the example writes it
 * (`sample('x_impute', Normal(...).mask(False))`, `x.at[nanidx].set(x_impute)` as
 * `tf.tensorScatterUpdate`, then `sample('x', Normal(mu_x, 1), obs=x)`), the
 * outcome Gaussian so that, given the slope `b`, everything is linear-Gaussian: a 1-d grid over
 * `b` with the rest integrated exactly (Cholesky). (NumPyro's newer `obs_mask` form leaves the
 * observed entries of its `x_unobserved` site flat, improper: NUTS then runs at its maximum tree
 * depth, as NumPyro's would; it is an SVI device.)
 *
 * MCMC tolerances are 5 Monte Carlo standard errors from the draws' bulk ESS.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bijectors as B, distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';
import { cholesky, cholSolve } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const Y = [28, 8, -3, 7, -1, 1, 18, 12];
const SIGMA = [15, 10, 16, 11, 9, 11, 10, 18];
const J = Y.length;

/** The exact posterior means of `mu`, `tau` and `theta_j` (grid over `log tau`). */
function exactMeans(): { mu: number; tau: number; theta: number[] } {
  const G = 2000;
  const lo = -10;
  const hi = 8;
  const h = (hi - lo) / G;
  const logw: number[] = [];
  const vals: number[][] = [];
  for (let g = 0; g < G; g++) {
    const lt = lo + h * (g + 0.5);
    const t2 = Math.exp(2 * lt);
    // y ~ N(0, 25 11ᵀ + D): the rank-one update in closed form (matrix determinant lemma and
    // Sherman-Morrison), D = diag(sigma² + tau²)
    const d = SIGMA.map((s) => s * s + t2);
    const sumW = d.reduce((a, v) => a + 1 / v, 0);
    const sumWy = Y.reduce((a, y, j) => a + y / d[j]!, 0);
    const quad =
      Y.reduce((a, y, j) => a + (y * y) / d[j]!, 0) - (25 * sumWy * sumWy) / (1 + 25 * sumW);
    const logdet = d.reduce((a, v) => a + Math.log(v), 0) + Math.log(1 + 25 * sumW);
    const ll = -0.5 * quad - 0.5 * logdet;
    // HalfCauchy(5) density of tau times the Jacobian tau of the log scale
    const tau = Math.exp(lt);
    logw.push(ll - Math.log(1 + (tau / 5) ** 2) + lt);
    const mu = sumWy / (1 / 25 + sumW);
    const theta = Y.map((y, j) => (y / SIGMA[j]! ** 2 + mu / t2) / (1 / SIGMA[j]! ** 2 + 1 / t2));
    vals.push([mu, tau, ...theta]);
  }
  const mx = Math.max(...logw);
  const ws = logw.map((l) => Math.exp(l - mx));
  const z = ws.reduce((a, b) => a + b, 0);
  const m = vals[0]!.map((_, k) => ws.reduce((a, w, g) => a + w * vals[g]![k]!, 0) / z);
  return { mu: m[0]!, tau: m[1]!, theta: m.slice(2) };
}

/** NumPyro's `eight_schools(J, sigma, y=None)`. */
function eightSchools(j: number, sigma: tf.Tensor, y?: tf.Tensor): void {
  const mu = ppl.sample('mu', new D.Normal(0, 5));
  const tau = ppl.sample('tau', new D.HalfCauchy(5));
  ppl.plate('J', j, () => {
    const theta = ppl.sample('theta', new D.Normal(mu, tau));
    ppl.sample('obs', new D.Normal(theta, sigma), { obs: y });
  });
}

/** NumPyro's `eight_schools_noncentered`: `reparam(config={'theta': TransformReparam()})`. */
function eightSchoolsNoncentered(j: number, sigma: tf.Tensor, y?: tf.Tensor): void {
  const mu = ppl.sample('mu', new D.Normal(0, 5));
  const tau = ppl.sample('tau', new D.HalfCauchy(5));
  ppl.plate('J', j, () => {
    const theta = ppl.reparam(
      () =>
        ppl.sample(
          'theta',
          new D.TransformedDistribution(new D.Normal(0, 1), new B.Affine(mu, tau)),
        ),
      { theta: new ppl.TransformReparam() },
    )();
    ppl.sample('obs', new D.Normal(theta, sigma), { obs: y });
  });
}

/** NumPyro's `new_school()`: the effect of a school not in the data. */
function newSchool(): tf.Tensor {
  const mu = ppl.sample('mu', new D.Normal(0, 5));
  const tau = ppl.sample('tau', new D.HalfCauchy(5));
  return ppl.sample('obs', new D.Normal(mu, tau));
}

describe("NumPyro's eight schools: centered vs non-centered", { timeout: 120_000 }, () => {
  const sigma = tf.tensor1d(SIGMA);
  const y = tf.tensor1d(Y);
  afterAll(() => tf.dispose([sigma, y]));

  it('the centered model diverges, TransformReparam does not; its means match the exact grid; new_school predicts mu', async () => {
    const opts = { numSamples: 500, warmupSteps: 500, progressBar: false, seed: 1 };
    const centered = new ppl.MCMC(new ppl.NUTS(eightSchools), opts);
    await centered.run(J, sigma, y);
    const noncentered = new ppl.MCMC(new ppl.NUTS(eightSchoolsNoncentered), opts);
    await noncentered.run(J, sigma, y);
    const samples = noncentered.getSamples();
    expect(Object.keys(samples).sort()).toEqual(['mu', 'tau', 'theta', 'theta_base']);
    expect(samples.theta!.shape).toEqual([500, J]);
    // the funnel between tau and theta: the centered chain diverges, the non-centered does not
    expect(centered.numDivergences).toBeGreaterThan(0);
    expect(noncentered.numDivergences).toBeLessThanOrEqual(2);
    expect(centered.numDivergences).toBeGreaterThan(noncentered.numDivergences);

    const ref = exactMeans();
    const checks: [string, number, number][] = [
      ['mu', 0, ref.mu],
      ['tau', 0, ref.tau],
      ...[0, 2, 6].map((j): [string, number, number] => ['theta', j, ref.theta[j]!]),
    ];
    for (const [site, i, want] of checks) {
      const { mean, se } = meanAndSe(noncentered, site, i);
      expect(Math.abs(mean - want), `${site}[${i}]: ${mean} vs ${want}`).toBeLessThan(
        5 * se + 0.02,
      );
    }
    // theta = mu + tau * theta_base, draw by draw
    const th = samples.theta!.arraySync() as number[][];
    const tb = samples.theta_base!.arraySync() as number[][];
    const mu = samples.mu!.dataSync();
    const tau = samples.tau!.dataSync();
    for (const s of [0, 250, 499]) {
      for (let j = 0; j < J; j++) {
        expect(th[s]![j]!).toBeCloseTo(mu[s]! + tau[s]! * tb[s]![j]!, 3);
      }
    }

    // the new school's effect: mean E[mu | y] within the draws' Monte Carlo error
    setSeed(9);
    const pred = new ppl.Predictive(newSchool, {
      posteriorSamples: { mu: samples.mu!, tau: samples.tau! },
    }).call();
    const obs = Array.from(pred.obs!.dataSync());
    expect(obs.length).toBe(500);
    const m = obs.reduce((a, b) => a + b, 0) / obs.length;
    const sd = Math.sqrt(obs.reduce((a, v) => a + (v - m) ** 2, 0) / (obs.length - 1));
    const { se: seMu } = meanAndSe(noncentered, 'mu');
    expect(Math.abs(m - ref.mu)).toBeLessThan(5 * (sd / Math.sqrt(obs.length) + seMu));
    tf.dispose([...Object.values(pred), ...Object.values(samples)]);
    tf.dispose(Object.values(centered.getSamples()));
  });
});

describe("NumPyro's Bayesian imputation", { timeout: 120_000 }, () => {
  // 16 people in 2 groups; x (the "age") missing for 4 of them; y = a + b x + noise
  const N = 16;
  const SY = 0.5;
  const group = Array.from({ length: N }, (_, i) => i % 2);
  const xTrue = group.map((g, i) => (g === 0 ? -0.8 : 0.9) + Math.sin(2.1 * i + 0.5));
  const yObs = xTrue.map((x, i) => 0.3 + 1.2 * x + SY * Math.cos(3.7 * i + 1));
  const nanidx = [2, 5, 11, 14];
  const isObs = xTrue.map((_, i) => !nanidx.includes(i));
  const xData = xTrue.map((x, i) => (isObs[i] ? x : 0));

  /** Exact posterior means of a, mu_x[0], mu_x[1], b and the missing x (grid over b). */
  function exact(): number[] {
    // z = (a, mu0, mu1, e_1..e_N, eps_1..eps_N), z ~ N(0, diag(1, 1, 1, 1.., SY^2..));
    // x_i = mu_{g_i} + e_i; y_i = a + b x_i + eps_i; data d = (x_i observed, y_i)
    const Z = 3 + 2 * N;
    const prior = Array.from({ length: Z }, (_, k) => (k < 3 + N ? 1 : SY * SY));
    const xRow = (i: number): number[] => {
      const r = new Array<number>(Z).fill(0);
      r[1 + group[i]!] = 1;
      r[3 + i] = 1;
      return r;
    };
    const obsRows = xData.flatMap((x, i) => (isObs[i] ? [i] : []));
    const d = [...obsRows.map((i) => xData[i]!), ...yObs];
    const G = 1500;
    const lo = -1;
    const hi = 4;
    const logw: number[] = [];
    const vals: number[][] = [];
    for (let g = 0; g < G; g++) {
      const b = lo + ((hi - lo) * (g + 0.5)) / G;
      const A = [
        ...obsRows.map(xRow),
        ...yObs.map((_, i) => {
          const r = xRow(i).map((v) => b * v);
          r[0] = 1;
          r[3 + N + i] = 1;
          return r;
        }),
      ];
      const K = A.map((ri) => A.map((rj) => ri.reduce((s, v, k) => s + v * prior[k]! * rj[k]!, 0)));
      const L = cholesky(K);
      const alpha = cholSolve(L, d);
      const logdet = 2 * L.reduce((s, row, i) => s + Math.log(row[i]!), 0);
      logw.push(-0.5 * d.reduce((s, v, i) => s + v * alpha[i]!, 0) - 0.5 * logdet - 0.5 * b * b);
      // E[z | d, b] = Sigma A^T K^-1 d
      const ez = prior.map((p, k) => p * A.reduce((s, r, i) => s + r[k]! * alpha[i]!, 0));
      const xMiss = nanidx.map((i) => xRow(i).reduce((s, v, k) => s + v * ez[k]!, 0));
      vals.push([ez[0]!, ez[1]!, ez[2]!, b, ...xMiss]);
    }
    const mx = Math.max(...logw);
    const ws = logw.map((l) => Math.exp(l - mx));
    const z = ws.reduce((a, b) => a + b, 0);
    return vals[0]!.map((_, k) => ws.reduce((a, w, g) => a + w * vals[g]![k]!, 0) / z);
  }

  const gT = tf.tensor1d(group, 'int32');
  const xT = tf.tensor1d(xData);
  const yT = tf.tensor1d(yObs);
  const idxT = tf.tensor2d(
    nanidx.map((i) => [i]),
    [nanidx.length, 1],
    'int32',
  );
  const nanT = tf.tensor1d(nanidx, 'int32');
  afterAll(() => tf.dispose([gT, xT, yT, idxT, nanT]));

  /** As the example: impute by a masked site, write the draws into x, score x as observed. */
  function model(grp: tf.Tensor, x: tf.Tensor, y: tf.Tensor): void {
    const a = ppl.sample('a', new D.Normal(0, 1));
    const b = ppl.sample('b', new D.Normal(0, 1));
    const muX = tf.gather(ppl.sample('mu_x', new D.Normal(0, 1).expand([2])), grp);
    const xImpute = ppl.sample('x_impute', new D.Normal(tf.gather(muX, nanT), 1).mask(false));
    const xFull = tf.tensorScatterUpdate(x, idxT, xImpute);
    ppl.sample('x', new D.Normal(muX, 1), { obs: xFull });
    ppl.sample('y', new D.Normal(tf.add(a, tf.mul(b, xFull)), SY), { obs: y });
  }

  it('x_impute by mask(False) + tensorScatterUpdate: NUTS (compiled) means match the exact grid', async () => {
    const ref = exact();
    const opts = { numSamples: 500, warmupSteps: 300, progressBar: false, seed: 2 };
    // compile: true — the potential must record and replay (tensorScatterUpdate included)
    const mc = new ppl.MCMC(new ppl.NUTS(model, { compile: true }), opts);
    await mc.run(gT, xT, yT);
    const s1 = mc.getSamples();
    expect(s1.x_impute!.shape).toEqual([500, nanidx.length]);
    const checks: [string, number, number][] = [
      ['a', 0, ref[0]!],
      ['mu_x', 0, ref[1]!],
      ['mu_x', 1, ref[2]!],
      ['b', 0, ref[3]!],
      ...nanidx.map((_, k): [string, number, number] => ['x_impute', k, ref[4 + k]!]),
    ];
    for (const [site, i, want] of checks) {
      const { mean, se } = meanAndSe(mc, site, i);
      expect(Math.abs(mean - want), `${site}[${i}]: ${mean} vs ${want}`).toBeLessThan(
        5 * se + 0.01,
      );
    }
    // the imputed entries are scored once, by the observed site 'x' (mask(False) scores nothing)
    const at = {
      a: tf.scalar(0.2),
      b: tf.scalar(1.1),
      mu_x: tf.tensor1d([-0.5, 0.5]),
      x_impute: tf.tensor1d([0.1, -0.2, 0.3, 0.4]),
    };
    const tr = ppl.trace(ppl.substitute(model, at)).getTrace(gT, xT, yT);
    const lp = tf.tidy(() => tr.logProbSum().dataSync()[0]!);
    const lpN = (v: number, m: number, sd: number): number =>
      -0.5 * Math.log(2 * Math.PI * sd * sd) - ((v - m) * (v - m)) / (2 * sd * sd);
    const xf = xData.slice();
    nanidx.forEach((i, k) => (xf[i] = [0.1, -0.2, 0.3, 0.4][k]!));
    const mus = [-0.5, 0.5];
    const want =
      lpN(0.2, 0, 1) +
      lpN(1.1, 0, 1) +
      lpN(-0.5, 0, 1) +
      lpN(0.5, 0, 1) +
      xf.reduce((acc, v, i) => acc + lpN(v, mus[group[i]!]!, 1), 0) +
      yObs.reduce((acc, v, i) => acc + lpN(v, 0.2 + 1.1 * xf[i]!, SY), 0);
    expect(lp).toBeCloseTo(want, 3);
    tr.dispose();
    tf.dispose(Object.values(at));
    tf.dispose(Object.values(s1));
  });
});
