/**
 * NumPyro's `gp.py` (Gaussian process regression with hyperpriors), ported as its users write it:
 * `LogNormal(0, 10)` priors on the RBF kernel's variance, noise and length scale, the kernel matrix
 * `var exp(-½ ((x - z)/length)²) + (noise + jitter) I` built from tensors, the data scored by
 * `MultivariateNormal(0, covariance_matrix=k)`, the log hyperparameters recorded by
 * `deterministic` sites, NUTS with `init_to_median`. Data: NumPyro's generator at N = 15
 * (standardized). Reference: an exact float64 grid over the three log hyperparameters (the
 * marginal likelihood by a host Cholesky per point).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';
import { cholesky, cholSolve, rng } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const N = 15;
const JITTER = 1e-6;

/** NumPyro's `get_data` at N = 15: a smooth curve plus N(0, 0.15²) noise, standardized. */
function data(): { xs: number[]; ys: number[] } {
  const { n } = rng(21);
  const xs = Array.from({ length: N }, (_, i) => -1 + (2 * i) / (N - 1));
  const raw = xs.map((x) => x + 0.2 * x ** 3 + 0.5 * (0.5 + x) ** 2 * Math.sin(4 * x) + 0.15 * n());
  const m = raw.reduce((a, b) => a + b, 0) / N;
  const sd = Math.sqrt(raw.reduce((a, b) => a + (b - m) ** 2, 0) / N);
  return { xs, ys: raw.map((y) => (y - m) / sd) };
}

/** The RBF kernel as the example writes it, on tensors. */
const kernel = (
  X: tf.Tensor,
  Z: tf.Tensor,
  v: tf.Tensor,
  length: tf.Tensor,
  noise: tf.Tensor,
  includeNoise = true,
): tf.Tensor => {
  const d2 = tf.square(tf.div(tf.sub(tf.expandDims(X, 1), tf.expandDims(Z, 0)), length));
  const k = tf.mul(v, tf.exp(tf.mul(-0.5, d2)));
  return includeNoise ? tf.add(k, tf.mul(tf.add(noise, JITTER), tf.eye(X.shape[0] as number))) : k;
};

const gpModel = (X: tf.Tensor, Y?: tf.Tensor): void => {
  const v = ppl.sample('kernel_var', new D.LogNormal(0, 10));
  const noise = ppl.sample('kernel_noise', new D.LogNormal(0, 10));
  const length = ppl.sample('kernel_length', new D.LogNormal(0, 10));
  ppl.deterministic('log_var', tf.log(v));
  ppl.deterministic('log_noise', tf.log(noise));
  ppl.deterministic('log_length', tf.log(length));
  const k = kernel(X, X, v, length, noise);
  ppl.sample(
    'Y',
    new D.MultivariateNormal(tf.zeros([X.shape[0] as number]), { covarianceMatrix: k }),
    {
      obs: Y,
    },
  );
};

/** The host kernel matrix (float64). */
const hostK = (
  xs: number[],
  zs: number[],
  v: number,
  l: number,
  noise: number | null,
): number[][] =>
  xs.map((x, i) =>
    zs.map(
      (z, j) =>
        v * Math.exp(-0.5 * ((x - z) / l) ** 2) + (noise !== null && i === j ? noise + JITTER : 0),
    ),
  );

describe("NumPyro's Gaussian process regression (gp.py)", { timeout: 120_000 }, () => {
  it('NUTS means of the log hyperparameters match a 3-d grid of the exact marginal likelihood; Predictive draws Y', async () => {
    const { xs, ys } = data();
    const X = tf.tensor1d(xs);
    const Y = tf.tensor1d(ys);
    const mcmc = new ppl.MCMC(new ppl.NUTS(gpModel, { initStrategy: ppl.initToMedian() }), {
      numSamples: 200,
      warmupSteps: 200,
      progressBar: false,
      seed: 2,
    });
    await mcmc.run(X, Y);
    // grid over (log var, log noise, log length): log N(y; 0, K) + Σ log N(u; 0, 10) in log space
    const G = 36;
    const ranges: [number, number][] = [
      [-4, 7],
      [-8, 1],
      [-3, 1.5],
    ];
    const at = (r: [number, number], i: number): number => r[0] + ((r[1] - r[0]) * (i + 0.5)) / G;
    const lw: number[] = [];
    const pts: number[][] = [];
    for (let i = 0; i < G; i++)
      for (let j = 0; j < G; j++)
        for (let k = 0; k < G; k++) {
          const u = [at(ranges[0]!, i), at(ranges[1]!, j), at(ranges[2]!, k)];
          const L = cholesky(hostK(xs, xs, Math.exp(u[0]!), Math.exp(u[2]!), Math.exp(u[1]!)));
          const alpha = cholSolve(L, ys);
          let l = -0.5 * ys.reduce((s, y, n) => s + y * alpha[n]!, 0);
          for (let n = 0; n < N; n++) l -= Math.log(L[n]![n]!);
          l -= (u[0]! ** 2 + u[1]! ** 2 + u[2]! ** 2) / 200;
          lw.push(l);
          pts.push(u);
        }
    const mx = Math.max(...lw);
    const ws = lw.map((l) => Math.exp(l - mx));
    const z = ws.reduce((a, b) => a + b, 0);
    const ref = [0, 1, 2].map((d) => ws.reduce((a, w, g) => a + w * pts[g]![d]!, 0) / z);
    ['log_var', 'log_noise', 'log_length'].forEach((site, d) => {
      const { mean, se } = meanAndSe(mcmc, site);
      expect(Math.abs(mean - ref[d]!)).toBeLessThan(5 * se + 0.03);
    });
    // the deterministic sites are the logs of the draws, row by row
    const post = mcmc.getSamples();
    const lv = post.log_var!.dataSync();
    post.kernel_var!.dataSync().forEach((v, r) => expect(lv[r]).toBeCloseTo(Math.log(v), 4));

    // Predictive from the posterior: the kernel's draws of Y under each posterior row
    const before = tf.memory().numTensors;
    const out = new ppl.Predictive(gpModel, { posteriorSamples: post, returnSites: ['Y'] }).call(X);
    expect(out.Y!.shape).toEqual([200, N]);
    tf.dispose(Object.values(out));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([X, Y, ...Object.values(post)]);
  });
});
