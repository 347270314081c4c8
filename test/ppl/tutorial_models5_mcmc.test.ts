/**
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
 * MCMC tolerances are 5 Monte Carlo standard errors from the draws' bulk ESS.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bijectors as B, distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** Posterior mean and its Monte Carlo standard error `sd / sqrt(ESS_bulk)` of element `i`. */
function meanAndSe(mcmc: ppl.MCMC, site: string, i = 0): { mean: number; se: number } {
  const e = mcmc.summary()[site]?.elements[i];
  if (e === undefined) throw new Error(`no summary for ${site}[${i}]`);
  return { mean: e.mean, se: e.sd / Math.sqrt(e.essBulk) };
}

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
