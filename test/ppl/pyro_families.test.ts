/**
 * The families ported from Pyro/NumPyro as sample sites: NUTS on a zero-inflated Poisson
 * regression and on a Gaussian mixture written with `MixtureSameFamily` (posterior means against
 * float64 grid quadrature of the same posterior, within Monte Carlo error), and autoguides on
 * relaxed (Concrete) latent sites drawing in their supports.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { setSeed, clearSeed } from '../../src/utils/seed.js';

const logFact = (k: number): number => {
  let s = 0;
  for (let j = 2; j <= k; j++) s += Math.log(j);
  return s;
};

/** Posterior means of a 2-D grid posterior `exp(logPost)` on `[lo, hi]^2` boxes. */
function gridMeans(
  logPost: (a: number, b: number) => number,
  [alo, ahi]: [number, number],
  [blo, bhi]: [number, number],
  m = 200,
): [number, number, number, number] {
  const lps: number[] = [];
  let max = -Infinity;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      const v = logPost(alo + ((i + 0.5) * (ahi - alo)) / m, blo + ((j + 0.5) * (bhi - blo)) / m);
      lps.push(v);
      if (v > max) max = v;
    }
  }
  let z = 0;
  let ma = 0;
  let mb = 0;
  let sa = 0;
  let sb = 0;
  lps.forEach((v, idx) => {
    const w = Math.exp(v - max);
    const a = alo + ((Math.floor(idx / m) + 0.5) * (ahi - alo)) / m;
    const b = blo + (((idx % m) + 0.5) * (bhi - blo)) / m;
    z += w;
    ma += w * a;
    mb += w * b;
    sa += w * a * a;
    sb += w * b * b;
  });
  ma /= z;
  mb /= z;
  return [ma, mb, Math.sqrt(sa / z - ma * ma), Math.sqrt(sb / z - mb * mb)];
}

// generous: NUTS runs are slow on a loaded shared machine
describe('Pyro/NumPyro families as NUTS sample sites', { timeout: 600_000 }, () => {
  it('zero-inflated Poisson regression: NUTS recovers the gate and slope (grid posterior)', async () => {
    // data from the model itself: rate = exp(0.5 + 0.8 x), gate 0.35
    const n = 120;
    const xs = Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
    const truth = new D.ZeroInflatedPoisson(
      xs.map((x) => Math.exp(0.5 + 0.8 * x)),
      { gate: 0.35 },
    );
    const yT = truth.sample([], 17);
    truth.dispose();
    const ys = Array.from(yT.dataSync());
    const xT = tf.tensor1d(xs);
    const model = (x: tf.Tensor, y: tf.Tensor): void => {
      const gate = ppl.sample('gate', new D.Beta(1, 1));
      const slope = ppl.sample('slope', new D.Normal(0, 2));
      const rate = tf.exp(tf.add(0.5, tf.mul(slope, x)));
      ppl.plate('data', n, () =>
        ppl.sample('y', new D.ZeroInflatedPoisson(rate, { gate }), { obs: y }),
      );
    };
    const mcmc = new ppl.MCMC(new ppl.NUTS(model), {
      numSamples: 300,
      warmupSteps: 200,
      seed: 5,
      progressBar: false,
    });
    await mcmc.run(xT, yT);
    const s = mcmc.summary();
    const g = s.gate!.elements[0]!;
    const b = s.slope!.elements[0]!;
    // the same posterior by quadrature: Beta(1,1) x N(0, 2) prior, ZIP likelihood in float64
    const logPost = (gate: number, slope: number): number => {
      let lp = -0.5 * (slope / 2) ** 2;
      xs.forEach((x, i) => {
        const lam = Math.exp(0.5 + slope * x);
        const k = ys[i]!;
        const pois = Math.exp(k * Math.log(lam) - lam - logFact(k));
        lp += Math.log((k === 0 ? gate : 0) + (1 - gate) * pois);
      });
      return lp;
    };
    const [mg, ms, sdg, sds] = gridMeans(logPost, [0.001, 0.8], [-0.5, 2.5]);
    expect(sdg).toBeLessThan(0.1); // an informative posterior: the check below has teeth
    expect(Math.abs(g.mean - mg)).toBeLessThan((5 * sdg) / Math.sqrt(g.essBulk));
    expect(Math.abs(b.mean - ms)).toBeLessThan((5 * sds) / Math.sqrt(b.essBulk));
    expect(Math.abs(g.mean - 0.35)).toBeLessThan(4 * sdg);
    tf.dispose([xT, yT]);
  });

  it('a Gaussian mixture written with MixtureSameFamily: NUTS matches the grid posterior', async () => {
    const w = [0.4, 0.6];
    const truth = new D.MixtureSameFamily(
      new D.Categorical({ probs: w }),
      new D.Normal([-1.5, 2], 1),
    );
    const yT = truth.sample([100], 8);
    truth.mixtureDistribution.dispose();
    truth.componentDistribution.dispose();
    const ys = Array.from(yT.dataSync());
    const model = (y: tf.Tensor): void => {
      const locs = ppl.sample('locs', new D.Normal([-2, 2], 2).toEvent(1));
      const mix = new D.MixtureSameFamily(new D.Categorical({ probs: w }), new D.Normal(locs, 1));
      ppl.plate('data', 100, () => ppl.sample('y', mix, { obs: y }));
    };
    const mcmc = new ppl.MCMC(new ppl.NUTS(model, { initStrategy: 'median' }), {
      numSamples: 300,
      warmupSteps: 200,
      seed: 6,
      progressBar: false,
    });
    await mcmc.run(yT);
    const el = mcmc.summary().locs!.elements;
    const norm = (x: number, m: number): number =>
      Math.exp(-0.5 * (x - m) ** 2) / Math.sqrt(2 * Math.PI);
    const logPost = (m0: number, m1: number): number => {
      let lp = -0.5 * ((m0 + 2) / 2) ** 2 - 0.5 * ((m1 - 2) / 2) ** 2;
      for (const y of ys) lp += Math.log(w[0]! * norm(y, m0) + w[1]! * norm(y, m1));
      return lp;
    };
    const [m0, m1, s0, s1] = gridMeans(logPost, [-3.5, 0.5], [0.5, 3.5]);
    expect(Math.abs(el[0]!.mean - m0)).toBeLessThan((5 * s0) / Math.sqrt(el[0]!.essBulk));
    expect(Math.abs(el[1]!.mean - m1)).toBeLessThan((5 * s1) / Math.sqrt(el[1]!.essBulk));
    yT.dispose();
  });
});

