/**
 * NumPyro's tutorial "Truncated and folded distributions", ported as its users write it:
 *
 * - `truncated_normal_model`: `loc ~ Normal()`, `scale ~ LogNormal()`, the observations
 *   `TruncatedNormal(loc, scale, high=high)` in a plate, by NUTS;
 * - `folded_student_model`: `df ~ Gamma(6, 2)`, `loc ~ Normal()`, `scale ~ LogNormal()`, the
 *   observations `FoldedDistribution(StudentT(df, loc, scale))`, by NUTS; the folded likelihood is
 *   even in `loc`, so the chain keeps one of the two mirrored modes and `|loc|` is compared.
 *
 * References: float64 grids over the parameters with the densities written in plain JS
 * (`log N(x) - log Φ((high - loc) / scale)`; `t(x) + t(-x)` with `@stdlib` `gammaln`). MCMC
 * tolerances are 5 Monte Carlo standard errors from the draws' bulk ESS plus the grid's step.
 */
import * as tf from '@tensorflow/tfjs';
import gammaln from '@stdlib/math-base-special-gammaln';
import normalLogcdf from '@stdlib/stats-base-dists-normal-logcdf';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';
import { rng, weightedMeans } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const lpN = (x: number, m: number, s: number): number =>
  -0.5 * Math.log(2 * Math.PI * s * s) - ((x - m) * (x - m)) / (2 * s * s);

describe("NumPyro's truncated and folded distributions tutorial", { timeout: 120_000 }, () => {
  it('truncated_normal_model: NUTS means of loc and scale match a 2-d grid', async () => {
    const high = 1.2;
    const N = 60;
    const r = rng(5);
    const xs: number[] = [];
    while (xs.length < N) {
      const x = 0.4 + 1.1 * r.n();
      if (x <= high) xs.push(x);
    }
    function truncatedNormalModel(numObservations: number, hi: number, x?: tf.Tensor): void {
      const loc = ppl.sample('loc', new D.Normal(0, 1));
      const scale = ppl.sample('scale', new D.LogNormal(0, 1));
      ppl.plate('observations', numObservations, () =>
        ppl.sample('x', new D.TruncatedNormal(loc, scale, undefined, hi), { obs: x }),
      );
    }
    const x = tf.tensor1d(xs);
    const mcmc = new ppl.MCMC(new ppl.NUTS(truncatedNormalModel), {
      numSamples: 500,
      warmupSteps: 300,
      progressBar: false,
      seed: 1,
    });
    await mcmc.run(N, high, x);
    // grid over (loc, log scale); LogNormal(0, 1) on scale is N(0, 1) on log scale
    const logw: number[] = [];
    const vals: number[][] = [];
    const G = 200;
    for (let i = 0; i < G; i++) {
      const loc = -2 + (4.5 * (i + 0.5)) / G;
      for (let j = 0; j < G; j++) {
        const ls = -1.2 + (2 * (j + 0.5)) / G;
        const s = Math.exp(ls);
        const logZ = normalLogcdf(high, loc, s);
        const ll = xs.reduce((a, v) => a + lpN(v, loc, s), 0) - N * logZ;
        logw.push(ll + lpN(loc, 0, 1) + lpN(ls, 0, 1));
        vals.push([loc, s]);
      }
    }
    const [wantLoc, wantScale] = weightedMeans(logw, vals) as [number, number];
    for (const [site, want] of [
      ['loc', wantLoc],
      ['scale', wantScale],
    ] as const) {
      const { mean, se } = meanAndSe(mcmc, site);
      expect(Math.abs(mean - want), `${site}: ${mean} vs ${want}`).toBeLessThan(5 * se + 0.01);
    }
    // the truncation matters: the sample mean is well below the fitted loc's untruncated mean
    expect(wantLoc - xs.reduce((a, b) => a + b, 0) / N).toBeGreaterThan(0.1);
    tf.dispose(x);
  });

  it('folded_student_model: NUTS means of df, |loc| and scale match a 3-d grid', async () => {
    const N = 50;
    const r = rng(17);
    // X ~ StudentT(4, 2, 0.6) by normal / sqrt(chi2_4 / 4); observed |X|
    const xs = Array.from({ length: N }, () => {
      const chi2 = [0, 1, 2, 3].reduce((a) => a + r.n() ** 2, 0);
      return Math.abs(2 + (0.6 * r.n()) / Math.sqrt(chi2 / 4));
    });
    function foldedStudentModel(numObservations: number, x?: tf.Tensor): void {
      const df = ppl.sample('df', new D.Gamma(6, 2));
      const loc = ppl.sample('loc', new D.Normal(0, 1));
      const scale = ppl.sample('scale', new D.LogNormal(0, 1));
      ppl.plate('obs', numObservations, () =>
        ppl.sample('x', new D.FoldedDistribution(new D.StudentT(df, loc, scale)), { obs: x }),
      );
    }
    const x = tf.tensor1d(xs);
    const mcmc = new ppl.MCMC(new ppl.NUTS(foldedStudentModel), {
      numSamples: 500,
      warmupSteps: 300,
      progressBar: false,
      seed: 2,
    });
    await mcmc.run(N, x);
    const lt = (v: number, nu: number, m: number, s: number, c: number): number => {
      const z = (v - m) / s;
      return c - Math.log(s) - ((nu + 1) / 2) * Math.log1p((z * z) / nu);
    };
    const logw: number[] = [];
    const vals: number[][] = [];
    const GD = 48;
    const GL = 60;
    const GS = 48;
    // loc > 0 only: the posterior is even in loc, so E|loc| is the mean over loc > 0
    for (let a = 0; a < GD; a++) {
      const nu = 0.5 + (11.5 * (a + 0.5)) / GD;
      const c = gammaln((nu + 1) / 2) - gammaln(nu / 2) - 0.5 * Math.log(nu * Math.PI);
      // Gamma(6, 2): 5 log nu - 2 nu (+ const)
      const lpDf = 5 * Math.log(nu) - 2 * nu;
      for (let b = 0; b < GL; b++) {
        const loc = (4 * (b + 0.5)) / GL;
        for (let k = 0; k < GS; k++) {
          const ls = -2.5 + (2.5 * (k + 0.5)) / GS;
          const s = Math.exp(ls);
          let ll = 0;
          for (const v of xs) {
            const p = lt(v, nu, loc, s, c);
            const q = lt(-v, nu, loc, s, c);
            const m = Math.max(p, q);
            ll += m + Math.log(Math.exp(p - m) + Math.exp(q - m));
          }
          logw.push(ll + lpDf + lpN(loc, 0, 1) + lpN(ls, 0, 1));
          vals.push([nu, loc, s]);
        }
      }
    }
    const [wantDf, wantLoc, wantScale] = weightedMeans(logw, vals) as [number, number, number];
    const samples = mcmc.getSamples();
    const locs = Array.from(samples.loc!.dataSync(), Math.abs);
    const absLoc = locs.reduce((a, b) => a + b, 0) / locs.length;
    const { se: seLoc } = meanAndSe(mcmc, 'loc');
    expect(Math.abs(absLoc - wantLoc), `|loc|: ${absLoc} vs ${wantLoc}`).toBeLessThan(
      5 * seLoc + 0.02,
    );
    for (const [site, want, step] of [
      ['df', wantDf, 0.05],
      ['scale', wantScale, 0.01],
    ] as const) {
      const { mean, se } = meanAndSe(mcmc, site);
      expect(Math.abs(mean - want), `${site}: ${mean} vs ${want}`).toBeLessThan(5 * se + step);
    }
    tf.dispose([x, ...Object.values(samples)]);
  });
});
