/**
 * NumPyro's tutorial "Bayesian Regression Using NumPyro" (the WaffleDivorce models of Statistical
 * Rethinking), ported as its users write it, on simulated standardized data for 24 states:
 *
 * - model 1 (divorce ~ marriage rate) and model 2 (divorce ~ median marriage age) by NUTS, the
 *   posterior predictive by `Predictive`, the pointwise `log_likelihood` and the log pointwise
 *   predictive density `logsumexp(log_lik, 0) - log(S)`, and the two models ranked by `compare`
 *   (ArviZ) on PSIS-LOO;
 * - model 3, the measurement-error model (the true divorce rates latent, observed with known
 *   standard errors), by NUTS.
 *
 * References in float64: given `sigma` the coefficients are Gaussian, so the posterior is a 1-d
 * grid over `log sigma` with `(a, bM, bA)` (and the true rates) integrated exactly; the exact
 * leave-one-out predictive `p(y_i | y_{-i}) = Z(y) / Z(y_{-i})` from the same grid; the
 * log-likelihood of each draw by the Normal density in plain JS. MCMC tolerances are 5 Monte Carlo
 * standard errors from the draws' bulk ESS (the ESS of one 500-draw chain is itself uncertain:
 * runs of 3000-4000 draws agree with the grid within 2 standard errors).
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed, setSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';
import { cholesky, cholSolve, rng } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

/** Standardize: `(x - mean) / sd`, as the tutorial's `standardize`. */
const standardize = (x: number[]): number[] => {
  const m = x.reduce((a, b) => a + b, 0) / x.length;
  const sd = Math.sqrt(x.reduce((a, v) => a + (v - m) ** 2, 0) / (x.length - 1));
  return x.map((v) => (v - m) / sd);
};

/**
 * The linear-Gaussian regression `y = X beta + e`, `beta ~ N(0, diag(priorVar))`,
 * `e ~ N(0, sigma^2 I + diag(extraVar))`, `sigma ~ Exponential(1)`, on a grid over `log sigma`:
 * the log-evidence `log Z(y)` and the posterior means of `beta`, `sigma` and
 * `E[X beta + e_sigma | y]` (the true rates when `extraVar` is the measurement variance).
 */
function gridPosterior(
  X: number[][],
  y: number[],
  priorVar: number[],
  extraVar: number[],
): { logZ: number; beta: number[]; sigma: number; rates: number[] } {
  const G = 600;
  const lo = -4;
  const hi = 2;
  const h = (hi - lo) / G;
  const n = y.length;
  const logw: number[] = [];
  const vals: number[][] = [];
  for (let g = 0; g < G; g++) {
    const ls = lo + h * (g + 0.5);
    const s2 = Math.exp(2 * ls);
    const K = X.map((xi, i) =>
      X.map((xj, j) => {
        let v = xi.reduce((a, x, k) => a + x * priorVar[k]! * xj[k]!, 0);
        if (i === j) v += s2 + extraVar[i]!;
        return v;
      }),
    );
    const L = cholesky(K);
    const alpha = cholSolve(L, y);
    const logdet = 2 * L.reduce((a, row, i) => a + Math.log(row[i]!), 0);
    const ll =
      -0.5 * y.reduce((a, v, i) => a + v * alpha[i]!, 0) -
      0.5 * logdet -
      0.5 * n * Math.log(2 * Math.PI);
    // Exponential(1) prior on sigma, Jacobian d sigma = sigma d log sigma, cell width h
    logw.push(ll - Math.exp(ls) + ls + Math.log(h));
    const beta = priorVar.map((pv, k) => pv * X.reduce((a, xi, i) => a + xi[k]! * alpha[i]!, 0));
    // E[X beta + e | y] = y - diag(extraVar) K^{-1} y
    const rates = y.map((v, i) => v - extraVar[i]! * alpha[i]!);
    vals.push([...beta, Math.exp(ls), ...rates]);
  }
  const mx = Math.max(...logw);
  const ws = logw.map((l) => Math.exp(l - mx));
  const z = ws.reduce((a, b) => a + b, 0);
  const mean = vals[0]!.map((_, k) => ws.reduce((a, w, g) => a + w * vals[g]![k]!, 0) / z);
  const P = priorVar.length;
  return {
    logZ: mx + Math.log(z),
    beta: mean.slice(0, P),
    sigma: mean[P]!,
    rates: mean.slice(P + 1),
  };
}

const lpN = (x: number, m: number, s: number): number =>
  -0.5 * Math.log(2 * Math.PI * s * s) - ((x - m) * (x - m)) / (2 * s * s);

// simulated WaffleDivorce-like data: median age at marriage drives divorce, the marriage rate
// is correlated with age but has no effect of its own
const N = 24;
const r = rng(2024);
const ageRaw = Array.from({ length: N }, () => 26 + 1.2 * r.n());
const marriageRaw = ageRaw.map((a) => 20 - 1.5 * (a - 26) + 2.5 * r.n());
const divorceRaw = ageRaw.map((a) => 9.7 - 1.1 * (a - 26) + 1.2 * r.n());
const age = standardize(ageRaw);
const marriage = standardize(marriageRaw);
const divorce = standardize(divorceRaw);
const divorceSd = Array.from({ length: N }, () => 0.25 + 0.5 * r.u());

