/**
 * NumPyro's horseshoe regression example (`horseshoe_regression.py`, Carvalho, Polson & Scott
 * 2010), ported as its users write it: local scales `lambdas ~ HalfCauchy(ones(D))`, a global
 * `tau ~ HalfCauchy(ones(1))`, `unscaled_betas ~ Normal(0, ones(D))`, the coefficients
 * `deterministic('betas', tau * lambdas * unscaled_betas)`, the noise precision
 * `prec_obs ~ Gamma(3, 1)`, run by NUTS on two features of which one is inactive.
 *
 * Reference in float64: given `(tau, lambdas, prec_obs)` the coefficients are Gaussian,
 * `beta ~ N(0, Λ)`, `Λ = diag(tau² lambda²)`, so with `P = Λ⁻¹ + prec XᵀX`, `b = prec Xᵀy`:
 * `log p(y | ·) = N/2 log(prec / 2π) - prec yᵀy / 2 - ½ log|Λ| - ½ log|P| + ½ bᵀP⁻¹b` and
 * `E[beta | y, ·] = P⁻¹ b`; a 4-d grid over the logs of the scales and the precision integrates
 * the rest. MCMC tolerances are 5 Monte Carlo standard errors from the draws' bulk ESS.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';
import { rng, RunningWeightedMeans } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** NumPyro's `model(X, Y)` of the horseshoe regression example. */
function model(X: tf.Tensor2D, Y?: tf.Tensor1D): void {
  const dX = X.shape[1];
  const lambdas = ppl.sample('lambdas', new D.HalfCauchy(tf.ones([dX])));
  const tau = ppl.sample('tau', new D.HalfCauchy(tf.ones([1])));
  const unscaledBetas = ppl.sample('unscaled_betas', new D.Normal(0, tf.ones([dX])));
  const scaledBetas = ppl.deterministic('betas', tf.mul(tf.mul(tau, lambdas), unscaledBetas));
  const meanFunction = tf.squeeze(tf.matMul(X, tf.reshape(scaledBetas, [dX, 1])), [1]);
  const precObs = ppl.sample('prec_obs', new D.Gamma(3, 1));
  const sigmaObs = tf.div(1, tf.sqrt(precObs));
  ppl.sample('Y', new D.Normal(meanFunction, sigmaObs), { obs: Y });
}

/** Posterior means of `beta_1, beta_2, sigma_obs` on the 4-d grid (see the module docs). */
function exactMeans(x: number[][], y: number[]): number[] {
  const N = y.length;
  let x11 = 0;
  let x12 = 0;
  let x22 = 0;
  let xy1 = 0;
  let xy2 = 0;
  let yty = 0;
  x.forEach(([a, b], i) => {
    x11 += a! * a!;
    x12 += a! * b!;
    x22 += b! * b!;
    xy1 += a! * y[i]!;
    xy2 += b! * y[i]!;
    yty += y[i]! * y[i]!;
  });
  // log HalfCauchy(1) density plus the log-Jacobian of the log scale
  const lhc = (u: number): number => Math.log(2 / Math.PI) - Math.log1p(Math.exp(2 * u)) + u;
  const G = 48;
  const scales = Array.from({ length: G }, (_, g) => -10 + (18 * (g + 0.5)) / G);
  const GP = 24;
  const precs = Array.from({ length: GP }, (_, g) => -2 + (3.5 * (g + 0.5)) / GP);
  const acc = new RunningWeightedMeans(3);
  for (const lt of scales)
    for (const l1 of scales)
      for (const l2 of scales) {
        const v1 = Math.exp(2 * (lt + l1));
        const v2 = Math.exp(2 * (lt + l2));
        const pr = lhc(lt) + lhc(l1) + lhc(l2);
        for (const lp of precs) {
          const prec = Math.exp(lp);
          const p11 = 1 / v1 + prec * x11;
          const p12 = prec * x12;
          const p22 = 1 / v2 + prec * x22;
          const det = p11 * p22 - p12 * p12;
          const b1 = prec * xy1;
          const b2 = prec * xy2;
          const m1 = (p22 * b1 - p12 * b2) / det;
          const m2 = (p11 * b2 - p12 * b1) / det;
          const ll =
            (N / 2) * Math.log(prec / (2 * Math.PI)) -
            (prec * yty) / 2 -
            0.5 * Math.log(v1 * v2) -
            0.5 * Math.log(det) +
            0.5 * (b1 * m1 + b2 * m2);
          // Gamma(3, 1) density of prec with the Jacobian of log prec
          const lw = ll + pr + 3 * lp - prec;
          acc.add(lw, [m1, m2, 1 / Math.sqrt(prec)]);
        }
      }
  return acc.means();
}

describe("NumPyro's horseshoe regression", { timeout: 120_000 }, () => {
  it('NUTS on the horseshoe prior: betas (deterministic) and sigma match a 4-d grid with the coefficients exact', async () => {
    const N = 40;
    const r = rng(99);
    const xs = Array.from({ length: N }, () => [r.n(), r.n()]);
    const ys = xs.map(([a]) => 1.5 * a! + r.n());
    const X = tf.tensor2d(xs);
    const Y = tf.tensor1d(ys);
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 600,
      warmupSteps: 400,
      progressBar: false,
      seed: 3,
    });
    await mcmc.run(X, Y);
    const s = mcmc.getSamples();
    expect(s.betas!.shape).toEqual([600, 2]);
    expect(s.tau!.shape).toEqual([600, 1]);
    const ref = exactMeans(xs, ys);
    // sigma_obs = 1 / sqrt(prec_obs), draw by draw
    const sig = Array.from(s.prec_obs!.dataSync(), (p) => 1 / Math.sqrt(p));
    const sm = sig.reduce((a, b) => a + b, 0) / sig.length;
    const { se: sePrec, mean: meanPrec } = meanAndSe(mcmc, 'prec_obs');
    // delta method: d sigma / d prec = -prec^{-3/2} / 2
    const seSig = (0.5 * sePrec) / meanPrec ** 1.5;
    expect(Math.abs(sm - ref[2]!), `sigma: ${sm} vs ${ref[2]}`).toBeLessThan(5 * seSig + 0.005);
    for (const j of [0, 1]) {
      const { mean, se } = meanAndSe(mcmc, 'betas', j);
      expect(Math.abs(mean - ref[j]!), `betas[${j}]: ${mean} vs ${ref[j]}`).toBeLessThan(
        5 * se + 0.01,
      );
    }
    // the active coefficient stays near its least-squares value, the inactive one is shrunk
    expect(ref[0]!).toBeGreaterThan(1.2);
    expect(Math.abs(ref[1]!)).toBeLessThan(0.2);
    tf.dispose([X, Y, ...Object.values(s)]);
  });
});