describe('autoguides on relaxed latent sites', { timeout: 600_000 }, () => {
  it('AutoNormal draws RelaxedBernoulli sites in (0, 1) and Concrete sites on the simplex', () => {
    setSeed(4);
    const model = (): void => {
      ppl.sample('b', new D.RelaxedBernoulli(0.5, { probs: 0.3 }));
      ppl.sample('c', new D.RelaxedOneHotCategorical(0.7, { logits: [0, 1, -1] }));
    };
    const guide = new ppl.AutoNormal(model);
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    for (let i = 0; i < 5; i++) expect(Number.isFinite(svi.step())).toBe(true);
    const draws = guide.samplePosterior(200);
    const b = Array.from((draws.b as tf.Tensor).dataSync());
    expect(b.every((v) => v > 0 && v < 1)).toBe(true);
    const c = draws.c as tf.Tensor;
    expect(c.shape).toEqual([200, 3]);
    const sums = tf.tidy(() => Array.from(tf.sum(c, -1).dataSync()));
    expect(sums.every((v) => Math.abs(v - 1) < 1e-5)).toBe(true);
    expect(Array.from(c.dataSync()).every((v) => v >= 0)).toBe(true);
    tf.dispose(Object.values(draws));
    guide.dispose();
    clearSeed();
  });

  it('AutoDiagonalNormal draws TruncatedNormal, Pareto and Kumaraswamy sites in their supports', () => {
    setSeed(5);
    const model = (): void => {
      ppl.sample('t', new D.TruncatedNormal(0, 1, -0.5, 1.5));
      ppl.sample('h', new D.TruncatedNormal(1, 2, 0.25));
      ppl.sample('p', new D.Pareto(2, 3));
      ppl.sample('k', new D.Kumaraswamy(2, 3));
    };
    const guide = new ppl.AutoDiagonalNormal(model);
    const svi = new ppl.SVI(model, guide, tf.train.adam(0.05), new ppl.TraceELBO());
    for (let i = 0; i < 5; i++) expect(Number.isFinite(svi.step())).toBe(true);
    const draws = guide.samplePosterior(300);
    const v = (k: string): number[] => Array.from((draws[k] as tf.Tensor).dataSync());
    expect(v('t').every((x) => x > -0.5 && x < 1.5)).toBe(true);
    expect(v('h').every((x) => x > 0.25)).toBe(true);
    expect(v('p').every((x) => x >= 2)).toBe(true);
    expect(v('k').every((x) => x > 0 && x < 1)).toBe(true);
    tf.dispose(Object.values(draws));
    guide.dispose();
    clearSeed();
  });
});
