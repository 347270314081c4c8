/**
 * KL divergence of the layers: the analytic Normal-prior KL against a float64 closed form and a
 * Monte Carlo estimate; the scale-mixture KL (Monte Carlo in the layer) against numerical
 * quadrature; the scale-mixture log-density against a direct evaluation.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monteCarloKL } from '../../src/distributions/kl.js';
import { Normal } from '../../src/distributions/normal.js';
import {
  ConvReparam,
  DenseFlipout,
  DenseReparam,
  modelKL,
  normalizePrior,
  priorLogProb,
  scaleMixturePrior,
} from '../../src/layers/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';
import { fixedArray, softplus } from './reference.js';

beforeAll(() => setSeed(99));
afterAll(() => clearSeed());

function klNormal(m: number, s: number, pm: number, ps: number): number {
  return Math.log(ps / s) + (s * s + (m - pm) ** 2) / (2 * ps * ps) - 0.5;
}

describe('Normal prior KL', () => {
  it('equals the float64 closed form summed over kernel and bias, and a Monte Carlo estimate', () => {
    const layer = new DenseReparam({
      inChannels: 4,
      outChannels: 3,
      priorMu: 0.1,
      priorSigma: 0.5,
      posteriorRhoInitial: [-1, 0.5],
    });
    tf.dispose(layer.apply(tf.zeros([1, 4])) as tf.Tensor);
    const w = layer.getWeights().map((t) => Array.from(t.dataSync()));
    const [km, kr, bm, br] = w as [number[], number[], number[], number[]];
    let ref = 0;
    km.forEach((m, i) => (ref += klNormal(m, softplus(kr[i] as number), 0.1, 0.5)));
    bm.forEach((m, i) => (ref += klNormal(m, softplus(br[i] as number), 0.1, 0.5)));
    const [kl] = expectNoLeak(() => layer.kl());
    expect(kl).toBeAllclose(ref, { rtol: 1e-5 });
    // Monte Carlo KL of the same posterior (from the distributions module)
    const mc = tf.tidy(() => {
      const mu = tf.concat([tf.reshape(layer.getWeights()[0]!, [-1]), layer.getWeights()[2]!]);
      const sd = tf.softplus(
        tf.concat([tf.reshape(layer.getWeights()[1]!, [-1]), layer.getWeights()[3]!]),
      );
      return tf.sum(monteCarloKL(new Normal(mu, sd), new Normal(0.1, 0.5), { numSamples: 20000 }));
    });
    const sdMc = 0.05 * Math.sqrt(15); // loose: per-weight MC sd < 0.7, 15 weights, 20000 samples
    expect(Math.abs((mc.dataSync()[0] as number) - ref)).toBeLessThan(sdMc);
    mc.dispose();
    layer.dispose();
  });

  it('modelKL sums the layers of a model and is differentiable', () => {
    const model = tf.sequential({
      layers: [
        new ConvReparam({ inChannels: 1, outChannels: 2, kernelSize: 3, inputShape: [5, 5, 1] }),
        tf.layers.flatten(),
        new DenseFlipout({ outChannels: 2 }),
      ],
    });
    const [total] = expectNoLeak(() => modelKL(model));
    const parts = model.layers
      .filter((l) => 'kl' in l)
      .map((l) => tf.tidy(() => (l as DenseFlipout).kl().dataSync()[0] as number));
    expect(parts).toHaveLength(2);
    expect(total).toBeAllclose(parts[0]! + parts[1]!, { rtol: 1e-5 });
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => modelKL(model));
    expect(Object.keys(grads)).toHaveLength(6);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('scale-mixture prior', () => {
  const prior = scaleMixturePrior(0.3, 1.0, 0.05);

  it('log-density equals a direct float64 evaluation', () => {
    const w = [-3, -0.5, -0.01, 0, 0.02, 0.7, 4];
    const logp = priorLogProb(prior, tf.tensor1d(w));
    const npdf = (x: number, s: number): number =>
      Math.exp(-0.5 * (x / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
    const ref = w.map((x) => Math.log(0.3 * npdf(x, 1) + 0.7 * npdf(x, 0.05)));
    expect(logp).toBeAllclose(ref, { rtol: 1e-5, atol: 1e-5 });
    logp.dispose();
  });

  it('layer KL (one-sample Monte Carlo) averages to the quadrature KL', () => {
    // 400 weights sharing one posterior: kl() / 400 is an average of 400 single-sample estimates.
    const layer = new DenseReparam({ inChannels: 20, outChannels: 20, hasBias: false, prior });
    tf.dispose(layer.apply(tf.zeros([1, 20])) as tf.Tensor);
    const mu = 0.15;
    const sigma = 0.2;
    tf.tidy(() => layer.setPosterior({ kernelMu: tf.fill([20, 20], mu), kernelSigma: sigma }));
    const reps = 25;
    const vals: number[] = [];
    for (let r = 0; r < reps; r++) vals.push(expectNoLeak(() => layer.kl())[0] as number);
    const est = vals.reduce((a, b) => a + b, 0) / (reps * 400);
    // quadrature: KL = int q (log q - log p), Simpson on mu +- 12 sigma
    const n = 4000;
    const lo = mu - 12 * sigma;
    const h = (24 * sigma) / n;
    const npdf = (x: number, m: number, s: number): number =>
      Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
    let ref = 0;
    let m1 = 0; // E_q[log p]
    let m2 = 0; // E_q[(log p)^2]
    for (let i = 0; i <= n; i++) {
      const x = lo + i * h;
      const q = npdf(x, mu, sigma);
      const logp = Math.log(0.3 * npdf(x, 0, 1) + 0.7 * npdf(x, 0, 0.05));
      const wgt = (i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2) * (h / 3) * q;
      ref += q > 0 ? wgt * (Math.log(q) - logp) : 0;
      m1 += wgt * logp;
      m2 += wgt * logp * logp;
    }
    // the estimator is -H[q] - log p(w): its per-sample sd is sd_q[log p(w)]
    const se = Math.sqrt(m2 - m1 * m1) / Math.sqrt(reps * 400);
    expect(Math.abs(est - ref)).toBeLessThan(4.5 * se);
    expect(ref).toBeGreaterThan(0.5); // the check is not trivial
    layer.dispose();
  });

  it('normalizes spellings and rejects bad values', () => {
    expect(normalizePrior({ type: 'ScaleMixturePrior', pi: 0.5, sigma1: 1, sigma2: 0.1 })).toEqual({
      type: 'scaleMixture',
      pi: 0.5,
      sigma1: 1,
      sigma2: 0.1,
    });
    expect(normalizePrior({ type: 'normal_prior', mu: 1, sigma: 2 })).toEqual({
      type: 'normal',
      mu: 1,
      sigma: 2,
    });
    expect(() => normalizePrior({ type: 'laplace' })).toThrow(/prior.type/);
    expect(() => scaleMixturePrior(1.5)).toThrow(/prior.pi/);
    expect(() => scaleMixturePrior(0.5, -1)).toThrow(/prior.sigma1/);
  });
});

describe('posterior sigma', () => {
  it('setPosterior with sigma sets rho = softplus^-1(sigma); getPosterior returns sigma', () => {
    const layer = new DenseReparam({ inChannels: 2, outChannels: 2 });
    tf.dispose(layer.apply(tf.zeros([1, 2])) as tf.Tensor);
    const sig = fixedArray(4, 4, 0.01, 2);
    tf.tidy(() => layer.setPosterior({ kernelSigma: tf.tensor2d(sig, [2, 2]) }));
    const p = layer.getPosterior();
    expect(p.kernelSigma).toBeAllclose(sig, { rtol: 1e-4 });
    const rho = layer.getWeights()[1]!.dataSync();
    expect(Array.from(rho).map(softplus)).toBeAllclose(sig, { rtol: 1e-4 });
    tf.dispose([p.kernelMu, p.kernelSigma, p.biasMu!, p.biasSigma!]);
    layer.dispose();
  });
});