/** The tutorial's `model(marriage=None, age=None, divorce=None)`. */
function model(m?: tf.Tensor, a?: tf.Tensor, y?: tf.Tensor): void {
  const alpha = ppl.sample('a', new D.Normal(0, 0.2));
  let M: tf.Tensor | number = 0;
  let A: tf.Tensor | number = 0;
  if (m !== undefined) {
    const bM = ppl.sample('bM', new D.Normal(0, 0.5));
    M = tf.mul(bM, m);
  }
  if (a !== undefined) {
    const bA = ppl.sample('bA', new D.Normal(0, 0.5));
    A = tf.mul(bA, a);
  }
  const sigma = ppl.sample('sigma', new D.Exponential(1));
  const mu = tf.add(tf.add(alpha, M), A);
  ppl.sample('obs', new D.Normal(mu, sigma), { obs: y });
}

/** The tutorial's `model_se(marriage, age, divorce_sd, divorce=None)`. */
function modelSe(m: tf.Tensor, a: tf.Tensor, sd: tf.Tensor, y?: tf.Tensor): void {
  const alpha = ppl.sample('a', new D.Normal(0, 0.2));
  const bM = ppl.sample('bM', new D.Normal(0, 0.5));
  const bA = ppl.sample('bA', new D.Normal(0, 0.5));
  const sigma = ppl.sample('sigma', new D.Exponential(1));
  const mu = tf.add(tf.add(alpha, tf.mul(bM, m)), tf.mul(bA, a));
  const divorceRate = ppl.sample('divorce_rate', new D.Normal(mu, sigma));
  ppl.sample('obs', new D.Normal(divorceRate, sd), { obs: y });
}

async function nuts<A extends unknown[]>(
  fn: (...args: A) => void,
  seed: number,
  ...args: A
): Promise<ppl.MCMC> {
  const mcmc = new ppl.MCMC(new ppl.NUTS(fn), {
    numSamples: 500,
    warmupSteps: 300,
    progressBar: false,
    seed,
  });
  await mcmc.run(...args);
  return mcmc;
}

