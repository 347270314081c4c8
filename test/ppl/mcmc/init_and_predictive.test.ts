/**
 * MCMC starts and posterior predictions on models the seeds did not use: init_to_median on
 * simplex and correlation-Cholesky latents, a bad strategy object, the cause of a failed start,
 * and Predictive recomputing `deterministic` sites on new inputs (NumPyro's default).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { distributions as D, ppl } from '../../../src/index.js';

const { sample, plate, deterministic, MCMC, NUTS, Predictive, initToMedian } = ppl;
const quick = { numSamples: 60, warmupSteps: 60, progressBar: false as const, seed: 0 };

describe('MCMC starts', () => {
  it('init_to_median works on Dirichlet and LKJCholesky latents (the median in the unconstrained space)', async () => {
    // element-wise medians of simplex / corr-Cholesky draws are off the support: this threw
    // "value ... is outside the support simplex" for every seed
    for (const model of [
      () => void sample('w', new D.Dirichlet(tf.tensor1d([2, 3, 5]))),
      () => void sample('L', new D.LKJCholesky(3, 2)),
    ]) {
      const m = new MCMC(new NUTS(model, { initStrategy: initToMedian() }), quick);
      await m.run();
      const s = m.getSamples();
      const v = Object.values(s)[0] as tf.Tensor;
      expect(v.shape[0]).toBe(60);
      tf.dispose(Object.values(s));
    }
  }, 60_000);

  it('refuses a strategy object of an unknown kind, and names why a start failed', async () => {
    const model = (): void => void sample('mu', new D.Normal(0, 1));
    // refused when the kernel is made (as its other options), before any run
    expect(
      () => new NUTS(model, { initStrategy: { kind: 'foo' } as unknown as 'uniform' }),
    ).toThrow(/initStrategy: expected/);
    // a model whose log-density is NaN everywhere
    const nan = (): void => {
      const mu = sample('mu', new D.Normal(0, 1));
      ppl.factor('bad', tf.mul(mu, NaN));
    };
    await expect(new MCMC(new NUTS(nan), quick).run()).rejects.toThrow(
      // named model (no initParams was given), with the term that is not finite (audit 18)
      /^model: MCMC: no finite start in 100 points .*site 'bad' \(NaN\) not finite/,
    );
  }, 60_000);
});

describe('Predictive from MCMC samples', () => {
  it('recomputes deterministic sites on new inputs (stored values would be stale)', async () => {
    const model = (x: tf.Tensor, y?: tf.Tensor): tf.Tensor => {
      const a = sample('a', new D.Normal(0, 5));
      const b = sample('b', new D.Normal(0, 5));
      const mu = deterministic('mu', tf.add(a, tf.mul(b, x)));
      return plate('data', x.shape[0] as number, () =>
        sample('obs', new D.Normal(mu, 0.1), y === undefined ? {} : { obs: y }),
      );
    };
    const x = tf.linspace(0, 1, 5);
    const y = tf.add(tf.mul(x, 2), 1);
    const m = new MCMC(new NUTS(model), { ...quick, numSamples: 100, warmupSteps: 100 });
    await m.run(x, y);
    const s = m.getSamples();
    expect(Object.keys(s)).toContain('mu');
    const xNew = tf.tensor1d([10, 20, 30, 40, 50]);
    const r = new Predictive(model, { posteriorSamples: s, returnSites: ['obs', 'mu'] }).call(xNew);
    const mean = tf.tidy(() => Array.from(tf.mean(r.mu as tf.Tensor, 0).dataSync()));
    // mu = 1 + 2x on the new inputs (the stale training-input values were about 1..3)
    mean.forEach((v, i) =>
      expect(Math.abs(v - (1 + 2 * [10, 20, 30, 40, 50][i]!))).toBeLessThan(3),
    );
    // a different number of new inputs works too (it failed to broadcast the stored [5] values)
    const r3 = new Predictive(model, { posteriorSamples: s }).call(tf.tensor1d([0, 1, 2]));
    expect((r3.obs as tf.Tensor).shape).toEqual([100, 3]);
    // the old behaviour on request
    const rc = new Predictive(model, {
      posteriorSamples: s,
      returnSites: ['mu'],
      conditionDeterministic: true,
    }).call(xNew);
    expect(Math.abs(tf.tidy(() => tf.mean(rc.mu as tf.Tensor).dataSync()[0]!) - 2)).toBeLessThan(1);
    tf.dispose([
      x,
      y,
      xNew,
      ...Object.values(s),
      ...Object.values(r),
      ...Object.values(r3),
      ...Object.values(rc),
    ]);
  }, 60_000);
});
