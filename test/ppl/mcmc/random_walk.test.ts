/**
 * `RandomWalkMH`: random-walk Metropolis with adapted scale and covariance, checked against closed
 * form posteriors (moments within Monte Carlo standard errors from the chains' ESS) and its
 * adaptation against the target acceptance rate.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';

const { sample, mcmc } = ppl;

// mu ~ N(0, 2), y_i ~ N(mu, 1): posterior N(sum y / (n + 1/4), 1 / (n + 1/4));
// tau ~ Gamma(3, 3) without data: its prior (mean 1, variance 1/3)
const ys = [2.1, 1.4, 2.9, 1.8, 2.5, 2.2, 1.1, 2.7];
const n = ys.length;
const post = { mean: ys.reduce((a, b) => a + b) / (n + 0.25), var: 1 / (n + 0.25) };
const model = (y: tf.Tensor): void => {
  const mu = sample('mu', new D.Normal(0, 2));
  sample('tau', new D.Gamma(3, 3));
  ppl.plate('data', n, () => sample('y', new D.Normal(mu, 1), { obs: y }));
};

const meanVar = (v: number[]): [number, number] => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return [m, v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)];
};

describe('RandomWalkMH', () => {
  it('samples the conjugate posterior: means and variances within 5 Monte Carlo SE', async () => {
    const y = tf.tensor1d(ys);
    const m = new ppl.MCMC(new ppl.RandomWalkMH(model), {
      numSamples: 4000,
      warmupSteps: 1500,
      numChains: 2,
      progressBar: false,
      seed: 1,
    });
    await m.run(y);
    const s = m.getSamples({ groupByChain: true });
    for (const [site, ref] of [
      ['mu', post],
      ['tau', { mean: 1, var: 1 / 3 }],
    ] as const) {
      const t = s[site] as tf.Tensor;
      const rows = t.arraySync() as number[][];
      const all = rows.flat();
      const e = mcmc.ess(rows);
      expect(e).toBeGreaterThan(200);
      const [mean, v] = meanVar(all);
      expect(Math.abs(mean - ref.mean)).toBeLessThan(5 * Math.sqrt(ref.var / e));
      // sd of a variance estimate from e effective draws: ~ var sqrt(2 / e) (Normal), more for
      // the skewed Gamma (kurtosis 3 + 6/3): var sqrt((k - 1) / e)
      const kurt = site === 'mu' ? 3 : 5;
      expect(Math.abs(v - ref.var)).toBeLessThan(5 * ref.var * Math.sqrt((kurt - 1) / e));
      expect(mcmc.splitRhat(rows)).toBeLessThan(1.05);
    }
    // the adapted acceptance rate is near the target 0.234
    const acc = m.getExtraFields().map((c) => meanVar(Array.from(c.acceptStat))[0]);
    acc.forEach((a) => expect(Math.abs(a - 0.234)).toBeLessThan(0.1));
    // one potential evaluation per iteration: far fewer than NUTS
    m.getExtraFields().forEach((c) =>
      expect(Array.from(c.numSteps).every((k) => k === 1)).toBe(true),
    );
    tf.dispose(Object.values(s));
    y.dispose();
  }, 120_000);

  it('refuses unknown options and bad values naming them', () => {
    expect(() => new ppl.RandomWalkMH(model, { numSteps: 3 } as never)).toThrow(
      /numSteps: not an option of RandomWalkMH/,
    );
    expect(() => new ppl.RandomWalkMH(model, { targetAcceptProb: 1.5 })).toThrow(
      /^targetAcceptProb: expected a number in \(0, 1\)/,
    );
    expect(() => new ppl.RandomWalkMH(3 as never)).toThrow(/^model: expected a model function/);
  });
});
