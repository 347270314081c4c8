/**
 * Importance sampling against the conjugate Normal-Normal model, where the marginal likelihood
 * and the posterior are closed form:
 *
 * `mu ~ N(m0, s0²)`, `y_i ~ N(mu, sigma²)`: `y ~ N(m0 1, sigma² I + s0² 1 1ᵀ)`, so
 * `log p(y) = -n/2 log(2 pi sigma²) - 1/2 log(1 + n s0²/sigma²)
 *             - (Σ d_i² - s0² (Σ d_i)² / (sigma² + n s0²)) / (2 sigma²)`, `d_i = y_i - m0`
 * (matrix determinant lemma and Sherman-Morrison), and `mu | y ~ N(m, s²)` with
 * `1/s² = 1/s0² + n/sigma²`, `m = s² (m0/s0² + Σ y_i/sigma²)`.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { expectNoLeak } from '../helpers.js';

afterEach(() => clearSeed());

const m0 = 0.5;
const s0 = 2;
const sigma = 1;
const ys = [1.2, 0.3, 2.1, 1.7, 0.9];
const n = ys.length;

function exactLogEvidence(): number {
  const d = ys.map((y) => y - m0);
  const sd2 = d.reduce((a, v) => a + v * v, 0);
  const sd = d.reduce((a, v) => a + v, 0);
  return (
    (-n / 2) * Math.log(2 * Math.PI * sigma ** 2) -
    0.5 * Math.log(1 + (n * s0 ** 2) / sigma ** 2) -
    (sd2 - (s0 ** 2 * sd ** 2) / (sigma ** 2 + n * s0 ** 2)) / (2 * sigma ** 2)
  );
}
const postVar = 1 / (1 / s0 ** 2 + n / sigma ** 2);
const postMean = postVar * (m0 / s0 ** 2 + ys.reduce((a, v) => a + v, 0) / sigma ** 2);

const model = (y: tf.Tensor): void => {
  const mu = ppl.sample('mu', new D.Normal(m0, s0));
  ppl.deterministic('twice', tf.mul(mu, 2));
  ppl.plate('data', n, () => ppl.sample('y', new D.Normal(mu, sigma), { obs: y }));
};
const normalGuide = (loc: number, scale: number) => (): void => {
  ppl.sample('mu', new D.Normal(loc, scale));
};

describe('Importance', () => {
  it('with the prior as proposal: logEvidence = the closed form within 4 standard errors', () => {
    setSeed(1);
    const y = tf.tensor1d(ys);
    expectNoLeak(() => {
      const res = new ppl.Importance(model, { numSamples: 3000 }).run(y);
      const se = res.logEvidenceStdErr;
      expect(se).toBeGreaterThan(0.005);
      expect(se).toBeLessThan(0.1);
      expect(Math.abs(res.logEvidence - exactLogEvidence())).toBeLessThan(4 * se);
      // the weights are the likelihoods: log w_i = Σ_j log N(y_j; mu_i, sigma²)
      const mu = res.samples['mu']?.dataSync() as Float32Array;
      for (const i of [0, 7, 99]) {
        const mi = mu[i] as number;
        const ll = ys.reduce((a, v) => a - 0.5 * Math.log(2 * Math.PI) - (v - mi) ** 2 / 2, 0);
        expect(res.logWeights[i]).toBeCloseTo(ll, 3);
      }
      res.dispose();
    });
    y.dispose();
  });

  it('with the exact posterior as guide every weight is p(y): ESS = N, zero error', () => {
    setSeed(2);
    const y = tf.tensor1d(ys);
    const exact = exactLogEvidence();
    expectNoLeak(() => {
      const res = new ppl.Importance(model, {
        guide: normalGuide(postMean, Math.sqrt(postVar)),
        numSamples: 200,
      }).run(y);
      for (const lw of res.logWeights) expect(lw).toBeCloseTo(exact, 3);
      expect(res.logEvidence).toBeCloseTo(exact, 3);
      expect(res.ess).toBeGreaterThan(199.9);
      res.dispose();
    });
    y.dispose();
  });

  it('a good guide gives the posterior mean and variance within their Monte Carlo error', () => {
    setSeed(3);
    const y = tf.tensor1d(ys);
    expectNoLeak(() => {
      const res = new ppl.Importance(model, {
        guide: normalGuide(postMean + 0.2, 1.5 * Math.sqrt(postVar)),
        numSamples: 4000,
      }).run(y);
      expect(res.ess).toBeGreaterThan(1500);
      expect(res.ess).toBeLessThan(3999);
      const marg = res.marginal('mu');
      const mean = marg.mean();
      const variance = marg.variance();
      const se = Math.sqrt(postVar / res.ess);
      expect(Math.abs((mean.dataSync()[0] as number) - postMean)).toBeLessThan(4 * se);
      // Var of a sample variance of a normal: 2 s⁴ / (ESS - 1)
      const seVar = postVar * Math.sqrt(2 / (res.ess - 1));
      expect(Math.abs((variance.dataSync()[0] as number) - postVar)).toBeLessThan(4 * seVar);
      // a deterministic site is kept: twice = 2 mu
      const twice = res.marginal('twice').mean();
      expect(twice.dataSync()[0]).toBeCloseTo(2 * (mean.dataSync()[0] as number), 4);
      // resampling by the weights: the resampled mean is the weighted mean within its error
      const draws = marg.sample(4000);
      expect(draws.shape).toEqual([4000]);
      const dm = draws.mean();
      const rm = (dm.dataSync()[0] as number) - (mean.dataSync()[0] as number);
      dm.dispose();
      expect(Math.abs(rm)).toBeLessThan(4 * Math.sqrt(postVar / 4000) + 1e-3);
      tf.dispose([mean, variance, twice, draws]);
      // the logEvidence is also right with a proposal other than the prior
      expect(Math.abs(res.logEvidence - exactLogEvidence())).toBeLessThan(
        4 * res.logEvidenceStdErr + 1e-3,
      );
      res.dispose();
    });
    y.dispose();
  });

  it('ESS = (Σ w)² / Σ w² and the normalized weights are w / Σ w', () => {
    setSeed(4);
    const y = tf.tensor1d(ys);
    const res = new ppl.Importance(model, { numSamples: 50 }).run(y);
    const w = Array.from(res.logWeights, (l) => Math.exp(l));
    const s = w.reduce((a, v) => a + v, 0);
    const s2 = w.reduce((a, v) => a + v * v, 0);
    expect(res.ess).toBeCloseTo((s * s) / s2, 8);
    w.forEach((wi, i) => expect(res.normalizedWeights[i]).toBeCloseTo(wi / s, 12));
    expect(res.logEvidence).toBeCloseTo(Math.log(s / 50), 10);
    expect(res.numSamples).toBe(50);
    res.dispose();
    y.dispose();
  });

  it('names the bad argument before any work, and leaks nothing when the model throws', () => {
    const calls = { n: 0 };
    const counted = (y: tf.Tensor): void => {
      calls.n++;
      model(y);
    };
    expect(() => new ppl.Importance(counted, { numSamples: 0 })).toThrow(/numSamples/);
    expect(() => new ppl.Importance(counted, { numSamples: 2.5 })).toThrow(/numSamples/);
    expect(
      () => new ppl.Importance(counted, { num_samples: 5 } as ppl.ImportanceOptions<[tf.Tensor]>),
    ).toThrow(/num_samples.*numSamples/);
    expect(
      () =>
        new ppl.Importance(counted, { guide: 3 } as unknown as ppl.ImportanceOptions<[tf.Tensor]>),
    ).toThrow(/^guide:/);
    expect(() => new ppl.Importance(null as unknown as () => void)).toThrow(/^model:/);
    expect(calls.n).toBe(0);
    const y = tf.tensor1d(ys);
    const res = new ppl.Importance(model, { numSamples: 3 }).run(y);
    expect(() => res.marginal('nope')).toThrow(/site.*'nope'.*mu/);
    expect(() => res.marginal('y')).toThrow(/'y'/); // observed: not a latent site
    expect(() => res.marginal('mu').sample(0)).toThrow(/^n:/);
    res.dispose();
    let k = 0;
    const failing = (obs: tf.Tensor): void => {
      if (++k === 3) throw new Error('boom');
      model(obs);
    };
    const before = tf.memory().numTensors;
    expect(() => new ppl.Importance(failing, { numSamples: 5 }).run(y)).toThrow(/boom/);
    expect(tf.memory().numTensors).toBe(before);
    expect(ppl.HANDLER_STACK.length).toBe(0);
    y.dispose();
  });

  it('EmpiricalMarginal checks its inputs', () => {
    const v = tf.tensor1d([1, 2, 3]);
    expect(() => new ppl.EmpiricalMarginal(v, [0, 0])).toThrow(/^logWeights:/);
    expect(() => new ppl.EmpiricalMarginal(v, [-Infinity, -Infinity, -Infinity])).toThrow(
      /^logWeights:/,
    );
    const m = new ppl.EmpiricalMarginal(v, [0, Math.log(3), -Infinity]);
    expectNoLeak(() => m.mean()); // (1 + 6) / 4
    const mean = m.mean();
    expect(mean.dataSync()[0]).toBeCloseTo(1.75, 6);
    mean.dispose();
    v.dispose();
  });
});
