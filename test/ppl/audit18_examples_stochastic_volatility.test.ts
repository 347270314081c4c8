/**
 * NumPyro's `stochastic_volatility.py`: `sigma ~ Exponential(50)`, the log volatility
 * `s ~ GaussianRandomWalk(scale=sigma, num_steps=T)`, `nu ~ Exponential(0.1)`, returns
 * `r ~ StudentT(nu, 0, exp(s))`, on T = 12 returns drawn from the model (nu fixed at 5 by
 * `condition`). The centered walk is a funnel in (sigma, s) at this T; the test samples the
 * non-centered form a user writes for it (`s = deterministic(sigma * cumsum(eps))`) and checks
 * that both forms are one model: the centered log joint equals the non-centered one minus the
 * Jacobian `T log sigma`. Reference: float64 forward-backward over a fine grid of `s` for each
 * `sigma` of a log-spaced grid (an exact quadrature of the posterior), the posterior means of
 * `sigma` and of every `s_t`.
 */
import * as tf from '@tensorflow/tfjs';
import gammaln from '@stdlib/math-base-special-gammaln';
import { afterEach, describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../src/index.js';
import { clearSeed } from '../../src/utils/seed.js';
import { meanAndSe } from '../fixtures/mc.js';
import { rng } from '../fixtures/float64.js';

afterEach(() => {
  ppl.clearParamStore();
  clearSeed();
});

const T = 12;
const NU = 5;

/** T returns from the model: log volatility a walk of step 0.25, Student-t(5) shocks. */
function returns(): number[] {
  const { n } = rng(5);
  let s = 0;
  const out: number[] = [];
  for (let t = 0; t < T; t++) {
    s += 0.25 * n();
    let g = 0;
    for (let k = 0; k < NU; k++) g += n() ** 2;
    out.push((Math.exp(s) * n()) / Math.sqrt(g / NU));
  }
  return out;
}

/** The example's model, as written there. */
const centered = (r: tf.Tensor): tf.Tensor => {
  const stepSize = ppl.sample('sigma', new D.Exponential(50));
  const s = ppl.sample('s', new D.GaussianRandomWalk(stepSize, r.shape[0] as number));
  const nu = ppl.sample('nu', new D.Exponential(0.1));
  return ppl.sample('r', new D.StudentT(nu, 0, tf.exp(s)), { obs: r });
};

/** The same model with the walk's increments sampled standardized. */
const nonCentered = (r: tf.Tensor): tf.Tensor => {
  const stepSize = ppl.sample('sigma', new D.Exponential(50));
  const eps = ppl.sample('eps', new D.Normal(tf.zeros([r.shape[0] as number]), 1).toEvent(1));
  const s = ppl.deterministic('s', tf.cumsum(tf.mul(stepSize, eps)));
  const nu = ppl.sample('nu', new D.Exponential(0.1));
  return ppl.sample('r', new D.StudentT(nu, 0, tf.exp(s)), { obs: r });
};

const studentLp = (x: number, nu: number, scale: number): number =>
  gammaln((nu + 1) / 2) -
  gammaln(nu / 2) -
  0.5 * Math.log(nu * Math.PI) -
  Math.log(scale) -
  ((nu + 1) / 2) * Math.log1p((x / scale) ** 2 / nu);

/**
 * Posterior means of sigma and s_1..s_T (nu fixed): for each sigma of a log-spaced grid, the
 * forward algorithm over a grid of s (spacing sigma / 6 over +-5 sigma sqrt(T)) gives
 * p(r | sigma) and the smoothed means E[s_t | r, sigma]; sigma weighted by p(r | sigma) p(sigma).
 */
function reference(rets: number[]): { sigma: number; s: number[] } {
  const SG = 60;
  const M = 201;
  const lw: number[] = [];
  const sig: number[] = [];
  const sm: number[][] = [];
  for (let g = 0; g < SG; g++) {
    const sg = Math.exp(Math.log(1e-5) + ((0 - Math.log(1e-5)) * (g + 0.5)) / SG);
    const R = 5 * sg * Math.sqrt(T);
    const h = (2 * R) / (M - 1);
    const grid = Array.from({ length: M }, (_, i) => -R + i * h);
    const tr = grid.map((a) => grid.map((b) => Math.exp(-0.5 * ((b - a) / sg) ** 2)));
    const emit = (t: number): number[] =>
      grid.map((b) => Math.exp(studentLp(rets[t]!, NU, Math.exp(b))));
    const alphas: number[][] = [];
    let logZ = 0;
    let prev: number[] = grid.map((b) => Math.exp(-0.5 * (b / sg) ** 2));
    for (let t = 0; t < T; t++) {
      let a = prev;
      if (t > 0) {
        a = grid.map((_, j) => {
          let acc = 0;
          for (let i = 0; i < M; i++) acc += prev[i]! * tr[i]![j]!;
          return acc;
        });
      }
      const e = emit(t);
      a = a.map((v, j) => (v * e[j]! * h) / (sg * Math.sqrt(2 * Math.PI)));
      const z = a.reduce((x, y) => x + y, 0);
      logZ += Math.log(z);
      a = a.map((v) => v / z);
      alphas.push(a);
      prev = a;
    }
    let beta: number[] = new Array<number>(M).fill(1);
    const means = new Array<number>(T).fill(0);
    for (let t = T - 1; t >= 0; t--) {
      if (t < T - 1) {
        const e = emit(t + 1);
        const eb = beta.map((b, j) => b * e[j]!);
        beta = grid.map((_, i) => {
          let acc = 0;
          for (let j = 0; j < M; j++) acc += tr[i]![j]! * eb[j]!;
          return acc;
        });
        const mb = Math.max(...beta);
        beta = beta.map((v) => v / mb);
      }
      const post = alphas[t]!.map((v, j) => v * beta[j]!);
      const zz = post.reduce((x, y) => x + y, 0);
      means[t] = post.reduce((acc, v, j) => acc + v * grid[j]!, 0) / zz;
    }
    // Exponential(50) prior, log-spaced grid: p(sigma) d sigma = p(sigma) sigma d log sigma
    lw.push(logZ + Math.log(50) - 50 * sg + Math.log(sg));
    sig.push(sg);
    sm.push(means);
  }
  const mx = Math.max(...lw);
  const ws = lw.map((l) => Math.exp(l - mx));
  const z = ws.reduce((a, b) => a + b, 0);
  return {
    sigma: ws.reduce((a, w, g) => a + w * sig[g]!, 0) / z,
    s: Array.from({ length: T }, (_, t) => ws.reduce((a, w, g) => a + w * sm[g]![t]!, 0) / z),
  };
}

describe("NumPyro's stochastic volatility model", { timeout: 120_000 }, () => {
  it('the centered GaussianRandomWalk log joint is the non-centered one minus T log sigma', () => {
    const r = tf.tensor1d(returns());
    const sigma = 0.07;
    const epsV = Array.from({ length: T }, (_, t) => Math.sin(1.3 * t) + 0.1 * t);
    const sV: number[] = [];
    epsV.reduce((acc, e) => {
      sV.push(acc + sigma * e);
      return acc + sigma * e;
    }, 0);
    const common = { sigma: tf.scalar(sigma), nu: tf.scalar(NU) };
    const eps = tf.tensor1d(epsV);
    const s = tf.tensor1d(sV);
    const before = tf.memory().numTensors;
    const lc = ppl.trace(ppl.condition(centered, { ...common, s })).getTrace(r);
    const ln = ppl.trace(ppl.condition(nonCentered, { ...common, eps })).getTrace(r);
    const [la, lb] = [lc.logProbSum(), ln.logProbSum()];
    const a = la.dataSync()[0]!;
    const b = lb.dataSync()[0]!;
    tf.dispose([la, lb]);
    lc.dispose();
    ln.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(a).toBeCloseTo(b - T * Math.log(sigma), 2);
    // and the centered one against the host: walk increments, Exponential priors, Student-t returns
    let host = Math.log(50) - 50 * sigma + Math.log(0.1) - 0.1 * NU;
    sV.forEach((v, t) => {
      const inc = v - (t === 0 ? 0 : sV[t - 1]!);
      host += -0.5 * (inc / sigma) ** 2 - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI);
    });
    const rv = Array.from(r.dataSync());
    rv.forEach((x, t) => (host += studentLp(x, NU, Math.exp(sV[t]!))));
    expect(a).toBeCloseTo(host, 2);
    tf.dispose([r, eps, s, ...Object.values(common)]);
  });

  it('NUTS means of sigma and of every s_t match forward-backward quadrature', async () => {
    const rets = returns();
    const r = tf.tensor1d(rets);
    const nu = tf.scalar(NU);
    const mcmc = new ppl.MCMC(new ppl.NUTS(ppl.condition(nonCentered, { nu })), {
      numSamples: 600,
      warmupSteps: 400,
      progressBar: false,
      seed: 2,
    });
    await mcmc.run(r);
    const ref = reference(rets);
    const sg = meanAndSe(mcmc, 'sigma');
    expect(Math.abs(sg.mean - ref.sigma)).toBeLessThan(5 * sg.se + 0.002);
    for (let t = 0; t < T; t++) {
      const { mean, se } = meanAndSe(mcmc, 's', t);
      expect(Math.abs(mean - ref.s[t]!)).toBeLessThan(5 * se + 0.005);
    }
    // the reference itself is not the prior: the data moved the volatility
    expect(Math.abs(ref.s[T - 1]!)).toBeGreaterThan(0.02);
    const samples = mcmc.getSamples();
    expect(samples.s!.shape).toEqual([600, T]);
    tf.dispose([r, nu, ...Object.values(samples)]);
  });
});
