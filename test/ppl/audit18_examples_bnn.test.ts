/**
 * NumPyro's `bnn.py` (a Bayesian neural network sampled by NUTS), ported tiny as its users write
 * it: weight matrices `w1 [D_X, D_H]`, `w2 [D_H, D_H]`, `w3 [D_H, 1]` as `Normal(zeros, ones)`
 * sites outside any plate, tanh layers, `prec_obs ~ Gamma(3, 1)`, the targets scored by
 * `Normal(z3, 1 / sqrt(prec_obs)).to_event(1)` in a `data` plate, the network output recorded by
 * `deterministic`, then `Predictive(model, samples)` with `Y = None`. Here D_X = 2 (x and a bias
 * column), D_H = 2, five points. Reference: self-normalized importance sampling from the prior in
 * float64 (100k draws), whose posterior means of the network output and of `prec_obs` the NUTS
 * means must match (5 MC standard errors plus the importance sampler's own error).
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';
import { rng } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const xs = [-1, -0.5, 0, 0.5, 1];
const ys = xs.map((x) => Math.sin(2 * x));
const DH = 2;

const model = (X: tf.Tensor, Y: tf.Tensor | undefined, dH: number, dY = 1): void => {
  const [n, dX] = X.shape as [number, number];
  const w1 = ppl.sample('w1', new D.Normal(tf.zeros([dX, dH]), tf.ones([dX, dH])));
  const z1 = tf.tanh(tf.matMul(X, w1));
  const w2 = ppl.sample('w2', new D.Normal(tf.zeros([dH, dH]), tf.ones([dH, dH])));
  const z2 = tf.tanh(tf.matMul(z1, w2));
  const w3 = ppl.sample('w3', new D.Normal(tf.zeros([dH, dY]), tf.ones([dH, dY])));
  const z3 = ppl.deterministic('mu', tf.matMul(z2, w3));
  const precObs = ppl.sample('prec_obs', new D.Gamma(3, 1));
  const sigmaObs = tf.div(1, tf.sqrt(precObs));
  ppl.plate('data', n, () => ppl.sample('Y', new D.Normal(z3, sigmaObs).toEvent(1), { obs: Y }));
};

/** Posterior means of the network output at each x and of prec_obs, by prior importance sampling. */
function reference(): { mu: number[]; prec: number; ess: number } {
  const { n: nrm, u } = rng(1);
  const S = 100_000;
  const lw = new Float64Array(S);
  const mus = new Float64Array(S * xs.length);
  const precs = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    const w1 = [nrm(), nrm(), nrm(), nrm()]; // [[x->h0, x->h1], [b->h0, b->h1]]
    const w2 = [nrm(), nrm(), nrm(), nrm()];
    const w3 = [nrm(), nrm()];
    const prec = -Math.log(u() * u() * u()); // Gamma(3, 1)
    let l = 0;
    xs.forEach((x, i) => {
      const h0 = Math.tanh(x * w1[0]! + w1[2]!);
      const h1 = Math.tanh(x * w1[1]! + w1[3]!);
      const g0 = Math.tanh(h0 * w2[0]! + h1 * w2[2]!);
      const g1 = Math.tanh(h0 * w2[1]! + h1 * w2[3]!);
      const m = g0 * w3[0]! + g1 * w3[1]!;
      mus[s * xs.length + i] = m;
      l += 0.5 * Math.log(prec) - 0.5 * prec * (ys[i]! - m) ** 2;
    });
    lw[s] = l;
    precs[s] = prec;
  }
  const mx = lw.reduce((a, b) => Math.max(a, b), -Infinity);
  let z = 0;
  let z2 = 0;
  let pm = 0;
  const mu = new Array<number>(xs.length).fill(0);
  for (let s = 0; s < S; s++) {
    const w = Math.exp(lw[s]! - mx);
    z += w;
    z2 += w * w;
    pm += w * precs[s]!;
    for (let i = 0; i < xs.length; i++) mu[i] = mu[i]! + w * mus[s * xs.length + i]!;
  }
  return { mu: mu.map((v) => v / z), prec: pm / z, ess: (z * z) / z2 };
}

describe("NumPyro's Bayesian neural network (bnn.py)", { timeout: 120_000 }, () => {
  it('NUTS means of the network output and prec_obs match prior importance sampling; Predictive draws Y', async () => {
    const X = tf.tensor2d(xs.map((x) => [x, 1]));
    const Y = tf.tensor2d(ys.map((y) => [y]));
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 500,
      warmupSteps: 300,
      numChains: 2,
      progressBar: false,
      seed: 0,
    });
    await mcmc.run(X, Y, DH);
    const ref = reference();
    expect(ref.ess).toBeGreaterThan(1000);
    xs.forEach((_, i) => {
      const { mean, se } = meanAndSe(mcmc, 'mu', i);
      expect(Math.abs(mean - ref.mu[i]!)).toBeLessThan(5 * se + 0.03);
    });
    const p = meanAndSe(mcmc, 'prec_obs');
    expect(Math.abs(p.mean - ref.prec)).toBeLessThan(5 * p.se + 0.15);
    // the data moved the output away from the prior's mean 0
    expect(Math.abs(ref.mu[0]!)).toBeGreaterThan(0.5);
    // Predictive with Y = None: one draw of the targets per posterior row, [S, N, 1]
    const samples = mcmc.getSamples();
    const before = tf.memory().numTensors;
    const out = new ppl.Predictive(model, { posteriorSamples: samples }).call(X, undefined, DH);
    expect(out.Y!.shape).toEqual([1000, xs.length, 1]);
    tf.dispose(Object.values(out));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([X, Y, ...Object.values(samples)]);
  });
});
