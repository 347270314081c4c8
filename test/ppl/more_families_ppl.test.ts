/**
 * The new families as sites of ppl models: a truncated-normal likelihood with an unknown loc and
 * right-censored data through `factor` with the base's log-survival (both under NUTS, against the
 * exact posterior by quadrature), a continuous-Bernoulli likelihood under SVI with AutoNormal,
 * prior recovery under NUTS of FisherSnedecor, FoldedDistribution, LogUniform, SoftLaplace,
 * LogisticNormal and ZeroSumNormal latents (a wrong support bijection or Jacobian biases the
 * draws), NumPyro's ZeroSumNormal regression, and Predictive over Empirical and truncated sites
 * in a plate.
 */
import * as tf from '@tensorflow/tfjs';
import normalRef from '@stdlib/stats-base-dists-normal';
import { describe, expect, it } from 'vitest';
import { bijectors, clearSeed, distributions as D, ppl, setSeed } from '../../src/index.js';

const { sample, plate, factor, MCMC, NUTS, Predictive, SVI, AutoNormal, TraceELBO } = ppl;

function read(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}
const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
const variance = (v: number[]): number => {
  const m = mean(v);
  return v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
};

/** Posterior mean and sd of a scalar on a grid from its log-density (float64). */
function gridPosterior(logPost: (t: number) => number, a: number, b: number, n = 4000) {
  const ts = Array.from({ length: n + 1 }, (_, i) => a + ((b - a) * i) / n);
  const lp = ts.map(logPost);
  const mx = Math.max(...lp);
  const w = lp.map((v) => Math.exp(v - mx));
  const z = w.reduce((s, v) => s + v, 0);
  const m = ts.reduce((s, t, i) => s + t * w[i]!, 0) / z;
  const v = ts.reduce((s, t, i) => s + (t - m) ** 2 * w[i]!, 0) / z;
  return { mean: m, sd: Math.sqrt(v) };
}

async function nuts(
  model: (...a: never[]) => void,
  args: unknown[],
  opts: { numSamples?: number; warmupSteps?: number; seed?: number } = {},
) {
  const mcmc = new MCMC(new NUTS(model as never), {
    numSamples: opts.numSamples ?? 500,
    warmupSteps: opts.warmupSteps ?? 300,
    progressBar: false,
    seed: opts.seed ?? 3,
  });
  await (mcmc.run as (...a: unknown[]) => Promise<void>)(...args);
  return mcmc;
}

describe('truncated and censored likelihoods under NUTS', () => {
  it('a truncated-normal likelihood (Normal(mu, 1) on [0, inf)) recovers mu: the exact posterior mean', async () => {
    const base = new D.Normal(0.3, 1);
    const gen = new D.TruncatedDistribution(base, { low: 0 });
    const y = gen.sample([80], 21);
    gen.dispose();
    base.dispose();
    const ys = Array.from(y.dataSync());
    const model = (obs: tf.Tensor): void => {
      const mu = sample('mu', new D.Normal(0, 3));
      plate('data', obs.shape[0] as number, () => {
        sample('obs', new D.TruncatedDistribution(new D.Normal(mu, 1), { low: 0 }), { obs });
      });
    };
    const mcmc = await nuts(model as never, [y]);
    const mu = read(mcmc.getSamples().mu as tf.Tensor);
    const ess = mcmc.summary().mu?.elements[0]?.essBulk as number;
    const post = gridPosterior(
      (m) =>
        Math.log(normalRef.pdf(m, 0, 3)) +
        ys.reduce((s, v) => s + Math.log(normalRef.pdf(v, m, 1) / (1 - normalRef.cdf(0, m, 1))), 0),
      -4,
      4,
    );
    expect(ess).toBeGreaterThan(100);
    expect(Math.abs(mean(mu) - post.mean)).toBeLessThan(4 * (post.sd / Math.sqrt(ess)) + 1e-3);
    expect(Math.sqrt(variance(mu)) / post.sd).toBeGreaterThan(0.8);
    expect(Math.sqrt(variance(mu)) / post.sd).toBeLessThan(1.2);
    y.dispose();
  });

  it('right-censored data through factor(log S(c)) of the base: the exact posterior mean', async () => {
    // y_i ~ N(mu, 1), observed below c = 1.2, only "above c" known for the others
    const c = 1.2;
    const raw = new D.Normal(0.9, 1);
    const all = read(raw.sample([60], 4));
    raw.dispose();
    const seen = all.filter((v) => v < c);
    const nCens = all.length - seen.length;
    const obs = tf.tensor1d(seen);
    const model = (o: tf.Tensor): void => {
      const mu = sample('mu', new D.Normal(0, 3));
      const lik = new D.Normal(mu, 1);
      plate('seen', o.shape[0] as number, () => sample('obs', lik, { obs: o }));
      factor('censored', tf.mul(nCens, lik.logSurvival(c)));
    };
    const mcmc = await nuts(model as never, [obs], { seed: 8 });
    const mu = read(mcmc.getSamples().mu as tf.Tensor);
    const ess = mcmc.summary().mu?.elements[0]?.essBulk as number;
    const post = gridPosterior(
      (m) =>
        Math.log(normalRef.pdf(m, 0, 3)) +
        seen.reduce((s, v) => s + Math.log(normalRef.pdf(v, m, 1)), 0) +
        nCens * Math.log(1 - normalRef.cdf(c, m, 1)),
      -4,
      5,
    );
    expect(nCens).toBeGreaterThan(5);
    expect(Math.abs(mean(mu) - post.mean)).toBeLessThan(4 * (post.sd / Math.sqrt(ess)) + 1e-3);
    obs.dispose();
  });
});

