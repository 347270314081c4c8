import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Bernoulli, Beta, Normal, Poisson } from '../../../src/distributions/index.js';
import { deterministic } from '../../../src/ppl/deterministic.js';
import {
  ChainRng,
  HMC,
  MCMC,
  NUTS,
  initToMedian,
  initToValue,
  initialPoint,
  type Potential,
} from '../../../src/ppl/mcmc/index.js';
import { sample } from '../../../src/ppl/runtime.js';
import { ArgumentError } from '../../../src/utils/errors.js';
import { expectNoLeakAsync } from '../../helpers.js';

/** A Gaussian potential `U = (z - m)^T P (z - m) / 2` on the host (exact gradient, float64). */
function gaussian(mean: number[], cov: number[][]): Potential {
  const d = mean.length;
  // invert cov by Gauss-Jordan (small d)
  const a = cov.map((r, i) => [...r, ...Array.from({ length: d }, (_, j) => (i === j ? 1 : 0))]);
  for (let i = 0; i < d; i++) {
    const piv = (a[i] as number[])[i] as number;
    for (let j = 0; j < 2 * d; j++) (a[i] as number[])[j] = ((a[i] as number[])[j] as number) / piv;
    for (let k = 0; k < d; k++) {
      if (k === i) continue;
      const f = (a[k] as number[])[i] as number;
      for (let j = 0; j < 2 * d; j++) {
        (a[k] as number[])[j] =
          ((a[k] as number[])[j] as number) - f * ((a[i] as number[])[j] as number);
      }
    }
  }
  const P = a.map((r) => r.slice(d));
  return {
    dim: d,
    valueAndGrad(z) {
      const diff = Array.from(z, (v, i) => v - (mean[i] as number));
      const grad = new Float64Array(d);
      let u = 0;
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += ((P[i] as number[])[j] as number) * (diff[j] as number);
        grad[i] = s;
        u += 0.5 * s * (diff[i] as number);
      }
      return { value: u, grad };
    },
  };
}

/** Column `j` of draws `[n, d]`. */
function column(x: tf.Tensor, j: number): number[] {
  const d = x.shape[1] as number;
  const v = x.dataSync();
  return Array.from({ length: x.shape[0] as number }, (_, i) => v[i * d + j] as number);
}
const meanOf = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
const sdOf = (a: number[]): number => {
  const m = meanOf(a);
  return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1));
};

