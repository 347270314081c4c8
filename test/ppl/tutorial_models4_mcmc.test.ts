/**
 * NumPyro's hierarchical-model and logistic-regression examples, ported as their users write
 * them: radon-style varying intercepts with a floor effect (`reparam(model, {a:
 * LocScaleReparam(0)})`, NUTS), and Bayesian logistic regression by NUTS beside the Laplace
 * approximation (`AutoLaplaceApproximation`). References in float64: a grid over the group scale
 * with the linear-Gaussian part integrated exactly (Cholesky), a 2-d grid over the coefficients,
 * Newton's method for the MAP and the inverse Hessian. MCMC tolerances are Monte Carlo standard
 * errors from the draws' bulk ESS.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';
import { cholesky, cholSolve, rng } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const matMul = (a: number[][], b: number[][]): number[][] =>
  a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const transpose = (a: number[][]): number[][] => a[0]!.map((_, j) => a.map((r) => r[j]!));

describe('NumPyro hierarchical models under NUTS', () => {
  it('radon-style varying intercepts with LocScaleReparam(0): NUTS means match a grid over sigma_a with the Gaussian part exact', async () => {
    // J counties, N houses: log_radon_i ~ N(a[county_i] + b floor_i, sigma_y), sigma_y known
    const J = 4;
    const N = 16;
    const sigmaY = 0.7;
    const r = rng(17);
    const county = Array.from({ length: N }, (_, i) => i % J);
    const floor = Array.from({ length: N }, () => (r.u() < 0.3 ? 1 : 0));
    const aTrue = [1.2, 1.6, 0.9, 1.4];
    const logRadon = county.map((c, i) => aTrue[c]! - 0.6 * floor[i]! + sigmaY * r.n());
    const model = (countyIdx: tf.Tensor, fl: tf.Tensor, y?: tf.Tensor): void => {
      const muA = ppl.sample('mu_a', new D.Normal(0, 5));
      const sigmaA = ppl.sample('sigma_a', new D.HalfCauchy(1));
      const b = ppl.sample('b', new D.Normal(0, 1));
      const a = ppl.plate('county', J, () => ppl.sample('a', new D.Normal(muA, sigmaA)));
      const mu = tf.add(tf.gather(a, countyIdx), tf.mul(b, fl));
      ppl.plate('data', N, () => ppl.sample('obs', new D.Normal(mu, sigmaY), { obs: y }));
    };
    const reparamModel = ppl.reparam(model, { a: new ppl.LocScaleReparam(0) });
    const ci = tf.tensor1d(county, 'int32');
    const fl = tf.tensor1d(floor);
    const y = tf.tensor1d(logRadon);
    const mcmc = new ppl.MCMC(new ppl.NUTS(reparamModel), {
      numSamples: 500,
      warmupSteps: 300,
      progressBar: false,
      seed: 4,
    });
    await mcmc.run(ci, fl, y);
    expect(Object.keys(mcmc.getSamples()).sort()).toEqual([
      'a',
      'a_decentered',
      'b',
      'mu_a',
      'sigma_a',
    ]);
    // reference: theta = (mu_a, b, a_1..a_J) is Gaussian given sigma_a: prior covariance C0,
    // y = X theta + eps; p(sigma_a | y) ∝ HalfCauchy(sigma_a) N(y; 0, X C0 X^T + sigma_y^2 I)
    const P = J + 2;
    const X = county.map((c, i) => {
      const row = new Array<number>(P).fill(0);
      row[1] = floor[i]!;
      row[2 + c] = 1;
      return row;
    });
    const Xt = transpose(X);
    const logw: number[] = [];
    const vals: number[][] = [];
    const G = 400;
    for (let g = 0; g < G; g++) {
      const ls = -7 + (10 * (g + 0.5)) / G;
      const sa = Math.exp(ls);
      const C0 = Array.from({ length: P }, (_, i) =>
        Array.from({ length: P }, (_, j) => {
          if (i === 1 || j === 1) return i === j ? 1 : 0;
          return 25 + (i === j && i >= 2 ? sa * sa : 0);
        }),
      );
      const XC = matMul(X, C0);
      const K = matMul(XC, Xt).map((row, i) => row.map((v, j) => v + (i === j ? sigmaY ** 2 : 0)));
      const L = cholesky(K);
      const alpha = cholSolve(L, logRadon);
      const logdet = 2 * L.reduce((s, row, i) => s + Math.log(row[i]!), 0);
      const ll = -0.5 * logRadon.reduce((s, v, i) => s + v * alpha[i]!, 0) - 0.5 * logdet;
      // HalfCauchy(1) density with the Jacobian of log sigma_a
      logw.push(ll - Math.log(1 + sa * sa) + ls);
      // E[theta | y, sigma_a] = C0 X^T K^-1 y
      const m = transpose(XC).map((row) => row.reduce((s, v, i) => s + v * alpha[i]!, 0));
      vals.push([...m, sa]);
    }
    const mx = Math.max(...logw);
    const ws = logw.map((l) => Math.exp(l - mx));
    const z = ws.reduce((a, b) => a + b, 0);
    const ref = vals[0]!.map((_, k) => ws.reduce((s, w, n) => s + w * vals[n]![k]!, 0) / z);
    const checks: [string, number, number][] = [
      ['mu_a', 0, ref[0]!],
      ['b', 0, ref[1]!],
      ...Array.from({ length: J }, (_, j): [string, number, number] => ['a', j, ref[2 + j]!]),
      ['sigma_a', 0, ref[P]!],
    ];
    for (const [site, i, want] of checks) {
      const { mean, se } = meanAndSe(mcmc, site, i);
      expect(Math.abs(mean - want), `${site}[${i}]: ${mean} vs ${want}`).toBeLessThan(
        4 * se + 1e-3,
      );
    }
    // the non-centred parameterization keeps the funnel at bay
    expect(mcmc.numDivergences).toBeLessThanOrEqual(10);
    tf.dispose([ci, fl, y, ...Object.values(mcmc.getSamples())]);
  });
});

describe('Bayesian logistic regression: NUTS beside the Laplace approximation', () => {
  const N = 20;
  const r = rng(29);
  const xs = Array.from({ length: N }, () => 4 * r.u() - 2);
  const ys = xs.map((x) => (r.u() < 1 / (1 + Math.exp(-(0.5 + 1.5 * x))) ? 1 : 0));
  const model = (x: tf.Tensor, y?: tf.Tensor): void => {
    const alpha = ppl.sample('alpha', new D.Normal(0, 2.5));
    const beta = ppl.sample('beta', new D.Normal(0, 2.5));
    ppl.plate('data', N, () =>
      ppl.sample('obs', new D.Bernoulli({ logits: tf.add(alpha, tf.mul(beta, x)) }), { obs: y }),
    );
  };
  /** log p(alpha, beta | y) up to a constant, its gradient and Hessian (float64). */
  const logPost = (a: number, b: number): number =>
    -(a * a + b * b) / (2 * 2.5 * 2.5) +
    xs.reduce((s, x, i) => {
      const t = a + b * x;
      return s + (ys[i]! === 1 ? -Math.log1p(Math.exp(-t)) : -Math.log1p(Math.exp(t)));
    }, 0);
  const newton = (): { mode: [number, number]; cov: number[][] } => {
    let [a, b] = [0, 0];
    let H = [
      [0, 0],
      [0, 0],
    ];
    for (let it = 0; it < 50; it++) {
      let [ga, gb] = [-a / 6.25, -b / 6.25];
      H = [
        [-1 / 6.25, 0],
        [0, -1 / 6.25],
      ];
      xs.forEach((x, i) => {
        const p = 1 / (1 + Math.exp(-(a + b * x)));
        ga += ys[i]! - p;
        gb += (ys[i]! - p) * x;
        const w = p * (1 - p);
        H[0]![0]! -= w;
        H[0]![1]! -= w * x;
        H[1]![0]! -= w * x;
        H[1]![1]! -= w * x * x;
      });
      const det = H[0]![0]! * H[1]![1]! - H[0]![1]! * H[1]![0]!;
      a -= (H[1]![1]! * ga - H[0]![1]! * gb) / det;
      b -= (-H[1]![0]! * ga + H[0]![0]! * gb) / det;
    }
    const det = H[0]![0]! * H[1]![1]! - H[0]![1]! * H[1]![0]!;
    const cov = [
      [-H[1]![1]! / det, H[0]![1]! / det],
      [H[1]![0]! / det, -H[0]![0]! / det],
    ];
    return { mode: [a, b], cov };
  };

  it('NUTS posterior means and sds match a 2-d grid; AutoLaplaceApproximation gives the Newton MAP and inverse Hessian', async () => {
    const x = tf.tensor1d(xs);
    const y = tf.tensor1d(ys);
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 500,
      warmupSteps: 300,
      progressBar: false,
      seed: 6,
    });
    await mcmc.run(x, y);
    // the grid (wide: the slope's posterior has a long right tail)
    const G = 300;
    let z = 0;
    const m1: [number, number] = [0, 0];
    const m2: [number, number] = [0, 0];
    const lw: number[] = [];
    const pts: [number, number][] = [];
    for (let i = 0; i < G; i++)
      for (let j = 0; j < G; j++) {
        const a = -8 + (16 * (i + 0.5)) / G;
        const b = -4 + (20 * (j + 0.5)) / G;
        pts.push([a, b]);
        lw.push(logPost(a, b));
      }
    const mx = lw.reduce((u, v) => Math.max(u, v), -Infinity);
    lw.forEach((l, n) => {
      const w = Math.exp(l - mx);
      z += w;
      const [a, b] = pts[n]!;
      m1[0] += w * a;
      m1[1] += w * b;
      m2[0] += w * a * a;
      m2[1] += w * b * b;
    });
    const means = m1.map((v) => v / z);
    const sds = m2.map((v, k) => Math.sqrt(v / z - means[k]! ** 2));
    (['alpha', 'beta'] as const).forEach((site, k) => {
      const { mean, se, sd } = meanAndSe(mcmc, site);
      expect(Math.abs(mean - means[k]!), site).toBeLessThan(4 * se + 2e-3);
      // the sd's relative MC error is about 1 / sqrt(2 ESS) (5 % here): 3 of them
      expect(Math.abs(sd - sds[k]!) / sds[k]!, site).toBeLessThan(0.15);
    });
    tf.dispose(Object.values(mcmc.getSamples()));

    // the Laplace approximation: MAP by SVI on AutoLaplaceApproximation, then the inverse Hessian
    setSeed(3);
    const guide = new ppl.AutoLaplaceApproximation(model);
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    for (let i = 0; i < 400; i++) svi.step(x, y);
    const laplace = guide.laplaceApproximation(x, y);
    const loc = Array.from(ppl.getParamStore().value(`${laplace.prefix}.loc`).dataSync());
    const cov = laplace.covariance();
    const { mode, cov: covRef } = newton();
    loc.forEach((v, k) => expect(v).toBeCloseTo(mode[k]!, 2));
    expect(cov).toBeAllclose(covRef, { rtol: 0.02, atol: 1e-4 });
    // with 20 points the posterior is skewed: the slope's posterior mean lies beyond its mode
    expect(means[1]! - mode[1]).toBeGreaterThan(0.05);
    cov.dispose();
    laplace.dispose();
    guide.dispose();
    tf.dispose([x, y]);
  });
});