describe('SVI with AutoNormal', () => {
  it('a continuous-Bernoulli likelihood with lambda ~ Uniform(0, 1): the guide median near the exact posterior', () => {
    const gen = new D.ContinuousBernoulli({ probs: 0.3 });
    const x = gen.sample([150], 2);
    gen.dispose();
    const xs = Array.from(x.dataSync());
    const model = (o: tf.Tensor): void => {
      const lam = sample('lam', new D.Uniform(0, 1));
      plate('data', o.shape[0] as number, () =>
        sample('x', new D.ContinuousBernoulli({ probs: lam }), { obs: o }),
      );
    };
    ppl.clearParamStore();
    // a fixed stream: the draws of the 500 steps do not depend on what ran before
    setSeed(5);
    const guide = new AutoNormal(model);
    const svi = new SVI(model, guide, tf.train.adam(0.05), new TraceELBO());
    for (let i = 0; i < 500; i++) svi.step(x);
    const med = guide.median();
    const got = read(med.lam as tf.Tensor)[0]!;
    const logNorm = (p: number) => {
      const l = Math.log(p / (1 - p));
      return Math.abs(l) < 1e-9 ? 0 : Math.log(Math.expm1(l) / l);
    };
    const post = gridPosterior(
      (p) => xs.reduce((s, v) => s + v * Math.log(p / (1 - p)), 0) - xs.length * logNorm(p),
      1e-4,
      1 - 1e-4,
    );
    // AutoNormal's median (a logit-normal) sits near the posterior mean: within one posterior sd
    expect(Math.abs(got - post.mean)).toBeLessThan(post.sd);
    x.dispose();
    ppl.clearParamStore();
    clearSeed();
  });
});

describe('prior recovery under NUTS (supports, bijections and Jacobians of the new families)', () => {
  it('FisherSnedecor, Folded, LogUniform, SoftLaplace, LogisticNormal and ZeroSumNormal latents', async () => {
    const model = (): void => {
      sample('f', new D.FisherSnedecor(5, 12));
      sample('fold', new D.FoldedDistribution(new D.Normal(0.5, 2)));
      sample('lu', new D.LogUniform(0.5, 5));
      sample('sl', new D.SoftLaplace(1, 0.5));
      sample('w', new D.LogisticNormal([0.5, -0.5], [1, 0.5]));
      sample('z', new D.ZeroSumNormal(1.5, [3]));
    };
    const mcmc = await nuts(model as never, [], { numSamples: 1500, warmupSteps: 500, seed: 11 });
    const s = mcmc.getSamples();
    const sum = mcmc.summary();
    const check = (name: string, draws: number[], m: number, v: number, ess: number): void => {
      expect(ess, name).toBeGreaterThan(150);
      expect(Math.abs(mean(draws) - m), name).toBeLessThan(4.5 * Math.sqrt(v / ess));
    };
    const ess = (site: string, i = 0): number => sum[site]?.elements[i]?.essBulk as number;
    // F(5, 12): mean 12/10, variance 2 * 144 * 15 / (5 * 100 * 8)
    check('f', read(s.f as tf.Tensor), 1.2, (2 * 144 * 15) / (5 * 100 * 8), ess('f'));
    const mFold =
      2 * Math.sqrt(2 / Math.PI) * Math.exp(-(0.5 ** 2) / 8) +
      0.5 * (1 - 2 * normalRef.cdf(-0.25, 0, 1));
    check('fold', read(s.fold as tf.Tensor), mFold, 4 + 0.25 - mFold ** 2, ess('fold'));
    const w = Math.log(10);
    const mLu = 4.5 / w;
    check('lu', read(s.lu as tf.Tensor), mLu, (25 - 0.25) / (2 * w) - mLu ** 2, ess('lu'));
    check('sl', read(s.sl as tf.Tensor), 1, (Math.PI / 4) ** 2, ess('sl'));
    // LogisticNormal: the stick-breaking inverse of the draws is N([0.5, -0.5], [1, 0.5])
    const wt = s.w as tf.Tensor;
    expect(read(tf.sum(wt, -1)).every((v) => Math.abs(v - 1) < 1e-5)).toBe(true);
    const sb = new bijectors.StickBreaking();
    const back = read(sb.inverse(wt));
    const essW = Math.min(ess('w', 0), ess('w', 1), ess('w', 2));
    check(
      'w0',
      back.filter((_, i) => i % 2 === 0),
      0.5,
      1,
      essW,
    );
    check(
      'w1',
      back.filter((_, i) => i % 2 === 1),
      -0.5,
      0.25,
      essW,
    );
    const z = s.z as tf.Tensor;
    expect(Math.max(...read(tf.abs(tf.sum(z, -1))))).toBeLessThan(1e-4);
    const z0 = read(tf.slice(z, [0, 0], [-1, 1]));
    check('z', z0, 0, 1.5 ** 2 * (2 / 3), ess('z', 0));
    expect(Math.abs(variance(z0) / (1.5 ** 2 * (2 / 3)) - 1)).toBeLessThan(0.25);
    tf.dispose([wt, z]);
  });
});