describe('NUTS on exact targets', () => {
  it('Gaussian with known mean and covariance (diag mass, scales 0.1 to 10)', async () => {
    const mean = [1, -2, 5, 0];
    const sds = [0.1, 1, 10, 3];
    const pot = gaussian(
      mean,
      sds.map((s, i) => sds.map((_, j) => (i === j ? s * s : 0))),
    );
    const mcmc = new MCMC(new NUTS(pot), {
      numSamples: 1000,
      warmupSteps: 500,
      seed: 3,
      progressBar: false,
    });
    await mcmc.run();
    const s = mcmc.summary().z;
    const z = mcmc.getSamples().z as tf.Tensor;
    expect(z.shape).toEqual([1000, 4]);
    for (let j = 0; j < 4; j++) {
      const e = s?.elements[j];
      const col = column(z, j);
      expect(e?.mean).toBeCloseTo(meanOf(col), 6);
      // Monte Carlo tolerance from the bulk ESS: 4 standard errors of the mean and of the sd.
      const essB = e?.essBulk as number;
      expect(essB).toBeGreaterThan(200);
      expect(Math.abs(meanOf(col) - (mean[j] as number))).toBeLessThan(
        (4 * (sds[j] as number)) / Math.sqrt(essB),
      );
      expect(Math.abs(sdOf(col) / (sds[j] as number) - 1)).toBeLessThan(4 / Math.sqrt(2 * essB));
      expect(e?.rHat).toBeLessThan(1.05);
    }
    // the adapted diagonal inverse metric estimates the variances
    z.dispose();
    expect(mcmc.numDivergences).toBe(0);
    const st = mcmc.getExtraFields()[0];
    const meanAccept = (st?.acceptStat as Float64Array).reduce((a, b) => a + b, 0) / 1000;
    expect(meanAccept).toBeGreaterThan(0.7);
  }, 600_000);

  it('correlated 2-D Gaussian: the dense metric learns the covariance and needs fewer steps', async () => {
    const mean = [1, -2];
    const cov = [
      [1, 1.9],
      [1.9, 4],
    ];
    const run = async (fullMass: boolean) => {
      const mcmc = new MCMC(new NUTS(gaussian(mean, cov), { fullMass }), {
        numSamples: 1000,
        warmupSteps: 500,
        seed: 11,
        progressBar: false,
      });
      await mcmc.run();
      return mcmc;
    };
    const dense = await run(true);
    const diag = await run(false);
    const z = dense.getSamples().z as tf.Tensor;
    const a = column(z, 0);
    const b = column(z, 1);
    z.dispose();
    const s = dense.summary().z?.elements ?? [];
    const essMin = Math.min(...s.map((e) => e.essBulk));
    expect(Math.abs(meanOf(a) - 1)).toBeLessThan(4 / Math.sqrt(essMin));
    expect(Math.abs(meanOf(b) + 2)).toBeLessThan((4 * 2) / Math.sqrt(essMin));
    const ma = meanOf(a);
    const mb = meanOf(b);
    const c = a.reduce((acc, v, i) => acc + (v - ma) * ((b[i] as number) - mb), 0) / (a.length - 1);
    expect(c / (sdOf(a) * sdOf(b))).toBeCloseTo(0.95, 1);
    expect(Math.abs(sdOf(b) / 2 - 1)).toBeLessThan(4 / Math.sqrt(2 * essMin));
    const steps = (m: MCMC) =>
      (m.getExtraFields()[0]?.numSteps as Int32Array).reduce((x, y) => x + y, 0);
    expect(steps(dense)).toBeLessThan(0.6 * steps(diag));
  }, 600_000);

  it('HMC (fixed trajectory length) on a Gaussian', async () => {
    const mcmc = new MCMC(
      new HMC(
        gaussian(
          [2, -1],
          [
            [1, 0],
            [0, 0.25],
          ],
        ),
        { trajectoryLength: 2 },
      ),
      {
        numSamples: 800,
        warmupSteps: 300,
        seed: 5,
        progressBar: false,
      },
    );
    await mcmc.run();
    const el = mcmc.summary().z?.elements ?? [];
    expect(Math.abs((el[0]?.mean as number) - 2)).toBeLessThan(
      4 / Math.sqrt(el[0]?.essBulk as number),
    );
    expect(Math.abs((el[1]?.mean as number) + 1)).toBeLessThan(
      2 / Math.sqrt(el[1]?.essBulk as number),
    );
    expect(el[1]?.sd).toBeCloseTo(0.5, 1);
  }, 600_000);
});

