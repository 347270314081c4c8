/**
 * Audit 18: NumPyro's option names as a NumPyro user writes them. `MCMC(..., {numWarmup})`
 * (NumPyro's `num_warmup`, our `warmupSteps`) and `NUTS/HMC(model, {denseMass})` (NumPyro's
 * `dense_mass`, our `fullMass`) were refused as unknown options; they are now the same settings
 * under NumPyro's names (the same draws, bit for bit), refused when both names disagree. A 10-d
 * correlated Gaussian under `denseMass: true`: means and standard deviations within 5 Monte Carlo
 * standard errors (from the bulk ESS) and a dense adapted inverse mass close to the covariance.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';
import { ArgumentError } from '../../../src/utils/errors.js';

const model = (): void => {
  ppl.sample('a', new D.Normal(1, 2));
  ppl.sample('b', new D.HalfNormal(1));
};

function draws(m: ppl.MCMC): Record<string, number[]> {
  const s = m.getSamples();
  const out = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, Array.from(v.dataSync())]));
  tf.dispose(Object.values(s));
  return out;
}

function argumentError(f: () => unknown): ArgumentError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ArgumentError);
  return err as ArgumentError;
}

describe("MCMC numWarmup: NumPyro's num_warmup", () => {
  it('numWarmup n gives the draws of warmupSteps n; both equal are accepted', () => {
    const run = (o: { warmupSteps?: number; numWarmup?: number }): ppl.MCMC => {
      const m = new ppl.MCMC(new ppl.NUTS(model), {
        numSamples: 15,
        ...o,
        numChains: 2,
        seed: 7,
        progressBar: false,
      });
      m.runSync();
      return m;
    };
    const a = run({ warmupSteps: 12 });
    const b = run({ numWarmup: 12 });
    const c = run({ numWarmup: 12, warmupSteps: 12 });
    expect(b.warmupSteps).toBe(12);
    expect(draws(b)).toEqual(draws(a));
    expect(draws(c)).toEqual(draws(a));
    // and it is used: another warmup length gives other draws
    expect(draws(run({ numWarmup: 3 }))).not.toEqual(draws(a));
    expect(run({ numWarmup: 0 }).warmupSteps).toBe(0);
  });

  it('a bad numWarmup, or numWarmup and warmupSteps that differ, are ArgumentErrors naming numWarmup', () => {
    const mk = (o: Record<string, unknown>) => () =>
      new ppl.MCMC(new ppl.NUTS(model), { numSamples: 5, progressBar: false, ...o });
    for (const v of [-1, 2.5, NaN, '10']) {
      expect(argumentError(mk({ numWarmup: v })).message).toMatch(/^numWarmup/);
    }
    expect(argumentError(mk({ numWarmup: 10, warmupSteps: 20 })).message).toMatch(
      /numWarmup.*warmupSteps 20, numWarmup 10/,
    );
    expect(argumentError(mk({ warmupSteps: -2 })).message).toMatch(/^warmupSteps/);
    expect(argumentError(mk({ num_warmup: 10 })).message).toMatch(/num_warmup.*numWarmup/);
  });
});

describe("NUTS/HMC denseMass: NumPyro's dense_mass", () => {
  const corr = (): void => {
    ppl.sample(
      'x',
      new D.MultivariateNormal(tf.tensor1d([1, -1]), {
        covarianceMatrix: tf.tensor2d([
          [1, 0.9],
          [0.9, 1],
        ]),
      }),
    );
    ppl.sample('c', new D.Normal(0, 3));
  };
  const run = (kernel: ppl.mcmc.HamiltonianKernel): ppl.MCMC => {
    const m = new ppl.MCMC(kernel, { numSamples: 20, numWarmup: 60, seed: 3, progressBar: false });
    m.runSync();
    return m;
  };

  it('denseMass true / blocks give the draws and dense metric of fullMass; the alias is read as fullMass', () => {
    for (const [dense, hmc] of [
      [true, false],
      [[['x']], false],
      [true, true],
    ] as const) {
      const mk = (o: object): ppl.mcmc.HamiltonianKernel =>
        hmc ? new ppl.HMC(corr, { numSteps: 5, ...o }) : new ppl.NUTS(corr, o);
      const k = mk({ denseMass: dense });
      expect(k.options.fullMass).toEqual(dense);
      expect('denseMass' in k.options).toBe(false);
      const a = run(mk({ fullMass: dense }));
      const b = run(k);
      expect(draws(b)).toEqual(draws(a));
      const im = b.lastState!.chains[0]!.inverseMass;
      expect(im).toHaveLength(9);
      expect(Array.from(im)).toEqual(Array.from(a.lastState!.chains[0]!.inverseMass));
      // a dense x block: the off-diagonal x0-x1 entry is adapted (positive correlation)
      expect(im[1]!).toBeGreaterThan(0.2);
      if (Array.isArray(dense)) expect(im[2]).toBe(0);
    }
    // denseMass false is the diagonal metric
    expect(
      run(new ppl.NUTS(corr, { denseMass: false })).lastState!.chains[0]!.inverseMass,
    ).toHaveLength(3);
  });

  it('bad denseMass, or denseMass and fullMass that differ, are ArgumentErrors naming denseMass', () => {
    for (const v of [1, 'yes', null]) {
      expect(argumentError(() => new ppl.NUTS(corr, { denseMass: v as never })).message).toMatch(
        /^denseMass/,
      );
    }
    expect(
      argumentError(() => new ppl.NUTS(corr, { denseMass: true, fullMass: false })).message,
    ).toMatch(/^denseMass/);
    expect(
      argumentError(() => new ppl.HMC(corr, { denseMass: [['x']], fullMass: [['c']] })).message,
    ).toMatch(/^denseMass/);
    expect(() => new ppl.NUTS(corr, { denseMass: [['x']], fullMass: [['x']] })).not.toThrow();
    // a block naming no site is refused as for fullMass, when the chain starts
    const m = new ppl.MCMC(new ppl.NUTS(corr, { denseMass: [['nope']] }), {
      numSamples: 2,
      progressBar: false,
    });
    expect(() => m.runSync()).toThrow(/nope/);
  });

  it('a 10-d correlated Gaussian, denseMass true: means, sds within 5 MC SE; M^-1 near the covariance', async () => {
    const d = 10;
    const sd = Array.from({ length: d }, (_, i) => 1 + 0.3 * i);
    const cov = sd.map((si, i) => sd.map((sj, j) => 0.8 ** Math.abs(i - j) * si * sj));
    const mu = sd.map((_, i) => i - 4);
    const loc = tf.tensor1d(mu);
    const cm = tf.tensor2d(cov);
    const mvn = new D.MultivariateNormal(loc, { covarianceMatrix: cm });
    const m = new ppl.MCMC(
      new ppl.NUTS(
        () => {
          ppl.sample('x', mvn);
        },
        { denseMass: true },
      ),
      { numSamples: 500, numWarmup: 400, seed: 11, progressBar: false },
    );
    await m.run();
    const el = m.summary().x!.elements;
    el.forEach((e, i) => {
      // the sd estimate's SE from at most the number of draws (NUTS draws can be antithetic)
      const n = Math.min(e.essBulk, 500);
      expect(Math.abs(e.mean - mu[i]!)).toBeLessThan((5 * sd[i]!) / Math.sqrt(e.essBulk));
      expect(Math.abs(e.sd - sd[i]!)).toBeLessThan((5 * sd[i]!) / Math.sqrt(2 * n));
    });
    const im = m.lastState!.chains[0]!.inverseMass;
    expect(im).toHaveLength(d * d);
    // relative Frobenius error of the adapted metric against the covariance (Stan's last window
    // of 200 draws shrunk towards 1e-3 I: a few tens of percent at most)
    let num = 0;
    let den = 0;
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        num += (im[i * d + j]! - cov[i]![j]!) ** 2;
        den += cov[i]![j]! ** 2;
      }
    expect(Math.sqrt(num / den)).toBeLessThan(0.35);
    // with the dense metric the target is nearly isotropic: shallow trees
    const depth = m.getExtraFields()[0]!.treeDepth;
    expect(depth.reduce((a, b) => a + b, 0) / depth.length).toBeLessThan(4);
    tf.dispose([loc, cm]);
  }, 30000);
});