describe("NumPyro's ZeroSumNormal regression and Predictive", () => {
  it('category effects beta ~ ZeroSumNormal(1, [K]) under NUTS: draws sum to zero, effects recovered', async () => {
    const K = 4;
    const n = 120;
    const truth = [0.8, -0.3, -1.0, 0.5];
    const cats = Array.from({ length: n }, (_, i) => i % K);
    const noise = new D.Normal(0, 0.5);
    const eps = read(noise.sample([n], 5));
    noise.dispose();
    const y = tf.tensor1d(cats.map((c, i) => 2 + truth[c]! + eps[i]!));
    const idx = tf.tensor1d(cats, 'int32');
    const model = (ci: tf.Tensor, obs: tf.Tensor): void => {
      const alpha = sample('alpha', new D.Normal(0, 2.5));
      const beta = sample('beta', new D.ZeroSumNormal(1, [K]));
      plate('obs_plate', ci.shape[0] as number, () => {
        sample('obs', new D.Normal(tf.add(alpha, tf.gather(beta, ci)), 0.5), { obs });
      });
    };
    const mcmc = await nuts(model as never, [idx, y], {
      numSamples: 400,
      warmupSteps: 300,
      seed: 2,
    });
    const b = mcmc.getSamples().beta as tf.Tensor;
    expect(b.shape).toEqual([400, K]);
    expect(Math.max(...read(tf.abs(tf.sum(b, -1))))).toBeLessThan(1e-3);
    const bm = read(tf.mean(b, 0));
    // posterior sd of an effect ~ 0.5 / sqrt(n / K) = 0.09
    expect(bm).toBeAllclose(truth, { atol: 0.3 });
    tf.dispose([b, y, idx]);
  });

  it('Predictive draws an Empirical site with its weights and a truncated site in a plate', () => {
    const emp = new D.Empirical([0, 1, 2], [0, Math.log(3), 0]);
    const model = (): void => {
      sample('e', emp);
      plate('p', 3, () => {
        const base = new D.Normal(tf.tensor1d([0, 1, 2]), 1);
        sample(
          't',
          new D.TruncatedDistribution(base, { low: tf.tensor1d([-0.5, 0.5, 1.5]), high: 3 }),
        );
      });
    };
    const out = new Predictive(model, { numSamples: 2000, parallel: true }).call();
    const e = read(out.e as tf.Tensor);
    const t = out.t as tf.Tensor;
    expect(t.shape).toEqual([2000, 3]);
    const tv = read(t);
    for (let j = 0; j < 3; j++) {
      const col = tv.filter((_, i) => i % 3 === j);
      expect(Math.min(...col)).toBeGreaterThanOrEqual([-0.5, 0.5, 1.5][j]!);
      expect(Math.max(...col)).toBeLessThanOrEqual(3);
    }
    const f1 = e.filter((v) => v === 1).length / e.length;
    expect(Math.abs(f1 - 0.6)).toBeLessThan(5 * Math.sqrt(0.24 / e.length));
    emp.dispose();
  });
});