describe('NUTS on models', () => {
  // Beta(2, 3) prior, 14 successes in 20 trials: posterior Beta(16, 9).
  const y = Array.from({ length: 20 }, (_, i) => (i < 14 ? 1 : 0));
  const betaBernoulli = (obs: tf.Tensor) => {
    const p = sample('p', new Beta(2, 3));
    deterministic('odds', tf.div(p, tf.sub(1, p)));
    sample('y', new Bernoulli({ probs: p }), { obs });
  };

  it('Beta–Bernoulli conjugate posterior (unit-interval support through bijectTo)', async () => {
    const obs = tf.tensor1d(y);
    const mcmc = new MCMC(new NUTS(betaBernoulli), {
      numSamples: 250,
      warmupSteps: 150,
      seed: 7,
      progressBar: false,
    });
    await expectNoLeakAsync(async () => {
      await mcmc.run(obs);
      const s = mcmc.getSamples();
      expect(Object.keys(s).sort()).toEqual(['odds', 'p']);
      expect(s.p?.shape).toEqual([250]);
      tf.dispose(Object.values(s));
    });
    const e = mcmc.summary().p?.elements[0];
    const a = 16;
    const b = 9;
    const mean = a / (a + b);
    const sd = Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1)));
    expect(Math.abs((e?.mean as number) - mean)).toBeLessThan(
      (4 * sd) / Math.sqrt(e?.essBulk as number),
    );
    expect(Math.abs((e?.sd as number) / sd - 1)).toBeLessThan(
      4 / Math.sqrt(2 * (e?.essBulk as number)),
    );
    expect(mcmc.printSummary()).toMatch(/Number of divergences: 0/);
    obs.dispose();
  }, 600_000);

  it('same seed: bit-identical chains; another seed: different; grouped by chain', async () => {
    const obs = tf.tensor1d([0.3, -1.2, 2.2]);
    const normalMean = (x: tf.Tensor) => {
      const mu = sample('mu', new Normal(0, 10));
      sample('x', new Normal(mu, 1), { obs: x });
    };
    const draw = async (seed: number) => {
      const m = new MCMC(new NUTS(normalMean, { initStrategy: 'median' }), {
        numSamples: 10,
        warmupSteps: 10,
        numChains: 2,
        seed,
        progressBar: false,
      });
      await m.run(obs);
      const g = m.getSamples({ groupByChain: true });
      expect(g.mu?.shape).toEqual([2, 10]);
      const v = Array.from(g.mu?.dataSync() ?? []);
      tf.dispose(Object.values(g));
      return v;
    };
    const a = await draw(1);
    const b = await draw(1);
    const c = await draw(2);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    obs.dispose();
  }, 600_000);

  it('initToValue / median / uniform initial points in the unconstrained space', () => {
    const obs = tf.tensor1d(y);
    const before = tf.memory().numTensors;
    const v = initialPoint(betaBernoulli, [obs], initToValue({ p: 0.3 }), new ChainRng(0));
    expect(v.sites.map((s) => [s.name, s.shape, s.size])).toEqual([['p', [], 1]]);
    expect(v.z[0]).toBeCloseTo(Math.log(0.3 / 0.7), 5); // sigmoid^{-1}(0.3)
    const u = initialPoint(betaBernoulli, [obs], 'uniform', new ChainRng(1));
    expect(Math.abs(u.z[0] as number)).toBeLessThanOrEqual(2);
    // median of 15 prior draws of Beta(2, 3): near the prior median 0.386
    const m = initialPoint(betaBernoulli, [obs], initToMedian(), new ChainRng(2));
    const pm = 1 / (1 + Math.exp(-(m.z[0] as number)));
    expect(pm).toBeGreaterThan(0.15);
    expect(pm).toBeLessThan(0.65);
    expect(tf.memory().numTensors).toBe(before);
    expect(() =>
      initialPoint(betaBernoulli, [obs], initToValue({ q: 1 }), new ChainRng(0)),
    ).toThrow(/q/);
    obs.dispose();
  });

  it('rejects discrete latent sites it cannot sum out naming the site, and bad options naming the option', async () => {
    // a finite support is summed out (enumeration.test.ts); an infinite one is refused
    const discrete = () => {
      const k = sample('count', new Poisson(2));
      const mu = sample('mu', new Normal(0, 1));
      sample('x', new Normal(tf.add(mu, k), 1), { obs: 0.3 });
    };
    await expect(
      new MCMC(new NUTS(discrete), { numSamples: 5, progressBar: false }).run(),
    ).rejects.toThrow(/'count' has the discrete support 'nonnegativeInteger'/);
    expect(() => new NUTS(betaBernoulli, { maxTreeDepth: 0 })).toThrow(ArgumentError);
    expect(() => new NUTS(betaBernoulli, { targetAcceptProb: 1.2 })).toThrow(/targetAcceptProb/);
    expect(() => new MCMC(new NUTS(betaBernoulli), { numSamples: 0 })).toThrow(/numSamples/);
    expect(() => new MCMC(new NUTS(betaBernoulli), { numSamples: 5, numChains: 1.5 })).toThrow(
      /numChains/,
    );
    expect(() => new NUTS(42)).toThrow(/model/);
    expect(() => new MCMC(new NUTS(betaBernoulli), { numSamples: 5 }).getSamples()).toThrow(/run/);
  }, 600_000);
});