describe("NumPyro's Bayesian regression tutorial (divorce rates)", { timeout: 120_000 }, () => {
  const mT = tf.tensor1d(marriage);
  const aT = tf.tensor1d(age);
  const yT = tf.tensor1d(divorce);
  const sdT = tf.tensor1d(divorceSd);
  const zeros = new Array<number>(N).fill(0);
  afterAll(() => tf.dispose([mT, aT, yT, sdT]));

  it('models 1 and 2: NUTS means, posterior predictive, log_likelihood, lppd and compare against exact references', async () => {
    const m1 = await nuts(model, 1, mT, undefined, yT);
    const m2 = await nuts(model, 2, undefined, aT, yT);
    const ref1 = gridPosterior(
      marriage.map((v) => [1, v]),
      divorce,
      [0.04, 0.25],
      zeros,
    );
    const ref2 = gridPosterior(
      age.map((v) => [1, v]),
      divorce,
      [0.04, 0.25],
      zeros,
    );
    const checks: [ppl.MCMC, string, number][] = [
      [m1, 'a', ref1.beta[0]!],
      [m1, 'bM', ref1.beta[1]!],
      [m1, 'sigma', ref1.sigma],
      [m2, 'a', ref2.beta[0]!],
      [m2, 'bA', ref2.beta[1]!],
      [m2, 'sigma', ref2.sigma],
    ];
    for (const [mc, site, want] of checks) {
      const { mean, se } = meanAndSe(mc, site);
      expect(Math.abs(mean - want), `${site}: ${mean} vs ${want}`).toBeLessThan(5 * se + 2e-3);
    }
    // age is the stronger predictor (the simulated truth); the grid says so too
    expect(ref2.beta[1]!).toBeLessThan(-0.5);

    // posterior predictive of model 2 at the observed ages: the mean over draws of obs_i is
    // E[a + bA age_i]; its MC error from the draws' spread
    const s2 = m2.getSamples();
    setSeed(3);
    const pred = new ppl.Predictive(model, { posteriorSamples: s2 }).call(undefined, aT);
    expect(pred.obs!.shape).toEqual([500, N]);
    const po = pred.obs!.arraySync() as number[][];
    const { se: seA } = meanAndSe(m2, 'a');
    const { se: seB } = meanAndSe(m2, 'bA');
    for (const i of [0, 7, 15, 23]) {
      const col = po.map((row) => row[i]!);
      const mean = col.reduce((x, v) => x + v, 0) / col.length;
      const sd = Math.sqrt(col.reduce((x, v) => x + (v - mean) ** 2, 0) / (col.length - 1));
      const want = ref2.beta[0]! + ref2.beta[1]! * age[i]!;
      const tol = 4 * (sd / Math.sqrt(col.length) + seA + Math.abs(age[i]!) * seB);
      expect(Math.abs(mean - want), `obs[${i}]`).toBeLessThan(tol);
    }

    // log_likelihood: [S, N], each entry Normal(y_i; a + bA age_i, sigma) of the draw
    const ll1 = ppl.logLikelihood(model, m1.getSamples(), mT, undefined, yT);
    const ll2 = ppl.logLikelihood(model, s2, undefined, aT, yT);
    expect(Object.keys(ll2)).toEqual(['obs']);
    expect(ll2.obs!.shape).toEqual([500, N]);
    const llv = ll2.obs!.arraySync() as number[][];
    const av = Array.from(s2.a!.dataSync());
    const bv = Array.from(s2.bA!.dataSync());
    const sv = Array.from(s2.sigma!.dataSync());
    for (const s of [0, 123, 499]) {
      for (const i of [0, 11, 23]) {
        const want = lpN(divorce[i]!, av[s]! + bv[s]! * age[i]!, sv[s]!);
        expect(llv[s]![i]!).toBeCloseTo(want, 3);
      }
    }
    // the tutorial's log pointwise predictive density is WAIC's lppd
    const lppd = llv[0]!.reduce((acc, _, i) => {
      const col = llv.map((row) => row[i]!);
      const mx = Math.max(...col);
      return acc + mx + Math.log(col.reduce((x, v) => x + Math.exp(v - mx), 0) / col.length);
    }, 0);
    expect(ppl.waic(ll2.obs!).lppd).toBeCloseTo(lppd, 6);

    // compare on PSIS-LOO: elpd_loo against the exact leave-one-out predictive
    // log p(y_i | y_-i) = log Z(y) - log Z(y_-i), within its Monte Carlo error
    const rows = ppl.compare({ marriage: ll1.obs!, age: ll2.obs! });
    expect(rows.map((x) => x.name)).toEqual(['age', 'marriage']);
    const exactLoo = (X: number[][]): number => {
      const full = gridPosterior(X, divorce, [0.04, 0.25], zeros).logZ;
      let e = 0;
      for (let i = 0; i < N; i++) {
        const keep = (_: unknown, j: number): boolean => j !== i;
        e +=
          full -
          gridPosterior(X.filter(keep), divorce.filter(keep), [0.04, 0.25], zeros.slice(1)).logZ;
      }
      return e;
    };
    /** The Monte Carlo s.e. of `Σ_i -log mean_s exp(-l_si)` with half the draws effective. */
    const looSe = (ll: number[][]): number => {
      let v = 0;
      for (let i = 0; i < N; i++) {
        const inv = ll.map((row) => Math.exp(-row[i]!));
        const m = inv.reduce((a, b) => a + b, 0) / inv.length;
        const sd = Math.sqrt(inv.reduce((a, b) => a + (b - m) ** 2, 0) / (inv.length - 1));
        v += (sd / m) ** 2 / (inv.length / 2);
      }
      return Math.sqrt(v);
    };
    const want = {
      marriage: exactLoo(marriage.map((v) => [1, v])),
      age: exactLoo(age.map((v) => [1, v])),
    };
    const lls = { marriage: ll1.obs!.arraySync() as number[][], age: llv };
    for (const row of rows) {
      const k = row.name as keyof typeof want;
      expect(Math.abs(row.elpd - want[k]), `${k}: ${row.elpd} vs ${want[k]}`).toBeLessThan(
        4 * looSe(lls[k]) + 0.05,
      );
    }
    // the exact difference is several of its standard errors: age carries (almost) all weight
    expect(want.age - want.marriage).toBeGreaterThan(2 * rows[1]!.dse);
    expect(rows[0]!.weight).toBeGreaterThan(0.8);
    tf.dispose([...Object.values(pred), ll1.obs!, ll2.obs!]);
    tf.dispose([...Object.values(s2), ...Object.values(m1.getSamples())]);
  });

  it('model 3, measurement error: NUTS means of the coefficients and the true rates match the exact grid', async () => {
    const mc = await nuts(modelSe, 5, mT, aT, sdT, yT);
    const ref = gridPosterior(
      marriage.map((v, i) => [1, v, age[i]!]),
      divorce,
      [0.04, 0.25, 0.25],
      divorceSd.map((s) => s * s),
    );
    const checks: [string, number, number][] = [
      ['a', 0, ref.beta[0]!],
      ['bM', 0, ref.beta[1]!],
      ['bA', 0, ref.beta[2]!],
      ['sigma', 0, ref.sigma],
      ...[0, 5, 12, 23].map((i): [string, number, number] => ['divorce_rate', i, ref.rates[i]!]),
    ];
    for (const [site, i, want] of checks) {
      const { mean, se } = meanAndSe(mc, site, i);
      expect(Math.abs(mean - want), `${site}[${i}]: ${mean} vs ${want}`).toBeLessThan(
        5 * se + 2e-3,
      );
    }
    const s = mc.getSamples();
    expect(s.divorce_rate!.shape).toEqual([500, N]);
    tf.dispose(Object.values(s));
  });
});
